"""Identical input gives identical output: run after run, with one worker or several, split or whole."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from conftest import run_cli

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text",
        "content": "revision_id"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    import gen_dump

    folder = tmp_path_factory.mktemp("inputs")
    paths = []
    for n, compression in enumerate(("bz2", "none", "bz2")):
        suffix = ".xml.bz2" if compression == "bz2" else ".xml"
        path = folder / f"detwiki-20260101-pages-meta-history{n + 1}{suffix}"
        gen_dump.generate(str(path), gen_dump.Options(
            pages=30, revisions=(2, 30), text_size=3000, seed=40 + n, compression=compression, dbname="detwiki",
            ip_rate=0.3, revert_rate=0.1, deleted_rate=0.05, start_page_id=1 + n * 10_000,
            start_revision_id=1 + n * 1_000_000))
        paths.append(path)
    return paths


def process(inputs, out, *options):
    done = run_cli("process", *inputs, "-o", out, "--tables", ",".join(KEYS), "--ips", "hash",
                   *options, env={"DUMPPROC_IP_KEY": "determinism"})
    assert done.returncode == 0, done.stderr
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet") if "_staging" not in p.parts}


def test_same_bytes_run_after_run_and_for_any_number_of_workers(inputs, tmp_path):
    first = process(inputs, tmp_path / "a", "-j", "1")
    again = process(inputs, tmp_path / "b", "-j", "1")
    pooled = process(inputs, tmp_path / "c", "-j", "2")
    assert len(first) == 3 * 4 + 1  # a part per unit and table, and the users table's one part
    assert first == again == pooled  # every file, byte for byte


def test_same_rows_whether_files_are_split_or_not(inputs, tmp_path):
    process(inputs, tmp_path / "whole", "-j", "2")
    process(inputs, tmp_path / "split", "-j", "2", "--split-size", "20K")
    units = json.loads((tmp_path / "split" / "_manifest.json").read_text())["units"]
    assert len(units) > len(inputs) + 1, "the bzip2 files were not split"
    for table, key in KEYS.items():
        whole = pq.read_table(tmp_path / "whole" / table).sort_by(key)
        split = pq.read_table(tmp_path / "split" / table).sort_by(key)
        assert whole.num_rows > 0 and split.equals(whole), table
