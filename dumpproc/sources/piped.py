"""Inputs read once, front to back: standard input (``-``) and named pipes (FIFOs).

``dumpproc process - -o OUT`` reads a dump piped in, decompressed
(``bzcat x.xml.bz2 | …``) or as it is (``cat x.xml.bz2 | …``); ``/dev/stdin`` is
the same input, and a FIFO path is read the same way by its unit. Such an input
has no size, cannot be split, seeked or checksummed, and is one unit.

Standard input is opened (``open_piped``) by the process that plans the run,
before any worker starts: multiprocessing replaces ``sys.stdin`` in the
processes it starts, but a forked worker inherits every descriptor, so the
input is held on a descriptor of its own (a duplicate of 0) that travels with
its unit. Its first bytes are read there, so that a 7z (which needs seeking) is
refused before any work, and travel along too: ``PipedStream`` hands them out
again before the rest, which is how the codec is recognised without seeking.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from typing import Callable

from ..errors import InputNotFound, InputNotSeekable
from .codecs import SNIFF_BYTES, Codec, match

#: What a run and its manifest call standard input.
STDIN = "-"
#: The names of this process's standard input.
STDIN_NAMES = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


def is_stdin(path: str) -> bool:
    """``-``, or a name of this process's standard input (``/dev/stdin``)."""
    return os.fspath(path) in STDIN_NAMES


def is_piped(path: str) -> bool:
    """Standard input, or a path that is a FIFO, socket or character device rather than a file."""
    if is_stdin(path):
        return True
    try:
        mode = os.stat(path).st_mode  # stat does not open a FIFO, so it never waits for a writer
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def input_name(path: str) -> str:
    """How a run names an input: ``-`` for standard input by any of its names, else the path as given."""
    return STDIN if is_stdin(path) else os.fspath(path)


@dataclass(frozen=True)
class PipedInput:
    """An opened piped input: its name, a descriptor of its own and the first bytes already read from it.

    It pickles to a forked worker, which has inherited the descriptor; whoever
    opened it closes it (``close``) once the run is done.
    """

    name: str
    fd: int
    head: bytes

    def close(self) -> None:
        """Close the descriptor (streams made from it hold their own copies)."""
        try:
            os.close(self.fd)
        except OSError:
            pass


def read_head(read: Callable[[int], bytes], size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes (fewer only at the end): a pipe may give a few at a time."""
    head = b""
    while len(head) < size:
        more = read(size - len(head))
        if not more:
            break
        head += more
    return head


def refuse_unseekable(found: Codec | None, name: str) -> None:
    """Raise ``InputNotSeekable`` for a stream in a codec that can only be read from a file."""
    if found is not None and found.needs_seeking:
        raise InputNotSeekable(
            f"a {found.name} archive cannot be read from a pipe ({found.name} needs seeking): give the "
            f".{found.name} file itself, or pipe its XML in: 7zz e -so x.{found.name} | dumpproc process - …",
            path=name)


def open_piped(path: str) -> PipedInput:
    """Open a piped input (standard input, or a FIFO, waiting for its writer) and read its first bytes."""
    name = input_name(path)
    try:
        fd = os.dup(0) if name == STDIN else os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InputNotFound(f"cannot be opened: {exc.strerror}", path=name) from exc
    if name == STDIN and os.isatty(fd):  # nothing is piped in: waiting for typed XML helps no one
        os.close(fd)
        raise InputNotFound("standard input is a terminal, not a dump: pipe one in, as in "
                            "bzcat x.xml.bz2 | dumpproc process - …", path=name)
    try:
        head = read_head(lambda count: os.read(fd, count))
        refuse_unseekable(match(head), name)
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError):
            raise InputNotFound(f"cannot be read: {exc.strerror}", path=name) from exc
        raise
    return PipedInput(name, fd, head)


class PipedStream(io.RawIOBase):
    """A piped input as a raw stream: its first bytes again, then the rest, from a copy of its descriptor.

    ``tell`` is how many bytes have been handed out, which is how far into the
    (compressed) input a decompressor reading it has got.
    """

    def __init__(self, piped: PipedInput):
        super().__init__()
        self.name = piped.name
        self._head = memoryview(piped.head)
        self._file = io.FileIO(os.dup(piped.fd), "rb")  # a copy of its own: the opener closes the original
        self._handed_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
        else:
            count = self._file.readinto(buffer) or 0
        self._handed_out += count
        return count

    def tell(self) -> int:
        return self._handed_out

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            super().close()
