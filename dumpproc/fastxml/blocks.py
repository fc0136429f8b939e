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


def scan_blocks(stream: BinaryIO, first: bytes = b"", base: int = 0, block_size: int = BLOCK_SIZE,
                rows: int | None = None) -> Iterator[Scanned]:
    """Scan ``first`` and then ``stream`` (the bytes after the ``<siteinfo>``, inside the root) to the
    end of the document; raises ``Fallback`` where the kernel gives up.

    The bytes held are one ``bytearray``, grown in place (a large one by the allocator's remapping,
    not by copying) and cut at the front in place, read ``block_size`` at a time; a unit larger than
    what is held doubles what is read before the next scan, so a huge revision is scanned a few
    times over (never once per block) and held about once, beside its decoded value."""
    state = np.zeros(3, np.int64)
    carried = bytearray(first)
    at = base  # the XML byte of carried[0]
    ended = False
    want = block_size  # bytes to hold before the next scan
    fields = np.zeros((rows or ROWS, 4), np.int64)
    while True:
        while not ended and len(carried) < want:
            chunk = stream.read(block_size)
            ended = not chunk
            carried += chunk
            del chunk
        buf = np.frombuffer(carried, np.uint8)  # a view: let go of before carried changes size
        out = np.empty(len(carried) + 8, np.uint8)
        status, consumed, count, _, fault = kernel.scan(
            buf, len(buf), ended, state, out, fields, kernel.ELEMENT_NAMES, kernel.ELEMENT_LENGTHS,
            kernel.ATTRIBUTE_NAMES, kernel.ATTRIBUTE_LENGTHS, kernel.RULES, kernel.CONTAINER, kernel.ATTRIBUTE_RULES)
        del buf
        scanned_at, held = at, len(carried)
        # the bytes scanned go before the units are handed out: a huge revision is then held once, decoded
        del carried[:consumed]
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
        want = 2 * len(carried) if status == kernel.MORE and consumed == 0 else block_size
