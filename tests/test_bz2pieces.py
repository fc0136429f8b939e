"""bzip2 pieces: a block or stream-end magic that occurs by chance inside a block is never a split
point and never cuts a block; each stream's end is checked; a damaged block is never passed over."""

from __future__ import annotations

import bz2
import random

import indexed_bzip2
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE, shared_dump
from dumpproc.errors import CorruptInput
from dumpproc.pipeline import Options, run
from dumpproc.sources import bz2pieces
from dumpproc.sources.bz2blocks import BLOCK, BLOCK_MAGIC, STREAM_END, STREAM_END_MAGIC, scan_blocks
from dumpproc.units import plan_units
from test_parse_errors import FOOTER, HEADER, page, revision

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}


def alphabet(magic: int) -> bytes:
    """The bytes from 0x30 to 0x5f a block must use, and no others of them, for the 16-bit maps of
    those three ranges in its symbol map (which bytes it uses) to spell the 48 bits of ``magic``."""
    maps = [(magic >> shift) & 0xFFFF for shift in (32, 16, 0)]
    return bytes(0x30 + 16 * r + i for r, bits in enumerate(maps) for i in range(16) if bits >> (15 - i) & 1)


def words(rng: random.Random, size: int, marks: bytes) -> bytes:
    """Lowercase words, with each of ``marks`` in turn between some of them."""
    out, k = bytearray(), 0
    while len(out) < size:
        out += bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 7)))
        out += bytes([marks[k % len(marks)]]) if rng.random() < 0.3 else b" "
        k += 1
    return bytes(out[:size])


def crafted(magic: int, blocks: int) -> bytes:
    """A dump compressed at level 1 (blocks of 100 kB of text) in which exactly ``blocks`` blocks (1
    or 2) lie inside a text written in ``alphabet(magic)``: their symbol map, 153 bits into each, is
    the magic."""
    rng = random.Random(14)
    usual = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:"

    def pages(ids):
        return b"".join(page(p, [revision(p * 10 + r, words(rng, 20_000, usual)) for r in range(2)]) for p in ids)

    xml = HEADER + pages(range(1, 8)) + page(8, [revision(80, words(rng, 90_000 + 100_000 * blocks, alphabet(magic)))]) \
        + pages(range(9, 16)) + FOOTER
    return bz2.compress(xml, 1)


def true_blocks(path) -> set[int]:
    with indexed_bzip2.open(str(path)) as reader:
        while reader.read(1 << 20):
            pass
        return set(reader.block_offsets())


@pytest.fixture(scope="module", params=[(BLOCK, 1), (STREAM_END, 1), (BLOCK, 2)],
                ids=["block magic", "stream-end magic", "two block magics"])
def chance(request, tmp_path_factory):
    """(path, kind, the bit offsets of its chance patterns)."""
    kind, blocks = request.param
    path = tmp_path_factory.mktemp("chance") / "chancewiki-20260101-pages-meta-history.xml.bz2"
    path.write_bytes(crafted(BLOCK_MAGIC if kind == BLOCK else STREAM_END_MAGIC, blocks))
    offsets, kinds = scan_blocks(str(path))
    real = true_blocks(path)
    found = [(int(o), int(k)) for o, k in zip(offsets, kinds) if int(o) not in real]
    assert len(found) == blocks and {k for _, k in found} == {kind}, found  # what these tests need
    return path, kind, [bit for bit, _ in found]


def test_a_chance_pattern_is_never_a_split_point(chance):
    path, kind, bits = chance
    bm = bz2pieces.block_map(str(path))
    confirmer = bz2pieces.Confirmer(str(path))
    pieces = [int(bm.offsets[c]) for c in bm.pieces]
    assert [confirmer(k) for k in range(len(pieces))] == [start not in bits for start in pieces]
    units = plan_units([str(path)], 1)  # a unit at every piece that may begin one
    starts = [pieces[u.first_block] for u in units]
    assert not set(bits) & set(starts) and len(units) == sum(start not in bits for start in pieces)


def test_pieces_pass_over_a_chance_pattern(chance):
    path, _, _ = chance
    whole = bz2.decompress(path.read_bytes())
    assert b"".join(data for _, data in bz2pieces.bz2_pieces(str(path), 0, 2)) == whole


def test_the_last_units_stream_check_leaves_the_chance_pattern_out(chance):
    """The last block's unit checks the combined CRC over block headers it did not decode (with two
    chance patterns, leaving one out is not enough: their headers' fixed fields do not parse)."""
    path, kind, _ = chance
    bm = bz2pieces.block_map(str(path))
    last = len(bm.pieces) - 1
    if kind == BLOCK:  # the chance pattern reads as a block header with a CRC of its own
        crcs = [bm.word(int(bm.offsets[c]) + 48) for c in bm.pieces]
        assert bz2pieces._folds(crcs)[-1] != bm.word(int(bm.offsets[-1]) + 48)
    assert list(bz2pieces.bz2_pieces(str(path), last, 1))


def test_split_rows_equal_the_whole(chance, tmp_path):
    path, _, _ = chance
    whole = run([str(path)], Options(out=str(tmp_path / "whole"), workers=1, split_size=None, snapshot="2026-01"))
    split = run([str(path)], Options(out=str(tmp_path / "split"), workers=2, split_size=1, snapshot="2026-01"))
    assert whole.ok and split.ok, split.failed
    assert len(split.units) > 5
    for name, key in KEYS.items():
        got = pq.read_table(tmp_path / "split" / name).sort_by(key)
        assert got.equals(pq.read_table(tmp_path / "whole" / name).sort_by(key)), name


def test_one_left_out_block_is_the_fold_of_the_others():
    rng = random.Random(3)
    crcs = [rng.getrandbits(32) for _ in range(9)]
    prefix = bz2pieces._folds(crcs)
    for i in range(len(crcs)):
        assert bz2pieces._fold_without(prefix, i) == bz2pieces._folds(crcs[:i] + crcs[i + 1:])[-1]


@pytest.mark.parametrize("path", [SAMPLE, FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
                                  FIXTURES / "codecs" / "sample.lbzip2.xml.bz2"])
def test_every_block_of_a_clean_file_is_a_split_point(path):
    confirmer = bz2pieces.Confirmer(str(path))
    pieces = bz2pieces.block_map(str(path)).pieces
    assert len(pieces) >= 3 and all(confirmer(k) for k in range(len(pieces)))
    with bz2.open(path) as fh:
        whole = fh.read()
    assert b"".join(data for _, data in bz2pieces.bz2_pieces(str(path), 0, 2)) == whole


def test_the_real_multistream_file_ends_with_an_empty_stream():
    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    with bz2.open(path) as fh:
        whole = fh.read()
    assert b"".join(data for _, data in bz2pieces.bz2_pieces(str(path), 0, 1)) == whole


def test_a_damaged_block_fails_where_it_is(tmp_path):
    """A byte flipped inside a block: its CRC fails, and it does not parse to a later candidate, so
    it is damage, named there (parsing may pass it: only decoding checks the CRC)."""
    data = bytearray(SAMPLE.read_bytes())
    bm = bz2pieces.block_map(str(SAMPLE))
    start, end = int(bm.offsets[bm.pieces[1]]), int(bm.offsets[bm.pieces[1] + 1])
    data[(start + end) // 16] ^= 0x10
    path = tmp_path / "flipped.xml.bz2"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptInput) as caught:
        for _ in bz2pieces.bz2_pieces(str(path), 0, 2):
            pass
    assert caught.value.offset == start // 8 and "flipped.xml.bz2" in str(caught.value)
