"""bzip2 pieces: each stream's end is checked; a damaged block is never passed over."""

from __future__ import annotations

import bz2
import random

import pytest

from conftest import FIXTURES, SAMPLE, shared_dump
from dumpproc.errors import CorruptInput
from dumpproc.sources import bz2pieces

def test_one_left_out_block_is_the_fold_of_the_others():
    rng = random.Random(3)
    crcs = [rng.getrandbits(32) for _ in range(9)]
    prefix = bz2pieces._folds(crcs)
    for i in range(len(crcs)):
        assert bz2pieces._fold_without(prefix, i) == bz2pieces._folds(crcs[:i] + crcs[i + 1:])[-1]


@pytest.mark.parametrize("path", [SAMPLE, FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
                                  FIXTURES / "codecs" / "sample.lbzip2.xml.bz2"])
def test_the_pieces_of_a_clean_file_are_its_text(path):
    assert len(bz2pieces.block_map(str(path)).pieces) >= 3
    with bz2.open(path) as fh:
        whole = fh.read()
    assert b"".join(data for _, data in bz2pieces.bz2_pieces(str(path), 0, 2)) == whole


def test_the_real_multistream_file_ends_with_an_empty_stream():
    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    with bz2.open(path) as fh:
        whole = fh.read()
    assert b"".join(data for _, data in bz2pieces.bz2_pieces(str(path), 0, 1)) == whole


def test_a_damaged_block_fails_where_it_is(tmp_path):
    """A byte flipped inside a block: no later candidate makes it decode, so it is damage, named there."""
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
