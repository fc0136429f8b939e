"""``FastDump``: the compiled scanner behind the reader interface (``parse.readers.DumpReader``).

Registered as ``fast`` (``parse.readers``). It raises ``Fallback`` where the lxml reader must read
instead; ``--parser auto`` then reads the unit again with lxml (``pipeline.unit``). The ``<siteinfo>`` and the root before the first ``<page>`` are
a few KB: the lxml reader reads them (so the site info, its checks and its unknown elements are
its own), and the scanner reads from the first ``<page>`` on. Every value goes through
``parse.normalise``; a value it refuses is a fallback too, so that the error users see is lxml's.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import BinaryIO, Iterator

from ..errors import MalformedXML
from ..parse import Dump
from ..parse import normalise
from ..records import PageHeader, Revision
from . import Fallback
from .blocks import BLOCK_SIZE, scan_blocks
from .rows import units

#: how far into the XML the first <page> is looked for
PROLOGUE = 16 << 20


class FastPage:
    """One page: its header, then its revisions, iterated once (``parse.readers.PageSource``)."""

    __slots__ = ("header", "skipped", "_dump", "_done")

    def __init__(self, dump: "FastDump", header: PageHeader):
        self.header, self.skipped, self._dump, self._done = header, False, dump, False

    id = property(lambda self: self.header.id)
    namespace = property(lambda self: self.header.namespace)
    title = property(lambda self: self.header.title)

    def __iter__(self) -> Iterator[Revision]:
        dump = self._dump
        while not self._done:
            kind, *rest = dump._next()
            if kind == "end":
                self._done = True
                if not dump._revisions_in_page:
                    dump.pages_without_revisions += 1
                return
            raw, offset = rest
            try:
                revision = normalise.revision(raw, self.header.id, dump.unknown_elements)
            except MalformedXML as exc:
                raise Fallback(f"a value lxml must name ({exc.message})", offset, dump.path) from None
            dump._revisions_in_page += 1
            dump.revision_count += 1
            yield revision

    def _drain(self) -> None:
        for _ in self:
            pass


class FastDump:
    """One pass over a dump with the compiled scanner; ``Fallback`` where it cannot read on."""

    def __init__(self, stream: BinaryIO, path: str | None = None, on_error: str = "fail-unit",
                 block_size: int = BLOCK_SIZE):
        self.path = path
        head = b""
        while b"<page>" not in head and len(head) < PROLOGUE:
            chunk = stream.read(block_size)
            if not chunk:
                break
            head += chunk
        at = head.find(b"<page>")
        if at < 0 and len(head) >= PROLOGUE:
            raise Fallback("no <page> near the start", path=path)
        ended = at < 0  # a dump without pages (a split unit past the last one, say): lxml reads it all
        prologue = head if ended else head[:at]
        if b"<!" in prologue or b"<?" in prologue[5:]:
            raise Fallback("a comment, DTD or processing instruction before the first page", path=path)
        try:
            before = Dump(io.BytesIO(prologue if ended else prologue + b"</mediawiki>"), path)
            list(before.pages())
        except MalformedXML:
            raise Fallback("the root or <siteinfo> is not as MediaWiki writes them", path=path) from None
        if before._root is None or before._root.tag.rpartition("}")[2] != "mediawiki" or before.page_count:
            raise Fallback("the root is not <mediawiki>", path=path)
        self.site_info = before.site_info
        self.unknown_elements: Counter = before.unknown_elements
        self.skipped_pages: list[dict] = []
        self.page_count = self.revision_count = 0
        self.pages_without_revisions = self.pages_without_ns = 0
        self._revisions_in_page = 0
        self._units = iter(()) if ended else units(scan_blocks(stream, head[at:], at, block_size))

    def _next(self) -> tuple:
        """The scanner's next unit (``rows.units``); a ``Fallback`` it raises names the file."""
        try:
            return next(self._units)
        except Fallback as exc:
            exc.path = exc.path or self.path
            raise

    def pages(self) -> Iterator[FastPage]:
        while True:
            try:
                kind, *rest = self._next()
            except StopIteration:
                return
            if kind != "page":
                raise Fallback("a revision outside a page's header", path=self.path)  # the scanner gives none
            raw = rest[0]
            try:
                header, from_title = normalise.page_header(raw.id, raw.title, raw.ns, raw.redirect,
                                                           raw.restrictions, self.site_info)
            except MalformedXML as exc:
                raise Fallback(f"a value lxml must name ({exc.message})", raw.offset, self.path) from None
            self.pages_without_ns += from_title
            self.page_count += 1
            self._revisions_in_page = 0
            page = FastPage(self, header)
            yield page
            page._drain()

    __iter__ = pages
