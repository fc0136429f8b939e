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

import numpy as np

from ..errors import MalformedXML
from ..parse import Dump
from ..parse import normalise
from ..records import PageHeader, Revision, RevisionBatch
from . import Fallback
from . import scan as kernel
from .ahead import ReadAhead
from .blocks import BLOCK_SIZE, Scanned, scan_blocks
from .columns import (ANONYMOUS, CODES, COMMENT, COMMENT_DELETED, COMPLEX, FIRST_ROW, FORMAT, LAST_ROW, MINOR, MODEL,
                      SHA1, TEXT_DELETED, TEXT_SHA1, USER_DELETED, USER_TEXT, V_ID, V_PARENT, V_SIZE, V_TEXT_END,
                      V_TEXT_START, V_US, V_USER_ID, revision_columns)
from .rows import units

#: how far into the XML the first <page> is looked for
PROLOGUE = 16 << 20


class FastPage:
    """One page: its header, then its revisions, iterated once (``parse.readers.PageSource``).

    ``segments()`` is the columnar way to read it: runs of one-slot revisions as
    ``RevisionBatch`` columns, any other revision as a ``Revision``; iterating it gives every
    revision as a ``Revision``. Use one or the other."""

    __slots__ = ("header", "skipped", "_dump", "_done")

    def __init__(self, dump: "FastDump", header: PageHeader):
        self.header, self.skipped, self._dump, self._done = header, False, dump, False

    id = property(lambda self: self.header.id)
    namespace = property(lambda self: self.header.namespace)
    title = property(lambda self: self.header.title)

    def __iter__(self) -> Iterator[Revision]:
        for segment in self._segments(False):
            yield segment

    def segments(self) -> Iterator[Revision | RevisionBatch]:
        return self._segments(True)

    def _segments(self, batches: bool):
        dump = self._dump
        while not self._done:
            event = dump._next()
            if event[0] == "end":
                self._done = True
                if not dump._revisions_in_page:
                    dump.pages_without_revisions += 1
                return
            _, block, lo, hi = event
            r = block.r
            complex_ = r[lo:hi, COMPLEX]
            at = lo
            while at < hi:
                if batches and not complex_[at - lo]:
                    end = at + 1
                    while end < hi and not complex_[end - lo]:
                        end += 1
                    batch = block.batch(at, end)
                    dump._revisions_in_page += end - at
                    dump.revision_count += end - at
                    yield batch
                    at = end
                    continue
                raw, offset = block.raw_revision(at)
                try:
                    revision = normalise.revision(raw, self.header.id, dump.unknown_elements)
                except MalformedXML as exc:
                    raise Fallback(f"a value lxml must name ({exc.message})", offset, dump.path) from None
                dump._revisions_in_page += 1
                dump.revision_count += 1
                yield revision
                at += 1

    def _drain(self) -> None:
        for _ in self._segments(True):
            pass


class _Block:
    """One scan's revisions as columns (``columns.revision_columns``), and each one as a record."""

    __slots__ = ("fields", "out", "r", "flags", "marks", "revisions", "_strings")

    def __init__(self, fields: np.ndarray, out: np.ndarray, r: np.ndarray):
        self.fields, self.out, self.r = fields, out, r
        self.flags = r[:, _FLAGS] != 0  # the boolean columns, once for the block
        self._strings: dict[str, list] = {}

    def raw_revision(self, i: int):
        """Revision ``i``'s ``RawRevision`` and XML byte, read from its rows by ``rows``."""
        first, last = self.r[i, FIRST_ROW], self.r[i, LAST_ROW]
        _, raw, offset = next(units(iter([Scanned(self.fields[first:last + 1], self.out)])))
        return raw, offset

    def strings(self, name: str) -> list:
        """A string column of the whole block, decoded once (None where the span is -1)."""
        decoded = self._strings.get(name)
        if decoded is None:
            column = _SPANS[name]
            data = memoryview(self.out)
            decoded = self._strings[name] = [None if a < 0 else str(data[a:b], "utf-8") for a, b in
                                             zip(self.r[:, column].tolist(), self.r[:, column + 1].tolist())]
        return decoded

    def batch(self, lo: int, hi: int) -> RevisionBatch:
        r = self.r[lo:hi]
        flags = self.flags[lo:hi]
        return RevisionBatch(
            out=self.out, ids=r[:, V_ID], parent_ids=r[:, V_PARENT], timestamps_us=r[:, V_US],
            user_ids=r[:, V_USER_ID], anonymous=flags[:, 0], user_deleted=flags[:, 1], minor=flags[:, 2],
            comment_deleted=flags[:, 3], text_deleted=flags[:, 4], text_bytes=r[:, V_SIZE],
            text_start=r[:, V_TEXT_START], text_end=r[:, V_TEXT_END],
            spans={name: (r[:, column], r[:, column + 1]) for name, column in _SPANS.items()},
            decoded=lambda name: self.strings(name)[lo:hi])


_FLAGS = [ANONYMOUS, USER_DELETED, MINOR, COMMENT_DELETED, TEXT_DELETED]
#: the string columns of a ``RevisionBatch`` and where their spans are in ``R``
_SPANS = {"user_text": USER_TEXT, "comment": COMMENT, "model": MODEL, "format": FORMAT, "sha1": SHA1,
          "text_sha1": TEXT_SHA1}


def _blocks(scanned: Iterator[Scanned]) -> Iterator[_Block]:
    """Each scan as a ``_Block``: its revisions' columns, and where its page marks are."""
    for scanned_block in scanned:
        fields, out = scanned_block.fields, scanned_block.out
        codes = fields[:, 0]
        marks = np.flatnonzero(codes >= kernel.PAGE_START)
        kinds = codes[marks]
        starts = marks[kinds == kernel.REVISION_START]
        ends = marks[kinds == kernel.REVISION_END]
        block = _Block(fields, out, revision_columns(fields, starts, ends, out, CODES))
        page_marks = marks[(kinds == kernel.PAGE_START) | (kinds == kernel.HEADER_END) | (kinds == kernel.PAGE_END)]
        block.marks = list(zip(page_marks.tolist(), codes[page_marks].tolist(),
                               np.searchsorted(starts, page_marks).tolist()))
        block.revisions = len(starts)
        yield block


def _events(blocks: Iterator[_Block]):
    """``("page", RawPage)`` at each page's header end, ``("revisions", block, lo, hi)`` for the
    revisions lo..hi-1 of a block between two page marks, ``("end",)`` at each page's end."""
    for block in blocks:
        done = 0
        header = -1
        for position, code, upto in block.marks:
            if upto > done:
                yield "revisions", block, done, upto
                done = upto
            if code == kernel.PAGE_START:
                header = position
            elif code == kernel.HEADER_END:
                if header < 0:
                    raise Fallback("a page's header across two scans")  # the scanner cuts before <page>
                yield next(units(iter([Scanned(block.fields[header:position + 1], block.out)])))
                header = -1
            else:
                yield ("end",)
        if done < block.revisions:
            yield "revisions", block, done, block.revisions


class FastDump:
    """One pass over a dump with the compiled scanner; ``Fallback`` where it cannot read on."""

    def __init__(self, stream: BinaryIO, path: str | None = None, on_error: str = "fail-unit",
                 block_size: int = BLOCK_SIZE, read_ahead: bool = True):
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
        self._ahead = None
        self._started = False
        if ended:
            self._units = iter(())
        else:
            blocks = _blocks(scan_blocks(stream, head[at:], at, block_size))
            if read_ahead:  # the next block is read and scanned while this one is diffed
                blocks = self._ahead = ReadAhead(blocks, lambda block: block.out.nbytes)
            self._units = _events(blocks)

    def close(self) -> None:
        """Stop reading ahead (before the stream is closed)."""
        if self._ahead is not None:
            self._ahead.close()

    def _next(self) -> tuple:
        """The scanner's next unit (``rows.units``); a ``Fallback`` it raises names the file."""
        try:
            return next(self._units)
        except Fallback as exc:
            exc.path = exc.path or self.path
            raise

    def pages(self) -> Iterator[FastPage]:
        if self._started:
            raise RuntimeError("a dump is read once: open the file again to read it again")
        self._started = True
        return self._pages()

    def _pages(self) -> Iterator[FastPage]:
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
