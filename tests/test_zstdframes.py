"""The zstandard frame walker knows whether a stream ends where a frame ends, however its bytes arrive."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import zstandard

from dumpproc.sources.zstdframes import FrameWalker

TEXT = b"<page>" + b"some text of a revision, " * 4000 + b"</page>"


def _skippable(payload: bytes) -> bytes:
    return (0x184D2A5E).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload


STREAMS = {
    "one frame": zstandard.ZstdCompressor().compress(TEXT),
    "with checksums": zstandard.ZstdCompressor(write_checksum=True).compress(TEXT) * 2,
    "without a content size": zstandard.ZstdCompressor(write_content_size=False).compress(TEXT),
    "raw and RLE blocks": zstandard.ZstdCompressor(level=-5).compress(bytes(300_000) + TEXT),
    "skippable frames (as pzstd writes)": _skippable(b"\x10\x00\x00\x00") + zstandard.ZstdCompressor().compress(TEXT)
    + _skippable(b""),
    "a dictionary id": zstandard.ZstdCompressor(
        dict_data=zstandard.ZstdCompressionDict(b"some text of a revision, " * 40)).compress(TEXT),
}


def walked(data: bytes, step: int) -> FrameWalker:
    walker = FrameWalker()
    for at in range(0, len(data), step):
        walker.feed(data[at:at + step])
    return walker


@pytest.mark.parametrize("name", list(STREAMS))
@pytest.mark.parametrize("step", [1, 3, 4096, 1 << 20])
def test_a_whole_stream_ends_between_frames_and_every_cut_does_not(name, step):
    data = STREAMS[name]
    assert walked(data, step).between_frames
    for cut in sorted({1, 4, 5, 8, len(data) // 3, len(data) // 2 + 1, len(data) - 4, len(data) - 1}):  # no boundary
        walker = walked(data[:cut], step)
        assert not walker.between_frames or walker.lost, cut


def test_frames_are_counted():
    assert walked(STREAMS["with checksums"], 4096).frames == 2
    assert walked(STREAMS["skippable frames (as pzstd writes)"], 7).frames == 3


def test_bytes_that_are_not_a_frame_lose_the_walker_which_judges_nothing():
    walker = walked(STREAMS["one frame"] + b"garbage!", 4096)
    assert walker.lost and not walker.between_frames


@pytest.mark.skipif(not shutil.which("pzstd"), reason="pzstd is not installed")
def test_pzstd_output_is_walked_whole(tmp_path):
    source = tmp_path / "text"
    source.write_bytes(TEXT * 50)
    subprocess.run(["pzstd", "-q", "-p", "2", "-f", str(source), "-o", str(tmp_path / "text.zst")], check=True)
    assert walked((tmp_path / "text.zst").read_bytes(), 65536).between_frames
