"""Splitting a file into units (bzip2 blocks, zstandard frames, plain byte ranges) gives exactly
the rows of reading it whole."""

from __future__ import annotations

import bz2

import pyarrow.parquet as pq
import pytest

import gen_dump
from dumpproc.pipeline import Options, run
from dumpproc.units import plan_units

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """~4 MB of XML compressed at level 1 (100 kB blocks, ~40 of them), with a 1.5 MB revision whose page
    spans many blocks."""
    folder = tmp_path_factory.mktemp("split")
    plain = folder / "splitwiki-20260101-pages-meta-history.xml"
    gen_dump.generate(str(plain), gen_dump.Options(pages=60, revisions=(2, 30), text_size=2500, seed=77,
                                                   huge=1, huge_size=1_500_000, dbname="splitwiki"))
    path = folder / "splitwiki-20260101-pages-meta-history.xml.bz2"
    path.write_bytes(bz2.compress(plain.read_bytes(), 1))
    return path


@pytest.fixture(scope="module")
def whole(dump, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "out"
    assert run([str(dump)], Options(out=str(out), workers=1, split_size=None)).ok
    return {name: pq.read_table(out / name).sort_by(key) for name, key in KEYS.items()}


@pytest.mark.parametrize("split_size", [1, 30_000, 120_000])
def test_split_gives_the_rows_of_the_whole(dump, whole, tmp_path, split_size):
    units = plan_units([str(dump)], split_size)
    assert len(units) >= (3 if split_size > 1 else 30)
    assert [u.start for u in units] == sorted(u.start for u in units) and units[-1].end == dump.stat().st_size
    out = tmp_path / "out"
    result = run([str(dump)], Options(out=str(out), workers=2, split_size=split_size))
    assert result.ok, result.failed
    empty = [u for u in result.units if u["pages"] == 0]
    assert empty, "some unit falls inside the huge page and owns no page"
    for name, key in KEYS.items():
        assert pq.read_table(out / name).sort_by(key).equals(whole[name]), name
    assert sum(u["pages"] for u in result.units) == whole["pages"].num_rows


def test_small_files_stay_whole(dump):
    assert len(plan_units([str(dump)], 10 << 20)) == 1


@pytest.fixture(scope="module")
def other_formats(dump, tmp_path_factory):
    """The same XML, plain (1 MiB pieces) and as zstandard frames of 150 kB of XML each."""
    import zstandard

    folder = tmp_path_factory.mktemp("formats")
    xml = bz2.decompress(dump.read_bytes())
    plain = folder / "splitwiki-20260101-pages-meta-history.xml"
    plain.write_bytes(xml)
    frames = folder / "splitwiki-20260101-pages-meta-history.xml.zst"
    compressor = zstandard.ZstdCompressor(level=3)
    frames.write_bytes(b"".join(compressor.compress(xml[i:i + 150_000]) for i in range(0, len(xml), 150_000)))
    single = folder / "single-20260101-pages-meta-history.xml.zst"
    single.write_bytes(compressor.compress(xml))
    return {"xml": plain, "zstd": frames, "zstd-single": single}


def test_zstd_frames_are_found_from_their_headers(other_formats):
    from dumpproc.sources.split import zstd_frames

    frames = zstd_frames(str(other_formats["zstd"]))
    assert len(frames) > 20 and frames[0][0] == 0 and frames[-1][1] == other_formats["zstd"].stat().st_size
    assert all(a[1] == b[0] for a, b in zip(frames, frames[1:]))
    assert len(zstd_frames(str(other_formats["zstd-single"]))) == 1


@pytest.mark.parametrize("fmt, split_size", [("xml", 1), ("xml", 2_000_000), ("zstd", 1), ("zstd", 200_000)])
def test_plain_and_zstd_split_give_the_rows_of_the_whole(other_formats, whole, tmp_path, fmt, split_size):
    path = other_formats[fmt]
    units = plan_units([str(path)], split_size)
    assert len(units) >= 3 and all(u.split == fmt for u in units)
    out = tmp_path / "out"
    result = run([str(path)], Options(out=str(out), workers=2, split_size=split_size))
    assert result.ok, result.failed
    for name, key in KEYS.items():
        assert pq.read_table(out / name).sort_by(key).equals(whole[name]), name


def test_a_single_zstd_frame_is_read_whole(other_formats):
    assert len(plan_units([str(other_formats["zstd-single"])], 1)) == 1


def test_a_cut_or_trailing_zstd_frame_is_the_last_piece(other_formats, tmp_path):
    """Planning never fails on what is not a whole frame: it is the last piece, for its unit to fail on."""
    from dumpproc.sources.split import zstd_frames

    data = other_formats["zstd"].read_bytes()
    whole = zstd_frames(str(other_formats["zstd"]))
    for name, damaged in (("cut", data[: whole[-2][0] + 100]), ("trailing", data + b"not a frame")):
        path = tmp_path / f"{name}.xml.zst"
        path.write_bytes(damaged)
        frames = zstd_frames(str(path))
        assert frames[-1][1] == len(damaged) and all(a[1] == b[0] for a, b in zip(frames, frames[1:]))
        assert frames[:-1] == whole[: len(frames) - 1]


def test_ranges_end_only_before_confirmed_pieces():
    from dumpproc.sources.split import plan_ranges

    spans = [(i * 10, i * 10 + 10) for i in range(10)]
    asked = []

    def confirmed(piece):
        asked.append(piece)
        return piece not in (3, 4)

    assert plan_ranges(spans, 30, confirmed) == [(0, 5), (5, 8), (8, 10)]
    assert asked == [3, 4, 5, 8]  # only the pieces a range would end before


@pytest.mark.parametrize("footer", [True, False])
def test_page_runs_without_the_root_split_as_they_read_whole(dump, tmp_path, footer):
    """A piece cut out of a multistream dump: pages without <mediawiki> and siteinfo, with or
    without the closing tag; a unit may own none of them."""
    xml = bz2.decompress(dump.read_bytes())
    runs = xml[xml.index(b"  <page>"):xml.rindex(b"</mediawiki>") + (len(b"</mediawiki>\n") if footer else 0)]
    path = tmp_path / "pageruns.xml.bz2"
    path.write_bytes(bz2.compress(runs, 1))
    whole = run([str(path)], Options(out=str(tmp_path / "whole"), workers=1, split_size=None, snapshot="2026-01"))
    split = run([str(path)], Options(out=str(tmp_path / "split"), workers=2, split_size=30_000, snapshot="2026-01"))
    assert whole.ok and split.ok, split.failed
    assert len(split.units) > 10 and any(u["pages"] == 0 for u in split.units)
    for name, key in KEYS.items():
        got = pq.read_table(tmp_path / "split" / name).sort_by(key)
        assert got.equals(pq.read_table(tmp_path / "whole" / name).sort_by(key)), name


def test_the_real_multistream_without_its_header_splits_as_it_reads_whole(tmp_path):
    from conftest import shared_dump

    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream-noheader.xml.bz2")
    whole = run([str(path)], Options(out=str(tmp_path / "whole"), workers=1, split_size=None, snapshot="2026-01"))
    split = run([str(path)], Options(out=str(tmp_path / "split"), workers=2, split_size=1, snapshot="2026-01"))
    assert whole.ok and split.ok, split.failed
    assert len(split.units) >= 5
    got = pq.read_table(tmp_path / "split" / "revisions").sort_by("revision_id")
    assert got.num_rows == 17 and got.equals(pq.read_table(tmp_path / "whole" / "revisions").sort_by("revision_id"))
