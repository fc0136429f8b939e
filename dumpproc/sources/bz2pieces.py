"""A bzip2 file as the pieces split units decode: its blocks, none trusted before it is parsed.

``bz2blocks`` finds *candidates*: the 48-bit block magic or stream-end magic at any bit offset.
Almost all are what they seem, but the same 48 bits can occur by chance inside compressed data
(over a few TB of bzip2 one is to be expected), so a candidate counts only once a block is seen to
end exactly there (``bz2blocks.block_end`` parses a block's header, tables and symbols as a
decoder does, without undoing the BWT: a small part of decoding it):

- A split point (``Confirmer``) is a block candidate whose block parses and ends where a
  candidate begins, and at which the block before it ends exactly (or its stream's header ends).
  Planning confirms only the candidates it would cut at, and tries the next one where one fails:
  no unit begins inside a block.
- A unit decodes each block alone (``realign``), from its candidate to the next one, with its
  own stream's block-size digit, its CRC checked. Where that fails, the block is parsed: if it
  ends at a later candidate, what lies between were chance patterns, passed over (the block they
  sit in is one block); otherwise the block is damaged.
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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import CorruptInput
from .bz2blocks import BLOCK, STREAM_END, block_end, realign, scan_blocks

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

    def candidate_at(self, bit: int) -> int | None:
        """The candidate that begins at ``bit``, if one does."""
        found = int(np.searchsorted(self.offsets, bit))
        return found if found < len(self.offsets) and self.offsets[found] == bit else None

    def block_end(self, candidate: int, header_only: bool = False) -> int:
        """Where the block at ``candidate`` ends, parsed (``bz2blocks.block_end``); -1 where it does not
        parse, or its stream's block-size digit is damaged."""
        try:
            level = self.level(candidate)
        except CorruptInput:
            return -1
        return block_end(self.data, int(self.offsets[candidate]), level, header_only)


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
    """The block at ``candidate`` whose decoding to the next candidate ``failed``: if it parses to a
    later candidate, decoded to there. Returns its text and the candidate it ends at."""
    start = int(bm.offsets[candidate])
    end = bm.candidate_at(bm.block_end(candidate))
    if end is not None and end > candidate + 1:
        try:
            return _decode(bm, start, int(bm.offsets[end]), level), end
        except _BZ2_ERRORS:
            pass
    raise CorruptInput(f"bzip2 block at bit {start} cannot be decoded (damaged, or the file is cut short): "
                       f"{failed}", path=bm.path, offset=start // 8) from failed


# -- split points ------------------------------------------------------------------------------
class Confirmer:
    """Whether a piece can begin a unit: its block parses and ends where a candidate begins, and
    the block before it ends exactly where it begins (or it is its stream's first block). Blocks'
    ends are remembered, so confirming neighbouring pieces parses each block once."""

    def __init__(self, path: str):
        self.bm = block_map(path)
        self._ends: dict[int, int] = {}

    def __call__(self, piece: int) -> bool:
        bm = self.bm
        candidate = int(bm.pieces[piece])
        start = int(bm.offsets[candidate])
        if bm.candidate_at(self._end(candidate)) is None:
            return False
        header, first = bm.stream(candidate)
        if start == (header + 4) * 8:
            return True
        reach = max_block_bits(bm.level(candidate))
        for before in range(candidate - 1, first - 1, -1):  # chance patterns may lie between
            if start - int(bm.offsets[before]) > reach:
                break
            if bm.kinds[before] != BLOCK:
                continue
            end = self._end(before)
            if end == start:
                return True
            if end > start:
                return False  # the block before goes on past it: a chance pattern inside that block
        return False

    def _end(self, candidate: int) -> int:
        if candidate not in self._ends:
            self._ends[candidate] = self.bm.block_end(candidate)
        return self._ends[candidate]


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
    ahead: dict[int, Future] = {}  # pieces being decoded ahead of the reader
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
        found = bm.candidate_at(start)
        if found is None:
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

    The blocks before this unit's first are read from their headers, neither decoded nor parsed.
    Where the CRCs disagree, one of those candidates may be a chance pattern: each is left out in
    turn (and confirmed by parsing the block it lies in); then the same again without those whose
    header's fixed fields do not parse (a block's always do, a chance pattern's seldom). Two chance
    patterns in one stream before this unit that both parse are not looked for: the stream then
    fails, never passes.
    """
    _, first = bm.stream(candidate)
    blocks = [c for c in range(first, candidate) if bm.kinds[c] == BLOCK and c not in passed_over]
    stored = bm.word(int(bm.offsets[candidate]) + _MAGIC_BITS)
    if _agrees(bm, blocks, stored, first, unit_first):
        return
    plausible = [c for c in blocks if not first < c < unit_first or bm.block_end(c, header_only=True) != -1]
    if len(plausible) < len(blocks) and _agrees(bm, plausible, stored, first, unit_first):
        return
    raise CorruptInput(f"bzip2 stream's combined CRC {stored:08x} does not match its blocks': a block is "
                       "missing or damaged", path=bm.path, offset=int(bm.offsets[candidate]) // 8)


def _agrees(bm: BlockMap, blocks: list[int], stored: int, first: int, unit_first: int) -> bool:
    """Whether these blocks' CRCs fold to ``stored``, or do with one of those before the unit left out."""
    crcs = [int(v) for v in _words(bm.data, bm.offsets[blocks].astype(np.int64) + _MAGIC_BITS)] if blocks else []
    prefix = _folds(crcs)
    if prefix[-1] == stored:
        return True
    return any(_fold_without(prefix, i) == stored and _inside_a_block(bm, c, first)
               for i, c in enumerate(blocks) if first < c < unit_first)


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
    """Whether the block candidate before ``candidate`` parses on past it: a chance pattern."""
    before = next((c for c in range(candidate - 1, first - 1, -1) if bm.kinds[c] == BLOCK), None)
    return before is not None and bm.block_end(before) > int(bm.offsets[candidate])
