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

from ..errors import MissingCodecLibrary, install_hint
from .external import PIPE_BYTES, program_stream, which


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
                    return program_stream(argv, _name(source), feed=source)
                return program_stream(argv, source, feed_file=True)
        elif backend == "indexed_bzip2":
            if piped:  # it would hold the whole compressed stream in memory (see above)
                import bz2

                return bz2.BZ2File(source)
            indexed_bzip2 = require("indexed_bzip2", "indexed-bzip2")
            return indexed_bzip2.open(source, parallelization=max(1, threads))
    raise MissingCodecLibrary("no bzip2 backend: install lbzip2 or pip install indexed-bzip2", path=_name(source))


# -- 7z ------------------------------------------------------------------------------
def _libarchive():
    """libarchive-c, loading the system libarchive or else the one the extractcode-libarchive wheel ships."""
    if not os.environ.get("LIBARCHIVE"):
        from ctypes.util import find_library

        if not find_library("archive"):
            try:
                spec = importlib.util.find_spec("extractcode_libarchive")
            except (ImportError, ValueError):
                spec = None
            if spec and spec.submodule_search_locations:
                bundled = os.path.join(list(spec.submodule_search_locations)[0], "lib", "libarchive.so")
                if os.path.exists(bundled):
                    os.environ["LIBARCHIVE"] = bundled
    try:
        return importlib.import_module("libarchive")
    except (ImportError, OSError, AttributeError, TypeError) as exc:
        raise MissingCodecLibrary(f"libarchive cannot be loaded: {exc}") from exc


def _is_dump_member(name: str | None) -> bool:
    """A member that holds the dump: named *.xml, or with no extension (7z made from stdin)."""
    base = os.path.basename(name or "")
    return base.lower().endswith(".xml") or "." not in base


def _7z_member(program: str, path: str) -> str:
    """The archive's first member named *.xml, from 7-Zip's listing (headers only)."""
    import subprocess

    listing = subprocess.run([program, "l", "-slt", "-ba", path], capture_output=True, text=True)
    if listing.returncode != 0:
        raise OSError(f"not a readable 7z archive: {listing.stderr.strip() or listing.stdout.strip()}")
    names = [line[7:] for line in listing.stdout.splitlines() if line.startswith("Path =")]
    for name in names:
        if _is_dump_member(name):
            return name
    raise OSError("the 7z archive holds no .xml file")


class _ArchiveEntryStream(io.RawIOBase):
    """The archive's first *.xml member, read block by block through libarchive."""

    def __init__(self, path: str):
        super().__init__()
        import contextlib

        libarchive = _libarchive()
        self._errors = (libarchive.ArchiveError,)
        self._stack = contextlib.ExitStack()
        # libarchive reads from our descriptor, so its offset tells how far it has read
        self._file = self._stack.enter_context(open(path, "rb"))
        try:
            archive = self._stack.enter_context(libarchive.fd_reader(self._file.fileno()))
            self._blocks = None
            for entry in archive:  # headers only, until the chosen member
                if _is_dump_member(entry.pathname):
                    self._blocks = entry.get_blocks(PIPE_BYTES)
                    break
        except self._errors as exc:
            self._stack.close()
            raise OSError(f"not a readable 7z archive: {exc}") from exc
        if self._blocks is None:
            self._stack.close()
            raise OSError("the 7z archive holds no .xml file")
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def compressed_offset(self) -> int | None:
        return None if self._file.closed else os.lseek(self._file.fileno(), 0, os.SEEK_CUR)

    def readinto(self, buffer) -> int:
        if not self._left:
            try:
                self._left = memoryview(next(self._blocks, b""))
            except self._errors as exc:
                raise OSError(f"7z data is damaged: {exc}") from exc
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._stack.close()
            super().close()


@codec("7z", b"7z\xbc\xaf\x27\x1c", needs_seeking=True)
def open_7z(path: str, threads: int) -> BinaryIO:
    """7z, streamed without extracting to disk (a history 7z can expand to hundreds of GB); a path only."""
    if not isinstance(path, str):
        raise TypeError("7z is read from a file path: it cannot be read from a stream")
    reasons = []
    for backend in backends("7z", ("libarchive", "7zz")):
        if backend == "libarchive":
            try:
                return io.BufferedReader(_ArchiveEntryStream(path), PIPE_BYTES)
            except MissingCodecLibrary as exc:
                reasons.append(str(exc))
        elif backend == "7zz":
            program = which("7zz", "7z", "7za")
            if program:
                member = _7z_member(program, path)
                argv = [program, "e", "-so", "-bd", f"-mmt{max(1, threads)}", path, "--", member]
                return program_stream(argv, path)
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

    return gzip.open(source, "rb")  # a path or a file object alike


@codec("xz", b"\xfd7zXZ\x00")
def open_xz(source: str | BinaryIO, threads: int) -> BinaryIO:
    """xz, through liblzma."""
    import lzma

    return lzma.open(source, "rb", format=lzma.FORMAT_XZ)


@codec("zstd", b"\x28\xb5\x2f\xfd")
def open_zstd(source: str | BinaryIO, threads: int) -> BinaryIO:
    """zstandard, allowing the long windows that ``zstd --long=31`` writes."""
    zstandard = require("zstandard", "zstandard")
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    source = _file(source)
    stream = io.BufferedReader(dctx.stream_reader(source, read_across_frames=True), PIPE_BYTES)
    stream.source_file = source  # how far zstd has read: progress and error offsets
    return stream


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-8 / UTF-16 byte-order marks
    if head.startswith((b"<\x00", b"\x00<")):
        return True  # UTF-16 without a byte-order mark
    return head.lstrip(b" \t\r\n").startswith(b"<")


@codec("xml", matches=_looks_like_xml)
def open_plain(source: str | BinaryIO, threads: int) -> BinaryIO:
    """Uncompressed XML; lxml detects UTF-8 or UTF-16 itself."""
    return open(source, "rb", buffering=PIPE_BYTES) if isinstance(source, str) else source


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

    return lzma.open(source, "rb", format=lzma.FORMAT_ALONE)
