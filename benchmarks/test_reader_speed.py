"""dumpproc's reader (sources alone, no parsing) against the raw decompressor, in the same run.

Inputs: the Anarchism history recompressed to bz2 by lbzip2 (59 MB -> 1.05 GB of
XML), and as published in 7z. Baselines: ``lbzip2 -dc -n2`` and ``7zz e -so``
writing to /dev/null. The aim for bz2 is at most 1.1 times the baseline.
"""

from __future__ import annotations

import shutil
import statistics
import time

import pytest

from conftest import time_command
from dumpproc.sources import open_dump


def read_all(path, threads=2) -> float:
    started = time.perf_counter()
    with open_dump(str(path), threads) as stream:
        buffer = bytearray(1 << 20)
        while stream.readinto(buffer):
            pass
    return time.perf_counter() - started


def _compare(benchmark, path, baseline_argv, rounds=3):
    ours, theirs = [], []
    for _ in range(rounds):  # interleaved, so that a noisy neighbour hits both alike
        theirs.append(time_command(baseline_argv))
        ours.append(read_all(path))
    ratio = statistics.median(ours) / statistics.median(theirs)
    benchmark.extra_info.update(ours_s=statistics.median(ours), baseline_s=statistics.median(theirs), ratio=ratio)
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{path.name}: dumpproc reader {statistics.median(ours):.2f} s, {' '.join(baseline_argv[:3])} "
          f"{statistics.median(theirs):.2f} s, ratio {ratio:.3f}")
    return ratio


def test_bz2_reader_vs_lbzip2(benchmark, anarchism_bz2):
    _compare(benchmark, anarchism_bz2, ["lbzip2", "-dc", "-n2", str(anarchism_bz2)])


def test_bz2_indexed_bzip2_backend_vs_lbzip2(benchmark, anarchism_bz2, monkeypatch):
    monkeypatch.setenv("DUMPPROC_BZ2_BACKENDS", "indexed_bzip2")
    _compare(benchmark, anarchism_bz2, ["lbzip2", "-dc", "-n2", str(anarchism_bz2)], rounds=2)


def test_7z_reader_vs_7zz(benchmark, anarchism_7z):
    seven = shutil.which("7zz") or shutil.which("7z")
    if not seven:
        pytest.skip("7zz is not installed (apt install 7zip)")
    _compare(benchmark, anarchism_7z, [seven, "e", "-so", str(anarchism_7z)])


def test_block_scan_vs_lbzip2(benchmark, anarchism_bz2):
    """Finding split points without decoding: the bit scan against decompressing the same file."""
    from dumpproc.sources.bz2blocks import block_starts

    block_starts(str(anarchism_bz2))  # compile or load the kernel
    started = time.perf_counter()
    blocks = block_starts(str(anarchism_bz2))
    scan = time.perf_counter() - started
    baseline = time_command(["lbzip2", "-dc", "-n2", str(anarchism_bz2)])
    benchmark.extra_info.update(scan_s=scan, lbzip2_s=baseline, blocks=len(blocks))
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{anarchism_bz2.name}: {len(blocks)} blocks found in {scan:.2f} s; lbzip2 -dc -n2 {baseline:.2f} s "
          f"({scan / baseline:.3f} of it)")
