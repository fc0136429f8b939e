"""xz and .lzma data read stream by stream, ending where ``xz -t`` says the data ends.

The standard library's ``LZMAFile`` takes bytes after a stream that do not
begin another (12 or more of them) for trailing garbage and ignores them, and
reads several ``.lzma`` streams one after the other: ``xz -t`` fails both. A
mutation at the end of a file would then pass for a whole dump. ``LzmaStreams``
reads the same data with ``LZMADecompressor`` itself, one stream at a time and
never more than the caller asked for: between xz streams only xz's stream
padding (zero bytes) may come, after an ``.lzma`` stream nothing. What is wrong
is raised as liblzma says it (``LZMAError``), or as ``EOFError`` for a stream
cut short; ``codecs`` turns both into ``CorruptInput``.
"""

from __future__ import annotations

import lzma
from typing import BinaryIO

from .wrapping import OverSource

#: Compressed bytes read from the input at a time.
CHUNK = 1 << 16


class LzmaStreams(OverSource):
    """The decompressed bytes of ``source``, xz (``lzma.FORMAT_XZ``) or .lzma (``lzma.FORMAT_ALONE``)."""

    def __init__(self, source: BinaryIO, format: int):
        super().__init__()
        self._source = source
        self._format = format
        self._decompressor = lzma.LZMADecompressor(format)
        self._pending = b""  # compressed bytes read but not yet given to the decompressor
        self._fed = False  # the current stream's decompressor has been given bytes
        #: compressed bytes read from the input (how far the decompressor has read)
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wanted = len(buffer)
        while wanted:
            decompressor = self._decompressor
            if decompressor.eof:
                if not self._next_stream():
                    return 0
                continue
            if decompressor.needs_input:
                data = self._read()
                if not data:
                    if self._fed:
                        raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                    return 0
                self._fed = True
            else:
                data = b""  # it still holds input: go on with it
            out = decompressor.decompress(data, max_length=wanted)
            if out:
                buffer[:len(out)] = out
                return len(out)
        return 0

    def _read(self) -> bytes:
        data, self._pending = self._pending, b""
        if not data:
            data = self._source.read(CHUNK)
            self.consumed += len(data)
        return data

    def _next_stream(self) -> bool:
        """After a stream's end: begin the next one, or say the data ended (False); raises for what is neither."""
        rest = self._decompressor.unused_data + self._pending
        self._pending = b""
        if self._format != lzma.FORMAT_XZ:
            if rest or self._read():
                raise lzma.LZMAError("data after the end of the .lzma stream")
            return False
        while True:
            rest = rest.lstrip(b"\x00")  # xz's stream padding
            if rest:
                break
            rest = self._read()
            if not rest:
                return False
        self._decompressor = lzma.LZMADecompressor(self._format)
        self._pending, self._fed = rest, False
        return True
