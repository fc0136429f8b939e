"""Where dumpproc stands: each input against the raw decompressor and the naive pipeline, in the same run.

Cases (ids for ``-k`` and ``scripts/run_benchmarks.py --cases``):

- ``anarchism-7z``: the enwiki Anarchism history as published (one page, 15,180
  revisions, 1.05 GB of XML); baseline ``7zz e -so``;
- ``anarchism-bz2``: the same recompressed by lbzip2; baseline ``lbzip2 -dc -n2``;
- ``aawiki-7z``: the aawiki full history (507 pages, small: start-up dominates);
- ``wiki-bz2``: a generated wiki-wide history, 1.1 GB of XML in 5,200+ pages
  over 4 files; baseline ``lbzip2 -dc -n2`` over each file in turn;
- ``wiki-zst``: the same XML as zstandard; baseline ``zstd -dc``.

Each case runs three commands as subprocesses, measured by ``measure`` (wall
time and peak memory of the whole process tree): dumpproc (``python -m dumpproc
process FILES -o TMP -j CORES``), the raw decompressor writing to /dev/null, and
``benchmarks/naive.py`` (mwxml, difflib, mwreverts, one process). dumpproc and
the decompressor alternate for ``DUMPPROC_BENCH_ROUNDS`` rounds (3; medians, so
a noisy neighbour hits both alike); the naive pipeline, minutes on the large
cases, runs once. The figures go to ``benchmark.extra_info``, which
``scripts/run_benchmarks.py`` turns into ``docs/benchmarks.md``.

``DUMPPROC_BENCH_QUICK=1`` (``run_benchmarks.py --quick``) swaps the large
inputs for small generated stand-ins of the same codecs, to check the machinery
in a minute; its figures say nothing about speed.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import CACHE, ROOT, SHARED_DUMPS, cached_dump, generated_wiki
from measure import Measurement, measure, measure_each

QUICK = os.environ.get("DUMPPROC_BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("DUMPPROC_BENCH_ROUNDS", "1" if QUICK else "3"))
WORKERS = os.cpu_count() or 1
NAIVE = ROOT / "benchmarks" / "naive.py"
AAWIKI_7Z = SHARED_DUMPS / "dkpro__dkpro-jwpl" / "aawiki-20260101-pages-meta-history.xml.7z"


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


def quick_history(suffix: str) -> Path:
    """A generated one-page history (about 12 MB of XML), compressed by 7zz or lbzip2: Anarchism's stand-in."""
    xml = cached_dump("quick-history.xml", pages=1, revisions=(400, 400), text_size=30_000, seed=7)
    path = CACHE / f"quick-history.xml.{suffix}"
    if not path.exists():
        tmp = CACHE / f"quick-history.partial.{suffix}"
        tmp.unlink(missing_ok=True)
        if suffix == "7z":
            subprocess.run([_seven(), "a", "-bso0", "-bsp0", str(tmp), str(xml)], check=True)
        else:
            with open(xml, "rb") as source, open(tmp, "wb") as out:
                subprocess.run(["lbzip2", "-n2", "-c"], stdin=source, stdout=out, check=True)
        tmp.rename(path)
    return path


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    inputs: Callable[[pytest.FixtureRequest], list[Path]]
    quick_inputs: Callable[[], list[Path]]
    quick_title: str = ""


def _aawiki(request) -> list[Path]:
    if not AAWIKI_7Z.is_file():
        pytest.skip(f"{AAWIKI_7Z} is absent")
    return [AAWIKI_7Z]


CASES = [
    Case("anarchism-7z", "Anarchism history, 7z as published",
         lambda request: [request.getfixturevalue("anarchism_7z")], lambda: [quick_history("7z")],
         "generated one-page history, 7z (Anarchism's quick stand-in)"),
    Case("anarchism-bz2", "Anarchism history recompressed to bz2",
         lambda request: [request.getfixturevalue("anarchism_bz2")], lambda: [quick_history("bz2")],
         "generated one-page history, bz2 (Anarchism's quick stand-in)"),
    Case("aawiki-7z", "aawiki full history, 7z", _aawiki, lambda: _aawiki(None)),
    Case("wiki-bz2", "generated wiki, 4 bz2 files", lambda request: generated_wiki("bz2"),
         lambda: generated_wiki("bz2", quick=True), "small generated wiki, 4 bz2 files (quick stand-in)"),
    Case("wiki-zst", "generated wiki, 4 zstd files", lambda request: generated_wiki("zst"),
         lambda: generated_wiki("zst", quick=True), "small generated wiki, 4 zstd files (quick stand-in)"),
]


def run_dumpproc(paths: list[Path]) -> tuple[Measurement, int]:
    """dumpproc over the files, as a user runs it; with the revisions it reports."""
    with tempfile.TemporaryDirectory(dir=CACHE) as out:
        run = measure([sys.executable, "-m", "dumpproc", "process", *map(str, paths), "-o", out, "-j", str(WORKERS)],
                      capture=True, cwd=ROOT)
    found = re.search(r"for ([\d,]+) pages, ([\d,]+) revisions", run.stdout)
    assert found, f"no counts in dumpproc's output: {run.stdout!r}"
    return run, int(found.group(2).replace(",", ""))


def run_naive(paths: list[Path]) -> tuple[Measurement, int]:
    """The naive pipeline over the files; with the rows it wrote."""
    with tempfile.TemporaryDirectory(dir=CACHE) as out:
        run = measure([sys.executable, str(NAIVE), *map(str, paths), "-o", os.path.join(out, "revisions.parquet")],
                      capture=True, cwd=ROOT)
    return run, int(run.stdout.split()[-1])


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_case(benchmark, request, case_id: str):
    case = next(case for case in CASES if case.id == case_id)
    paths = case.quick_inputs() if QUICK else case.inputs(request)
    raw_argvs = [decompressor(path) for path in paths]
    CACHE.mkdir(parents=True, exist_ok=True)
    ours, raws = [], []
    for _ in range(ROUNDS):  # interleaved, so that a noisy neighbour hits both alike
        raws.append(measure_each(raw_argvs))
        ours.append(run_dumpproc(paths))
    revisions = ours[0][1]
    naive, rows = run_naive(paths)
    assert rows == revisions, f"the naive pipeline wrote {rows} rows, dumpproc {revisions} revisions"

    def summary(runs: list[Measurement]) -> dict:
        return {"s": statistics.median(r.seconds for r in runs), "peak_mb": max(r.peak_mb for r in runs),
                "hwm_sum_mb": max(r.hwm_sum_bytes for r in runs) / 1e6}

    figures = {"dumpproc": summary([run for run, _ in ours]), "raw": summary(raws), "naive": summary([naive])}
    benchmark.extra_info.update(
        case=case.id, title=case.quick_title if QUICK and case.quick_title else case.title, quick=QUICK,
        rounds=ROUNDS, workers=WORKERS,
        inputs=[path.name for path in paths], compressed_bytes=sum(path.stat().st_size for path in paths),
        xml_bytes=sum(xml_bytes(path) for path in paths), revisions=revisions,
        raw_command=" ".join([Path(raw_argvs[0][0]).name, *raw_argvs[0][1:-1]]),
        **{f"{tool}_{key}": value for tool, values in figures.items() for key, value in values.items()},
    )
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{case.id}: dumpproc {figures['dumpproc']['s']:.2f} s, {benchmark.extra_info['raw_command']} "
          f"{figures['raw']['s']:.2f} s, naive {figures['naive']['s']:.2f} s "
          f"(dumpproc/raw {figures['dumpproc']['s'] / figures['raw']['s']:.2f}, "
          f"naive/dumpproc {figures['naive']['s'] / figures['dumpproc']['s']:.1f})")
