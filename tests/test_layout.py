"""Dump folders as on Wikimedia's hosts: --wiki/--date, dumpstatus.json, checksums."""

from __future__ import annotations

import bz2
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE, run_cli, shared_dump
from dumpproc.errors import ChecksumMismatch, IncompleteDump, InputNotFound
from dumpproc.sources.layout import (check_status, choose_in_folder, dump_files_in, expand_inputs, find_history,
                                     one_format_each, read_checksums, verify_checksum)
from dumpproc.sources.names import parse_name

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


def test_a_folder_is_read_as_its_dump_is(tmp_path):
    """Its pages-meta-history files, one format each, as --wiki/--date reads them; the plan says what was left."""
    folder = make_tree(tmp_path)
    plans: list[str] = []
    files = expand_inputs([str(folder)], plans)
    assert files == find_history(WIKI, DATE, str(tmp_path)).files
    assert [p.rsplit("/", 1)[1] for p in files] == [
        f"{WIKI}-{DATE}-pages-meta-history1.xml-p1p100.bz2", f"{WIKI}-{DATE}-pages-meta-history2.xml-p101p200.bz2"]
    [plan] = plans
    assert "2 file(s), pages-meta-history in bz2" in plan
    assert "not read: 3 file(s), pages-meta-history/stub-meta-history in 7z/xml" in plan
    for history in folder.glob("*pages-meta-history*"):
        history.unlink()
    chosen = choose_in_folder(str(folder))  # no history: one other kind
    assert [p.rsplit("/", 1)[1] for p in chosen.files] == [f"{WIKI}-{DATE}-stub-meta-history.xml"]
    assert "(there is no pages-meta-history)" in chosen.plan


def test_a_folder_without_history_reads_current_pages_before_stubs(tmp_path):
    for kind in ("stub-meta-history", "pages-meta-current", "pages-articles"):
        shutil.copy(SAMPLE, tmp_path / f"{WIKI}-{DATE}-{kind}.xml.bz2")
    chosen = choose_in_folder(str(tmp_path))
    assert [p.rsplit("/", 1)[1] for p in chosen.files] == [f"{WIKI}-{DATE}-pages-meta-current.xml.bz2"]
    assert "not read: 2 file(s)" in chosen.plan


def test_a_real_dump_folder_with_history_and_current_reads_the_history(tmp_path):
    """aawiki's folder holds the history (7z) and the current pages (bz2): 1,307 revisions, not 1,814."""
    folder = tmp_path / "aawiki" / "20260101"
    folder.mkdir(parents=True)
    for name in ("aawiki-20260101-pages-meta-history.xml.7z", "aawiki-20260101-pages-meta-current.xml.bz2"):
        shutil.copy(shared_dump(f"dkpro__dkpro-jwpl/{name}"), folder / name)
    out = tmp_path / "out"
    done = run_cli("process", folder, "-o", out, check=True)
    assert "507 pages, 1,307 revisions" in done.stdout, done.stdout
    assert "pages-meta-history in 7z; not read: 1 file(s), pages-meta-current in bz2" in done.stdout
    assert pq.read_table(out / "revisions").num_rows == 1307 and pq.read_table(out / "pages").num_rows == 507
    manifest = json.loads((out / "_manifest.json").read_text())
    assert [u["path"].rsplit("/", 1)[1] for u in manifest["units"]] == ["aawiki-20260101-pages-meta-history.xml.7z"]
    assert "pages-meta-current in bz2" in manifest["plan"][0]
    both = run_cli("process", *sorted(folder.iterdir()), "-o", tmp_path / "both")
    assert both.returncode == 2 and both.stderr.count("\n") == 1, both.stderr
    assert ("aawiki-20260101-pages-meta-current.xml.bz2 and aawiki-20260101-pages-meta-history.xml.7z are two kinds"
            in both.stderr)
    assert not (tmp_path / "both").exists()


LAKE_DATE = "2026-01-01"


def make_content_tree(root, xml: bytes, wiki: str = "synthwiki", per_file: int = 30,
                      codecs=("bzip2", "none")) -> Path:
    """ROOT/other/mediawiki_content_history/<wiki>/<YYYY-MM-DD>/xml/<codec>/ with a history cut as the
    Data Lake's dumper cuts it (p…p… runs of pages, p…r…r… pieces of long pages)."""
    import cut_dump

    date_folder = root / "other" / "mediawiki_content_history" / wiki / LAKE_DATE
    for codec in codecs:
        folder = date_folder / "xml" / codec
        folder.mkdir(parents=True)
        compress = {"bzip2": "bz2", "none": "none"}[codec]
        for name, data in cut_dump.cut(xml, wiki, LAKE_DATE, per_file, compress, isolate=True):
            (folder / name).write_bytes(data)
    return date_folder


def test_wiki_date_reads_the_content_history_tree(tmp_path, generate):
    history = generate(pages=12, revisions=(1, 70), seed=21)
    whole = tmp_path / "whole"
    run_cli("process", history, "-o", whole, check=True)
    root = tmp_path / "root"
    date_folder = make_content_tree(root, history.read_bytes())
    found = find_history("synthwiki", "20260101", str(root))
    assert found.layout == "content-history" and check_status(found) == []
    assert all(f"/xml/bzip2/synthwiki-{LAKE_DATE}-p" in p for p in found.files)
    assert "the same files in none are not read" in found.plan
    starts = [parse_name(p).first_page for p in found.files]
    assert starts == sorted(starts) and len(set(starts)) < len(starts)  # page order, a page's pieces together
    out = tmp_path / "out"
    done = run_cli("process", "--wiki", "synthwiki", "--date", "20260101", "--dumps-root", root, "-o", out,
                   check=True)
    assert "/xml/bzip2:" in done.stdout, done.stdout
    for table, keys in (("revisions", ["revision_id"]), ("diffs", ["revision_id"]), ("pages", ["page_id"]),
                        ("users", ["user_text", "user_id"])):
        order = [(k, "ascending") for k in keys]
        assert pq.read_table(out / table).sort_by(order).equals(pq.read_table(whole / table).sort_by(order)), table
    assert (out / "revisions" / "wiki_db=synthwiki" / "snapshot=2026-01").is_dir()
    # the date folder as INPUT reads the same files
    plans: list[str] = []
    assert expand_inputs([str(date_folder)], plans) == found.files and "none are not read" in plans[0]


def test_wiki_date_prefers_the_xml_dumps_folder_and_says_the_other_is_not_read(tmp_path, generate):
    history = generate(pages=4, revisions=(1, 40), seed=22)
    root = tmp_path / "root"
    make_content_tree(root, history.read_bytes(), codecs=("none",))
    legacy = root / "synthwiki" / "20260101"
    legacy.mkdir(parents=True)
    shutil.copy(history, legacy / "synthwiki-20260101-pages-meta-history.xml")
    found = find_history("synthwiki", "20260101", str(root))
    assert found.layout == "dumps" and found.files == [str(legacy / "synthwiki-20260101-pages-meta-history.xml")]
    assert "mediawiki_content_history/synthwiki/2026-01-01 holds this dump too" in found.plan
    with pytest.raises(InputNotFound, match="nor .*mediawiki_content_history"):
        find_history("synthwiki", "20260102", str(root))


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
