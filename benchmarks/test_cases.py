"""Where dumpproc stands: each input against the raw decompressor and the naive pipeline, in the same run.

Cases (ids for ``-k`` and ``scripts/run_benchmarks.py --cases``):

- ``anarchism-7z``: the enwiki Anarchism history as published (one page, 15,180
  revisions, 1.05 GB of XML); baseline ``7zz e -so``;
- ``anarchism-bz2``: the same recompressed by lbzip2; baseline ``lbzip2 -dc -n2``;
- ``aawiki-7z``: the aawiki full history (507 pages, small: start-up dominates);
- ``wiki-bz2``: a generated wiki-wide history, 1.1 GB of XML in 5,200+ pages
  over 4 files; baseline ``lbzip2 -dc -n2`` over each file in turn;
- ``wiki-zst``: the same XML as zstandard; baseline ``zstd -dc``.

Each case runs three commands as subprocesses (``runs``), measured by ``measure``
(wall time, CPU time and peak memory of the whole process tree): dumpproc
(``python -m dumpproc process FILES -o TMP -j 2``, every default table), the raw
decompressor writing to /dev/null, and ``benchmarks/naive.py`` (mwxml, difflib,
mwreverts, one process). Once ``dumpproc process`` has ``--parser``, dumpproc also
runs with ``--parser lxml``, a row of its own (``dumpproc_lxml``), to show what
the fast reader buys. dumpproc and the decompressor alternate for
``DUMPPROC_BENCH_ROUNDS`` rounds (3; medians, so a noisy neighbour hits both
alike); the naive pipeline, minutes on the large cases, runs once.

Issue 16's aims on these: ``-j 2`` at least 10x as fast as the naive pipeline on
``anarchism-7z`` and 15x on ``wiki-zst``; ``anarchism-bz2`` within 1.15x of
``lbzip2 -dc -n2``. The CPU aims are in ``test_cpu.py``, the memory aims in
``test_peak_memory.py``. The figures go to ``benchmark.extra_info``, which
``scripts/run_benchmarks.py`` turns into ``docs/benchmarks.md``.

``DUMPPROC_BENCH_QUICK=1`` (``run_benchmarks.py --quick``) swaps the large
inputs for small generated stand-ins of the same codecs, to check the machinery
in a minute; its figures say nothing about speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import CACHE, SHARED_DUMPS, generated_wiki, quick_history
from measure import measure_each
from runs import (QUICK, ROUNDS, WORKERS, decompressor, dumpproc_variants, flat, run_dumpproc, run_naive, summary,
                  xml_bytes)

AAWIKI_7Z = SHARED_DUMPS / "dkpro__dkpro-jwpl" / "aawiki-20260101-pages-meta-history.xml.7z"


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


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_case(benchmark, request, case_id: str):
    case = next(case for case in CASES if case.id == case_id)
    paths = case.quick_inputs() if QUICK else case.inputs(request)
    raw_argvs = [decompressor(path) for path in paths]
    CACHE.mkdir(parents=True, exist_ok=True)
    variants = dumpproc_variants()
    ours: dict[str, list] = {name: [] for name, _ in variants}
    raws = []
    for _ in range(ROUNDS):  # interleaved, so that a noisy neighbour hits both alike
        raws.append(measure_each(raw_argvs))
        for name, options in variants:
            ours[name].append(run_dumpproc(paths, WORKERS, options))
    revisions = ours["dumpproc"][0][1]
    assert all(count == revisions for runs in ours.values() for _, count in runs), "the parsers disagree on revisions"
    naive, rows = run_naive(paths)
    assert rows == revisions, f"the naive pipeline wrote {rows} rows, dumpproc {revisions} revisions"

    figures = {**{name: summary([run for run, _ in runs]) for name, runs in ours.items()}, "raw": summary(raws),
               "naive": summary([naive])}
    benchmark.extra_info.update(
        case=case.id, title=case.quick_title if QUICK and case.quick_title else case.title, quick=QUICK,
        rounds=ROUNDS, workers=WORKERS, tools=[*ours, "raw", "naive"],
        inputs=[path.name for path in paths], compressed_bytes=sum(path.stat().st_size for path in paths),
        xml_bytes=sum(xml_bytes(path) for path in paths), revisions=revisions,
        raw_command=" ".join([Path(raw_argvs[0][0]).name, *raw_argvs[0][1:-1]]), **flat(figures),
    )
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{case.id}: dumpproc {figures['dumpproc']['s']:.2f} s, {benchmark.extra_info['raw_command']} "
          f"{figures['raw']['s']:.2f} s, naive {figures['naive']['s']:.2f} s "
          f"(dumpproc/raw {figures['dumpproc']['s'] / figures['raw']['s']:.2f}, "
          f"naive/dumpproc {figures['naive']['s'] / figures['dumpproc']['s']:.1f})")
