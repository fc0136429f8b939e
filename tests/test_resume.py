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
from conftest import ROOT

KEYS = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    paths = []
    for n in range(6):
        path = folder / f"killwiki-20260101-pages-meta-history{n + 1}.xml.bz2"
        gen_dump.generate(str(path), gen_dump.Options(
            pages=40, revisions=(5, 60), text_size=3000, seed=100 + n, compression="bz2", dbname="killwiki",
            start_page_id=1 + 100_000 * n, start_revision_id=1 + 10_000_000 * n))
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def reference_run(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "dumpproc", "process", *inputs, "-o", str(out), "-j", "2"],
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


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 3, 5])
def test_sigkill_then_resume(inputs, reference, tmp_path, kill_after):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "dumpproc", "process", *inputs, "-o", str(out), "-j", "2"],
                               cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while committed(out) < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed: make the inputs larger"
    os.killpg(process.pid, signal.SIGKILL)  # the run, its workers and their decompressors
    process.wait()
    assert not (out / "_SUCCESS").exists()
    for part in out.rglob("*.parquet"):  # whatever a reader can see is complete
        if not part.name.startswith("."):
            pq.read_metadata(part)

    resumed = subprocess.run([sys.executable, "-m", "dumpproc", "process", *inputs, "-o", str(out), "-j", "2",
                              "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "_manifest.json").read_text())
    assert sum(1 for unit in manifest["units"] if unit.get("resumed")) >= kill_after
    assert (out / "_SUCCESS").exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    got = tables(out)
    for name in KEYS:
        assert got[name].equals(reference[name]), name


def start(inputs, out, *more):
    return subprocess.Popen([sys.executable, "-m", "dumpproc", "process", *inputs, "-o", str(out), "-j", "2",
                             "--split-size", "40K", *more], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_killed_again_and_again_at_random_moments(inputs, reference_run, tmp_path, seed):
    """SIGKILL at random moments (while starting, parsing, writing, committing, merging users),
    each run resuming the last: the rows end up those of a run never interrupted."""
    import random

    reference, seconds = reference_run
    rng = random.Random(seed)
    out = tmp_path / "out"
    kills = 0
    for attempt in range(6):
        process = start(inputs, out, *(["--resume"] if attempt else []))
        try:
            process.wait(timeout=rng.uniform(0.05, 0.7) * seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            kills += 1
            for part in out.rglob("*.parquet"):  # whatever a reader can see is complete
                if not part.name.startswith("."):
                    pq.read_metadata(part)
    assert kills >= 2, "the runs ended before they could be killed"
    final = start(inputs, out, "--resume")
    assert final.wait(timeout=300) == 0
    assert (out / "_SUCCESS").exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    got = tables(out)
    for name in KEYS:
        assert got[name].equals(reference[name]), name
