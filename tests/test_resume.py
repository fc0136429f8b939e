"""A run killed with SIGKILL part-way, then --resume: the same rows as a run never interrupted."""

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
from conftest import ROOT, Feeder

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Six bz2 files, and the XML of a seventh that each run reads from a FIFO the test feeds."""
    folder = tmp_path_factory.mktemp("inputs")
    paths = []
    for n in range(6):
        path = folder / f"killwiki-20260101-pages-meta-history{n + 1}.xml.bz2"
        gen_dump.generate(str(path), gen_dump.Options(
            pages=40, revisions=(5, 60), text_size=3000, seed=100 + n, compression="bz2", dbname="killwiki",
            start_page_id=1 + 100_000 * n, start_revision_id=1 + 10_000_000 * n))
        paths.append(str(path))
    live = folder / "killwiki-20260101-pages-meta-history7.xml"
    gen_dump.generate(str(live), gen_dump.Options(pages=10, revisions=(3, 20), seed=107, dbname="killwiki",
                                                  start_page_id=600_001, start_revision_id=60_000_001))
    return paths, live.read_bytes()


@pytest.fixture(scope="module")
def reference_run(inputs, tmp_path_factory):
    paths, live = inputs
    folder = tmp_path_factory.mktemp("reference")
    whole = folder / "killwiki-20260101-pages-meta-history7.xml"
    whole.write_bytes(live)
    out = folder / "out"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "dumpproc", "process", *paths, str(whole), "-o", str(out), "-j", "2"],
                   check=True, capture_output=True, cwd=ROOT)
    return tables(out), time.monotonic() - started


@pytest.fixture(scope="module")
def reference(reference_run):
    return reference_run[0]


def tables(out):
    return {name: pq.read_table(out / name).sort_by(key) for name, key in KEYS.items()}


def committed(out) -> int:
    try:
        manifest = json.loads((out / "_manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return 0
    return sum(1 for unit in manifest["units"] if unit["status"] == "committed")


def start(paths, fifo, out, *more):
    return subprocess.Popen([sys.executable, "-m", "dumpproc", "process", *paths, str(fifo), "-o", str(out),
                             "-j", "2", *more], cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)  # the run, its workers and their decompressors
    process.wait()


def check_readable(out) -> None:
    """Whatever a reader can see is complete, and the manifest lists it (it owns OUT at every moment)."""
    try:
        manifest = json.loads((out / "_manifest.json").read_text())
    except FileNotFoundError:
        manifest = {"units": []}
    listed = {f for unit in manifest["units"] for f in unit.get("files", [])}
    listed |= {f for users in manifest.get("users", {}).values() for f in users["files"]}
    for part in out.rglob("*.parquet"):
        if not part.name.startswith("."):
            pq.read_metadata(part)
            assert str(part.relative_to(out)) in listed, part


def finish(paths, live, fifo, out, reference) -> None:
    """The last --resume, with the FIFO fed whole: the rows are those of a run never interrupted."""
    feeder = Feeder(fifo, live, hold=None)
    feeder.start()
    resumed = subprocess.run([sys.executable, "-m", "dumpproc", "process", *paths, str(fifo), "-o", str(out),
                              "-j", "2", "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "_SUCCESS").exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    got = tables(out)
    for name in KEYS:
        assert got[name].equals(reference[name]), name


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 3, 5])
def test_sigkill_then_resume(inputs, reference, tmp_path, kill_after):
    """The FIFO is fed half its dump and held open, so the run is alive when it is killed."""
    paths, live = inputs
    fifo = tmp_path / "killwiki-20260101-pages-meta-history7.xml"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    feeder = Feeder(fifo, live, hold=len(live) // 2)
    feeder.start()
    process = start(paths, fifo, out)
    deadline = time.monotonic() + 600  # a bound for a loaded machine, never a measure
    while committed(out) < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None and committed(out) >= kill_after
    kill(process)
    feeder.stop()
    assert not (out / "_SUCCESS").exists()
    check_readable(out)
    manifest = json.loads((out / "_manifest.json").read_text())
    kept = {unit["id"] for unit in manifest["units"] if unit["status"] == "committed"}
    finish(paths, live, fifo, out, reference)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert {unit["id"] for unit in manifest["units"] if unit.get("resumed")} >= kept


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_killed_again_and_again_at_random_moments(inputs, reference_run, tmp_path, seed):
    """SIGKILL at random moments (while starting, parsing, writing, committing, merging users),
    each run resuming the last: the rows end up those of a run never interrupted.

    Every other run's FIFO is held open, so that run is certainly alive when its moment comes;
    the others are fed whole and may finish first, which is fine."""
    import random

    paths, live = inputs
    reference, seconds = reference_run
    rng = random.Random(seed)
    fifo = tmp_path / "killwiki-20260101-pages-meta-history7.xml"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    kills = 0
    for attempt in range(6):
        held = attempt % 2 == 0
        feeder = Feeder(fifo, live, hold=len(live) // 2 if held else None)
        feeder.start()
        process = start(paths, fifo, out, *(["--resume"] if attempt else []))
        try:
            process.wait(timeout=rng.uniform(0.05, 0.7) * seconds)
            assert not held, "a run whose input was held open ended"
        except subprocess.TimeoutExpired:
            kill(process)
            kills += 1
            check_readable(out)
        feeder.stop()
    assert kills >= 3
    finish(paths, live, fifo, out, reference)
