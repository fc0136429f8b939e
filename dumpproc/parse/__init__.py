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

Schemas 0.3 to 0.11 read: pages without ``<ns>`` (before 0.6) get the
namespace their title's prefix names; in 0.11 the main slot feeds the text
fields and other ``<content>`` slots are skipped. Elements this parser does not
know are skipped and counted in ``Dump.unknown_elements``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import BinaryIO, Iterator

from lxml import etree

from ..errors import DumpError, MalformedXML
from ..records import PageHeader, Revision, SiteInfo
from .revision import _int, _local, revision_from_element
from .tracking import PageTracker

#: What malformed XML inside a page does: fail the unit (raise), or skip the page and go on.
ON_ERROR = ("fail-unit", "skip-page")

_EVENT_TAGS = ("{*}siteinfo", "{*}page", "{*}revision")
_VERSION_IN_NS = re.compile(r"export-(\d+\.\d+)")

# Children of <page> that are read, or known and deliberately not needed.
_PAGE_FIELDS = {"title", "ns", "id", "redirect", "restrictions", "revision"}
_PAGE_IGNORED = {"discussionthreadinginfo", "upload"}


class Page:
    """One page: its header fields and a single-pass iterator of its revisions."""

    __slots__ = ("header", "skipped", "_dump", "_first", "_done")

    def __init__(self, dump: "Dump", header: PageHeader, first):
        self.header = header
        #: set when malformed XML ended the page early and the dump skips bad pages
        self.skipped = False
        self._dump = dump
        self._first = first
        self._done = first is None

    @property
    def id(self) -> int:
        return self.header.id

    @property
    def namespace(self) -> int:
        return self.header.namespace

    @property
    def title(self) -> str:
        return self.header.title

    def __iter__(self) -> Iterator[Revision]:
        dump = self._dump
        element, self._first = self._first, None
        try:
            while element is not None:
                yield dump._revision(element, self.header.id)
                element = dump._next_revision()
        except MalformedXML as exc:
            if not dump._skip_page(exc):
                raise
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
        self._tracker = PageTracker(stream)
        self.unknown_elements: Counter[str] = Counter()
        self.skipped_pages: list[dict] = []
        self.page_count = 0
        self.revision_count = 0
        self._page_id: int | None = None
        self._revision_id: int | None = None
        self._page_line: int | None = None  # the current page's first line in the current parse
        self._spot: int | None = None  # the XML byte of the last error, when lxml said exactly
        self._restarted_at = -1
        self._root = None
        self._pending = None
        self._started = False
        self._events = self._parse()
        self.site_info = self._read_site_info()

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
    def _next(self):
        """The next finished element, or None at the end of the document."""
        try:
            _, element = next(self._events)
            if self._root is None:  # the first element after a restart
                self._root = element.getroottree().getroot()
            return element
        except StopIteration:
            return None
        except etree.XMLSyntaxError as exc:
            message, (line, column) = exc.msg, exc.position or (exc.lineno, None)
            last = exc.error_log.last_error if exc.error_log else None
            if (not line or line < 1) and last is not None:  # lxml sometimes raises a vaguer error than it logged
                message, line, column = last.message, last.line, last.column
            offset, line = self._tracker.position(line, column)
            self._spot = offset if column is not None and 0 < column < 65535 else None
            raise self._error(f"XML is not well-formed: {message}", line=line, offset=offset) from exc
        except DumpError as exc:  # a decompressor error raised inside lxml's read
            if exc.page_id is None:
                exc.page_id = self._page_id
            exc.message += self._after()
            raise

    def _after(self) -> str:
        """Where in the page an error is: the revisions read so far are whole, so after the last."""
        return f" (after revision {self._revision_id})" if self._revision_id is not None else ""

    def _error(self, message: str, line: int | None = None, offset: int | None = None) -> MalformedXML:
        """An error at ``offset`` (an XML byte) if known, else near where lxml is reading."""
        tracker = self._tracker
        return MalformedXML(
            message + self._after(),
            path=self.path,
            offset=tracker.compressed_offset(),
            uncompressed_offset=offset if offset is not None else tracker.bytes_read,
            page_id=self._page_id,
            line=line,
        )

    def _read_site_info(self) -> SiteInfo:
        element = self._next()
        if element is None:
            raise self._error("no <page> and no <siteinfo>: not a MediaWiki export")
        if element.getroottree().docinfo.doctype:
            # Dumps never have one; entities it declares could read files or the network, or expand
            # without end. lxml resolves none of them here, but a text with one in it would be cut.
            raise self._error("the file declares a DTD (<!DOCTYPE ...>): MediaWiki dumps have none, "
                              "and dumpproc neither loads DTDs nor expands their entities", offset=0)
        root = self._root
        if _local(root.tag) not in ("mediawiki", "page"):
            self.unknown_elements[f"root:{_local(root.tag)}"] += 1
        version = root.get("version")
        if version is None:
            found = _VERSION_IN_NS.search(root.tag)
            version = found.group(1) if found else None
        lang = root.get("{http://www.w3.org/XML/1998/namespace}lang")
        if _local(element.tag) != "siteinfo":
            self._pending = element  # a dump without <siteinfo>
            return SiteInfo.empty(version, lang)
        fields: dict[str, str | None] = {}
        namespaces: dict[int, str] = {}
        for child in element:
            tag = _local(child.tag)
            if tag == "namespaces":
                for ns in child:
                    namespaces[int(ns.get("key"))] = ns.text or ""
            else:
                fields[tag] = child.text
        element.clear()
        return SiteInfo(
            dbname=fields.get("dbname"),
            sitename=fields.get("sitename"),
            base=fields.get("base"),
            generator=fields.get("generator"),
            case=fields.get("case"),
            namespaces=namespaces,
            schema_version=version,
            lang=lang,
        )

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
                        raise self._error("<revision> outside a <page>")
                    page = Page(self, self._page_header(page_element), element)
                elif tag == "page":  # a page without revisions
                    page = Page(self, self._page_header(element), None)
                    self._end_page(element)
                else:
                    self.unknown_elements[f"mediawiki:{tag}"] += 1
                    continue
            except MalformedXML as exc:
                if not self._skip_page(exc):
                    raise
                continue
            self.page_count += 1
            yield page
            page._drain()

    __iter__ = pages

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
        self._page_id = self._revision_id = self._page_line = None
        self._root = None
        self._events = self._parse()
        return True

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
                ns = child.text
            elif tag == "id":
                page_id = child.text
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
        if page_id is None:
            self._page_id = None
            raise self._error("<page> has no <id>", offset=self._page_offset(page))
        self._page_id = _int(page_id, "page/id")
        if title is None:
            raise self._error("<page> has no <title>", offset=self._page_offset(page))
        if ns is None:
            if self._has_ns_element():
                raise self._error("<page> has no <ns>", offset=self._page_offset(page))
            namespace = self.site_info.namespace_of(title)
        else:
            namespace = _int(ns, "page/ns")
        return PageHeader(self._page_id, namespace, title, redirect, restrictions)

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

    def _has_ns_element(self) -> bool:
        version = self.site_info.schema_version
        try:
            return version is not None and tuple(map(int, version.split("."))) >= (0, 6)
        except ValueError:
            return True

    def _end_page(self, page) -> None:
        for child in page:
            tag = _local(child.tag)
            if tag not in _PAGE_FIELDS and tag not in _PAGE_IGNORED:
                self.unknown_elements[f"page:{tag}"] += 1
        page.clear()
        self._page_id = self._revision_id = self._page_line = None
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
            return element
        if tag == "page":
            self._end_page(element)
            return None
        raise self._error(f"unexpected <{tag}> inside a <page>")

    def _revision(self, element, page_id: int) -> Revision:
        try:
            revision = revision_from_element(element, page_id, self.unknown_elements)
        except MalformedXML as exc:
            raise self._error(exc.message) from None
        self._revision_id = revision.id
        self.revision_count += 1
        parent = element.getparent()
        element.clear(keep_tail=False)
        if parent is not None:
            parent.remove(element)
        return revision
