"""The codec registry: how a file's first bytes say how to decompress it.

Each codec is one named function, registered with the magic bytes it
recognises, that imports its library inside; adding a codec is adding one
function. It opens a *source*: a path, or a readable binary stream that cannot
seek (standard input, a FIFO; see ``piped``), from which external programs read
on their stdin and in-process libraries read as a file object. A codec that
needs seeking (7z) is registered so, and is only ever given a path. A codec
with several backends tries them in the order of
``DUMPPROC_<CODEC>_BACKENDS`` (comma list) or its default, and a missing
library or program raises ``MissingCodecLibrary`` naming what to install.

Damaged data is told apart where it is met, by the library that meets it: each
opener wraps its library's stream in a ``CodecStream`` with the exceptions that
library raises for bad input (``zlib.error`` and ``BadGzipFile`` for gzip,
``LZMAError`` for xz and lzma, ``ZstdError`` for zstandard, ...), which become
``CorruptInput`` naming the codec; ``DumpStream`` adds the file and offsets.
External programs fail the same way (``external``), and a codec whose library
ends quietly on a cut stream says so itself (zstandard: ``zstdframes``).

Backends, fastest first, as measured on the Anarchism history (1.05 GB of XML):

- bz2: ``lbzip2 -dc -n N`` when on PATH (reads at 1.02x lbzip2's own time),
  else indexed-bzip2 with N threads (1.26x), which is pip-installable and can
  also seek (used for split units). From a stream, ``lbzip2`` again, else the
  standard library's bz2 on one thread: indexed-bzip2 keeps the whole
  compressed input in memory when it cannot seek (measured: 330 MB resident
  for 300 MB of bz2 through a pipe).
- 7z: libarchive in-process (the system's libarchive, or the one the
  ``extractcode-libarchive`` wheel bundles), else ``7zz``/``7z e -so``.
"""

from __future__ import annotations

import importlib
import io
import os
from dataclasses import dataclass
from typing import BinaryIO, Callable

from ..errors import CorruptInput, MissingCodecLibrary, install_hint
from .external import PIPE_BYTES, program_stream, which
from .sevenzip import ArchiveEntryStream, sevenzip_member
from .wrapping import OverSource


#: Bytes read from the head of an input to recognise its codec.
SNIFF_BYTES = 16


@dataclass(frozen=True)
class Codec:
    """A registered decompressor: its name, how to recognise it, how to open it.

    ``needs_seeking``: the format can only be read from a file (7z keeps its
    headers at the end), so a stream in it is refused before any work.
    """

    name: str
    matches: Callable[[bytes], bool]
    open: Callable[[str | BinaryIO, int], BinaryIO]
    needs_seeking: bool = False


CODECS: list[Codec] = []


def codec(name: str, *magics: bytes, matches: Callable[[bytes], bool] | None = None, needs_seeking: bool = False):
    """Register the decorated ``open(source, threads) -> binary stream`` for these magic bytes."""

    def test(head: bytes) -> bool:
        return any(head.startswith(m) for m in magics)

    def register(opener: Callable[[str | BinaryIO, int], BinaryIO]):
        CODECS.append(Codec(name, matches or test, opener, needs_seeking))
        return opener

    return register


def match(head: bytes) -> Codec | None:
    """The registered codec whose magic bytes begin ``head``, or None."""
    return next((candidate for candidate in CODECS if candidate.matches(head)), None)


class CodecStream(OverSource):
    """A decompressor's output whose library's errors for bad data (``errors``) become ``CorruptInput``.

    ``offset()`` says how far into its input the decompressor has read; ``cut_short()``,
    asked at the end of the output, why the input ended too soon (None: it did not).
    """

    def __init__(self, inner: BinaryIO, codec: str, errors: tuple[type[BaseException], ...],
                 offset: Callable[[], int | None] | None = None, cut_short: Callable[[], str | None] | None = None):
        super().__init__()
        self._source = inner
        self.codec = codec
        self._errors = errors
        self._offset = offset
        self._cut_short = cut_short

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # the library's bytes as they are: RawIOBase.read would copy them through a buffer
        try:
            data = self._source.read(size)
        except self._errors as exc:
            raise self._damaged(exc) from exc
        if not data and size != 0:
            self._check_end()
        return data

    def readinto(self, buffer) -> int:
        try:
            count = self._source.readinto(buffer)
        except self._errors as exc:
            raise self._damaged(exc) from exc
        if not count and len(buffer):
            self._check_end()
        return count or 0

    def _damaged(self, exc: BaseException) -> CorruptInput:
        damage = "truncated" if isinstance(exc, EOFError) else "damaged"
        return CorruptInput(f"{self.codec} stream is {damage}: {exc}")

    def _check_end(self) -> None:
        reason = self._cut_short() if self._cut_short is not None else None
        if reason:
            raise CorruptInput(f"{self.codec} stream is truncated: {reason}")

    def compressed_offset(self) -> int | None:
        """How far into its input the decompressor has read, where it can say."""
        try:
            return self._offset() if self._offset is not None else None
        except (OSError, ValueError):  # a closed or unseekable file
            return None


def _file(source: str | BinaryIO) -> BinaryIO:
    """A source as a binary file object: a path opened, a stream as it is."""
    return open(source, "rb") if isinstance(source, str) else source


def _name(source: str | BinaryIO) -> str:
    """What errors call a source: its path, or the stream's name (``-`` for standard input)."""
    return source if isinstance(source, str) else str(getattr(source, "name", "-"))


def backends(codec_name: str, default: tuple[str, ...]) -> list[str]:
    """The backends to try for a codec: ``DUMPPROC_<NAME>_BACKENDS`` or the default order."""
    chosen = os.environ.get(f"DUMPPROC_{codec_name.upper()}_BACKENDS")
    return [b.strip() for b in chosen.split(",") if b.strip()] if chosen else list(default)


def require(module: str, package: str):
    """Import ``module`` or say which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingCodecLibrary(
            f"reading this file needs the Python package '{package}': pip install {package}"
        ) from exc


# -- bzip2 ---------------------------------------------------------------------------
@codec("bz2", b"BZh")
def open_bz2(source: str | BinaryIO, threads: int) -> BinaryIO:
    """bzip2, single or multi-stream (bzip2, pbzip2, lbzip2), on several threads."""
    piped = not isinstance(source, str)
    for backend in backends("bz2", ("lbzip2", "indexed_bzip2")):
        if backend == "lbzip2":
            program = which("lbzip2")
            if program:
                argv = [program, "-dc", f"-n{max(1, threads)}"]
                if piped:
                    return program_stream(argv, _name(source), feed=source, codec="bz2")
                return program_stream(argv, source, feed_file=True, codec="bz2")
        elif backend == "indexed_bzip2":
            if piped:  # it would hold the whole compressed stream in memory (see above)
                import bz2

                stream = bz2.BZ2File(source)
                return CodecStream(stream, "bz2", (OSError, EOFError), source.tell)
            indexed_bzip2 = require("indexed_bzip2", "indexed-bzip2")
            stream = indexed_bzip2.open(source, parallelization=max(1, threads))
            # its C++ core raises RuntimeError or ValueError for damaged blocks (a CRC, a Huffman table, a
            # cut stream: "std::exception")
            return CodecStream(stream, "bz2", (RuntimeError, ValueError, OSError, EOFError),
                               lambda: stream.tell_compressed() // 8)  # it counts bits
    raise MissingCodecLibrary("no bzip2 backend: install lbzip2 or pip install indexed-bzip2", path=_name(source))


# -- 7z ------------------------------------------------------------------------------
@codec("7z", b"7z\xbc\xaf\x27\x1c", needs_seeking=True)
def open_7z(path: str, threads: int) -> BinaryIO:
    """7z, streamed without extracting to disk (a history 7z can expand to hundreds of GB); a path only."""
    if not isinstance(path, str):
        raise TypeError("7z is read from a file path: it cannot be read from a stream")
    reasons = []
    for backend in backends("7z", ("libarchive", "7zz")):
        if backend == "libarchive":
            try:
                return io.BufferedReader(ArchiveEntryStream(path), PIPE_BYTES)
            except MissingCodecLibrary as exc:
                reasons.append(str(exc))
        elif backend == "7zz":
            program = which("7zz", "7z", "7za")
            if program:
                member = sevenzip_member(program, path)
                argv = [program, "e", "-so", "-bd", f"-mmt{max(1, threads)}", path, "--", member]
                # 7-Zip names the member it fails on: its name is the archive's text, not ours to copy
                return program_stream(argv, path, codec="7z", hide={member: "<the .xml member>"} if member else None)
            reasons.append("no 7zz, 7z or 7za on PATH")
    raise MissingCodecLibrary(
        f"reading 7z needs libarchive ({install_hint('7z')}, or apt install libarchive13) "
        f"or 7-Zip (apt install 7zip): {'; '.join(reasons)}",
        path=path,
    )


# -- gzip, xz, lzma, zstandard ----------------------------------------------------
@codec("gzip", b"\x1f\x8b")
def open_gzip(source: str | BinaryIO, threads: int) -> BinaryIO:
    """gzip (also multi-member), through zlib."""
    import gzip
    import zlib

    stream = gzip.open(source, "rb")  # a path or a file object alike
    # zlib.error for damaged deflate data, BadGzipFile (an OSError) for a bad header or CRC, EOFError when cut
    return CodecStream(stream, "gzip", (zlib.error, OSError, EOFError), lambda: stream.fileobj.tell())


@codec("xz", b"\xfd7zXZ\x00")
def open_xz(source: str | BinaryIO, threads: int) -> BinaryIO:
    """xz (also several streams, one after the other), through liblzma."""
    import lzma

    from .xzstreams import LzmaStreams

    # not lzma.open: LZMAFile ignores bytes after the last stream that xz -t fails (xzstreams)
    stream = LzmaStreams(_file(source), lzma.FORMAT_XZ)
    return CodecStream(io.BufferedReader(stream, PIPE_BYTES), "xz", (lzma.LZMAError, EOFError),
                       lambda: stream.consumed)


@codec("zstd", b"\x28\xb5\x2f\xfd")
def open_zstd(source: str | BinaryIO, threads: int) -> BinaryIO:
    """zstandard, allowing the long windows that ``zstd --long=31`` writes."""
    zstandard = require("zstandard", "zstandard")
    from .zstdframes import WatchedSource

    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    # the reader ends quietly where the input ends inside a frame: the walked source knows (zstdframes)
    source = WatchedSource(_file(source))
    stream = io.BufferedReader(dctx.stream_reader(source, read_across_frames=True), PIPE_BYTES)
    return CodecStream(stream, "zstd", (zstandard.ZstdError,), lambda: source.consumed, source.cut_short)


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-8 / UTF-16 byte-order marks
    if head.startswith((b"<\x00", b"\x00<")):
        return True  # UTF-16 without a byte-order mark
    return head.lstrip(b" \t\r\n").startswith(b"<")


@codec("xml", matches=_looks_like_xml)
def open_plain(source: str | BinaryIO, threads: int) -> BinaryIO:
    """Uncompressed XML; lxml detects UTF-8 or UTF-16 itself."""
    stream = open(source, "rb", buffering=PIPE_BYTES) if isinstance(source, str) else source
    return CodecStream(stream, "xml", (OSError,), stream.tell)  # a read error of the file itself


def _looks_like_lzma_alone(head: bytes) -> bool:
    """The legacy .lzma header: properties byte, a power-of-two-ish dictionary size, the size."""
    if len(head) < 13 or head[0] > 224:
        return False
    dictionary = int.from_bytes(head[1:5], "little")
    size = int.from_bytes(head[5:13], "little")
    plausible_dictionary = dictionary >= 4096 and any(
        dictionary in (1 << n, 3 << (n - 1)) for n in range(12, 32)
    )
    return plausible_dictionary and (size == 2**64 - 1 or size < 2**48)


@codec("lzma", matches=_looks_like_lzma_alone)
def open_lzma(source: str | BinaryIO, threads: int) -> BinaryIO:
    """The legacy .lzma ("LZMA alone") format, through liblzma."""
    import lzma

    from .xzstreams import LzmaStreams

    stream = LzmaStreams(_file(source), lzma.FORMAT_ALONE)
    return CodecStream(io.BufferedReader(stream, PIPE_BYTES), "lzma", (lzma.LZMAError, EOFError),
                       lambda: stream.consumed)
