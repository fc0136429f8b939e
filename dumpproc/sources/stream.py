"""Open any dump file, or a dump piped in, as one stream of XML bytes.

The codec is chosen from the input's first bytes, never from its name (see
``codecs`` for the registry). A piped input (standard input, a FIFO; see
``piped``) cannot seek: its first bytes are read once, then handed out again in
front of the rest.

``open_dump`` returns a ``DumpStream``: a read-only binary stream that counts
the XML bytes it has handed out and can say how far into the compressed file it
is, so that parse errors can name both offsets.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from .. import interrupts
from ..errors import CorruptInput, InputNotFound, UnsupportedFormat
from .codecs import SNIFF_BYTES, Codec, match
from .external import PIPE_BYTES
from .piped import PipedInput, PipedStream, is_piped, open_piped, refuse_unseekable

__all__ = ["SNIFF_BYTES", "DumpStream", "codec_of", "detect_codec", "open_dump"]


def codec_of(head: bytes, path: str, what: str = "file") -> Codec:
    """The codec whose magic bytes begin ``head``, the first bytes of ``path``; raises for empty or unknown ones."""
    if not head:
        raise UnsupportedFormat(f"the {what} is empty", path=path, offset=0)
    found = match(head)
    if found is None:
        # the magic number in hex, not the bytes as text: errors never quote the input (errors)
        raise UnsupportedFormat(
            f"not a dump: its first bytes ({head[:4].hex(' ')}) match no known compression or XML", path=path, offset=0
        )
    return found


def detect_codec(path: str) -> Codec:
    """The codec whose magic bytes begin ``path``; raises for empty or unknown files."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise InputNotFound("no such file", path=path) from exc
    except IsADirectoryError as exc:
        raise InputNotFound("is a directory, not a dump file", path=path) from exc
    except OSError as exc:
        raise InputNotFound(f"cannot be opened: {exc.strerror}", path=path) from exc
    return codec_of(head, path)


class DumpStream(io.RawIOBase):
    """The XML bytes of one input, counting what it has handed out.

    The codecs raise ``CorruptInput`` for damaged data (``codecs.CodecStream``,
    ``external``); this stream adds the file and both offsets. ``source`` is the piped input under the decompressor, if any:
    how far it has been read stands in where the decompressor cannot say.
    """

    def __init__(self, path: str, codec: Codec, inner: BinaryIO, source: PipedStream | None = None):
        super().__init__()
        self.path = path
        self.codec = codec
        self._inner = inner
        self._source = source
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            with interrupts.reading():
                data = self._inner.read(size)
        except CorruptInput as exc:  # the codec's own (codecs.CodecStream) or an external program's
            raise self._placed(exc)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:
        """``read`` into ``buffer``: the decompressor writes there itself (the fast reader's block)."""
        try:
            with interrupts.reading():
                count = self._inner.readinto(buffer) or 0
        except CorruptInput as exc:
            raise self._placed(exc)
        self.bytes_read += count
        return count

    def _placed(self, exc: CorruptInput) -> CorruptInput:
        """``exc`` with where: this file, and how far into it and into its XML the damage was met."""
        if exc.path is None:
            exc.path = self.path
        if exc.offset is None:
            exc.offset = self.compressed_offset()
        exc.uncompressed_offset = self.bytes_read
        return exc

    def drain(self) -> None:
        """Read on to the end, discarding, so that the codec checks what is left; raises ``CorruptInput``.

        A codec checks some of its data only at the end (a 7z member's CRC, gzip's, an xz
        block's check), after handing out what it decoded: XML that a damaged stream garbled
        fails in the parser first, and reading on names the damage instead. Plain XML has
        nothing to check.
        """
        if self.codec.name == "xml":
            return
        while True:
            interrupts.check()  # reading on can take a while: a signal still stops it
            if not self.read(PIPE_BYTES):
                return

    def compressed_offset(self) -> int | None:
        """How far into the compressed file the decompressor has read, where it can say; None
        for plain XML, whose only offset is the XML byte."""
        return None if self.codec.name == "xml" else self.position()

    def position(self) -> int | None:
        """How far into the file as stored this stream has read (progress), where it can say."""
        inner = self._inner  # a codecs.CodecStream, or a buffered external program or 7z member
        offset = getattr(inner, "compressed_offset", None) or getattr(getattr(inner, "raw", None),
                                                                      "compressed_offset", None)
        try:
            at = offset() if offset is not None else None
        except (OSError, ValueError):  # closed
            at = None
        if at is None and self._source is not None:
            at = self._source.tell()  # the piped input under the decompressor: what it has been given
        return at

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _open_piped(piped: PipedInput, threads: int) -> DumpStream:
    found = codec_of(piped.head, piped.name, "input")
    refuse_unseekable(found, piped.name)
    source = PipedStream(piped)
    try:
        inner = found.open(io.BufferedReader(source, PIPE_BYTES), threads)
    except (OSError, RuntimeError, ValueError) as exc:
        source.close()
        raise CorruptInput(f"cannot be opened as {found.name}: {exc}", path=piped.name, offset=0) from exc
    return DumpStream(piped.name, found, inner, source)


def open_dump(path: str | PipedInput, threads: int = 1) -> DumpStream:
    """Open ``path`` as a stream of XML bytes, decompressing as its first bytes say.

    ``path`` may be ``-`` (standard input), a FIFO, or a piped input that
    ``piped.open_piped`` opened earlier (whose first bytes it has read).
    """
    if isinstance(path, PipedInput):
        return _open_piped(path, threads)
    path = os.fspath(path)
    if is_piped(path):
        piped = open_piped(path)
        try:
            return _open_piped(piped, threads)
        finally:
            piped.close()  # the stream reads a copy of the descriptor
    found = detect_codec(path)
    try:
        inner = found.open(path, threads)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptInput(f"cannot be opened as {found.name}: {exc}", path=path, offset=0) from exc
    return DumpStream(path, found, inner)
