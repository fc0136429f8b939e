"""The batch diff (``diff_page``, ``PageDiffer.next_batch``): the same diffs as ``PageDiffer.next``
text after text, for texts given as spans of one buffer, deleted ones in between."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from test_diff import LINES, TEXT

from dumpproc import diff as diff_module
from dumpproc.diff import NO_BASE, NOT_DIFFED, PREVIOUS, PageDiffer, apply_ops, diff_page
from dumpproc import compiled
from dumpproc.diff.pairs import _diff_batch


def pack(texts, junk=b"<x>\xc3\xa9"):
    """One buffer holding the visible texts, with other bytes between them (as a reader's buffer
    holds other fields), and their spans; -1 for a text not visible."""
    buffer = bytearray(junk)
    starts, ends = [], []
    for text in texts:
        if text is None:
            starts.append(-1)
            ends.append(-1)
            continue
        starts.append(len(buffer))
        buffer += text.encode("utf-8")
        ends.append(len(buffer))
        buffer += junk
    return np.frombuffer(bytes(buffer), np.uint8), np.array(starts, np.int64), np.array(ends, np.int64)


def one_by_one(ids, texts, ops_text="str"):
    """What ``PageDiffer.next`` gives, text after text: (base revision id, result) or None."""
    differ = PageDiffer(ops_text)
    return [None if text is None else differ.next(revision_id, text.encode("utf-8"))
            for revision_id, text in zip(ids, texts)]


def batched(ids, texts, cuts, ops_text="str"):
    """The same through ``next_batch``, the history cut into batches at ``cuts``."""
    differ = PageDiffer(ops_text)
    got = []
    bounds = [0, *sorted(set(cuts)), len(texts)]
    for low, high in zip(bounds, bounds[1:]):
        out, starts, ends = pack(texts[low:high])
        base_ids, diffs = differ.next_batch(np.array(ids[low:high]), out, starts, ends)
        for base_id, result in zip(base_ids.tolist(), diffs.results(out, ops_text)):
            got.append(None if result is None else (None if base_id == -1 else base_id, result))
    return got


@st.composite
def histories(draw):
    """A page's texts, None where deleted: edits of the last visible text line by line, fresh texts
    (non-ASCII, without a final newline, empty), deletions, repeats."""
    texts = []
    current = "".join(draw(LINES))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["edit", "edit", "fresh", "deleted", "empty", "same"]))
        if kind == "deleted":
            texts.append(None)
            continue
        if kind == "edit":
            lines = diff_module.split_lines(current)
            for _ in range(draw(st.integers(1, 3))):
                at = draw(st.integers(0, len(lines)))
                lines[at:at + draw(st.integers(0, 3))] = draw(LINES)[:3]
            current = "".join(lines)
        elif kind == "fresh":
            current = draw(TEXT)
        elif kind == "empty":
            current = ""
        texts.append(current)
    return texts


@settings(max_examples=300, deadline=None)
@given(histories(), st.lists(st.integers(0, 12), max_size=4), st.sampled_from(["str", "bytes", "none"]))
def test_batches_give_what_next_gives_one_by_one(texts, cuts, ops_text):
    ids = list(range(100, 100 + len(texts)))
    cuts = [cut for cut in cuts if cut <= len(texts)]
    assert batched(ids, texts, cuts, ops_text) == one_by_one(ids, texts, ops_text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXT), max_size=8), st.one_of(st.none(), TEXT))
def test_diff_page_columns(texts, before):
    """Bases by position, counters and ops as columns, texts as spans of the buffer."""
    out, starts, ends = pack(texts)
    previous = b"" if before is None else before.encode("utf-8")
    diffs = diff_page(out, starts, ends, previous)
    per_revision = [diffs.base, *diffs.counters]
    per_op = [diffs.op_revision, diffs.a_start, diffs.a_end, diffs.b_start, diffs.b_end, diffs.text_start,
              diffs.text_end]
    assert [len(column) for column in per_revision] == [len(texts)] * 8 and len(diffs.op_offsets) == len(texts) + 1
    assert [len(column) for column in per_op] == [diffs.op_offsets[-1]] * 7
    for column in per_revision + per_op + [diffs.op_offsets]:
        assert column.dtype == np.int64 and column.flags.c_contiguous
    assert (diffs.lines_added == diffs.counters[0]).all() and (diffs.coarse == diffs.counters[6]).all()
    last, base_text = PREVIOUS, previous.decode("utf-8")
    for i, text in enumerate(texts):
        ops = slice(diffs.op_offsets[i], diffs.op_offsets[i + 1])
        if text is None:
            assert diffs.base[i] == NOT_DIFFED and ops.start == ops.stop
            assert not diffs.counters[:, i].any()
            continue
        assert diffs.base[i] == last
        assert (diffs.op_revision[ops] == i).all()
        spans = zip(diffs.text_start[ops].tolist(), diffs.text_end[ops].tolist())
        rebuilt = apply_ops(base_text, zip(diffs.a_start[ops], diffs.a_end[ops], diffs.b_start[ops], diffs.b_end[ops],
                                           (out[start:end].tobytes().decode("utf-8") for start, end in spans)))
        assert rebuilt == text
        assert diffs.chars_added[i] - diffs.chars_removed[i] == len(text) - len(base_text)
        last, base_text = i, text


@settings(max_examples=150, deadline=None)
@given(st.lists(histories(), max_size=5), st.booleans(), st.one_of(st.none(), TEXT))
def test_a_batch_of_several_pages(pages, continues, before):
    """Pages one after another in one batch, the first maybe the rest of a page begun before."""
    texts = [text for page in pages for text in page]
    first = [at == 0 and not (continues and number == 0) for number, page in enumerate(pages) for at in range(len(page))]
    previous = "" if before is None else before
    out, starts, ends = pack(texts)
    diffs = diff_page(out, starts, ends, previous.encode("utf-8"), page_first=np.array(first, bool))
    got = diffs.results(out)
    at = 0
    for number, page in enumerate(pages):
        carried = [previous] if continues and number == 0 else []
        ids = list(range(at - len(carried), at + len(page)))
        expected = one_by_one(ids, carried + page)[len(carried):]
        for offset, want in enumerate(expected):
            i = at + offset
            if want is None:
                assert got[i] is None and diffs.base[i] == NOT_DIFFED
                continue
            assert got[i] == want[1]
            if want[0] is None:
                assert diffs.base[i] == NO_BASE
            else:
                assert diffs.base[i] == (PREVIOUS if want[0] < 0 else want[0])
        at += len(page)


@settings(max_examples=150, deadline=None)
@given(st.lists(histories(), max_size=5), st.lists(st.integers(0, 40), max_size=4))
def test_pages_cut_into_blocks_anywhere(pages, cuts):
    """``next_batch`` over a reader's blocks: pages go on from block to block, cut anywhere."""
    revisions = [(number, at) for number, page in enumerate(pages) for at in range(len(page))]
    ids = list(range(1, len(revisions) + 1))
    texts = [pages[number][at] for number, at in revisions]
    first = np.array([at == 0 for _, at in revisions], bool)
    expected = []
    for number, page in enumerate(pages):
        low = revisions.index((number, 0)) if page else 0
        expected += one_by_one(ids[low:low + len(page)], page)
    differ = PageDiffer()
    got = []
    bounds = [0, *sorted({cut for cut in cuts if cut <= len(texts)}), len(texts)]
    for low, high in zip(bounds, bounds[1:]):
        out, starts, ends = pack(texts[low:high])
        base_ids, diffs = differ.next_batch(np.array(ids[low:high], np.int64), out, starts, ends, first[low:high])
        for base_id, result in zip(base_ids.tolist(), diffs.results(out)):
            got.append(None if result is None else (None if base_id == -1 else base_id, result))
    assert got == expected


def test_deleted_texts_between_and_around_are_skipped():
    texts = [None, "a\n", None, None, "a\nb\n", None]
    diffs = diff_page(*pack(texts))
    assert diffs.base.tolist() == [NOT_DIFFED, PREVIOUS, NOT_DIFFED, NOT_DIFFED, 1, NOT_DIFFED]
    assert diffs.lines_added.tolist() == [0, 1, 0, 0, 1, 0]
    assert diffs.op_offsets.tolist() == [0, 0, 1, 1, 1, 2, 2]
    differ = PageDiffer()
    base_ids, _ = differ.next_batch(np.arange(1, 7), *pack(texts))
    assert base_ids.tolist() == [-1, -1, -1, -1, 2, -1]
    assert (differ.base_revision_id, differ._utf8) == (5, b"a\nb\n")
    # a batch with no visible text carries the last visible one on unchanged
    base_ids, diffs = differ.next_batch(np.array([7, 8]), *pack([None, None]))
    assert base_ids.tolist() == [-1, -1] and diffs.results(pack([None, None])[0]) == [None, None]
    base_ids, diffs = differ.next_batch(np.array([9]), *pack(["a\nb\nc"]))
    assert base_ids.tolist() == [5] and diffs.results(pack(["a\nb\nc"])[0])[0].ops == [(2, 2, 2, 3, "c")]


def test_the_previous_text_carries_across_batches():
    texts = ["intro\nThe cat sat.\nend\n", "intro\nThe dog sat down.\nend\n", "intro\nend", "é\n😀"]
    whole = diff_page(*pack(texts)).results(pack(texts)[0])
    for cut in range(1, len(texts)):
        out, starts, ends = pack(texts[cut:])
        later = diff_page(out, starts, ends, texts[cut - 1].encode("utf-8")).results(out)
        assert later == whole[cut:]
        # the previous text may be a uint8 array too, a slice of another batch's buffer
        first, first_starts, first_ends = pack(texts[:cut])
        tail = first[first_starts[-1]:first_ends[-1]]
        assert diff_page(out, starts, ends, tail).results(out) == whole[cut:]


def test_empty_texts_and_an_empty_batch():
    texts = ["", "", "x", "", "\n", "\n\n", ""]
    assert batched(list(range(len(texts))), texts, [3]) == one_by_one(list(range(len(texts))), texts)
    diffs = diff_page(np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64), b"a\n")
    assert diffs.op_offsets.tolist() == [0] and diffs.base.shape == (0,)
    assert diffs.counters.shape == (7, 0) and diffs.ops.shape == (7, 0)


def test_a_writable_buffer_and_plain_lists_give_the_same():
    texts = ["a b\nc\n", None, "a b\nd\n"]
    out, starts, ends = pack(texts)
    expected = diff_page(out, starts, ends).results(out)
    writable = out.copy()
    assert diff_page(writable, starts.tolist(), ends.tolist()).results(writable) == expected
    assert writable.flags.writeable  # the caller's buffer is left as it was


@pytest.mark.parametrize("limit, value", [("WORK_BUDGET", 20_000), ("MAX_EDITS", 16), ("TOKEN_MAX_EDITS", 2),
                                          ("TOKEN_MAX_BYTES", 64)])
def test_huge_hunks_go_coarse_alike(monkeypatch, limit, value):
    monkeypatch.setattr(diff_module, limit, value)
    words = [f"w{i}" for i in range(40)]
    texts = ["".join(f"line {i}\n" for i in range(3000)), "".join(f"other {i}\n" for i in range(3000)), None,
             " ".join(words) + "\n", " ".join(reversed(words)) + " x\n",
             "\n".join(["same"] * 2000), "\n".join(["same", "diff"] * 1000) + "é"]
    ids = list(range(1, len(texts) + 1))
    expected = one_by_one(ids, texts)
    assert sum(result.coarse for _, result in filter(None, expected)) >= 1
    assert batched(ids, texts, []) == expected
    assert batched(ids, texts, [2, 5]) == expected


def test_generated_histories():
    """Every page of the generated sample, whole and cut in two, against ``next`` one by one."""
    from conftest import SAMPLE
    from dumpproc.parse import Dump
    from dumpproc.sources import open_dump

    pages = 0
    with open_dump(str(SAMPLE)) as stream:
        for page in Dump(stream).pages():
            revisions = list(page)
            ids = [revision.id for revision in revisions]
            texts = [revision.text for revision in revisions]
            expected = one_by_one(ids, texts, "bytes")
            assert batched(ids, texts, [], "bytes") == expected
            assert batched(ids, texts, [len(texts) // 2], "bytes") == expected
            pages += 1
    assert pages > 20


def test_bad_spans_and_buffers_are_refused():
    out, starts, ends = pack(["abc"])
    with pytest.raises(ValueError):
        diff_page(out, starts, ends + 100)
    with pytest.raises(ValueError):
        diff_page(out, starts, np.array([0, 1]))
    with pytest.raises(ValueError):
        diff_page(out, starts, ends, page_first=np.array([True, False]))
    with pytest.raises(TypeError):
        diff_page(out.astype(np.int32), starts, ends)


def test_the_batch_kernel_releases_the_gil():
    """In both forms (``dumpproc.compiled``): numba's dispatcher with ``nogil``, or the compiled
    module, whose wrappers were built releasing it."""
    compiled.resolve()
    assert _diff_batch.nogil is True
    if _diff_batch.dispatcher is not None:
        assert _diff_batch.dispatcher.targetoptions.get("nogil") is True


def test_the_op_texts_are_gathered_in_one_buffer_as_python_slices_give_them():
    texts = "a\nb\nc\n" "a\nx y\nc\n" "\u00e9t\u00e9\nc\n"
    out = np.frombuffer(texts.encode(), np.uint8)
    starts, ends = np.array([0, 6, 14]), np.array([6, 14, 22])
    page = diff_page(out, starts, ends)
    joined, offsets = page.joined_texts(out)
    data = out.tobytes()
    expected = [data[a:b] for a, b in zip(page.text_start.tolist(), page.text_end.tolist())]
    assert [joined[offsets[i]:offsets[i + 1]].tobytes() for i in range(len(expected))] == expected
    assert offsets[0] == 0 and offsets[-1] == len(joined) == sum(map(len, expected))
    from dumpproc.diff.pairs import _gather

    with pytest.raises(ValueError):
        _gather(out, np.array([5]), np.array([4]))
    with pytest.raises(ValueError):
        _gather(out, np.array([0]), np.array([len(out) + 1]))


def test_a_long_run_of_op_text_is_a_piece_of_its_own_that_holds_the_buffer(monkeypatch):
    """``diffrows.diff_rows``: a revision whose op texts are one run of the buffer, that long, is its
    own piece viewing the buffer (no copy); the rows are those of one piece gathered."""
    from dumpproc import diffrows
    from dumpproc.diffrows import DiffPieces, diff_rows

    texts = [b"a\nb\n", b"x\n" * 40, b"a\nb\nc\n", b"", b"y\n" * 30, b"y\n" * 30 + b"z\n"]
    out = np.frombuffer(b"".join(texts), np.uint8)
    ends = np.cumsum([len(t) for t in texts])
    starts = ends - [len(t) for t in texts]
    starts[3] = ends[3] = -1  # not visible
    page_first = np.array([True, True, False, False, True, False])  # three pages: (a), (b, c, -), (d, e)
    ids = np.arange(10, 16, dtype=np.int64)
    pages = np.array([1, 2, 2, 2, 3, 3], np.int64)
    diffs = diff_page(out, starts, ends, page_first=page_first)
    base_ids = np.where(diffs.base >= 0, ids.take(diffs.base, mode="clip"), -1)
    shown = diffs.base != NOT_DIFFED
    whole = diff_rows(diffs, out, pages, ids, base_ids, shown)
    assert len(whole) == 1 and not np.shares_memory(whole[0].joined, out)
    monkeypatch.setattr(diffrows, "VIEW_BYTES", 50)  # the rule, at a small scale
    split = diff_rows(diffs, out, pages, ids, base_ids, shown)
    assert [p.revision_ids.tolist() for p in split] == [[10], [11], [12], [14], [15]]
    viewed = [p for p in split if np.shares_memory(p.joined, out)]
    assert [p.revision_ids.tolist() for p in viewed] == [[11], [14]]  # 80 and 60 bytes, each one run
    assert DiffPieces.batch(split).equals(DiffPieces.batch(whole))
