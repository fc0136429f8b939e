"""Find and open inputs: any dump file as one stream of XML bytes.

The codec is chosen from the file's first bytes, never from its name. Codecs
live in a registry: each is one named function, registered with the magic
bytes it recognises, that imports its library inside, so adding a codec is
adding one function and a missing library names the package to install.

``open_dump`` returns a ``DumpStream``: a read-only binary stream that counts
the XML bytes it has handed out and can say how far into the compressed file it
is, so that parse errors can name both offsets.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import BinaryIO, Callable

from .errors import CorruptInput, InputNotFound, MissingCodecLibrary, UnsupportedFormat

#: Bytes read from the head of a file to recognise its codec.
SNIFF_BYTES = 16


@dataclass(frozen=True)
class Codec:
    """A registered decompressor: its name, how to recognise it, how to open it."""

    name: str
    matches: Callable[[bytes], bool]
    open: Callable[[str, int], BinaryIO]


CODECS: list[Codec] = []


def codec(name: str, *magics: bytes, matches: Callable[[bytes], bool] | None = None):
    """Register the decorated ``open(path, threads) -> binary stream`` for these magic bytes."""

    def test(head: bytes) -> bool:
        return any(head.startswith(m) for m in magics)

    def register(opener: Callable[[str, int], BinaryIO]):
        CODECS.append(Codec(name, matches or test, opener))
        return opener

    return register


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the dependency
        raise MissingCodecLibrary(
            f"reading this file needs the Python package '{package}': pip install {package}"
        ) from exc


@codec("bz2", b"BZh")
def open_bz2(path: str, threads: int) -> BinaryIO:
    """bzip2, single or multi-stream, decoded by indexed-bzip2 on several threads."""
    indexed_bzip2 = _require("indexed_bzip2", "indexed-bzip2")
    return indexed_bzip2.open(path, parallelization=max(1, threads))


@codec("gzip", b"\x1f\x8b")
def open_gzip(path: str, threads: int) -> BinaryIO:
    """gzip (also multi-member), through zlib."""
    import gzip

    return gzip.open(path, "rb")


@codec("xz", b"\xfd7zXZ\x00")
def open_xz(path: str, threads: int) -> BinaryIO:
    """xz, through liblzma."""
    import lzma

    return lzma.open(path, "rb", format=lzma.FORMAT_XZ)


@codec("zstd", b"\x28\xb5\x2f\xfd")
def open_zstd(path: str, threads: int) -> BinaryIO:
    """zstandard, allowing the long windows that ``zstd --long`` writes."""
    zstandard = _require("zstandard", "zstandard")
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    return io.BufferedReader(dctx.stream_reader(open(path, "rb"), read_across_frames=True), 1 << 20)


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-8 / UTF-16 byte-order marks
    if head.startswith((b"<\x00", b"\x00<")):
        return True  # UTF-16 without a byte-order mark
    return head.lstrip(b" \t\r\n").startswith(b"<")


@codec("xml", matches=_looks_like_xml)
def open_plain(path: str, threads: int) -> BinaryIO:
    """Uncompressed XML; lxml detects UTF-8 or UTF-16 itself."""
    return open(path, "rb", buffering=1 << 20)


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
    if not head:
        raise UnsupportedFormat("the file is empty", path=path, offset=0)
    for candidate in CODECS:
        if candidate.matches(head):
            return candidate
    raise UnsupportedFormat(
        f"not a dump: its first bytes {head[:8]!r} match no known compression or XML", path=path, offset=0
    )


class DumpStream(io.RawIOBase):
    """The XML bytes of one input, counting what it has handed out.

    Read errors from the decompressor become ``CorruptInput`` naming the file and
    both offsets.
    """

    def __init__(self, path: str, codec: Codec, inner: BinaryIO, raw: BinaryIO | None = None):
        super().__init__()
        self.path = path
        self.codec = codec
        self._inner = inner
        self.bytes_read = 0
        self.compressed_size = os.path.getsize(path)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._inner.read(size)
        except (OSError, EOFError, RuntimeError, ValueError) as exc:
            raise CorruptInput(
                f"{self.codec.name} stream is damaged or truncated: {exc}",
                path=self.path,
                offset=self.compressed_offset(),
                uncompressed_offset=self.bytes_read,
            ) from exc
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def compressed_offset(self) -> int | None:
        """How far into the file on disk the decompressor has read, where it can say."""
        inner = self._inner
        try:
            if hasattr(inner, "tell_compressed"):
                return int(inner.tell_compressed()) // 8  # indexed-bzip2 counts bits
            if self.codec.name == "xml":
                return inner.tell()
            fileobj = getattr(inner, "fileobj", None) or getattr(inner, "_fp", None)
            if fileobj is not None:
                return fileobj.tell()
        except (OSError, ValueError, AttributeError):
            pass
        return None

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def open_dump(path: str, threads: int = 1) -> DumpStream:
    """Open ``path`` as a stream of XML bytes, decompressing as its first bytes say."""
    path = os.fspath(path)
    found = detect_codec(path)
    try:
        inner = found.open(path, threads)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptInput(f"cannot be opened as {found.name}: {exc}", path=path, offset=0) from exc
    return DumpStream(path, found, inner)
