"""Parse a dump's XML into records, in one pass and constant memory.

``Dump`` reads a stream of XML bytes with lxml ``iterparse``. Its ``pages()``
is a lazy, single-pass iterator of ``Page``; each ``Page`` is a lazy,
single-pass iterator of ``Revision``. Both pull from the same event stream, so
a page that is left half-read is drained when the next one is asked for.

Memory stays flat however large the file: iterparse reports only the ends of
``siteinfo``, ``revision`` and ``page``; each finished revision is cleared and
removed from its page, and each finished page from the root. Text nodes
larger than libxml2's 10 MB default parse (``huge_tree``). Entities are never
resolved, no DTD is loaded and nothing is fetched from the network; a file that
declares a DTD at all is refused (dumps have none).

Schemas 0.3 to 0.11 read: a page without ``<ns>`` (every page before 0.6, and
now and then one in a later schema) gets the namespace its title's prefix names
in the siteinfo, and is counted in ``Dump.pages_without_ns``; in 0.11 the main slot feeds the text
fields and the other ``<content>`` slots are read as ``Slot``s. Elements this parser does not
know are skipped and counted in ``Dump.unknown_elements``.

A fault fails the dump where it is met, as ``MalformedXML`` naming the file,
the XML byte and line, the page and the revision being read: values are
checked as they are read (``values``, ``revision``, ``site_info``), a
``<siteinfo>`` or ``<page>`` left open is refused, and libxml2's errors are
named from their code without quoting the input (``faults``). When the fault
ends the unit, the compressed stream is read on to its end first, so that a
codec whose check comes last (a CRC) names the damage that garbled the XML.
"""

from __future__ import annotations

from collections import Counter
from typing import BinaryIO, Iterator

from lxml import etree

from ..errors import CorruptInput, DumpError, MalformedXML
from ..records import HeaderFields, PageHeader, Revision, SiteInfo
from . import faults, normalise
from .revision import _local, revision_from_element
from .site_info import export_version, site_info_from_element
from .tracking import PageTracker

#: What malformed XML inside a page does: fail the unit (raise), or skip the page and go on.
ON_ERROR = ("fail-unit", "skip-page")

_EVENT_TAGS = ("{*}siteinfo", "{*}page", "{*}revision")

# Children of <page> that are read, or known and deliberately not needed.
_PAGE_FIELDS = {"title", "ns", "id", "redirect", "restrictions", "revision"}
_PAGE_IGNORED = {"discussionthreadinginfo", "upload"}


class Page(HeaderFields):
    """One page: its header fields and a single-pass iterator of its revisions."""

    __slots__ = ("header", "skipped", "_dump", "_first", "_done")

    def __init__(self, dump: "Dump", header: PageHeader, first):
        self.header = header
        #: set when malformed XML ended the page early and the dump skips bad pages
        self.skipped = False
        self._dump = dump
        self._first = first
        self._done = first is None

    def __iter__(self) -> Iterator[Revision]:
        dump = self._dump
        element, self._first = self._first, None
        try:
            while element is not None:
                yield dump._revision(element, self.header.id)
                element = dump._next_revision()
        except MalformedXML as exc:
            if not dump._skip_page(exc):
                dump._fail(exc)
            self.skipped = True
        self._done = True

    def _drain(self) -> None:
        if not self._done:
            for _ in self:
                pass


class Dump:
    """One pass over a dump's XML: ``site_info`` up front, then ``pages()`` lazily.

    ``path`` is only used to name the file in errors. With ``on_error="skip-page"``,
    malformed XML inside a page ends that page (``Page.skipped``), is recorded in
    ``skipped_pages``, and parsing goes on at the next page.
    """

    def __init__(self, stream: BinaryIO, path: str | None = None, on_error: str = "fail-unit"):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
        self.path = path if path is not None else getattr(stream, "path", None)
        self.on_error = on_error
        self._stream = stream
        self._tracker = PageTracker(stream)
        self.unknown_elements: Counter[str] = Counter()
        self.skipped_pages: list[dict] = []
        self.page_count = 0
        self.revision_count = 0
        #: pages with no <revision> at all: they have no rows (the manifest counts them)
        self.pages_without_revisions = 0
        #: pages whose namespace came from their title, for want of <ns> (the manifest counts them)
        self.pages_without_ns = 0
        self._page_id: int | None = None
        self._revision_id: int | None = None
        self._page_line: int | None = None  # the current page's first line in the current parse
        self._page_element = None  # the <page> whose revisions are being read
        self._spot: int | None = None  # the XML byte of the last error, when lxml said exactly
        self._restarted_at = -1
        self._root = None
        self._pending = None
        self._started = False
        self._events = self._parse()
        try:
            self.site_info = self._read_site_info()
        except MalformedXML as exc:
            self._fail(exc)

    def _parse(self):
        return etree.iterparse(
            self._tracker,
            events=("end",),
            tag=_EVENT_TAGS,
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )

    # -- events -------------------------------------------------------------------
    def _next(self, check_logged: bool = True):
        """The next finished element, or None at the end of the document (``check_logged``: see faults)."""
        try:
            _, element = next(self._events)
        except StopIteration:
            return None
        except etree.XMLSyntaxError as exc:
            code, (line, column) = exc.code, exc.position or (exc.lineno, None)
            if code in faults.HARMLESS:  # a warning raised at the end, or before the fault that ended the parse
                entry = faults.fault(self._events.error_log)
                if entry is None:
                    return None  # the document is well-formed: it has ended
                code, line, column = entry.type, entry.line, entry.column
            last = exc.error_log.last_error if exc.error_log else None
            if (not line or line < 1) and last is not None:  # lxml sometimes raises a vaguer error than it logged
                code, line, column = last.type, last.line, last.column
            offset, line = self._tracker.position(line, column)
            self._spot = offset if column is not None and 0 < column < 65535 else None
            # lxml's own message quotes the input (faults): the fault is named from its code instead
            raise self._error(f"XML is not well-formed: {faults.describe(code)}", line=line, offset=offset,
                              being_read=True) from exc
        except DumpError as exc:  # a decompressor error raised inside lxml's read
            page_id, revision_id = self._being_read()
            if exc.page_id is None:
                exc.page_id = page_id
            if exc.revision_id is None:
                exc.revision_id = revision_id
                if revision_id is None:
                    exc.message += self._after()
            raise
        if self._root is None:  # the first element after a restart
            self._root = element.getroottree().getroot()
        if check_logged and self._events.error_log:
            self._raise_logged(element)
        return element

    def _raise_logged(self, element) -> None:
        """Raise an error libxml2 logged and went on after, if it lies inside ``element`` (see faults)."""
        logged = faults.logged_error(self._events.error_log, element)
        if logged is None:
            return
        offset, line = self._tracker.position(logged.line, logged.column)
        self._spot = offset if 0 < logged.column < 65535 else None
        # the element's own ids: lxml has read on past it, so the tree's last page and revision may be later ones
        page_id, revision_id = faults.ids_of(element)
        raise self._error(f"XML is not well-formed: {faults.describe(logged.type)}", line=line, offset=offset,
                          page_id=page_id, revision_id=revision_id)

    def _after(self) -> str:
        """Where in the page an error is when the revision being read is not known: after the last one whole."""
        return f" (after revision {self._revision_id})" if self._revision_id is not None else ""

    def _being_read(self) -> tuple[int | None, int | None]:
        """The page and revision a fault inside lxml's parse cut short, as far as their ids were read."""
        page_id, revision_id = faults.ids_being_read(self._root if self._root is not None
                                                     else getattr(self._events, "root", None))
        if revision_id is not None and revision_id == self._revision_id:
            revision_id = None  # the last revision read whole, not one being read
        return (self._page_id if self._page_id is not None else page_id), revision_id

    def _error(self, message: str, line: int | None = None, offset: int | None = None,
               revision_id: int | None = None, being_read: bool = False, page_id: int | None = None) -> MalformedXML:
        """An error at ``offset`` (an XML byte) if known, else near where lxml is reading.

        It names ``revision_id``, the revision at fault, when known (``being_read``: look for
        the page and revision lxml was reading in the tree built so far); else it says after
        which revision read whole it is. ``page_id`` is the page being read unless given.
        """
        tracker = self._tracker
        page_id = page_id if page_id is not None else self._page_id
        if being_read and revision_id is None:
            page_id, revision_id = self._being_read()
        place = {"offset": tracker.compressed_offset(),
                 "uncompressed_offset": offset if offset is not None else tracker.bytes_read, "line": line}
        locate = getattr(self._stream, "locate", None)
        if locate is not None:  # a split unit's text: its offsets are not the file's (``sources.split``)
            place = locate(place["uncompressed_offset"], line)
        return MalformedXML(message + (self._after() if revision_id is None else ""), path=self.path,
                            page_id=page_id, revision_id=revision_id, **place)

    def _read_site_info(self) -> SiteInfo:
        element = self._next(check_logged=False)  # a DTD first: its entities log errors of their own
        if element is None:
            raise self._error("no <page> and no <siteinfo>: not a MediaWiki export")
        if element.getroottree().docinfo.doctype:
            # Dumps never have one; entities it declares could read files or the network, or expand
            # without end. lxml resolves none of them here, but a text with one in it would be cut.
            raise self._error("the file declares a DTD (<!DOCTYPE ...>): MediaWiki dumps have none, "
                              "and dumpproc neither loads DTDs nor expands their entities", offset=0)
        if self._events.error_log:
            self._raise_logged(element)
        root = self._root
        if _local(root.tag) not in ("mediawiki", "page"):
            self.unknown_elements[f"root:{_local(root.tag)}"] += 1
        if _local(element.tag) != "siteinfo":
            if any(_local(above.tag) == "siteinfo" for above in element.iterancestors()):
                # the pages would be read as the siteinfo's children, and its fields lost
                raise self._error("<siteinfo> is not closed before the first <page>", *self._place(element),
                                  page_id=faults.ids_of(element)[0])
            self._pending = element  # a dump without <siteinfo>
            return SiteInfo.empty(*export_version(root))
        try:
            site_info = site_info_from_element(element, root, self.unknown_elements)
        except MalformedXML as exc:
            raise self._error(exc.message, *self._place_line(exc.line)) from None
        element.clear()
        return site_info

    # -- pages ----------------------------------------------------------------------
    def pages(self) -> Iterator[Page]:
        """The dump's pages, in file order; each must be read before the next is asked for."""
        if self._started:
            raise RuntimeError("a Dump is read once: open the file again to read it again")
        self._started = True
        while True:
            element = self._pending
            self._pending = None
            try:
                if element is None:
                    element = self._next()
                if element is None:
                    self._count_trailing()
                    return
                tag = _local(element.tag)
                if tag == "revision":
                    page_element = element.getparent()
                    if page_element is None or _local(page_element.tag) != "page":
                        raise self._error("<revision> outside a <page>", *self._place(element))
                    page = Page(self, self._page_header(page_element), element)
                    self._check_placement(page_element)
                    self._page_element = page_element
                elif tag == "page":  # a page without revisions
                    page = Page(self, self._page_header(element), None)
                    self._check_placement(element)
                    self.pages_without_revisions += 1
                    self._end_page(element)
                else:
                    self.unknown_elements[f"mediawiki:{tag}"] += 1
                    continue
            except MalformedXML as exc:
                if not self._skip_page(exc):
                    self._fail(exc)
                continue
            self.page_count += 1
            yield page
            page._drain()

    __iter__ = pages

    def _fail(self, exc: MalformedXML) -> None:
        """Raise the error of a fault that ends the dump: ``exc``, or a damaged compressed stream under it.

        A damaged stream often garbles the XML before its codec's check comes (a 7z member's
        CRC, gzip's, come at its end): the stream is read on to its end (``drain``) so that the
        codec can speak, and its error, the cause, is raised in the XML error's place.
        """
        drain = getattr(self._stream, "drain", None)
        try:
            if drain is not None:
                drain()
        except CorruptInput as damage:
            raise CorruptInput(f"{damage.message}; the XML it gave had gone wrong before: {exc.message}",
                               path=exc.path, offset=exc.offset, uncompressed_offset=exc.uncompressed_offset,
                               page_id=exc.page_id, revision_id=exc.revision_id, line=exc.line,
                               origin=exc.origin) from exc
        raise exc

    def _skip_page(self, exc: MalformedXML) -> bool:
        """Record a bad page and restart parsing at the next one; False: the error stands.

        The parse goes on at the first ``<page>`` after the bad spot: where lxml said the
        error is, else after the bad page's own ``<page>`` tag (found from its line).
        """
        spot, self._spot = self._spot, None
        if self.on_error != "skip-page":
            return False
        tracker = self._tracker
        if spot is None and self._page_line is not None:
            start = tracker.page_on_line(self._page_line)
            spot = start + 1 if start is not None else None
        if spot is None or spot <= self._restarted_at or not tracker.restart_after(spot):
            exc.message += " (the page cannot be skipped: its place in the file is not known)"
            return False
        self._restarted_at = spot
        self.skipped_pages.append({"page_id": self._page_id, "error": str(exc)})
        self._page_id = self._revision_id = self._page_line = self._page_element = None
        self._root = None
        self._events = self._parse()
        return True

    def _check_placement(self, page) -> None:
        """A page is a child of the document's root (or the root itself): else an element before it is not closed."""
        parent = page.getparent()
        if parent is None or parent is self._root:
            return
        what = _local(parent.tag)
        raise self._error(f"a <page> inside a <{what}>: the <{what}> before it is not closed"
                          if what in ("page", "siteinfo") else
                          "a <page> that is not a child of the document's root: an element before it is not closed",
                          *self._place(page))

    def _page_header(self, page) -> PageHeader:
        title = ns = page_id = redirect = restrictions = None
        unknown = []
        for child in page:
            tag = _local(child.tag)
            if tag == "revision":
                break
            if tag == "title":
                title = child.text or ""
            elif tag == "ns":
                ns = child
            elif tag == "id":
                page_id = child
            elif tag == "redirect":
                redirect = child.get("title", "")
            elif tag == "restrictions":
                restrictions = child.text
            elif tag not in _PAGE_IGNORED:
                self.unknown_elements[f"page:{tag}"] += 1
                unknown.append(child)
        for child in unknown:  # counted once: the page's end sees only what follows
            page.remove(child)
        self._page_line = page.sourceline  # where a skip-page restart looks for it
        self._revision_id = None
        self._page_id = None
        text = lambda element: None if element is None else (element.text or "")  # noqa: E731
        try:
            header, from_title = normalise.page_header(text(page_id), title, text(ns), redirect, restrictions,
                                                       self.site_info)
        except MalformedXML as exc:
            self._page_id = exc.page_id
            if exc.field == "page":  # a field it lacks: at its <page> tag
                raise self._error(exc.message, offset=self._page_offset(page)) from None
            raise self._error(exc.message, *self._place(ns if exc.field == "page/ns" else page_id)) from None
        self._page_id = header.id
        self.pages_without_ns += from_title
        return header

    def _place(self, element) -> tuple[int | None, int | None]:
        """(line, XML byte of its line's start) of an element lxml built, where the tracker can say."""
        return self._place_line(element.sourceline)

    def _place_line(self, line: int | None) -> tuple[int | None, int | None]:
        """(original line, XML byte of its start) of a line of the current parse."""
        if not line:
            return None, None
        offset, line = self._tracker.position(line)
        return line, offset

    def _page_offset(self, page) -> int | None:
        """The XML byte of the page's ``<page>`` tag, if it can be placed."""
        return self._tracker.page_on_line(page.sourceline) if page.sourceline else None

    def _count_trailing(self) -> None:
        """Count unknown top-level elements after the last page."""
        root = self._root
        if root is None or _local(root.tag) != "mediawiki":
            return
        for child in root:
            tag = _local(child.tag)
            if tag and tag not in ("siteinfo", "page"):
                self.unknown_elements[f"mediawiki:{tag}"] += 1

    def _end_page(self, page) -> None:
        for child in page:
            tag = _local(child.tag)
            if tag not in _PAGE_FIELDS and tag not in _PAGE_IGNORED:
                self.unknown_elements[f"page:{tag}"] += 1
        page.clear()
        self._page_id = self._revision_id = self._page_line = self._page_element = None
        root = self._root
        if page is root:
            return
        # Drop the page and anything before it (unknown top-level elements included).
        while page.getprevious() is not None:
            previous = page.getprevious()
            if _local(previous.tag) not in ("siteinfo", "page"):
                self.unknown_elements[f"mediawiki:{_local(previous.tag)}"] += 1
            root.remove(previous)
        root.remove(page)

    # -- revisions ------------------------------------------------------------------
    def _next_revision(self):
        """The next revision element of the current page, or None when the page ends."""
        element = self._next()
        if element is None:
            raise self._error("the file ends inside a <page>")
        tag = _local(element.tag)
        if tag == "revision":
            if element.getparent() is not self._page_element:
                raise self._error("a <revision> outside the page being read: the <page> before it is not closed",
                                  *self._place(element))
            return element
        if tag == "page":
            if element is not self._page_element:
                raise self._error("a <page> inside the page being read: the <page> before it is not closed",
                                  *self._place(element))
            self._end_page(element)
            return None
        raise self._error(f"unexpected <{tag}> inside a <page>", *self._place(element))

    def _revision(self, element, page_id: int) -> Revision:
        try:
            revision = revision_from_element(element, page_id, self.unknown_elements)
        except MalformedXML as exc:
            line, offset = self._place_line(exc.line)
            if exc.line is not None and exc.line == element.sourceline:
                # the revision's own fault (a field it lacks): at its <revision> tag, not its line's start
                found = self._tracker.tag_on_line(exc.line, b"<revision>")
                offset = found if found is not None else offset
            raise self._error(exc.message, line, offset, revision_id=exc.revision_id) from None
        self._revision_id = revision.id
        self.revision_count += 1
        parent = element.getparent()
        element.clear(keep_tail=False)
        if parent is not None:
            parent.remove(element)
        return revision
