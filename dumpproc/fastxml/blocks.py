"""Feeding ``scan`` a stream of XML bytes block by block.

``scan_blocks`` reads ``block_size`` bytes at a time, appends them to what the last scan left
after its last boundary, and scans again; each scan's field table and decoded values are handed
out (``Scanned``) before the next block is read. Memory is the block plus the carried bytes,
which are at most one unit (a revision, a page's header): bounded by the largest revision, never
by the page or the file.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, NamedTuple

import numpy as np

from . import Fallback
from . import scan as kernel

#: bytes read at a time
BLOCK_SIZE = 4 << 20
#: field-table rows per scan, to begin with (doubled when one unit needs more)
ROWS = 1 << 16


class Scanned(NamedTuple):
    """One scan's whole units: ``fields`` rows (code, value start, value end, XML byte), their
    values in ``out``; XML bytes are counted from the first byte ``scan_blocks`` was given
    (``base`` added)."""

    fields: np.ndarray
    out: np.ndarray


def _reader(stream: BinaryIO):
    """``readinto(view)`` of ``stream``: its own where it has one (a decompressor writes straight into
    the buffer held), else ``read`` and a copy."""
    own = getattr(stream, "readinto", None)
    if own is not None:
        return own

    def readinto(view) -> int:
        data = stream.read(len(view))
        view[:len(data)] = data
        return len(data)

    return readinto


def scan_blocks(stream: BinaryIO, first: bytes = b"", base: int = 0, block_size: int = BLOCK_SIZE,
                rows: int | None = None) -> Iterator[Scanned]:
    """Scan ``first`` and then ``stream`` (the bytes after the ``<siteinfo>``, inside the root) to the
    end of the document; raises ``Fallback`` where the kernel gives up.

    The bytes held are one ``bytearray``, ``filled`` of it, read into ``block_size`` at a time
    (``readinto``: no copy); what the last scan left after its last boundary is moved to its front.
    It is grown in place (a large one by the allocator's remapping, not by copying) when a unit
    larger than what is held doubles what is read before the next scan, so a huge revision is
    scanned a few times over (never once per block) and held about once, beside its decoded
    value; and cut back once that unit is scanned."""
    readinto = _reader(stream)
    state = np.zeros(3, np.int64)
    carried = bytearray(first)
    filled = len(carried)
    at = base  # the XML byte of carried[0]
    ended = False
    want = block_size  # bytes to hold before the next scan
    fields = np.zeros((rows or ROWS, 4), np.int64)
    while True:
        while not ended and filled < want:
            if len(carried) < filled + block_size:
                carried += bytes(filled + block_size - len(carried))  # room to read into
            with memoryview(carried)[filled:filled + block_size] as view:  # released before carried resizes
                got = readinto(view)
            ended = not got
            filled += got
        buf = np.frombuffer(carried, np.uint8, filled)  # a view: let go of before carried changes size
        out = np.empty(filled + 8, np.uint8)
        status, consumed, count, _, fault = kernel.scan(
            buf, filled, ended, state, out, fields, kernel.ELEMENT_NAMES, kernel.ELEMENT_LENGTHS,
            kernel.ATTRIBUTE_NAMES, kernel.ATTRIBUTE_LENGTHS, kernel.RULES, kernel.CONTAINER, kernel.ATTRIBUTE_RULES)
        del buf
        scanned_at, held = at, filled
        # the bytes scanned go before the units are handed out: a huge revision is then held once, decoded
        if consumed:
            carried[:filled - consumed] = carried[consumed:filled]
            filled -= consumed
            if len(carried) > 2 * block_size and filled < block_size:
                del carried[2 * block_size:]  # a huge unit's room, given back
        at += consumed
        if count:
            found = fields[:count].copy()
            found[:, 3] += scanned_at
            yield Scanned(found, out)
        del out
        if status == kernel.FALLBACK:
            raise Fallback("outside what MediaWiki writes", scanned_at + int(fault))
        if status == kernel.DONE:
            return
        if status == kernel.FULL and consumed == 0:
            fields = np.zeros((len(fields) * 2, 4), np.int64)  # one unit has more fields than the table
        if status == kernel.MORE and consumed == 0 and ended:
            raise Fallback("the document ends inside an element", scanned_at + held)
        # one unit larger than what is held: hold twice as much before scanning it again
        want = 2 * filled if status == kernel.MORE and consumed == 0 else block_size
