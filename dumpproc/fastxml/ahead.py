"""Reading one block ahead on a second thread, so that a single page's history uses two cores.

``ReadAhead(blocks)`` runs the ``blocks`` iterator (decompressing, scanning: the codecs and the
compiled kernels let go of the GIL) on a thread of its own while the caller works on the block
before (the diff, another compiled kernel, and the rows). At most two blocks are alive: the
caller's and the one being made; and after a large block (a huge revision) the next one is made
only once the caller is done with it, so that a huge revision is never held twice. An exception
of the iterator reaches the caller in its place, after the blocks before it. ``close()`` stops
the thread and waits for it: call it before closing the stream it reads.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

#: a block this large (bytes, ``size(block)``) is the caller's alone until it asks for the next
LARGE = 32 << 20

_END = object()


class ReadAhead:
    def __init__(self, blocks: Iterator, size: Callable[[object], int]):
        self._blocks, self._size = blocks, size
        self._lock = threading.Condition()
        self._ready: list = []  # the one block made and not yet taken (or _END, or an exception)
        self._asked = 0  # how many blocks the caller has asked for
        self._made = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dumpproc-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        blocks = self._blocks
        try:
            for block in blocks:
                large = self._size(block) >= LARGE
                with self._lock:
                    self._ready.append(block)
                    self._made += 1
                    self._lock.notify_all()
                    # taken before the next is made; a large one, also done with (the next asked for)
                    while not self._stopping and (self._ready or (large and self._asked <= self._made)):
                        self._lock.wait()
                    if self._stopping:
                        return
                del block
            item = _END
        except BaseException as exc:  # the caller raises it where it would have met it
            item = exc
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
        with self._lock:
            self._ready.append(item)
            self._lock.notify_all()

    def __iter__(self) -> "ReadAhead":
        return self

    def __next__(self):
        with self._lock:
            self._asked += 1
            self._lock.notify_all()
            while not self._ready:
                self._lock.wait()
            item = self._ready.pop()
            self._lock.notify_all()
        if item is _END:
            self._ready.append(_END)  # and again, for a caller that asks once more
            raise StopIteration
        if isinstance(item, BaseException):
            self._ready.append(item)
            raise item
        return item

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._thread.join()
