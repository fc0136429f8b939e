"""The XML bytes on their way to lxml, counted in lines, so a spot can be found again.

``PageTracker`` sits between a dump's decompressed stream and lxml. It hands
the bytes on unchanged, counts their lines and keeps the last few MB it handed
out. lxml speaks of places by line and column (errors, ``sourceline``); the
tracker turns those into byte offsets, which lets the parser:

- say where an error is as an XML byte offset;
- ``restart_after`` a bad spot (``--on-error skip-page``): lxml cannot go on
  after a well-formedness error, so a new parse begins with a bare
  ``<mediawiki>`` root followed by the original bytes from the first ``<page>``
  after the bad spot. lxml reads ahead of the element it reports by a read or
  two (32 KB each), so that spot is well inside the kept window.

A file of page runs without the ``<mediawiki>`` root (a piece cut out of a
multistream dump) gets the bare root and its closing tag added around it.

``<page>`` cannot occur inside text in a well-formed dump (``<`` would be
escaped), and pages do not nest, so the first ``<page>`` after a spot inside
page k is page k+1's start. Only newlines are counted on the way (one
``bytes.count`` a read); pages are searched for only when a restart needs one.
"""

from __future__ import annotations

import io
from collections import deque
from typing import BinaryIO

_PAGE = b"<page>"
_CLOSE = b"</mediawiki>"
#: The root a restarted parse begins with: no newline, so line 1 is the page's first line.
RESTART_ROOT = b"<mediawiki>"
#: Bytes read from the stream at a time (what lxml asks for), and bytes of recent output kept.
CHUNK = 32 << 10
WINDOW = 4 << 20


class PageTracker(io.RawIOBase):
    """A readable stream of ``stream``'s bytes that counts lines and keeps a window of them."""

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream = stream
        self._chunks: deque[tuple[int, int, bytes]] = deque()  # (offset, line at its start, bytes)
        self._kept = 0
        self._scanned = 0  # bytes read from the stream
        self._lines = 1  # the line at self._scanned
        self._served = 0  # next original byte to hand to lxml
        self._prefix = b""
        self._suffix = b""  # served at the end of the input: a headerless file's closing tag
        self._headerless = None  # found at the first read: the file starts with <page>, no root
        #: where the current parse's line 1 begins: (original offset, its line, prefix length)
        self._base = (0, 1, 0)

    # -- the stream lxml reads ----------------------------------------------------------
    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; a whole chunk as it is when lxml asks for at least that much."""
        if self._headerless is None:
            self._headerless = self._read_more() and self._chunks[0][2].lstrip()[:len(_PAGE)] == _PAGE
            if self._headerless:  # page runs without the <mediawiki> root (a multistream piece): add it
                self._prefix, self._suffix = RESTART_ROOT, _CLOSE
                self._base = (0, 1, len(RESTART_ROOT))
        if self._prefix:
            data, self._prefix = self._prefix, b""
            return data
        if self._served == self._scanned and not self._read_more():
            data, self._suffix = self._suffix, b""
            if data and self._tail().rstrip().endswith(_CLOSE):
                data = b""  # the file has its closing tag after all
            return data
        chunk_offset, _, data = self._chunk_at(self._served)
        start = self._served - chunk_offset
        end = len(data) if size < 0 else min(len(data), start + size)
        self._served += end - start
        return data if start == 0 and end == len(data) else data[start:end]

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _tail(self) -> bytes:
        """The last bytes read (up to two chunks)."""
        return b"".join(chunk[2] for chunk in list(self._chunks)[-2:])

    def _chunk_at(self, offset: int) -> tuple[int, int, bytes]:
        for chunk in reversed(self._chunks):
            if chunk[0] <= offset:
                return chunk
        raise AssertionError("offset outside the kept window")

    def _read_more(self) -> bool:
        data = self._stream.read(CHUNK)
        if not data:
            return False
        self._chunks.append((self._scanned, self._lines, data))
        self._kept += len(data)
        self._lines += data.count(b"\n")
        self._scanned += len(data)
        chunks = self._chunks
        while self._kept - len(chunks[0][2]) >= WINDOW and chunks[0][0] + len(chunks[0][2]) <= self._served:
            self._kept -= len(chunks.popleft()[2])
        return True

    # -- places -------------------------------------------------------------------------
    def position(self, line: int | None, column: int | None = None) -> tuple[int | None, int | None]:
        """(original byte offset, original line) of a line and column of the current parse.

        The offset is None when the line is no longer in the kept window, or the column is
        not known (libxml2 stops counting columns at 65535).
        """
        if line is None or line < 1:
            return None, None
        base_offset, base_line, prefix = self._base
        original_line = base_line + line - 1
        start = base_offset - prefix if line == 1 else self._line_start(original_line)
        if start is None:
            return None, original_line
        if column is None or column < 1 or column >= 65535:
            return (start if line > 1 else base_offset), original_line
        return max(start + column - 1, base_offset if line == 1 else start), original_line

    def _line_start(self, line: int) -> int | None:
        """The original offset where ``line`` begins, if that is in the kept window."""
        if line == 1:
            return 0
        for offset, first, data in self._chunks:
            if first < line <= first + data.count(b"\n"):  # the newline ending line - 1 is here
                at = -1
                for _ in range(line - first):
                    at = data.find(b"\n", at + 1)
                return offset + at + 1
        return None

    def _line_of(self, offset: int) -> int:
        for chunk_offset, first_line, data in self._chunks:
            if chunk_offset <= offset <= chunk_offset + len(data):
                return first_line + data.count(b"\n", 0, offset - chunk_offset)
        return self._lines

    def page_on_line(self, line: int) -> int | None:
        """The offset of the one ``<page>`` tag on ``line`` of the current parse, if there is exactly one."""
        return self.tag_on_line(line, _PAGE)

    def tag_on_line(self, line: int, tag: bytes) -> int | None:
        """The offset of the one ``tag`` (``b"<revision>"``, say) on ``line`` of the current parse, if there
        is exactly one: where an element that lacks a field begins, which lxml gives only by line."""
        start, _ = self.position(line)
        if start is None:
            return None
        found = self._find_page(start, read_on=False, tag=tag)
        if found is None:
            return None
        following = self._find_page(found + 1, read_on=False, tag=tag)
        end_of_line = self._find_newline(start)
        if end_of_line is None or found > end_of_line or (following is not None and following < end_of_line):
            return None  # not on that line, or several pages share it (a file without line breaks)
        return found

    def _find_newline(self, offset: int) -> int | None:
        for chunk_offset, _, data in self._chunks:
            if chunk_offset + len(data) > offset:
                at = data.find(b"\n", max(0, offset - chunk_offset))
                if at != -1:
                    return chunk_offset + at
        return None

    def restart_after(self, offset: int) -> bool:
        """Serve a bare root, then the original bytes from the first ``<page>`` after ``offset``.

        Past the last page, an empty ``<mediawiki/>``. False (and nothing changed) when
        ``offset`` is no longer in the kept window.
        """
        if not self._chunks or offset < self._chunks[0][0]:
            return False
        found = self._find_page(offset)
        self._served = self._scanned if found is None else found
        self._base = (self._served, self._line_of(self._served), len(RESTART_ROOT))
        self._prefix = RESTART_ROOT if found is not None else b"<mediawiki/>"
        self._suffix = _CLOSE if self._headerless and found is not None else b""
        return True

    def _find_page(self, offset: int, read_on: bool = True, tag: bytes = _PAGE) -> int | None:
        """The first ``<page>`` (or ``tag``) at or after ``offset``, reading on (and letting go of bytes) if asked."""
        tail, tail_offset = b"", offset
        index = next(i for i in range(len(self._chunks) - 1, -1, -1) if self._chunks[i][0] <= offset)
        while True:
            while index < len(self._chunks):
                chunk_offset, _, data = self._chunks[index]
                start = max(0, offset - chunk_offset)
                joined = tail + data[start:]
                at = joined.find(tag)
                if at != -1:
                    return tail_offset + at
                tail = joined[-(len(tag) - 1):]
                tail_offset = chunk_offset + len(data) - len(tail)
                index += 1
            if not read_on:
                return None
            self._served = self._scanned  # the bad page's bytes need not be kept
            if not self._read_more():
                return None
            index = len(self._chunks) - 1

    # -- pass-throughs for progress and errors ------------------------------------------
    @property
    def bytes_read(self) -> int:
        return self._served

    def compressed_offset(self) -> int | None:
        offset = getattr(self._stream, "compressed_offset", None)
        return offset() if offset is not None else None
