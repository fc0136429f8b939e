"""Ctrl-C and SIGTERM end a run cleanly: one line, exit 130, no worker left, nothing half-written,
and --resume completes the run.

The run is kept going by a FIFO input that the test feeds: the signal comes while that unit waits
for more input and the others have committed, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

import gen_dump
from conftest import ROOT, Feeder, beside

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    paths = []
    for n in range(3):
        path = folder / f"sigwiki-20260101-pages-meta-history{n + 1}.xml.bz2"
        gen_dump.generate(str(path), gen_dump.Options(
            pages=8, revisions=(3, 20), seed=200 + n, compression="bz2", dbname="sigwiki",
            start_page_id=1 + 100_000 * n, start_revision_id=1 + 10_000_000 * n))
        paths.append(path)
    live = folder / "sigwiki-20260101-pages-meta-history4.xml"
    gen_dump.generate(str(live), gen_dump.Options(pages=8, revisions=(3, 20), seed=210, dbname="sigwiki",
                                                  start_page_id=400_001, start_revision_id=40_000_001))
    return paths, live.read_bytes()


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    paths, live = inputs
    folder = tmp_path_factory.mktemp("reference")
    whole = folder / "sigwiki-20260101-pages-meta-history4.xml"
    whole.write_bytes(live)
    out = folder / "out"
    subprocess.run([sys.executable, "-m", "dumpproc", "process", *map(str, paths), str(whole), "-o", str(out)],
                   check=True, capture_output=True, cwd=ROOT)
    return tables(out)


def tables(out):
    return {name: pq.read_table(out / name).sort_by(key) for name, key in KEYS.items()}


def manifest(out) -> dict:
    try:
        return json.loads((out / "_manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def committed(out) -> int:
    return sum(1 for unit in manifest(out).get("units", []) if unit["status"] == "committed")


def group_alive(pgid: int) -> list[str]:
    """Processes still in the run's process group (its workers and their decompressors)."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(entry)
    return alive


def start(paths, fifo, out, *more):
    return subprocess.Popen([sys.executable, "-m", "dumpproc", "process", *map(str, paths), str(fifo), "-o",
                             str(out), *more], cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM to dumpproc alone"])
def test_a_signal_ends_the_run_cleanly_and_resume_completes_it(inputs, reference, tmp_path, how, workers):
    paths, live = inputs
    fifo = tmp_path / "sigwiki-20260101-pages-meta-history4.xml"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    feeder = Feeder(fifo, live, hold=len(live) // 2)  # half the dump, then silence
    held = beside(out)  # the signal and the resume change nothing but OUT
    feeder.start()
    run = start(paths, fifo, out, "-j", workers)
    deadline = time.monotonic() + 600  # a generous bound for a loaded machine, never a measure
    while committed(out) < len(paths) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, run.communicate()
    assert committed(out) == len(paths)
    if how.startswith("SIGINT"):
        os.killpg(run.pid, signal.SIGINT)
    else:
        os.kill(run.pid, signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=120)
    feeder.stop()
    assert run.returncode == 130, stderr
    assert stderr == f"dumpproc: interrupted; {len(paths)} of {len(paths) + 1} units committed; --resume goes on " \
                     "from them\n"
    deadline = time.monotonic() + 30
    while group_alive(run.pid) and time.monotonic() < deadline:  # the kernel reaps them as they exit
        time.sleep(0.05)
    assert not group_alive(run.pid), "a worker or decompressor outlived the run"
    # nothing half-written: no temporaries, every part readable and listed in the manifest
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    listed = {f for unit in manifest(out)["units"] for f in unit.get("files", [])}
    for part in out.rglob("*.parquet"):
        relative = str(part.relative_to(out))
        assert relative in listed, relative
        pq.read_metadata(part)
    assert not (out / "_SUCCESS").exists()

    feeder = Feeder(fifo, live, hold=None)
    feeder.start()
    resumed = start(paths, fifo, out, "-j", workers, "--resume")
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert sum(1 for unit in manifest(out)["units"] if unit.get("resumed")) == len(paths)
    assert (out / "_SUCCESS").exists() and not (out / "_staging").exists()
    got = tables(out)
    for name in KEYS:
        assert got[name].equals(reference[name]), name
    held.check(stderr)
