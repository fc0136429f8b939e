"""The manifest owns OUT: one run at a time, only dumpproc's own files deleted, earlier runs' units
kept, --resume only with the same options, odd OUT paths in one line, output faults stop the run,
a lost worker fails only its unit."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SAMPLE, Feeder, beside, run_cli
from dumpproc import ownership


def manifest(out) -> dict:
    return json.loads((out / "_manifest.json").read_text())


def listed_everything(out) -> None:
    """Every part under OUT is listed in the manifest, and every listed part is there."""
    data = manifest(out)
    listed = {f for unit in data["units"] for f in unit.get("files", [])}
    listed |= {f for users in data.get("users", {}).values() for f in users["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.parquet") if not p.name.startswith(".")}
    assert on_disk <= listed, on_disk - listed
    assert {f for f in listed if not f.startswith("_staging")} <= on_disk


def test_own_paths_are_only_dumpproc_s_shapes_inside_out(tmp_path):
    out = str(tmp_path)
    good = "revisions/wiki_db=enwiki/snapshot=2026-01/part-enwiki-20260101-x.parquet"
    assert ownership.own_path(out, good) == os.path.join(out, good)
    assert ownership.own_path(out, "_staging/users/wiki_db=a/snapshot=2026-01/part-u.parquet")
    for bad in ("../victim.txt", "/etc/passwd", "revisions/../../victim.parquet", "_manifest.json",
                "revisions/wiki_db=../snapshot=2026-01/part-x.parquet", "notes/part-x.parquet",
                "revisions/wiki_db=a/snapshot=2026-01/../../../x.parquet", "revisions//wiki_db=a", 5, None):
        assert ownership.own_path(out, bad) is None, bad


def test_a_crafted_manifest_cannot_make_a_run_delete_outside_out(tmp_path):
    victim, absolute = tmp_path / "victim.txt", tmp_path / "elsewhere" / "abs.parquet"
    victim.write_text("mine")
    absolute.parent.mkdir()
    absolute.write_text("mine too")
    out = tmp_path / "out"
    out.mkdir()
    (out / "_manifest.json").write_text(json.dumps({"units": [
        {"id": "samplewiki-20260101-pages-meta-history", "path": str(SAMPLE), "start": 0, "end": 1,
         "status": "committed", "wiki_db": "../..", "snapshot": "2026-01",
         "files": ["../victim.txt", str(absolute), "revisions/../../victim.txt"]},
        {"id": "other", "path": "/nowhere", "start": 0, "end": 1, "status": "committed", "wiki_db": "x",
         "snapshot": "2026-01", "files": ["../victim.txt"]}]}))
    for resume in ((), ("--resume",)):
        done = run_cli("process", SAMPLE, "-o", out, *resume)
        assert done.returncode in (0, 2) and "Traceback" not in done.stderr, done.stderr
    assert victim.read_text() == "mine" and absolute.read_text() == "mine too"
    listed_everything(out)


def test_a_second_run_into_the_same_out_is_refused_while_the_first_runs(tmp_path, generate):
    live = generate("livewiki-20260101-pages-meta-history.xml", pages=4)
    fifo = tmp_path / "livewiki-20260101-pages-meta-history-fifo.xml"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    feeder = Feeder(fifo, live.read_bytes(), hold=200)
    feeder.start()
    first = subprocess.Popen([sys.executable, "-m", "dumpproc", "process", str(fifo), "-o", str(out)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (out / "_manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = run_cli("process", SAMPLE, "-o", out)
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert "another dumpproc run is writing here (pid" in second.stderr
    os.killpg(first.pid, signal.SIGKILL)  # a lock of a dead run is no lock
    first.wait()
    feeder.stop()
    again = run_cli("process", SAMPLE, "-o", out, check=True)
    assert "1 of 1 unit committed" in again.stdout
    listed_everything(out)


def test_runs_one_after_another_keep_the_earlier_units_and_the_users_cover_all(tmp_path, generate):
    first = generate("onewiki-20260101-pages-meta-history1.xml.bz2", pages=6, dbname="onewiki", seed=1,
                     compression="bz2")
    second = generate("onewiki-20260101-pages-meta-history2.xml.bz2", pages=6, dbname="onewiki", seed=2,
                      compression="bz2", start_page_id=1000, start_revision_id=100_000)
    together = tmp_path / "together"
    run_cli("process", first, second, "-o", together, check=True)
    out = tmp_path / "out"
    run_cli("process", first, "-o", out, check=True)
    done = run_cli("process", second, "-o", out, check=True)
    assert "and 1 unit of earlier runs for other inputs, kept" in done.stdout
    assert [u.get("earlier_run", False) for u in manifest(out)["units"]] == [True, False]
    assert (out / "_SUCCESS").exists()
    for table, key in (("revisions", "revision_id"), ("pages", "page_id"), ("users", "user_text")):
        assert pq.read_table(out / table).sort_by(key).equals(pq.read_table(together / table).sort_by(key)), table
    listed_everything(out)
    # the same input again with another split: its old units are superseded, never doubled
    run_cli("process", first, "-o", out, "--split-size", "20K", check=True)
    assert pq.read_table(out / "revisions").num_rows == pq.read_table(together / "revisions").num_rows
    assert pq.read_table(out / "users").sort_by("user_text").equals(
        pq.read_table(together / "users").sort_by("user_text"))
    listed_everything(out)


@pytest.mark.parametrize("change, named", [
    (("--ips", "hash"), "--ips"), (("--tables", "revisions,pages"), "--tables"),
    (("--revert-radius", "15"), "--revert-radius"), (("--namespaces", "0"), "--namespaces"),
    (("--on-error", "skip-page"), "--on-error"), (("--group-readable",), "--group-readable"),
    (("--snapshot", "2020-01"), "--snapshot")])
def test_resume_refuses_other_options_naming_the_difference(tmp_path, change, named):
    out = tmp_path / "out"
    run_cli("process", SAMPLE, "-o", out, check=True)
    before = manifest(out)
    done = run_cli("process", SAMPLE, "-o", out, "--resume", *change, env={"DUMPPROC_IP_KEY": "k"})
    assert done.returncode == 2 and named in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert manifest(out) == before  # nothing was touched


def test_resume_refuses_another_ip_key(tmp_path):
    out = tmp_path / "out"
    run_cli("process", SAMPLE, "-o", out, "--ips", "hash", env={"DUMPPROC_IP_KEY": "one"}, check=True)
    same = run_cli("process", SAMPLE, "-o", out, "--ips", "hash", "--resume", env={"DUMPPROC_IP_KEY": "one"})
    assert same.returncode == 0, same.stderr
    other = run_cli("process", SAMPLE, "-o", out, "--ips", "hash", "--resume", env={"DUMPPROC_IP_KEY": "two"})
    assert other.returncode == 2 and "another key" in other.stderr
    assert "one" not in json.dumps(manifest(out)["options"]).replace("done", "")


def test_odd_out_paths_give_one_line(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for out, says in ((a_file, "is a file, not a folder"), (a_file / "below", "is a file, so no folder"),
                      (dangling, "a symbolic link to nothing")):
        done = run_cli("process", SAMPLE, "-o", out)
        assert done.returncode == 2 and says in done.stderr and done.stderr.count("\n") == 1, done.stderr
    for content, says in (("not json {", "is not valid JSON"), (None, "is a folder, not dumpproc's manifest")):
        out = tmp_path / f"out-{says[:5].replace(' ', '')}"
        out.mkdir()
        if content is None:
            (out / "_manifest.json").mkdir()
        else:
            (out / "_manifest.json").write_text(content)
        done = run_cli("process", SAMPLE, "-o", out)
        assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_an_existing_open_out_gets_the_run_s_mode(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    run_cli("process", SAMPLE, "-o", out, check=True)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    run_cli("process", SAMPLE, "-o", out, "--group-readable", check=True)
    for path in [out, *out.rglob("*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) in ((0o750,) if path.is_dir() else (0o640,)), path


def _workers_reading(fifo) -> list[int]:
    """The processes that hold the FIFO open for reading (the worker whose unit reads it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if int(pid) != os.getpid() and os.readlink(f"/proc/{pid}/fd/{fd}") == str(fifo):
                    found.append(int(pid))
                    break
        except OSError:
            continue
    return found


def test_a_worker_the_kernel_kills_fails_only_its_unit(tmp_path, generate):
    files = [generate(f"lostwiki-20260101-pages-meta-history{n}.xml.bz2", pages=5, seed=n, compression="bz2",
                      start_page_id=1000 * n, start_revision_id=100_000 * n) for n in (1, 2, 3)]
    live = generate("lostwiki-20260101-pages-meta-history9.xml", pages=5, seed=9, start_page_id=9000,
                    start_revision_id=900_000)
    fifo = tmp_path / "lostwiki-20260101-pages-meta-history4.xml"
    os.mkfifo(fifo)
    feeder = Feeder(fifo, live.read_bytes(), hold=300)
    feeder.start()
    out = tmp_path / "out"
    held = beside(out)
    run = subprocess.Popen([sys.executable, "-m", "dumpproc", "process", str(fifo), *map(str, files), "-o",
                            str(out), "-j", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while not _workers_reading(fifo) and time.monotonic() < deadline:
        time.sleep(0.05)
    [worker] = [pid for pid in _workers_reading(fifo) if pid != run.pid]
    os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer does
    stdout, stderr = run.communicate(timeout=300)
    feeder.stop()
    assert run.returncode == 1, stderr
    units = {u["id"]: u for u in manifest(out)["units"]}
    lost = units["lostwiki-20260101-pages-meta-history4"]
    assert lost["status"] == "failed" and "killed by SIGKILL" in lost["error"] and lost["error_type"] == "WorkerLost"
    assert sum(1 for u in units.values() if u["status"] == "committed") == 3
    assert "killed by SIGKILL" in stderr and "Traceback" not in stderr
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    listed_everything(out)
    held.check(stderr)


def test_killing_dumpproc_alone_leaves_no_worker_writing(tmp_path, generate):
    live = generate("orphanwiki-20260101-pages-meta-history9.xml", pages=5, seed=9)
    fifo = tmp_path / "orphanwiki-20260101-pages-meta-history1.xml"
    os.mkfifo(fifo)
    feeder = Feeder(fifo, live.read_bytes(), hold=300)
    feeder.start()
    out = tmp_path / "out"
    other = generate("orphanwiki-20260101-pages-meta-history2.xml.bz2", pages=5, compression="bz2",
                     start_page_id=5000, start_revision_id=500_000)
    held = beside(out)
    run = subprocess.Popen([sys.executable, "-m", "dumpproc", "process", str(fifo), str(other), "-o", str(out),
                            "-j", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 300
    while not [p for p in _workers_reading(fifo) if p != run.pid] and time.monotonic() < deadline:
        time.sleep(0.05)
    [worker] = [p for p in _workers_reading(fifo) if p != run.pid]
    os.kill(run.pid, signal.SIGKILL)  # the main process alone
    run.wait()
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(f"/proc/{worker}/stat") if os.path.exists(f"/proc/{worker}") else open(os.devnull) as fh:
        state = fh.read().rsplit(")", 1)[-1].split()[:1]
    assert state in ([], ["Z"]), "a worker outlived the process that ran it"
    feeder.stop()
    listed_everything(out)
    held.check()


def test_inputs_whose_names_overlap_are_refused_before_any_work(tmp_path):
    import shutil

    history = tmp_path / "samplewiki-20260101-pages-meta-history.xml.bz2"
    current = tmp_path / "samplewiki-20260101-pages-meta-current.xml.bz2"
    for path in (history, current):
        shutil.copy(SAMPLE, path)
    ranges = [tmp_path / f"samplewiki-20260101-pages-meta-history{n}.xml-p{a}p{b}.bz2"
              for n, (a, b) in enumerate(((1, 100), (50, 200)), 1)]
    for path in ranges:
        shutil.copy(SAMPLE, path)
    for inputs, says in (((history, current), "two kinds of the samplewiki dump"),
                         (ranges, "hold overlapping pages (p1-p100 and p50-p200)"),
                         ((SAMPLE, SAMPLE), "are the same file")):
        out = tmp_path / "out"
        done = run_cli("process", *inputs, "-o", out)
        assert done.returncode == 2 and says in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert not out.exists()


def test_revisions_written_twice_are_found_and_fail_the_run(tmp_path, generate):
    """Two files whose names do not show it, holding the same revisions: the manifest says which."""
    first = generate("dupwiki-20260101-pages-meta-history1.xml", pages=3, seed=4)
    second = tmp_path / "dupwiki-20260101-pages-meta-history2.xml"
    second.write_bytes(first.read_bytes())
    clean = generate("dupwiki-20260101-pages-meta-history3.xml", pages=3, seed=5, start_page_id=500,
                     start_revision_id=50_000)
    out = tmp_path / "out"
    done = run_cli("process", first, second, clean, "-o", out)
    assert done.returncode == 1 and "revisions written twice in synthwiki/2026-01" in done.stderr, done.stderr
    found = manifest(out)["duplicate_revisions"]["synthwiki/2026-01"]
    assert found["examples"][0] == 1 and len(found["files"]) == 2 and not (out / "_SUCCESS").exists()
    assert not any("history3" in f for f in found["files"])  # its ids were never read: its range is apart


def test_inputs_that_are_one_dump_twice_are_refused_and_files_that_meet_at_a_page_are_not(tmp_path):
    """One part in two formats, and the XML dumps' and the Data Lake's dump of one wiki and date, hold the
    same revisions; p1p100 and p100p200 meet at page 100, which goes on in the second file."""
    import shutil

    from dumpproc.overlaps import refuse_overlapping_names

    def made(name):
        shutil.copy(SAMPLE, tmp_path / name)
        return tmp_path / name

    formats = (made("samplewiki-20260101-pages-meta-history.xml.bz2"),
               made("samplewiki-20260101-pages-meta-history.xml.7z"))
    lake = (made("samplewiki-20260101-pages-meta-history1.xml-p1p10.bz2"), made("samplewiki-2026-01-01-p11p20.xml.bz2"))
    for inputs, says in ((formats, "are the same part of the samplewiki dump of 20260101 in two formats"),
                         (lake, "are two dumps of samplewiki of 20260101 (Wikimedia's XML dumps and the Data Lake's)")):
        out = tmp_path / "out"
        done = run_cli("process", *inputs, "-o", out)
        assert done.returncode == 2 and says in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert not out.exists()
    meeting = ["/d/samplewiki-2026-01-01-p1p100.xml.bz2", "/d/samplewiki-2026-01-01-p100r7r9.xml.bz2",
               "/d/samplewiki-2026-01-01-p100p200.xml.bz2"]
    refuse_overlapping_names(meeting)  # no error
    with pytest.raises(ValueError, match="overlapping pages"):
        refuse_overlapping_names(["/d/samplewiki-2026-01-01-p1p100.xml.bz2", "/d/samplewiki-2026-01-01-p99p200.xml.bz2"])
    with pytest.raises(ValueError, match="same part"):  # one piece from two codec folders
        refuse_overlapping_names(["/d/xml/bzip2/samplewiki-2026-01-01-p100r7r9.xml.bz2",
                                  "/d/xml/zstd/samplewiki-2026-01-01-p100r7r9.xml.zst"])
