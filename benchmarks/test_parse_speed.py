"""Parsing speed: dumpproc's reader against mwxml (the naive reader) and a raw read, same input, same run.

Input: ``bench-100mb.xml`` (about 100 MB of generated XML, schema 0.10).
"""

from __future__ import annotations

import time

import mwxml

from dumpproc.parse import Dump
from dumpproc.sources import open_dump

RESULTS: dict[str, float] = {}


def read_raw(path) -> int:
    with open(path, "rb") as fh:
        total = 0
        while chunk := fh.read(1 << 20):
            total += len(chunk)
    return total


def read_dumpproc(path) -> int:
    with open_dump(str(path)) as stream:
        return sum(len(r.text or "") for page in Dump(stream).pages() for r in page)


def read_mwxml(path) -> int:
    with open(path, "rb") as fh:
        return sum(len(r.text or "") for page in mwxml.Dump.from_file(fh) for r in page)


def _timed(benchmark, name, function, path):
    result = benchmark.pedantic(function, args=(path,), rounds=3, iterations=1)
    RESULTS[name] = benchmark.stats.stats.median
    return result


def test_raw_read(benchmark, history_100mb):
    _timed(benchmark, "raw", read_raw, history_100mb)


def test_mwxml(benchmark, history_100mb):
    _timed(benchmark, "mwxml", read_mwxml, history_100mb)


def test_dumpproc(benchmark, history_100mb):
    _timed(benchmark, "dumpproc", read_dumpproc, history_100mb)
    size = history_100mb.stat().st_size / 1e6
    if "mwxml" in RESULTS:
        benchmark.extra_info["mwxml_over_dumpproc"] = round(RESULTS["mwxml"] / RESULTS["dumpproc"], 2)
    benchmark.extra_info["dumpproc_mb_per_s"] = round(size / RESULTS["dumpproc"], 1)
    print(f"\n{size:.0f} MB XML: dumpproc {RESULTS['dumpproc']:.2f} s "
          f"({size / RESULTS['dumpproc']:.0f} MB/s); mwxml {RESULTS.get('mwxml', float('nan')):.2f} s; "
          f"raw read {RESULTS.get('raw', float('nan')):.2f} s; "
          f"mwxml/dumpproc = {RESULTS.get('mwxml', float('nan')) / RESULTS['dumpproc']:.1f}x")
