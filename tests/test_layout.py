"""Dump folders as on Wikimedia's hosts: --wiki/--date, dumpstatus.json, checksums."""

from __future__ import annotations

import bz2
import hashlib
import json
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE, run_cli
from dumpproc.errors import ChecksumMismatch, IncompleteDump, InputNotFound
from dumpproc.sources.layout import (check_status, dump_files_in, expand_inputs, find_history, one_format_each,
                                     read_checksums, verify_checksum)

WIKI, DATE = "samplewiki", "20260101"


def make_tree(root, status="done", corrupt_sha1=False, with_7z=True):
    """ROOT/samplewiki/20260101/ with two history parts (bz2, and 7z twins), stubs, status and sums."""
    folder = root / WIKI / DATE
    folder.mkdir(parents=True)
    parts = {
        f"{WIKI}-{DATE}-pages-meta-history1.xml-p1p100.bz2": SAMPLE,
        f"{WIKI}-{DATE}-pages-meta-history2.xml-p101p200.bz2": FIXTURES / "codecs" / "sample.pbzip2.xml.bz2",
    }
    parts[f"{WIKI}-{DATE}-pages-meta-history2.xml-p101p200.bz2"] = None  # other pages: its ids are its own
    for name, source in parts.items():
        if source is None:
            other = (FIXTURES / "samplewiki-20260101-deleted-0.11.xml").read_bytes()
            (folder / name).write_bytes(bz2.compress(other))
        else:
            shutil.copy(source, folder / name)
        if with_7z:
            shutil.copy(FIXTURES / "codecs" / "sample.xml.7z", folder / name.replace(".bz2", ".7z"))
    shutil.copy(FIXTURES / "samplewiki-20260101-old-0.4.xml", folder / f"{WIKI}-{DATE}-stub-meta-history.xml")
    files = sorted(p.name for p in folder.iterdir())
    md5 = {n: hashlib.md5((folder / n).read_bytes()).hexdigest() for n in files}
    sha1 = {n: hashlib.sha1((folder / n).read_bytes()).hexdigest() for n in files}
    if corrupt_sha1:
        first = sorted(parts)[0]
        sha1[first] = "0" * 40
        md5[first] = "0" * 32
    (folder / f"{WIKI}-{DATE}-md5sums.txt").write_text("".join(f"{md5[n]}  {n}\n" for n in files))
    (folder / f"{WIKI}-{DATE}-sha1sums.txt").write_text("".join(f"{sha1[n]}  {n}\n" for n in files))
    jobs = {"metahistorybz2dump": {"status": status, "files": {n: {"size": 1} for n in parts}},
            "metahistory7zdump": {"status": "done", "files": {}}}
    (folder / "dumpstatus.json").write_text(json.dumps({"jobs": jobs, "version": "0.8"}))
    return folder


def test_find_history_takes_one_format_and_only_history(tmp_path):
    folder = make_tree(tmp_path)
    run = find_history(WIKI, DATE, str(tmp_path))
    assert [p.rsplit("/", 1)[1] for p in run.files] == [
        f"{WIKI}-{DATE}-pages-meta-history1.xml-p1p100.bz2", f"{WIKI}-{DATE}-pages-meta-history2.xml-p101p200.bz2"]
    assert run.folder == str(folder) and check_status(run) == []


def test_seven_zip_only_dump_uses_its_own_job(tmp_path):
    folder = make_tree(tmp_path)
    for bz in folder.glob("*history*.bz2"):
        bz.unlink()
    run = find_history(WIKI, DATE, str(tmp_path))
    assert all(p.endswith(".7z") for p in run.files)
    assert run.job_of(run.files[0]) == "metahistory7zdump" and check_status(run) == []


def test_unfinished_job_is_refused_unless_allowed(tmp_path):
    make_tree(tmp_path, status="in-progress")
    run = find_history(WIKI, DATE, str(tmp_path))
    with pytest.raises(IncompleteDump, match="metahistorybz2dump is in-progress"):
        check_status(run)
    assert check_status(run, allow_incomplete=True) == ["job metahistorybz2dump is in-progress, not done"]


def test_missing_wiki_or_date(tmp_path):
    with pytest.raises(InputNotFound):
        find_history("nowiki", DATE, str(tmp_path))
    with pytest.raises(ValueError):
        find_history(WIKI, "2026-01-01", str(tmp_path))


def test_checksums_and_verification(tmp_path):
    folder = make_tree(tmp_path, corrupt_sha1=True)
    sums = read_checksums(str(folder))
    first, second = sorted(p for p in folder.glob("*history*.bz2"))
    assert sums[second.name][0] == "sha1"
    verify_checksum(str(second), sums[second.name])
    with pytest.raises(ChecksumMismatch, match="sha1 is") as caught:
        verify_checksum(str(first), sums[first.name])
    assert first.name in str(caught.value)
    with pytest.raises(ChecksumMismatch, match="no md5 or sha1"):
        verify_checksum(str(first), None)


def test_folder_inputs(tmp_path):
    folder = make_tree(tmp_path)
    files = dump_files_in(str(folder))
    names = [p.rsplit("/", 1)[1] for p in files]
    assert len(names) == 3 and not any(n.endswith((".txt", ".json", ".7z")) for n in names)
    assert expand_inputs([str(folder), str(SAMPLE)])[-1] == str(SAMPLE)
    with pytest.raises(InputNotFound):
        expand_inputs([str(tmp_path / "nothing")])
    assert one_format_each(["/a/x.xml.7z", "/a/x.xml.bz2", "/b/x.xml.7z"]) == ["/a/x.xml.bz2", "/b/x.xml.7z"]


def test_cli_wiki_date(tmp_path):
    make_tree(tmp_path / "root")
    out = tmp_path / "out"
    done = run_cli("process", "--wiki", WIKI, "--date", DATE, "--dumps-root", tmp_path / "root", "-o", out,
                   "--verify-checksums", check=True)
    assert "598 revisions" in done.stdout
    parts = sorted(p.name for p in (out / "revisions" / f"wiki_db={WIKI}" / "snapshot=2026-01").iterdir())
    assert parts == ["part-samplewiki-20260101-pages-meta-history1.xml-p1p100.parquet",
                     "part-samplewiki-20260101-pages-meta-history2.xml-p101p200.parquet"]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["options"]["verify_checksums"] is True


def test_cli_wrong_checksum_fails_that_file_only(tmp_path):
    make_tree(tmp_path / "root", corrupt_sha1=True)
    out = tmp_path / "out"
    done = run_cli("process", "--wiki", WIKI, "--date", DATE, "--dumps-root", tmp_path / "root", "-o", out,
                   "--verify-checksums")
    assert done.returncode == 1
    assert "pages-meta-history1.xml-p1p100.bz2" in done.stderr and "sha1" in done.stderr
    assert pq.read_table(out / "revisions").num_rows == 34  # the other part (the 0.11 fixture's 34 revisions) is committed
    assert not (out / "_SUCCESS").exists()
    without = run_cli("process", "--wiki", WIKI, "--date", DATE, "--dumps-root", tmp_path / "root",
                      "-o", tmp_path / "unchecked")
    assert without.returncode == 0  # checksums are checked only when asked


def test_cli_unfinished_dump(tmp_path):
    make_tree(tmp_path / "root", status="failed")
    args = ["process", "--wiki", WIKI, "--date", DATE, "--dumps-root", tmp_path / "root"]
    refused = run_cli(*args, "-o", tmp_path / "a")
    assert refused.returncode == 2 and "failed, not done" in refused.stderr and "--allow-incomplete" in refused.stderr
    assert not (tmp_path / "a").exists()
    allowed = run_cli(*args, "-o", tmp_path / "b", "--allow-incomplete")
    assert allowed.returncode == 0 and "processing anyway" in allowed.stderr


def test_cli_input_errors_exit_2(tmp_path):
    assert run_cli("process", "-o", tmp_path / "o").returncode == 2  # nothing to read
    assert run_cli("process", "--wiki", WIKI, "-o", tmp_path / "o").returncode == 2
    assert run_cli("process", "--wiki", WIKI, "--date", DATE, "--dumps-root", tmp_path, "-o", tmp_path / "o").returncode == 2
