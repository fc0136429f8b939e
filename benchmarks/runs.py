"""The commands the benchmarks measure, each run as a subprocess through ``measure``: dumpproc as a user runs
it, the raw decompressor, the naive pipeline (``naive.py``) and the bare lxml parse (``bare_lxml.py``).

Also what every benchmark module shares: the quick switch, the rounds, the workers of the aims, and which
dumpproc variants to run (``--parser lxml`` beside the default once ``dumpproc process`` has the option).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import CACHE, ROOT
from measure import Measurement, measure

QUICK = os.environ.get("DUMPPROC_BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("DUMPPROC_BENCH_ROUNDS", "1" if QUICK else "3"))
WORKERS = 2  # issue 16's aims are for -j 2, whatever the machine has
NAIVE = ROOT / "benchmarks" / "naive.py"
BARE_LXML = ROOT / "benchmarks" / "bare_lxml.py"


def _seven() -> str:
    return shutil.which("7zz") or shutil.which("7z") or "7zz"


def decompressor(path: Path) -> list[str]:
    """The raw decompressor's command line for a file, writing the XML to stdout."""
    suffix = path.suffix
    argv = {".7z": [_seven(), "e", "-so"], ".bz2": ["lbzip2", "-dc", "-n2"], ".zst": ["zstd", "-dc", "-q"]}
    if suffix not in argv:
        raise ValueError(f"no raw decompressor for {path.name}")
    if not shutil.which(argv[suffix][0]):
        pytest.skip(f"{argv[suffix][0]} is the baseline for {suffix}: apt install 7zip lbzip2 zstd")
    return [*argv[suffix], str(path)]


def xml_bytes(path: Path) -> int:
    """Uncompressed bytes of a dump, counted once through the raw decompressor and cached beside it."""
    note = CACHE / f"{path.name}.xml-bytes"
    size = path.stat().st_size
    if note.exists():
        compressed, xml = map(int, note.read_text().split())
        if compressed == size:
            return xml
    unpack = subprocess.Popen(decompressor(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    total = 0
    while chunk := unpack.stdout.read(1 << 20):
        total += len(chunk)
    if unpack.wait() != 0:
        raise RuntimeError(f"counting {path}: {unpack.stderr.read().decode(errors='replace')}")
    CACHE.mkdir(parents=True, exist_ok=True)
    note.write_text(f"{size} {total}\n")
    return total


@functools.cache
def dumpproc_variants() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The dumpproc runs to measure, as (name, extra options): the default, and ``--parser lxml`` as
    ``dumpproc_lxml`` when ``dumpproc process --help`` offers ``--parser`` (what the fast reader buys)."""
    done = subprocess.run([sys.executable, "-m", "dumpproc", "process", "--help"], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    lxml = (("dumpproc_lxml", ("--parser", "lxml")),) if "--parser" in done.stdout else ()
    return (("dumpproc", ()), *lxml)


def run_dumpproc(paths: list[Path], workers: int = WORKERS, options: tuple[str, ...] = ()) -> tuple[Measurement, int]:
    """dumpproc over the files with every default table, as a user runs it; with the revisions it reports."""
    with tempfile.TemporaryDirectory(dir=CACHE) as out:
        run = measure([sys.executable, "-m", "dumpproc", "process", *map(str, paths), "-o", out, "-j", str(workers),
                       *options], capture=True, cwd=ROOT)
    found = re.search(r"([\d,]+) pages?, ([\d,]+) revisions?\b", run.stdout)
    assert found, f"no counts in dumpproc's output: {run.stdout!r}"
    return run, int(found.group(2).replace(",", ""))


def run_naive(paths: list[Path]) -> tuple[Measurement, int]:
    """The naive pipeline over the files; with the rows it wrote."""
    with tempfile.TemporaryDirectory(dir=CACHE) as out:
        run = measure([sys.executable, str(NAIVE), *map(str, paths), "-o", os.path.join(out, "revisions.parquet")],
                      capture=True, cwd=ROOT)
    return run, int(run.stdout.split()[-1])


def run_bare_lxml(paths: list[Path]) -> tuple[Measurement, int]:
    """The bare lxml iterparse over zstd files; with the revisions it read."""
    run = measure([sys.executable, str(BARE_LXML), *map(str, paths)], capture=True, cwd=ROOT)
    return run, int(run.stdout.split()[0])


def summary(runs: list[Measurement]) -> dict:
    """A tool's figures over its rounds: median wall and CPU seconds, the highest peaks (MB, per process MiB)."""
    return {"s": statistics.median(r.seconds for r in runs), "cpu_s": statistics.median(r.cpu_seconds for r in runs),
            "peak_mb": max(r.peak_mb for r in runs), "hwm_sum_mb": max(r.hwm_sum_bytes for r in runs) / 1e6,
            "process_peak_mib": max(r.process_peak_mib for r in runs)}


def flat(figures: dict[str, dict]) -> dict:
    """``{tool: {key: value}}`` as the flat ``tool_key`` entries of ``benchmark.extra_info``."""
    return {f"{tool}_{key}": value for tool, values in figures.items() for key, value in values.items()}
