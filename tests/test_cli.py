"""The command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from conftest import SAMPLE, run_cli, shared_dump
from dumpproc.schema import REVISIONS


def test_process_sample_prints_where_output_went(tmp_path):
    out = tmp_path / "out"
    done = run_cli("process", SAMPLE, "-o", out, check=True)
    assert "40 pages, 564 revisions" in done.stdout
    assert str(out / "revisions") in done.stdout and "_manifest.json" in done.stdout
    assert pq.read_table(out / "revisions").num_rows == 564


def test_process_real_aawiki_current(tmp_path):
    path = shared_dump("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-current.xml.bz2")
    out = tmp_path / "out"
    run_cli("process", path, "-o", out, check=True)
    part = out / "revisions" / "wiki_db=aawiki" / "snapshot=2026-01" / "part-aawiki-20260101-pages-meta-current.parquet"
    table = pq.read_table(part)
    assert table.schema == REVISIONS and table.num_rows == 507
    assert pq.read_table(out / "revisions").num_rows == 507  # read back as a Hive-partitioned dataset too


def test_inspect_text_and_json():
    done = run_cli("inspect", SAMPLE, check=True)
    assert "bz2" in done.stdout and "samplewiki" in done.stdout and "564" in done.stdout
    summary = json.loads(run_cli("inspect", SAMPLE, "--json", check=True).stdout)
    assert summary["codec"] == "bz2" and summary["schema_version"] == "0.10" and summary["wiki"] == "samplewiki"
    assert summary["pages"] == 40 and summary["revisions"] == 564
    assert summary["first_timestamp"] < summary["last_timestamp"]
    assert summary["largest_revision"]["bytes"] > 0 and summary["namespaces"]["1"] == "Talk"


def test_missing_input_is_a_usage_error(tmp_path):
    done = run_cli("process", tmp_path / "nope.xml.bz2", "-o", tmp_path / "out")
    assert done.returncode == 2 and "nope.xml.bz2" in done.stderr and "Traceback" not in done.stderr
    assert run_cli("inspect", tmp_path / "nope.xml").returncode == 2


def test_unreadable_input_fails_its_unit_and_exits_1(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml at all")
    done = run_cli("process", bad, SAMPLE, "-o", tmp_path / "out")
    assert done.returncode == 1 and "bad.xml" in done.stderr and "Traceback" not in done.stderr
    assert pq.read_table(tmp_path / "out" / "revisions").num_rows == 564
    assert run_cli("inspect", bad).returncode == 2


def test_bad_usage_exits_2(tmp_path):
    assert run_cli("process", SAMPLE).returncode == 2  # no -o
    assert run_cli("process", SAMPLE, "-o", tmp_path, "--tables", "nope").returncode == 2
    assert run_cli("process", SAMPLE, "-o", tmp_path, "--snapshot", "2026").returncode == 2
    done = run_cli("process", SAMPLE, "-o", tmp_path, "--ips", "hash", env={"DUMPPROC_IP_KEY": ""})
    assert done.returncode == 2 and "key" in done.stderr


def test_ips_hash_with_key_file(tmp_path):
    key = tmp_path / "key"
    key.write_text("s3cret")
    run_cli("process", SAMPLE, "-o", tmp_path / "out", "--ips", "hash", "--ip-key-file", key, check=True)
    rows = pq.read_table(tmp_path / "out" / "revisions").to_pylist()
    assert all(len(r["user_text"]) == 64 for r in rows if r["user_is_anonymous"])
    assert b"s3cret" not in b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_console_script_and_module_agree():
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = shutil.which("dumpproc", path=str(Path(sys.executable).parent))
    assert script, "the dumpproc console command is installed beside the interpreter"
    version = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("dumpproc ")
    assert run_cli("--version").stdout == version.stdout
