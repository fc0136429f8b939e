"""``fastxml.ahead.ReadAhead``: the next block made on a second thread, in order, at most one ahead."""

from __future__ import annotations

import threading
import time

import pytest

from dumpproc.fastxml.ahead import LARGE, ReadAhead


class Blocks:
    """Blocks of the given sizes, counting how many are alive (made and not yet let go of)."""

    def __init__(self, sizes, fail_after=None):
        self.sizes, self.fail_after = sizes, fail_after
        self.alive = self.most = 0
        self.alive_at_make: list[int] = []  # blocks alive when each one began to be made
        self.lock = threading.Lock()
        self.closed = False

    def __iter__(self):
        try:
            for i, size in enumerate(self.sizes):
                if self.fail_after == i:
                    raise ValueError(f"fault after {i}")
                with self.lock:
                    self.alive_at_make.append(self.alive)
                    self.alive += 1
                    self.most = max(self.most, self.alive)
                yield (i, size)
        finally:
            self.closed = True

    def done(self):
        with self.lock:
            self.alive -= 1


def _drain(blocks, ahead, hold=0.0):
    got = []
    for item in ahead:
        got.append(item[0])
        time.sleep(hold)  # the caller at work: the thread makes the next meanwhile
        blocks.done()
    return got


def test_blocks_come_in_order_with_one_made_ahead():
    blocks = Blocks([10] * 20)
    source = iter(blocks)
    got = _drain(blocks, ReadAhead(source, lambda item: item[1]), hold=0.002)
    assert got == list(range(20)) and blocks.closed
    assert blocks.most == 2  # the caller's and the next


def test_a_large_block_is_the_callers_alone():
    blocks = Blocks([10, LARGE, 10, LARGE, LARGE, 10])
    got = _drain(blocks, ReadAhead(iter(blocks), lambda item: item[1]), hold=0.002)
    assert got == list(range(6))
    # while a large block is at work nothing else is made; after a small one, the next is
    assert [alive for i, alive in enumerate(blocks.alive_at_make) if i and blocks.sizes[i - 1] >= LARGE] == [0, 0, 0]
    assert blocks.most == 2


def test_a_fault_comes_after_the_blocks_before_it_and_stays():
    blocks = Blocks([10] * 5, fail_after=3)
    ahead = ReadAhead(iter(blocks), lambda item: item[1])
    assert [next(ahead)[0] for _ in range(3)] == [0, 1, 2]
    for _ in range(2):
        with pytest.raises(ValueError, match="fault after 3"):
            next(ahead)


def test_the_end_is_the_end_every_time():
    ahead = ReadAhead(iter(Blocks([10])), lambda item: item[1])
    assert next(ahead)[0] == 0
    for _ in range(2):
        with pytest.raises(StopIteration):
            next(ahead)


def test_close_stops_the_thread_halfway_and_closes_the_source():
    blocks = Blocks([10] * 1000)
    ahead = ReadAhead(iter(blocks), lambda item: item[1])
    next(ahead)
    ahead.close()
    assert not ahead._thread.is_alive() and blocks.closed and blocks.alive <= 2
