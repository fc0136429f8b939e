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

import numpy as np

from ..compiled import entry, kernel

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


@entry("uint8[:], uint64, uint64, boolean[:]")
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
    offsets, kinds = _scan(data, np.uint64(BLOCK_MAGIC), np.uint64(STREAM_END_MAGIC), _SECOND)
    return offsets.copy(), kinds.copy()


def block_starts(path: str) -> np.ndarray:
    """Bit offsets where blocks begin."""
    offsets, kinds = scan_blocks(path)
    return offsets[kinds == BLOCK]


@entry("uint8[:], int64, int64, uint8[:]!, int64")
def _copy_bits(src, src_bit, count, dst, dst_bit):  # pragma: no cover - compiled
    """Copy ``count`` bits from ``src`` at bit ``src_bit`` into ``dst`` at bit ``dst_bit`` (MSB first)."""
    for k in range(count):
        s = src_bit + k
        bit = (src[s >> 3] >> (7 - (s & 7))) & 1
        d = dst_bit + k
        if bit:
            dst[d >> 3] |= np.uint8(1 << (7 - (d & 7)))


@entry("uint8[:], int64, int64")
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


# -- where a block ends ---------------------------------------------------------------------------
@kernel
def _bit(src, bit):  # pragma: no cover - compiled
    return (src[bit >> 3] >> (7 - (bit & 7))) & 1


@entry("uint8[:], int64, int64, boolean")
def _block_end(data, start, level, header_only):  # pragma: no cover - compiled
    """The bit after the end-of-block symbol of the block at bit ``start``, or -1 where a decoder
    would fail (libbzip2's checks, in its order); with ``header_only``, the bit after the fixed
    fields of its header (origin pointer, symbol map, group and selector counts)."""
    size = data.shape[0] * 8
    pos = start + 48 + 32 + 1  # magic, CRC, randomised
    if pos + 24 + 16 > size:
        return -1
    origin = _read_bits(data, pos, 24)
    pos += 24
    if origin > 10 + 100000 * level:
        return -1
    used = _read_bits(data, pos, 16)
    pos += 16
    in_use = 0
    for i in range(16):
        if (used >> (15 - i)) & 1:
            if pos + 16 > size:
                return -1
            in_use += _ones(_read_bits(data, pos, 16))
            pos += 16
    if in_use == 0 or pos + 18 > size:
        return -1
    groups = _read_bits(data, pos, 3)
    selectors_read = _read_bits(data, pos + 3, 15)
    pos += 18
    if groups < 2 or groups > 6 or selectors_read < 1:
        return -1
    if header_only:
        return pos
    kept = min(selectors_read, 18002)  # libbzip2 reads them all and keeps this many
    selectors = np.empty(kept, np.int64)
    order = np.arange(6)
    for i in range(selectors_read):
        j = 0
        while True:
            if pos >= size:
                return -1
            pos += 1
            if _bit(data, pos - 1) == 0:
                break
            j += 1
            if j >= groups:
                return -1
        if i < kept:  # the selectors are move-to-front coded
            chosen = order[j]
            while j > 0:
                order[j] = order[j - 1]
                j -= 1
            order[0] = chosen
            selectors[i] = chosen
    alpha = in_use + 2
    lengths = np.zeros((6, 258), np.int64)
    for t in range(groups):
        if pos + 5 > size:
            return -1
        length = _read_bits(data, pos, 5)
        pos += 5
        for i in range(alpha):
            while True:
                if length < 1 or length > 20 or pos + 2 > size:
                    return -1
                pos += 1
                if _bit(data, pos - 1) == 0:
                    break
                length += 1 if _bit(data, pos) == 0 else -1
                pos += 1
            lengths[t, i] = length
    limit, base, perm, shortest = _decode_tables(lengths, groups, alpha)
    end_of_block, most = in_use + 1, 100000 * level
    count, group, left, table = 0, -1, 0, 0
    run, weight = -1, 0  # a run of RUNA/RUNB symbols: its length so far, and the next digit's weight
    while True:
        if left == 0:
            group += 1
            if group >= kept:
                return -1
            left, table = 50, selectors[group]
        left -= 1
        width = shortest[table]
        if pos + width > size:
            return -1
        code = _read_bits(data, pos, width)
        pos += width
        while True:
            if width > 20:
                return -1
            if code <= limit[table, width]:
                break
            if pos >= size:
                return -1
            code = (code << 1) | _bit(data, pos)
            pos += 1
            width += 1
        index = code - base[table, width]
        if index < 0 or index >= 258:
            return -1
        symbol = perm[table, index]
        if symbol <= 1:  # RUNA, RUNB
            if weight == 0:
                run, weight = -1, 1
            if weight >= 2 * 1024 * 1024:
                return -1
            run += weight * (symbol + 1)
            weight *= 2
            continue
        if weight:
            count += run + 1
            weight = 0
            if count > most:
                return -1
        if symbol == end_of_block:
            break
        if count >= most:
            return -1
        count += 1
    if origin >= count:
        return -1
    return pos


@kernel
def _ones(value):  # pragma: no cover - compiled
    count = 0
    while value:
        count += value & 1
        value >>= 1
    return count


@kernel
def _decode_tables(lengths, groups, alpha):  # pragma: no cover - compiled
    """libbzip2's canonical Huffman decoding tables (``BZ2_hbCreateDecodeTables``) for each group."""
    limit = np.zeros((6, 23), np.int64)
    base = np.zeros((6, 23), np.int64)
    perm = np.zeros((6, 258), np.int64)
    shortest = np.zeros(6, np.int64)
    for t in range(groups):
        low, high = 32, 0
        for i in range(alpha):
            low = min(low, lengths[t, i])
            high = max(high, lengths[t, i])
        shortest[t] = low
        at = 0
        for length in range(low, high + 1):
            for j in range(alpha):
                if lengths[t, j] == length:
                    perm[t, at] = j
                    at += 1
        for i in range(alpha):
            base[t, lengths[t, i] + 1] += 1
        for i in range(1, 23):
            base[t, i] += base[t, i - 1]
        vec = 0
        for i in range(low, high + 1):
            vec += base[t, i + 1] - base[t, i]
            limit[t, i] = vec - 1
            vec <<= 1
        for i in range(high, low, -1):
            base[t, i] = ((limit[t, i - 1] + 1) << 1) - base[t, i]
    return limit, base, perm, shortest


def block_end(data: np.ndarray, start: int, level: int, header_only: bool = False) -> int:
    """Where the block at bit ``start`` of ``data`` (a stream of block-size digit ``level``) ends: the
    bit after its end-of-block symbol, found by parsing its header, coding tables and Huffman-coded
    symbols as a decoder does, without undoing the BWT or checking its CRC; -1 where a decoder would
    fail. ``header_only`` parses only its header's fixed fields, which the bits after a chance
    pattern rarely pass. Parsing a block's symbols costs a small part of decoding it (no BWT to
    undo), so split points are confirmed this way."""
    return int(_block_end(data, np.int64(start), np.int64(level), header_only))
