"""Where the blocks of a bzip2 file begin, found by scanning the compressed bits.

bzip2 blocks are not byte-aligned: each starts with the 48-bit magic
``0x314159265359`` (pi) at any bit offset, and each stream ends with
``0x177245385090`` (sqrt(pi)) followed by the stream's combined CRC. Wikimedia's
Hadoop readers split dumps this way; it needs no decoding, unlike
indexed-bzip2's ``block_offsets()``, which decodes the whole file first. The
scan is the first step of splitting one large file into several units
(``--split-size``); a 48-bit pattern can occur inside compressed data by chance
(about once per 35 TB of random bits), so what the scan finds is a candidate
until decoding confirms it (``bz2pieces``).

``realign`` then makes any run of whole blocks (from several streams too) into
one byte-aligned stream with its combined CRC, which any bzip2 decoder reads:
a unit can decode its own range of the file without the blocks before it.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .. import kernels

BLOCK_MAGIC = 0x314159265359
STREAM_END_MAGIC = 0x177245385090
BLOCK, STREAM_END = 1, 2


def _second_bytes() -> np.ndarray:
    """Which values the second byte spanned by either magic can take, over the 8 bit alignments:
    a byte outside them rules out every alignment at once, so most bytes cost one lookup."""
    table = np.zeros(256, np.bool_)
    for magic in (BLOCK_MAGIC, STREAM_END_MAGIC):
        for shift in range(8):
            spanned = (magic << (16 - shift)).to_bytes(8, "big")  # the 48 bits placed at bit `shift`
            table[spanned[1]] = True
    return table


@njit(cache=True, nogil=True)
def _scan(data, block_magic, end_magic, second):  # pragma: no cover - compiled
    """(bit offsets, kinds) of every block start and stream end in ``data``."""
    n = data.shape[0]
    capacity = 1024
    offsets = np.empty(capacity, np.int64)
    kinds = np.empty(capacity, np.int8)
    count = 0
    mask = np.uint64(0xFFFFFFFFFFFF)
    window = np.uint64(0)
    for i in range(n):
        window = (window << np.uint64(8)) | np.uint64(data[i])
        if i < 7 or not second[data[i - 6]]:
            continue
        # the window holds bytes i-7 .. i: a 48-bit pattern starting at bit s of byte i-7 ends within it
        for s in range(8):
            candidate = (window >> np.uint64(16 - s)) & mask
            kind = 0
            if candidate == block_magic:
                kind = 1
            elif candidate == end_magic:
                kind = 2
            if kind:
                if count == capacity:
                    capacity *= 2
                    grown = np.empty(capacity, np.int64)
                    grown[:count] = offsets[:count]
                    offsets = grown
                    grown_kinds = np.empty(capacity, np.int8)
                    grown_kinds[:count] = kinds[:count]
                    kinds = grown_kinds
                offsets[count] = (i - 7) * 8 + s
                kinds[count] = kind
                count += 1
    return offsets[:count], kinds[:count]


_SECOND = _second_bytes()


def scan_blocks(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Bit offsets of every block start and stream end of a bzip2 file, and their kinds."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    if data.shape[0] < 8:
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    kernels.announce(sys.modules[__name__])
    offsets, kinds = _scan(data, np.uint64(BLOCK_MAGIC), np.uint64(STREAM_END_MAGIC), _SECOND)
    return offsets.copy(), kinds.copy()


def block_starts(path: str) -> np.ndarray:
    """Bit offsets where blocks begin."""
    offsets, kinds = scan_blocks(path)
    return offsets[kinds == BLOCK]


@njit(cache=True, nogil=True)
def _copy_bits(src, src_bit, count, dst, dst_bit):  # pragma: no cover - compiled
    """Copy ``count`` bits from ``src`` at bit ``src_bit`` into ``dst`` at bit ``dst_bit`` (MSB first)."""
    for k in range(count):
        s = src_bit + k
        bit = (src[s >> 3] >> (7 - (s & 7))) & 1
        d = dst_bit + k
        if bit:
            dst[d >> 3] |= np.uint8(1 << (7 - (d & 7)))


@njit(cache=True, nogil=True)
def _read_bits(src, bit, count):  # pragma: no cover - compiled
    value = 0
    for k in range(count):
        s = bit + k
        value = (value << 1) | ((src[s >> 3] >> (7 - (s & 7))) & 1)
    return value


def realign(path: str, blocks: list[tuple[int, int]], level: int = 9) -> bytes:
    """One byte-aligned bzip2 stream made of the given blocks, each ``(start bit, end bit)`` of the
    file (end: the next block's magic or the stream's end marker), with the combined CRC that a
    decoder checks at its end. Blocks from several streams of a multistream file may be joined.

    ``level`` is the block-size digit of the stream's header: 9 admits blocks of every level; the
    blocks' own stream's digit makes the decoder check that they fit it, as it does reading the file."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    total = 32 + sum(end - start for start, end in blocks) + 48 + 32
    out = np.zeros((total + 7) // 8, np.uint8)
    out[:4] = np.frombuffer(b"BZh%d" % level, np.uint8)
    at = 32
    combined = 0
    for start, end in blocks:
        block_crc = int(_read_bits(data, start + 48, 32))
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ block_crc
        _copy_bits(data, start, end - start, out, at)
        at += end - start
    tail = np.frombuffer(((STREAM_END_MAGIC << 32) | combined).to_bytes(10, "big"), np.uint8)
    _copy_bits(tail, 0, 80, out, at)
    return out.tobytes()
