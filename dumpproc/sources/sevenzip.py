"""7z archives: the member that holds the dump, read through libarchive in-process, or listed for 7-Zip.

A history 7z can expand to hundreds of GB, so its member is streamed, never
extracted to disk. libarchive checks the member's CRC as it reads and says so
with a warning (``ARCHIVE_WARN``, "7-Zip bad CRC: ..."), which libarchive-c's
``get_blocks`` does not raise: it logs it and hands out stale buffer bytes as
data. So the member is read here with ``archive_read_data`` itself, and any
status below zero is the project's ``CorruptInput`` with libarchive's words.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import io
import os

from ..errors import CorruptInput, MissingCodecLibrary
from .external import PIPE_BYTES


def load_libarchive():
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


def is_dump_member(name: str | None) -> bool:
    """A member that holds the dump: named *.xml, or with no extension (7z made from stdin)."""
    base = os.path.basename(name or "")
    return base.lower().endswith(".xml") or "." not in base


def sevenzip_member(program: str, path: str) -> str:
    """The archive's first member named *.xml, from 7-Zip's listing (headers only)."""
    import subprocess

    listing = subprocess.run([program, "l", "-slt", "-ba", path], capture_output=True, text=True)
    if listing.returncode != 0:
        raise OSError(f"not a readable 7z archive: {listing.stderr.strip() or listing.stdout.strip()}")
    names = [line[7:] for line in listing.stdout.splitlines() if line.startswith("Path =")]
    for name in names:
        if is_dump_member(name):
            return name
    raise OSError("the 7z archive holds no .xml file")


def _read_data(ffi):
    """``archive_read_data`` without libarchive-c's status check, which passes a CRC warning off as data."""
    function = ffi.libarchive["archive_read_data"]  # a new function pointer: the shared one keeps its errcheck
    function.argtypes = [ffi.c_archive_p, ctypes.c_void_p, ctypes.c_size_t]
    function.restype = ctypes.c_ssize_t
    return function


class ArchiveEntryStream(io.RawIOBase):
    """The archive's first *.xml member, read block by block through libarchive."""

    def __init__(self, path: str):
        super().__init__()
        libarchive = load_libarchive()
        from libarchive import ffi

        self._ffi = ffi
        self._read = _read_data(ffi)
        self._stack = contextlib.ExitStack()
        # libarchive reads from our descriptor, so its offset tells how far it has read
        self._file = self._stack.enter_context(open(path, "rb"))
        self._pointer = None
        try:
            archive = self._stack.enter_context(libarchive.fd_reader(self._file.fileno()))
            for entry in archive:  # headers only, until the chosen member
                if is_dump_member(entry.pathname):
                    self._pointer = archive._pointer  # libarchive-c keeps the archive's handle there
                    break
        except libarchive.ArchiveError as exc:
            self._stack.close()
            raise OSError(f"not a readable 7z archive: {exc}") from exc
        if self._pointer is None:
            self._stack.close()
            raise OSError("the 7z archive holds no .xml file")
        self._buffer = ctypes.create_string_buffer(PIPE_BYTES)
        self._left = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def compressed_offset(self) -> int | None:
        return None if self._file.closed else os.lseek(self._file.fileno(), 0, os.SEEK_CUR)

    def readinto(self, buffer) -> int:
        if not self._left and not self._ended:
            count = self._read(self._pointer, self._buffer, PIPE_BYTES)
            if count < 0:
                said = self._ffi.error_string(self._pointer)
                said = said.decode("utf-8", "replace") if said else f"libarchive status {count}"
                raise CorruptInput(f"7z stream is damaged: {said}")
            self._ended = count == 0
            self._left = memoryview(ctypes.string_at(self._buffer, count))
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._stack.close()
            super().close()
