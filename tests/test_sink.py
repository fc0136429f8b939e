"""Parquet parts: atomic commit, owner-only modes, bounded row groups, the manifest."""

from __future__ import annotations

import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dumpproc import sink
from dumpproc.errors import OutputError
from dumpproc.schema import CONTENT


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_part_appears_only_when_committed(tmp_path):
    final = tmp_path / "content" / "wiki_db=x" / "snapshot=2026-01" / "part-u.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    writer.append((1, 10, "text", None))
    writer.flush()
    assert not final.exists()
    assert [p.name.startswith(".") for p in final.parent.iterdir()] == [True]  # hidden from readers
    writer.commit()
    assert final.exists() and os.listdir(final.parent) == ["part-u.parquet"]
    assert pq.read_table(final).to_pylist() == [{"page_id": 1, "revision_id": 10, "revision_text": "text",
                                                 "revision_content_slots": None}]


def test_abort_leaves_nothing(tmp_path):
    final = tmp_path / "t" / "part-u.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    writer.append((1, 10, "text", None))
    writer.abort()
    assert os.listdir(final.parent) == []


@pytest.mark.parametrize("group_readable, file_mode, dir_mode", [(False, 0o600, 0o700), (True, 0o640, 0o750)])
def test_modes(tmp_path, group_readable, file_mode, dir_mode):
    old = os.umask(0o022)
    try:
        final = tmp_path / "out" / "content" / "wiki_db=x" / "part-u.parquet"
        writer = sink.PartWriter(str(final), CONTENT, group_readable)
        writer.append((1, 10, None, None))
        writer.commit()
        sink.write_manifest(str(tmp_path / "out"), {"units": []}, group_readable)
    finally:
        os.umask(old)
    assert _mode(final) == file_mode
    assert _mode(tmp_path / "out" / "_manifest.json") == file_mode
    for folder in (tmp_path / "out", final.parent, final.parent.parent):
        assert _mode(folder) == dir_mode


def test_row_groups_are_bounded_by_rows_and_text(tmp_path, monkeypatch):
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 100)
    monkeypatch.setattr(sink, "ROW_GROUP_TEXT_BYTES", 10_000)
    monkeypatch.setattr(sink, "BATCH_ROWS", 10)
    final = tmp_path / "part.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    for i in range(250):
        if i % 5 == 0:
            writer.mark()  # pages of 5 revisions: groups are cut between pages
        writer.append((1, i, "x" * (1000 if i >= 200 else 1), None))
    writer.commit()
    meta = pq.ParquetFile(final).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [100, 100, 10, 10, 10, 10, 10]  # the 1000-char texts cut groups at 10 rows
    assert pq.ParquetFile(final).schema_arrow == CONTENT


def test_content_slots_bodies_count_as_text(tmp_path, monkeypatch):
    """A slot's body (Commons' mediainfo JSON) weighs on the row groups as the main text does, and, like
    it, has neither a dictionary nor statistics; the slots' other fields have both."""
    monkeypatch.setattr(sink, "ROW_GROUP_TEXT_BYTES", 10_000)
    monkeypatch.setattr(sink, "BATCH_ROWS", 10)
    final = tmp_path / "part.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    for i in range(40):
        writer.mark()
        slots = [("mediainfo", ("{" + "x" * 998 + "}", "wikibase-mediainfo", "application/json", "s", 1000))]
        writer.append((1, i, "", slots))
    writer.commit()
    parquet = pq.ParquetFile(final)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)] == [10] * 4
    columns = {parquet.metadata.schema.column(i).path: parquet.metadata.row_group(0).column(i)
               for i in range(parquet.metadata.num_columns)}
    body = columns["revision_content_slots.key_value.value.content_body"]
    model = columns["revision_content_slots.key_value.value.content_model"]
    assert not body.is_stats_set and "RLE_DICTIONARY" not in body.encodings
    assert model.is_stats_set and "RLE_DICTIONARY" in model.encodings
    assert pq.read_table(final).column("revision_content_slots")[0].as_py()[0][1]["content_size"] == 1000


def test_rollback_withdraws_the_rows_of_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 100)
    monkeypatch.setattr(sink, "BATCH_ROWS", 10)
    final = tmp_path / "part.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    for page in range(30):
        writer.mark()
        for n in range(7):
            writer.append((page, page * 10 + n, "text", None))
        if page % 3 == 1:
            assert writer.rollback()  # this page was cut short
    writer.mark()
    for n in range(450):  # a page too long to hold (4 row groups): written before it ends
        writer.append((99, 1000 + n, "text", None))
    assert not writer.rollback()
    writer.commit()
    table = pq.read_table(final)
    pages = table.column("page_id").to_pylist()
    assert sorted(set(pages)) == [p for p in range(30) if p % 3 != 1] + [99]
    assert len(pages) == 20 * 7 + 450
    assert table.column("revision_id").to_pylist()[:14] == [0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 23, 24, 25, 26]


def test_zstd_compression(tmp_path):
    final = tmp_path / "part.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    writer.append((1, 1, "abc" * 100, None))
    writer.commit()
    assert pq.ParquetFile(final).metadata.row_group(0).column(2).compression == "ZSTD"


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot write output") as caught:
        sink.PartWriter(str(blocker / "t" / "part.parquet"), CONTENT)
    assert "a-file" in str(caught.value)


def test_full_disk_at_commit_leaves_no_file_under_its_final_name(tmp_path, monkeypatch):
    import errno

    final = tmp_path / "t" / "part.parquet"
    writer = sink.PartWriter(str(final), CONTENT)
    writer.append((1, 1, "abc", None))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sink.os, "fsync", full)
    with pytest.raises(OutputError, match="disk is full"):
        writer.commit()
    assert os.listdir(final.parent) == []


def test_manifest_round_trip(tmp_path):
    sink.write_manifest(str(tmp_path), {"units": [{"id": "a"}]})
    assert sink.read_manifest(str(tmp_path)) == {"units": [{"id": "a"}]}
    assert sink.read_manifest(str(tmp_path / "none")) is None
    assert [p.name for p in tmp_path.iterdir()] == ["_manifest.json"]


def _pieces(page: int, ids: list[int], texts: list[bytes]):
    """A diffs piece: one op per revision, whose text is given."""
    import numpy as np

    from dumpproc.diffrows import DiffPieces

    joined = np.frombuffer(b"".join(texts), np.uint8)
    text_offsets = np.cumsum([0] + [len(t) for t in texts])
    n = len(ids)
    ops = np.array([range(n), range(1, n + 1), range(n), range(1, n + 1)], np.int64)
    return DiffPieces(page, np.array(ids, np.int64), np.array([-1] + ids[:-1], np.int64), np.arange(n + 1), ops,
                      joined, text_offsets)


def test_pieces_keep_their_order_among_rows_and_are_withdrawn_with_their_page(tmp_path, monkeypatch):
    from dumpproc.schema import DIFFS

    monkeypatch.setattr(sink, "BATCH_ROWS", 5)
    monkeypatch.setattr(sink, "ROW_GROUP_BYTES", 1000)
    final = tmp_path / "part.parquet"
    writer = sink.PartWriter(str(final), DIFFS)
    writer.mark()
    writer.append_pieces(_pieces(1, [10, 11], [b"a\n", b"\xc3\xa9\n"]))
    writer.append((1, 12, 11, [(0, 1, 0, 1, "row\n")]))  # a Python row between pieces
    writer.append_pieces(_pieces(1, [13], [b"b\n"]))
    writer.append_pieces(_pieces(1, [], []))  # nothing
    writer.mark()
    writer.append_pieces(_pieces(2, [20, 21, 22], [b"x\n", b"y\n", b"z\n"]))
    assert writer.rollback()  # page 2 was cut short
    writer.mark()
    writer.append_pieces(_pieces(3, [30], [b"L" * 2000]))  # large: a batch of its own
    writer.append_pieces(_pieces(4, [40, 41], [b"c\n", b"d\n"]))
    writer.commit()
    rows = pq.read_table(final).to_pylist()
    assert [(r["page_id"], r["revision_id"], r["base_revision_id"]) for r in rows] == [
        (1, 10, None), (1, 11, 10), (1, 12, 11), (1, 13, None), (3, 30, None), (4, 40, None), (4, 41, 40)]
    assert [r["ops"] for r in rows[:3]] == [
        [{"a_start": 0, "a_end": 1, "b_start": 0, "b_end": 1, "text": "a\n"}],
        [{"a_start": 1, "a_end": 2, "b_start": 1, "b_end": 2, "text": "\u00e9\n"}],
        [{"a_start": 0, "a_end": 1, "b_start": 0, "b_end": 1, "text": "row\n"}]]
    assert rows[4]["ops"][0]["text"] == "L" * 2000
    assert rows[6]["ops"][0]["text"] == "d\n"
