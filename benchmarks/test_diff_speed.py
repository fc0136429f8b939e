"""The diff stage against difflib, on the first 3,000 consecutive revision pairs of the Anarchism history.

dumpproc: ``PageDiffer`` (ops and all six counters, with the UTF-8 the parser
made for each text, as in the pipeline). Baseline, in the same run:
``difflib.SequenceMatcher`` over the same lines, autojunk off, ``get_opcodes()``.
The aim is at least 10 times faster.
"""

from __future__ import annotations

import difflib
import time

import pytest

from dumpproc.diff import PageDiffer, split_lines, warm_up
from dumpproc.parse import Dump
from dumpproc.sources import open_dump

PAIRS = 3_000


@pytest.fixture(scope="module")
def anarchism_texts(anarchism_7z):
    texts = []
    with open_dump(str(anarchism_7z), 2) as stream:
        for page in Dump(stream).pages():
            for revision in page:
                if revision.text is not None:
                    texts.append((revision.id, revision.text, revision.text_utf8))
                if len(texts) > PAIRS:
                    break
            break
    return texts


def run_dumpproc(texts):
    differ = PageDiffer()
    for revision_id, text, utf8 in texts:
        differ.next(revision_id, utf8)


def run_difflib(texts):
    previous = []
    for _, text, _ in texts:
        lines = split_lines(text)
        difflib.SequenceMatcher(None, previous, lines, autojunk=False).get_opcodes()
        previous = lines


def test_diff_stage_vs_difflib(benchmark, anarchism_texts):
    import statistics

    warm_up()
    theirs, ours = [], []
    for _ in range(3):  # interleaved, so that a noisy neighbour hits both alike
        started = time.perf_counter()
        run_difflib(anarchism_texts)
        theirs.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_dumpproc(anarchism_texts)
        ours.append(time.perf_counter() - started)
    baseline, mine = statistics.median(theirs), statistics.median(ours)
    benchmark.extra_info.update(difflib_s=baseline, dumpproc_s=mine, speedup=baseline / mine)
    benchmark.pedantic(run_dumpproc, args=(anarchism_texts,), rounds=1, iterations=1)
    print(f"\n{PAIRS} Anarchism pairs: difflib {baseline:.2f} s, dumpproc {mine:.3f} s, "
          f"{baseline / mine:.1f}x faster")
