"""Block starts found by scanning the compressed bits are the ones indexed-bzip2 finds by decoding."""

from __future__ import annotations

import bz2
import os

import indexed_bzip2
import pytest

from conftest import FIXTURES, SAMPLE, shared_dump
from dumpproc.sources.bz2blocks import BLOCK, STREAM_END, scan_blocks


def decoded_offsets(path) -> set[int]:
    with indexed_bzip2.open(str(path), parallelization=2) as reader:
        while reader.read(1 << 20):
            pass
        return set(reader.block_offsets())


def check(path):
    offsets, kinds = scan_blocks(str(path))
    blocks = set(offsets[kinds == BLOCK].tolist())
    ends = set(offsets[kinds == STREAM_END].tolist())
    theirs = decoded_offsets(path)
    assert blocks and blocks <= theirs
    # indexed-bzip2 also lists byte-aligned stream starts (an empty stream has no block) and the file's end
    assert all(offset % 8 == 0 for offset in theirs - blocks - ends)
    assert os.path.getsize(path) * 8 >= max(theirs)
    return blocks, ends


@pytest.mark.parametrize("path", [SAMPLE, FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
                                  FIXTURES / "codecs" / "sample.lbzip2.xml.bz2"])
def test_fixtures(path):
    check(path)


def test_multistream_has_an_end_per_stream(tmp_path):
    data = bz2.decompress(SAMPLE.read_bytes())
    path = tmp_path / "multi.bz2"
    path.write_bytes(b"".join(bz2.compress(data[i:i + 400_000]) for i in range(0, len(data), 400_000)))
    blocks, ends = check(path)
    assert len(ends) == 5 and len(blocks) == 5


def test_real_multistream():
    check(shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2"))


def test_tiny_and_empty_files(tmp_path):
    path = tmp_path / "tiny.bz2"
    path.write_bytes(b"BZh9")
    offsets, kinds = scan_blocks(str(path))
    assert offsets.size == 0 and kinds.size == 0


@pytest.mark.parametrize("path", [SAMPLE, FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
                                  FIXTURES / "codecs" / "sample.lbzip2.xml.bz2"])
def test_realigned_blocks_decode_to_their_part_of_the_text(path):
    from dumpproc.sources.bz2blocks import realign
    from dumpproc.sources.bz2pieces import piece_spans

    whole = bz2.decompress(path.read_bytes())
    spans = piece_spans(str(path))
    parts = [bz2.decompress(realign(str(path), [span])) for span in spans]  # each checks its CRCs
    assert len(parts) == len(spans) >= 3 and b"".join(parts) == whole
    for first in range(len(spans)):  # any run of blocks, across stream boundaries too
        assert bz2.decompress(realign(str(path), spans[first:])) == b"".join(parts[first:])


def test_realigned_real_multistream_blocks():
    from dumpproc.sources.bz2blocks import realign
    from dumpproc.sources.bz2pieces import piece_spans

    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    with bz2.open(path) as fh:
        whole = fh.read()
    spans = piece_spans(str(path))
    assert b"".join(bz2.decompress(realign(str(path), [span])) for span in spans) == whole


@pytest.mark.parametrize("path", [SAMPLE, FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
                                  FIXTURES / "codecs" / "sample.lbzip2.xml.bz2"])
def test_a_parsed_block_ends_where_the_next_begins(path):
    """Parsing a block's symbols (no BWT, no CRC) finds its end: exactly where the next magic is."""
    import numpy as np

    from dumpproc.sources.bz2blocks import block_end

    offsets, kinds = scan_blocks(str(path))
    data = np.frombuffer(path.read_bytes(), np.uint8)
    starts = [i for i in range(len(offsets)) if kinds[i] == BLOCK]
    assert len(starts) >= 3
    for i in starts:
        assert block_end(data, int(offsets[i]), 9) == offsets[i + 1]
        assert block_end(data, int(offsets[i]), 9, header_only=True) > offsets[i]
    assert block_end(data, int(offsets[starts[1]]) + 1, 9) == -1  # not a block: one bit on
    first = int(offsets[starts[0]])
    assert block_end(data[: (first + int(offsets[starts[0] + 1])) // 16], first, 9) == -1  # cut short
