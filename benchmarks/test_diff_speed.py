"""The diff stage against difflib, on the first 3,000 consecutive revision pairs of the Anarchism history.

dumpproc: ``PageDiffer`` (ops and all six counters, with the UTF-8 the parser
made for each text, as in the pipeline). Baseline, in the same run:
``difflib.SequenceMatcher`` over the same lines, autojunk off, ``get_opcodes()``.
The aim is at least 10 times faster.

The batch path against the per-revision one, both dumpproc's: ``PageDiffer.next`` once per
visible text from Python, against ``PageDiffer.next_batch`` once per page over the page's
texts packed in one buffer, as the compiled reader hands them (packing is not timed), and
once per block of pages (``page_first``, about ``BLOCK_BYTES`` of text a call). Input:
the texts of a generated wiki of small revisions (``DUMPPROC_DIFF_BENCH_XML`` names another
plain XML dump, e.g. a 200 MB one from ``scripts/gen_dump.py --target-mb 200``), pulled out
with lxml once, and the Anarchism pairs above.
"""

from __future__ import annotations

import difflib
import os
import time

import numpy as np
import pytest

from conftest import cached_dump
from dumpproc.diff import PageDiffer, split_lines, warm_up
from dumpproc.parse import Dump
from dumpproc.sources import open_dump

PAIRS = 3_000
#: Text bytes per batch of the block-wise batch path: about what a reader's block holds.
BLOCK_BYTES = 4 << 20


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


def page_texts(path) -> list[list[tuple[int, bytes | None]]]:
    """Each page's (revision id, main text as UTF-8 or None when not visible), read with lxml."""
    from lxml import etree

    pages, page, revision_id = [], [], None
    for _, element in etree.iterparse(str(path), events=("end",), huge_tree=True):
        tag = element.tag.rpartition("}")[2]
        if tag == "id" and element.getparent().tag.endswith("revision"):
            revision_id = int(element.text)
        elif tag == "text" and element.getparent().tag.endswith("revision"):
            shown = element.get("deleted") is None and (element.text is not None or element.get("id") is None)
            page.append((revision_id, (element.text or "").encode("utf-8") if shown else None))
        elif tag == "page":
            pages.append(page)
            page = []
            element.clear()
    return pages


def packed(pages):
    """Pages as the compiled reader gives them: (revision ids, buffer, starts, ends, page_first)."""
    revisions = [revision for page in pages for revision in page]
    texts = [text for _, text in revisions]
    lengths = np.array([0 if text is None else len(text) for text in texts], np.int64)
    ends = np.cumsum(lengths)
    starts = np.where([text is None for text in texts], -1, ends - lengths)
    first = np.zeros(len(texts), bool)
    first[np.cumsum([0] + [len(page) for page in pages[:-1]])] = True
    out = np.frombuffer(b"".join(text for text in texts if text is not None), np.uint8)
    return np.array([revision_id for revision_id, _ in revisions], np.int64), out, starts, ends, first


def by_page(pages):
    return [packed([page]) for page in pages]


def by_block(pages, block_bytes=BLOCK_BYTES):
    """The pages in batches of about ``block_bytes`` of text each, as the reader's blocks."""
    blocks, block, size = [], [], 0
    for page in pages:
        block.append(page)
        size += sum(len(text) for _, text in page if text is not None)
        if size >= block_bytes:
            blocks.append(packed(block))
            block, size = [], 0
    return blocks + ([packed(block)] if block else [])


def run_per_revision(pages):
    for page in pages:
        differ = PageDiffer("bytes")
        for revision_id, text in page:
            if text is not None:
                differ.next(revision_id, text)


def run_pages(batches):
    for ids, out, starts, ends, _ in batches:
        PageDiffer("bytes").next_batch(ids, out, starts, ends)


def run_blocks(batches):
    differ = PageDiffer("bytes")
    for ids, out, starts, ends, first in batches:
        differ.next_batch(ids, out, starts, ends, first)


@pytest.fixture(scope="module", params=["generated", "anarchism"])
def histories(request):
    if request.param == "anarchism":
        texts = request.getfixturevalue("anarchism_texts")
        return "Anarchism, 3,000 pairs", [[(revision_id, utf8) for revision_id, _, utf8 in texts]]
    path = os.environ.get("DUMPPROC_DIFF_BENCH_XML") or cached_dump(
        "bench-diff-small-revisions.xml", target_bytes=50_000_000, pages=1, revisions=(2, 12), text_size=3000, seed=16)
    return os.path.basename(path), page_texts(path)


def test_batch_vs_per_revision(benchmark, histories):
    import statistics

    name, pages = histories
    pagewise, blockwise = by_page(pages), by_block(pages)
    warm_up()
    for (ids, out, starts, ends, _), page in list(zip(pagewise, pages))[:300]:  # the same diffs, first
        _, diffs = PageDiffer("bytes").next_batch(ids, out, starts, ends)
        differ = PageDiffer("bytes")
        expected = [differ.next(revision_id, text)[1] for revision_id, text in page if text is not None]
        assert [result for result in diffs.results(out, "bytes") if result is not None] == expected
    times = {"per revision": [], "per page": [], "per block": []}
    for _ in range(3):  # interleaved, so that a noisy neighbour hits all alike
        for label, run, given in (("per revision", run_per_revision, pages), ("per page", run_pages, pagewise),
                                  ("per block", run_blocks, blockwise)):
            started = time.process_time()
            run(given)
            times[label].append(time.process_time() - started)
    cpu = {label: statistics.median(values) for label, values in times.items()}
    baseline = cpu["per revision"]
    revisions = sum(len(page) for page in pages)
    benchmark.extra_info.update({f"{label.replace(' ', '_')}_s": value for label, value in cpu.items()},
                                speedup_per_page=baseline / cpu["per page"],
                                speedup_per_block=baseline / cpu["per block"], pages=len(pages), revisions=revisions)
    benchmark.pedantic(run_blocks, args=(blockwise,), rounds=1, iterations=1)
    print(f"\n{name}: {len(pages)} pages, {revisions} revisions, CPU s (median of 3): "
          + ", ".join(f"{label} {value:.2f} ({baseline / value:.2f}x)" for label, value in cpu.items()))
