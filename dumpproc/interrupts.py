"""Ctrl-C and SIGTERM: stop the run at a safe point, keep what committed, say so in one line.

A signal only sets a flag. The code that does the work calls ``check()`` at
points where stopping leaves nothing half-done (between revisions, between
units, between files being planned), and ``check`` raises ``Interrupted``
there. So a unit being read is abandoned whole (its temporary parts removed),
a unit being published is published whole, and no exception ever lands inside
a compiled kernel (which would surface as numba's ``SystemError``). A second
signal in the run's process stops it at once, and a read of input that blocks
(``reading``: a pipe, a FIFO) is stopped by the first.

Worker processes have the flag too (``install_worker``): the run sends them
SIGTERM, and each abandons its unit at the next revision.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The exit code of an interrupted run (SPEC).
EXIT_INTERRUPTED = 130

_received: int | None = None  # the first signal's number
_reading = 0  # > 0 while blocked reading input (a pipe, a FIFO): a signal may stop the read itself


class Interrupted(BaseException):
    """The run was asked to stop (SIGINT or SIGTERM).

    A ``BaseException``, as ``KeyboardInterrupt`` is, so that no ``except Exception``
    between the safe point and the run mistakes it for a fault of the input.
    """

    def __init__(self, signum: int | None = None):
        self.signum = signum if signum is not None else _received
        name = signal.Signals(self.signum).name if self.signum else "a signal"
        super().__init__(f"interrupted by {name}")


def requested() -> int | None:
    """The signal that asked the run to stop, or None."""
    return _received


def check() -> None:
    """Raise ``Interrupted`` if a signal asked the run to stop; call only at safe points."""
    if _received is not None:
        raise Interrupted(_received)


def request(signum: int) -> None:
    """Ask the run to stop as a signal would (an output fault stops the other units this way)."""
    _flag_only(signum)


def _flag_only(signum: int) -> None:
    global _received
    if _received is None:
        _received = signum


def reset() -> None:
    """Forget a signal received (a new run, or a worker freshly forked)."""
    global _received
    _received = None


def _flag(signum, frame) -> None:
    global _received
    if _received is None:
        _received = signum
    if _reading:
        raise Interrupted(signum)  # a read of input may block for ever: end it here, a safe point too


class reading:
    """Around a read of input that may block (a pipe, a FIFO, standard input): a signal that comes
    while it waits raises ``Interrupted`` from the read instead of waiting for it to return."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _reading
        _reading += 1

    def __exit__(self, *exc) -> None:
        global _reading
        _reading -= 1


def _flag_then_stop(signum, frame) -> None:
    if _received is not None:
        raise Interrupted(signum)  # a second signal: stop now
    _flag(signum, frame)


@contextmanager
def handling() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM set the flag (a second one raises at once).

    Only the main thread can install handlers; elsewhere (a notebook's worker thread,
    a Spark task) the block runs with the signals as they were.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reset()
    previous = {signum: signal.signal(signum, _flag_then_stop) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def install_worker() -> None:
    """In a worker process: SIGINT and SIGTERM only set the flag, checked between revisions."""
    reset()
    for signum in SIGNALS:
        signal.signal(signum, _flag)
