"""A bzip2 file as the pieces split units decode: its blocks, none trusted before it is decoded.

``bz2blocks`` finds *candidates*: the 48-bit block magic or stream-end magic at any bit offset.
Almost all are what they seem, but the same 48 bits can occur by chance inside compressed data
(over a few TB of bzip2 one is to be expected), so a candidate becomes a fact only by decoding:

- A block is decoded alone (``realign``), from its candidate to the next one, with its own
  stream's block-size digit. Where that fails, it is decoded on to the candidate after, and so on
  up to the longest a block can be: a chance pattern inside a block is passed over, and the block
  it sits in is one block. Only when no end works is the block damaged.
- Where a block ends at a stream's end, the stream is checked as a decoder reading the file
  checks it: the combined CRC over its blocks, then straight after it the next stream's header
  (``BZh`` and a digit from 1 to 9) or the file's end. A file cut inside a block, or anywhere
  before its last stream's end, fails the unit that reads up to there.

Each piece is one block candidate; a passed-over candidate's piece yields nothing.
"""

from __future__ import annotations

import bz2
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import CorruptInput
from .bz2blocks import BLOCK, STREAM_END, realign, scan_blocks

#: What bz2 raises for a block that does not decode.
_BZ2_ERRORS = (OSError, ValueError, EOFError)
_MAGIC_BITS, _CRC_BITS = 48, 32


def max_block_bits(level: int) -> int:
    """The most bits a block of a stream of this level can take: at most 100,000 x level symbols
    (and the end of block), each coded in at most 20 bits, the longest code a decoder accepts,
    after the header, the tables and at most 32,767 selectors."""
    return 20 * (100_000 * level + 2) + 300_000


@dataclass(frozen=True, eq=False)
class BlockMap:
    """The candidates of one bzip2 file, with the stream layout its bytes show without decoding.

    ``pieces`` are the indices (in ``offsets``) of the block candidates: piece k starts at bit
    ``offsets[pieces[k]]``. ``stream_ends`` are the stream-end candidates that are followed, after
    their CRC, by another stream's ``BZh`` or by the file's end; stream s's header is at byte
    ``headers[s]``.
    """

    path: str
    size: int
    data: np.ndarray
    offsets: np.ndarray
    kinds: np.ndarray
    pieces: np.ndarray
    stream_ends: np.ndarray
    headers: np.ndarray

    def end_of(self, candidate: int) -> int:
        """The bit where the candidate after ``candidate`` begins, or the file's end."""
        following = candidate + 1
        return int(self.offsets[following]) if following < len(self.offsets) else self.size * 8

    def stream(self, candidate: int) -> tuple[int, int]:
        """(header byte, first candidate) of the stream that ``candidate`` lies in."""
        s = int(np.searchsorted(self.stream_ends, candidate))
        first = int(self.stream_ends[s - 1]) + 1 if s else 0
        return int(self.headers[min(s, len(self.headers) - 1)]), first

    def level(self, candidate: int) -> int:
        """The block-size digit of the stream ``candidate`` lies in; a damaged one is ``CorruptInput``."""
        header, _ = self.stream(candidate)
        return _digit(self, header)

    def word(self, bit: int) -> int:
        """The 32 bits at ``bit`` (a CRC after a magic)."""
        return int(_words(self.data, np.array([bit], np.int64))[0])

    def piece_of(self, candidate: int) -> int:
        return int(np.searchsorted(self.pieces, candidate))


def block_map(path: str) -> BlockMap:
    """The file's candidates and stream layout, found once per process and file."""
    stat = os.stat(path)
    return _block_map(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _block_map(path: str, size: int, mtime_ns: int) -> BlockMap:
    offsets, kinds = scan_blocks(path)
    data = np.memmap(path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    ends = np.flatnonzero(kinds == STREAM_END)
    after = (offsets[ends] + _MAGIC_BITS + _CRC_BITS + 7) // 8  # the byte after the stream's CRC and padding
    ends_file = after >= size
    inside = np.flatnonzero(~ends_file & (after + 3 <= size))
    at = after[inside]
    ends_file[inside] = (data[at] == ord("B")) & (data[at + 1] == ord("Z")) & (data[at + 2] == ord("h"))
    headers = np.concatenate([np.zeros(1, np.int64), after[ends_file][after[ends_file] < size]])
    return BlockMap(path, size, data, offsets, kinds, np.flatnonzero(kinds == BLOCK), ends[ends_file], headers)


def _words(data: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The 32-bit values at each of ``bits`` (MSB first), reading nothing past the file's end."""
    byte = bits >> 3
    index = np.minimum(byte[:, None] + np.arange(5), max(len(data) - 1, 0))
    window = np.bitwise_or.reduce(data[index].astype(np.uint64) << np.array([32, 24, 16, 8, 0], np.uint64), axis=1)
    return ((window >> (np.uint64(8) - (bits & 7).astype(np.uint64))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _digit(bm: BlockMap, header: int) -> int:
    digit = int(bm.data[header + 3]) if header + 3 < bm.size else -1
    if not ord("1") <= digit <= ord("9"):
        shown = chr(digit) if 32 <= digit < 127 else f"byte {digit}" if digit >= 0 else "the file's end"
        raise CorruptInput(f"bzip2 stream header's block-size digit is {shown!r}, not 1 to 9", path=bm.path,
                           offset=header + 3)
    return digit - ord("0")


def _decode(bm: BlockMap, start: int, end: int, level: int) -> bytes:
    return bz2.decompress(realign(bm.path, [(start, end)], level))


def _read_on(bm: BlockMap, candidate: int, level: int, failed: Exception) -> tuple[bytes, int]:
    """The block at ``candidate`` whose decoding to the next candidate ``failed``: decoded on to each
    later candidate in turn, as far as a block can reach. Returns its text and the candidate it ends at."""
    start = int(bm.offsets[candidate])
    for following in range(candidate + 2, len(bm.offsets) + 1):
        end = int(bm.offsets[following]) if following < len(bm.offsets) else bm.size * 8
        if end - start > max_block_bits(level):
            break
        try:
            return _decode(bm, start, end, level), following
        except _BZ2_ERRORS:
            continue
    raise CorruptInput(f"bzip2 block at bit {start} cannot be decoded (damaged, or the file is cut short): "
                       f"{failed}", path=bm.path, offset=start // 8) from failed


# -- a unit's pieces ----------------------------------------------------------------------------
def piece_spans(path: str) -> list[tuple[int, int]]:
    """Every piece as (start bit, end bit): to the next candidate, the last one to the file's end."""
    bm = block_map(path)
    return [(int(bm.offsets[c]), bm.end_of(int(c))) for c in bm.pieces]


def bz2_pieces(path: str, first: int, threads: int) -> Iterator[tuple[int, bytes]]:
    """The text of each block from piece ``first`` on, decoded several at a time on threads (bz2
    releases the GIL), each stream's end checked as it is reached and the file's end at the last."""
    bm = block_map(path)
    count = len(bm.pieces)
    if first >= count:
        return
    if first == 0 and _next_stream(bm, 0) != int(bm.pieces[0]):
        raise CorruptInput("the bzip2 file's first block is not where its header ends", path=path, offset=4)
    passed_over: set[int] = set()  # candidates found inside blocks: chance patterns
    unit_first = int(bm.pieces[first])
    window = max(2, 2 * threads)
    ahead: dict[int, object] = {}
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        try:
            piece = first
            while True:
                for later in range(piece, min(count, piece + window)):
                    if later not in ahead:
                        ahead[later] = pool.submit(_decode_piece, bm, later)
                candidate = int(bm.pieces[piece])
                try:
                    data, end = ahead.pop(piece).result(), candidate + 1
                except CorruptInput:
                    raise
                except _BZ2_ERRORS as exc:
                    data, end = _read_on(bm, candidate, bm.level(candidate), exc)
                    passed_over.update(range(candidate + 1, end))
                yield piece, data
                if end >= len(bm.offsets):
                    raise CorruptInput("bzip2 stream cut short: the file ends after a block, before the "
                                       "stream's end", path=path, offset=bm.size)
                if bm.kinds[end] == STREAM_END:
                    end = _stream_end(bm, end, passed_over, unit_first)
                    if end is None:
                        return
                piece = bm.piece_of(end)
                for skipped in [m for m in ahead if m < piece]:
                    ahead.pop(skipped).cancel()
        finally:
            for future in ahead.values():
                future.cancel()


def _decode_piece(bm: BlockMap, piece: int) -> bytes:
    candidate = int(bm.pieces[piece])
    return _decode(bm, int(bm.offsets[candidate]), bm.end_of(candidate), bm.level(candidate))


def _stream_end(bm: BlockMap, candidate: int, passed_over: set[int], unit_first: int) -> int | None:
    """Check the stream that ends at ``candidate``; returns the next stream's first block's
    candidate, or None at the file's end."""
    end = int(bm.offsets[candidate])
    if end + _MAGIC_BITS + _CRC_BITS > bm.size * 8:
        raise CorruptInput("bzip2 stream cut short inside its end marker", path=bm.path, offset=bm.size)
    _check_combined_crc(bm, candidate, passed_over, unit_first)
    return _next_stream(bm, (end + _MAGIC_BITS + _CRC_BITS + 7) // 8)


def _next_stream(bm: BlockMap, at: int) -> int | None:
    """The candidate of the first block of the stream whose header is at byte ``at`` (passing over
    empty streams), or None when the file ends there."""
    while at < bm.size:
        if bytes(bm.data[at:at + 3]) != b"BZh":
            raise CorruptInput("bytes after a bzip2 stream's end that begin no other stream", path=bm.path,
                               offset=at)
        _digit(bm, at)
        start = (at + 4) * 8
        found = int(np.searchsorted(bm.offsets, start))
        if found == len(bm.offsets) or bm.offsets[found] != start:
            raise CorruptInput("bzip2 stream header followed by no block and no stream end", path=bm.path,
                               offset=at)
        if bm.kinds[found] == BLOCK:
            return found
        # an empty stream (Wikimedia's multistream files end with one): its end right after its header
        if start + _MAGIC_BITS + _CRC_BITS > bm.size * 8 or bm.word(start + _MAGIC_BITS) != 0:
            raise CorruptInput("empty bzip2 stream cut short or damaged", path=bm.path, offset=at)
        at = (start + _MAGIC_BITS + _CRC_BITS + 7) // 8
    return None


def _check_combined_crc(bm: BlockMap, candidate: int, passed_over: set[int], unit_first: int) -> None:
    """The stream's stored combined CRC against its blocks' CRCs, as a decoder checks it at the end.

    The blocks before this unit's first are read from their headers, not decoded: if one of those
    candidates is a chance pattern the CRCs disagree, and leaving out one that is (confirmed by
    decoding the block it lies in) must make them agree. Two chance patterns in one stream before
    this unit are not looked for; the stream then fails, never passes.
    """
    _, first = bm.stream(candidate)
    blocks = [c for c in range(first, candidate) if bm.kinds[c] == BLOCK and c not in passed_over]
    crcs = [int(v) for v in _words(bm.data, bm.offsets[blocks].astype(np.int64) + _MAGIC_BITS)] if blocks else []
    stored = bm.word(int(bm.offsets[candidate]) + _MAGIC_BITS)
    prefix = _folds(crcs)
    if prefix[-1] == stored:
        return
    unknown = [i for i, c in enumerate(blocks) if first < c < unit_first]
    for i in unknown:
        if _fold_without(prefix, i) == stored and _inside_a_block(bm, blocks[i], first):
            return
    raise CorruptInput(f"bzip2 stream's combined CRC {stored:08x} does not match its blocks' "
                       f"{prefix[-1]:08x}: a block is missing or damaged", path=bm.path,
                       offset=int(bm.offsets[candidate]) // 8)


def _rotl(value: int, count: int) -> int:
    count %= 32
    return ((value << count) | (value >> (32 - count))) & 0xFFFFFFFF if count else value


def _folds(crcs: list[int]) -> list[int]:
    """The combined CRC of the first i blocks, for every i (bzip2: rotate left by one, xor the next)."""
    folds = [0]
    for crc in crcs:
        folds.append(_rotl(folds[-1], 1) ^ crc)
    return folds


def _fold_without(prefix: list[int], i: int) -> int:
    """The combined CRC of all blocks but block i: those before it are rotated one place less."""
    n = len(prefix) - 1
    return _rotl(prefix[i], n - 1 - i) ^ prefix[n] ^ _rotl(prefix[i + 1], n - 1 - i)


def _inside_a_block(bm: BlockMap, candidate: int, first: int) -> bool:
    """Whether the block candidate before ``candidate`` decodes only on past it: a chance pattern."""
    before = next((c for c in range(candidate - 1, first - 1, -1) if bm.kinds[c] == BLOCK), None)
    if before is None:
        return False
    level = bm.level(before)
    try:
        _decode(bm, int(bm.offsets[before]), int(bm.offsets[candidate]), level)
        return False  # the block before ends exactly there: the candidate is a block
    except _BZ2_ERRORS as exc:
        try:
            _, end = _read_on(bm, before, level, exc)
        except CorruptInput:
            return False
        return end > candidate
