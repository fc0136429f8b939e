"""Parse a dump's XML into records, in one pass and constant memory.

``Dump`` reads a stream of XML bytes with lxml ``iterparse``. Its ``pages()``
is a lazy, single-pass iterator of ``Page``; each ``Page`` is a lazy,
single-pass iterator of ``Revision``. Both pull from the same event stream, so
a page that is left half-read is drained when the next one is asked for.

Memory stays flat however large the file: iterparse reports only the ends of
``siteinfo``, ``revision`` and ``page``; each finished revision is cleared and
removed from its page, and each finished page from the root. Text nodes
larger than libxml2's 10 MB default parse (``huge_tree``). Entities are never
resolved, no DTD is loaded and nothing is fetched from the network.

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

from .errors import DumpError, MalformedXML
from .records import PageHeader, Revision, SiteInfo

_EVENT_TAGS = ("{*}siteinfo", "{*}page", "{*}revision")
_VERSION_IN_NS = re.compile(r"export-(\d+\.\d+)")

# Children of <page> that are read, or known and deliberately not needed.
_PAGE_FIELDS = {"title", "ns", "id", "redirect", "restrictions", "revision"}
_PAGE_IGNORED = {"discussionthreadinginfo", "upload"}
_REVISION_IGNORED = {"origin"}


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _int(text: str | None, what: str) -> int:
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MalformedXML(f"<{what}> is {text!r}, not an integer") from None


class Page:
    """One page: its header fields and a single-pass iterator of its revisions."""

    __slots__ = ("header", "_dump", "_first", "_done")

    def __init__(self, dump: "Dump", header: PageHeader, first):
        self.header = header
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
        while element is not None:
            yield dump._revision(element, self.header.id)
            element = dump._next_revision()
        self._done = True

    def _drain(self) -> None:
        if not self._done:
            for _ in self:
                pass


class Dump:
    """One pass over a dump's XML: ``site_info`` up front, then ``pages()`` lazily.

    ``path`` is only used to name the file in errors.
    """

    def __init__(self, stream: BinaryIO, path: str | None = None):
        self.path = path if path is not None else getattr(stream, "path", None)
        self._stream = stream
        self._events = etree.iterparse(
            stream,
            events=("end",),
            tag=_EVENT_TAGS,
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        self.unknown_elements: Counter[str] = Counter()
        self.page_count = 0
        self.revision_count = 0
        self._page_id: int | None = None
        self._revision_id: int | None = None
        self._root = None
        self._pending = None
        self._started = False
        self.site_info = self._read_site_info()

    # -- events -------------------------------------------------------------------
    def _next(self):
        """The next finished element, or None at the end of the document."""
        try:
            _, element = next(self._events)
            return element
        except StopIteration:
            return None
        except etree.XMLSyntaxError as exc:
            raise self._error(f"XML is not well-formed: {exc.msg}", line=exc.lineno) from exc
        except DumpError as exc:  # a decompressor error raised inside lxml's read
            if exc.page_id is None:
                exc.page_id = self._page_id
            if exc.revision_id is None:
                exc.revision_id = self._revision_id
            raise

    def _error(self, message: str, line: int | None = None) -> MalformedXML:
        stream = self._stream
        return MalformedXML(
            message,
            path=self.path,
            offset=stream.compressed_offset() if hasattr(stream, "compressed_offset") else None,
            uncompressed_offset=getattr(stream, "bytes_read", None),
            page_id=self._page_id,
            revision_id=self._revision_id,
            line=line,
        )

    def _read_site_info(self) -> SiteInfo:
        element = self._next()
        if element is None:
            raise self._error("no <page> and no <siteinfo>: not a MediaWiki export")
        root = element.getroottree().getroot()
        self._root = root
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
            self.page_count += 1
            yield page
            page._drain()

    __iter__ = pages

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
        self._revision_id = None
        if page_id is None:
            self._page_id = None
            raise self._error("<page> has no <id>")
        self._page_id = _int(page_id, "page/id")
        if title is None:
            raise self._error("<page> has no <title>")
        if ns is None:
            if self._has_ns_element():
                raise self._error("<page> has no <ns>")
            namespace = self.site_info.namespace_of(title)
        else:
            namespace = _int(ns, "page/ns")
        return PageHeader(self._page_id, namespace, title, redirect, restrictions)

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


def revision_from_element(element, page_id: int, unknown: Counter | None = None) -> Revision:
    """Build a ``Revision`` from a finished ``<revision>`` element of any schema."""
    rev_id = parent_id = timestamp = sha1 = model = fmt = None
    user_id = user_text = None
    anonymous = user_deleted = minor = comment_deleted = False
    comment: str | None = ""
    main = None  # the element holding the main slot's text
    main_model = main_format = None
    for child in element:
        tag = child.tag.rpartition("}")[2] if isinstance(child.tag, str) else ""
        if tag == "text":
            if main is None:
                main = child
        elif tag == "id":
            rev_id = child.text
        elif tag == "timestamp":
            timestamp = child.text
        elif tag == "contributor":
            if child.get("deleted") is not None:
                user_deleted = True
            else:
                for field in child:
                    ftag = _local(field.tag)
                    if ftag == "username":
                        user_text = field.text or None  # an empty name is no name
                    elif ftag == "id":
                        user_id = field.text
                    elif ftag == "ip":
                        user_text = field.text or None
                        anonymous = True
                    elif unknown is not None and ftag:
                        unknown[f"contributor:{ftag}"] += 1
        elif tag == "parentid":
            parent_id = child.text
        elif tag == "minor":
            minor = True
        elif tag == "comment":
            if child.get("deleted") is not None:
                comment, comment_deleted = None, True
            else:
                comment = child.text or ""
        elif tag == "sha1":
            sha1 = child.text or None
        elif tag == "model":
            model = child.text
        elif tag == "format":
            fmt = child.text
        elif tag == "content":
            role = slot_text = None
            slot_model = slot_format = None
            for field in child:
                ftag = _local(field.tag)
                if ftag == "role":
                    role = field.text
                elif ftag == "text":
                    slot_text = field
                elif ftag == "model":
                    slot_model = field.text
                elif ftag == "format":
                    slot_format = field.text
            if role == "main" and slot_text is not None:
                main, main_model, main_format = slot_text, slot_model, slot_format
        elif tag and tag not in _REVISION_IGNORED and unknown is not None:
            unknown[f"revision:{tag}"] += 1

    if rev_id is None:
        raise MalformedXML("<revision> has no <id>")
    if timestamp is None:
        raise MalformedXML("<revision> has no <timestamp>")
    text = None
    text_bytes = None
    text_utf8 = None
    text_deleted = False
    if main is not None:
        text_deleted = main.get("deleted") is not None
        declared = main.get("bytes")
        if not text_deleted:
            text = main.text
            if text is None and declared not in (None, "0") and (main.get("location") or main.get("id")):
                text = None  # a stub: the dump carries the size and sha1 but not the text
            elif text is None:
                text = ""
        if text is not None:
            text_utf8 = text.encode("utf-8")
            text_bytes = len(text_utf8)
        elif declared is not None:
            text_bytes = _int(declared, "text/@bytes")
        if sha1 is None:
            sha1 = main.get("sha1") or None
    if user_id is not None:
        user_id = _int(user_id, "contributor/id")
    if anonymous:
        user_id = None
    return Revision(
        page_id=page_id,
        id=_int(rev_id, "revision/id"),
        parent_id=_int(parent_id, "parentid") if parent_id else None,
        timestamp=timestamp,
        user_id=user_id,
        user_text=user_text,
        user_is_anonymous=anonymous,
        user_deleted=user_deleted,
        minor=minor,
        comment=comment,
        comment_deleted=comment_deleted,
        model=main_model or model,
        format=main_format or fmt,
        text=text,
        text_bytes=text_bytes,
        text_deleted=text_deleted,
        sha1=sha1,
        text_utf8=text_utf8,
    )
