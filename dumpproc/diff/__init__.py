"""Line diffs between consecutive revisions, and the word and character counts inside them.

``diff(a, b)`` returns the ops that rebuild ``b`` from ``a`` line by line (the
``diffs`` table) and the ``diff_*`` counters of the revisions table:

1. The common prefix and suffix are found on the UTF-8 bytes, eight at a time,
   and snapped to line boundaries, so a typical edit of a long article leaves
   only a few lines to compare.
2. The lines left are split and hashed in one pass and compared by hash with
   Myers' O(ND) algorithm, compiled by numba (cached on disk, so the compile is
   paid once per installation, not per unit or revision). Matched runs are then
   checked byte for byte, so a hash collision can never make ops that do not
   rebuild the text.
3. Inside each changed hunk, the removed and added lines are split into tokens
   (``\\w+`` words, whitespace runs, punctuation runs, with Unicode's classes: see
   ``tokens``) and diffed the same way:
   unmatched word tokens are the words added or removed, unmatched tokens'
   lengths the characters (code points).

When an exact diff would blow up, the result gets coarser but stays exact for
rebuilding and for the counter identities, and is counted in
``DiffResult.coarse``: lines that would need more than ``MAX_EDITS`` edits or
``WORK_BUDGET`` steps are kept as one hunk; tokens that would need more than
``TOKEN_MAX_EDITS`` edits are matched as a multiset; a hunk over
``TOKEN_MAX_BYTES`` is counted with no tokens matched. Short-against-long
sequences use a full LCS table instead of Myers' quadratic trace.

Lines are the text split after each ``\\n`` (the newline stays with its line;
a last line without one is a line too); words are the runs of Unicode word
characters (UTS #18's ``\\w``: letters, marks, digits, connector punctuation, join
controls), as ``count_words`` counts them.

``diff_page`` is the same diff for a batch of a page's revisions whose texts are spans
of one buffer (the columns a compiled reader writes): every pair in one compiled
call that releases the GIL, returning NumPy columns (``PageDiffs``) instead of one
Python object per revision and op; ``PageDiffer.next_batch`` carries the last
visible text from batch to batch, as ``PageDiffer.next`` does from text to text.

The compiled kernels live in ``pairs`` (one diff, and a batch of them, both through
``_diff_pair``), ``lines`` (line level) and ``tokens`` (inside hunks).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .pairs import NO_BASE, NOT_DIFFED, PREVIOUS, _diff_batch, _diff_pair, _gather
from . import words
from .tokens import _classes

__all__ = ["MAX_EDITS", "NOT_DIFFED", "NO_BASE", "PREVIOUS", "TOKEN_BUDGET", "TOKEN_MAX_BYTES", "TOKEN_MAX_EDITS",
           "WORK_BUDGET", "DiffResult", "PageDiffer", "PageDiffs", "apply_ops", "count_words", "diff", "diff_page",
           "diff_utf8", "split_lines", "warm_up"]

#: Beyond this many edits (insertions plus deletions) a hunk is kept whole ...
MAX_EDITS = 2_000
#: ... and beyond this many steps of work ((n + m) x edits), so that no pair takes long.
WORK_BUDGET = 4_000_000
#: The same for the tokens inside a hunk; past them, tokens are matched as a multiset.
TOKEN_MAX_EDITS = 64
TOKEN_BUDGET = 400_000
#: A hunk larger than this (both sides, UTF-8 bytes) is counted without matching tokens: its token
#: arrays would take ~20 bytes per byte of text.
TOKEN_MAX_BYTES = 1 << 20


class DiffResult(NamedTuple):
    """The ops that rebuild the new text, and the counters."""

    ops: list[tuple[int, int, int, int, str]]
    lines_added: int
    lines_removed: int
    words_added: int
    words_removed: int
    chars_added: int
    chars_removed: int
    coarse: int  # hunks kept whole because an exact diff would blow up


def split_lines(text):
    """The text (str or bytes) split after each newline, kept; a last line without one is a line."""
    if not text:
        return []
    newline = "\n" if isinstance(text, str) else b"\n"
    lines = text.split(newline)
    last = lines.pop()
    lines = [line + newline for line in lines]
    if last:
        lines.append(last)
    return lines


def count_words(text: str) -> int:
    """The words of a text: its runs of Unicode word characters (SPEC, Identity for the diff counters)."""
    return sum(1 for _ in words.WORD.finditer(text))


def _limits() -> tuple[int, int, int, int, int]:
    """The budgets, read at each call (tests lower them)."""
    return MAX_EDITS, WORK_BUDGET, TOKEN_BUDGET, TOKEN_MAX_EDITS, TOKEN_MAX_BYTES


def diff(a: str, b: str) -> DiffResult:
    """The ops and counters that turn text ``a`` into text ``b``."""
    return diff_utf8(a.encode("utf-8"), b.encode("utf-8"))


def diff_utf8(ab: bytes, bb: bytes, ops_text: str = "str") -> DiffResult:
    """``diff`` of two texts given as UTF-8 bytes.

    ``ops_text`` is what each op's text is: ``"str"``, ``"bytes"`` (UTF-8, as Arrow takes it
    for a string column, without a Python string's up to four bytes a character), or
    ``"none"`` (None: only the counters are wanted).
    """
    exact, hunks, b_offsets, prefix, first_line, wa, wr, ca, cr, coarse = _diff_pair(
        np.frombuffer(ab, np.uint8), np.frombuffer(bb, np.uint8), _classes(), *_limits())
    ops = []
    lines_added = lines_removed = 0
    for a_start, a_end, b_start, b_end in hunks.tolist():
        added = None
        if ops_text != "none":
            added = bb[prefix + b_offsets[b_start]:prefix + b_offsets[b_end]]
            if ops_text == "str":
                added = added.decode("utf-8")
        ops.append((first_line + a_start, first_line + a_end, first_line + b_start, first_line + b_end, added))
        lines_removed += a_end - a_start
        lines_added += b_end - b_start
    return DiffResult(ops, lines_added, lines_removed, int(wa), int(wr), int(ca), int(cr),
                      int(coarse) + (0 if exact else 1))


class PageDiffs(NamedTuple):
    """``diff_page``'s result: NumPy int64 columns, one value per revision of the batch, then one per op.

    ``base`` is the position in the batch of the revision each one is diffed against, ``PREVIOUS``
    (-1) for the text before the batch (``diff_page``'s ``previous``), ``NO_BASE`` (-3) for a page's
    first visible text when the page starts in the batch (diffed against the empty text), or
    ``NOT_DIFFED`` (-2) for a revision whose text is not visible (its counters are 0, no ops).
    ``counters`` holds a row per counter (``lines_added`` ... ``coarse``, also named one by one
    below), a column per revision. The ops of revision ``i`` are the columns
    ``op_offsets[i]:op_offsets[i + 1]`` of ``ops`` (``op_offsets`` is ready as an Arrow list's
    offsets), whose rows are ``op_revision`` (the revision's position), ``a_start``, ``a_end``,
    ``b_start``, ``b_end``, ``text_start``, ``text_end``: each op replaces the base's lines
    ``a_start:a_end`` with the new text's lines ``b_start:b_end``, which are
    ``out[text_start:text_end]``. Every row is a contiguous array.
    """

    base: np.ndarray
    counters: np.ndarray
    op_offsets: np.ndarray
    ops: np.ndarray

    lines_added = property(lambda self: self.counters[0])
    lines_removed = property(lambda self: self.counters[1])
    words_added = property(lambda self: self.counters[2])
    words_removed = property(lambda self: self.counters[3])
    chars_added = property(lambda self: self.counters[4])
    chars_removed = property(lambda self: self.counters[5])
    coarse = property(lambda self: self.counters[6])
    op_revision = property(lambda self: self.ops[0])
    a_start = property(lambda self: self.ops[1])
    a_end = property(lambda self: self.ops[2])
    b_start = property(lambda self: self.ops[3])
    b_end = property(lambda self: self.ops[4])
    text_start = property(lambda self: self.ops[5])
    text_end = property(lambda self: self.ops[6])

    def results(self, out, ops_text: str = "str") -> list[DiffResult | None]:
        """The ``DiffResult`` of each revision, as ``diff_utf8`` gives it (None: not diffed); ``out``
        is the buffer given to ``diff_page``, ``ops_text`` as for ``diff_utf8``."""
        data = memoryview(_read_only(out))
        ops = list(zip(self.a_start.tolist(), self.a_end.tolist(), self.b_start.tolist(), self.b_end.tolist(),
                       self._texts(data, ops_text)))
        offsets = self.op_offsets.tolist()
        results: list[DiffResult | None] = []
        for i, (base, *counters) in enumerate(zip(self.base.tolist(), *self.counters.tolist())):
            if base == NOT_DIFFED:
                results.append(None)
            else:
                results.append(DiffResult(ops[offsets[i]:offsets[i + 1]], *counters))
        return results

    def joined_texts(self, out, first: int = 0, last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every op's text (``out`` as given to ``diff_page``) one after another, as UTF-8 bytes,
        and their offsets (one more than ops): one compiled copy, no Python object per op. ``first``,
        ``last``: of the ops first..last-1 only."""
        return _gather(_read_only(out), np.ascontiguousarray(self.text_start[first:last]),
                       np.ascontiguousarray(self.text_end[first:last]))

    def _texts(self, data: memoryview, ops_text: str):
        spans = zip(self.text_start.tolist(), self.text_end.tolist())
        if ops_text == "none":
            return [None] * len(self.text_start)
        if ops_text == "bytes":
            return [bytes(data[start:end]) for start, end in spans]
        return [str(data[start:end], "utf-8") for start, end in spans]


def diff_page(out: np.ndarray, starts: np.ndarray, ends: np.ndarray, previous=b"", page_first=None) -> PageDiffs:
    """Diff every visible text of a batch of a page's consecutive revisions against the last
    visible one before it, in one compiled call that releases the GIL.

    ``out`` holds the texts as valid UTF-8 (np.uint8); revision ``i``'s is ``out[starts[i]:ends[i]]``,
    or not visible when ``starts[i] == -1`` (deleted or not in the dump: not diffed, and the next
    visible text is diffed against the last visible one before it). The first visible text is
    diffed against ``previous`` (bytes or a uint8 array: the page's last visible text before the
    batch, empty at the page's start). The same diffs as ``diff_utf8`` pair after pair.

    A batch may hold several pages, so that a wiki of short histories costs one call per block
    rather than per page: ``page_first`` (bools, one per revision) marks each revision that starts
    a page; a page's first visible text is then diffed against the empty text (base ``NO_BASE``),
    and ``previous`` applies to the revisions before the first such mark only.
    """
    flags = _NO_PAGES if page_first is None else np.ascontiguousarray(page_first, np.bool_)
    base, counters, op_offsets, ops = _diff_batch(
        _read_only(out), np.ascontiguousarray(starts, np.int64), np.ascontiguousarray(ends, np.int64), flags,
        _read_only(previous), _classes(), *_limits())
    return PageDiffs(base, counters, op_offsets, ops)


_NO_PAGES = np.zeros(0, np.bool_)


def _read_only(data) -> np.ndarray:
    """A read-only contiguous uint8 view, so that bytes and buffers meet one compiled signature."""
    view = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data.view()
    if view.dtype != np.uint8 or view.ndim != 1 or not view.flags.c_contiguous:
        raise TypeError(f"texts must be a 1-d contiguous uint8 array or bytes, not {view.dtype} {view.shape}")
    view.flags.writeable = False
    return view


class PageDiffer:
    """Diffs each visible revision of a page against the last visible text before it: one text at a
    time (``next``, the record path), or a batch of them given as spans of a buffer (``next_batch``)."""

    __slots__ = ("base_revision_id", "ops_text", "_utf8")

    def __init__(self, ops_text: str = "str") -> None:
        self.base_revision_id: int | None = None
        self.ops_text = ops_text  # see diff_utf8
        self._utf8 = b""

    def next(self, revision_id: int, text: str | bytes) -> tuple[int | None, DiffResult]:
        """(the revision diffed against, the diff) for the page's next visible text (str or UTF-8 bytes)."""
        utf8 = text.encode("utf-8") if isinstance(text, str) else text
        result = diff_utf8(self._utf8, utf8, self.ops_text)
        base = self.base_revision_id
        self.base_revision_id, self._utf8 = revision_id, utf8
        return base, result

    def next_batch(self, revision_ids: np.ndarray, out: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                   page_first: np.ndarray | None = None) -> tuple[np.ndarray, PageDiffs]:
        """``diff_page`` for the page's next revisions (texts as there), carrying the last visible
        text and its id on to the next call; returns also each revision's base revision id (-1 for
        none: a page's first visible revision, or one not diffed), as ``next`` gives them one by one.

        With ``page_first`` the batch may go on into the next pages (a reader's block): the differ
        then follows the batch's last page, whose revisions may go on in the next batch."""
        diffs = diff_page(out, starts, ends, self._utf8, page_first)
        base = diffs.base
        ids = np.asarray(revision_ids, np.int64)
        base_ids = np.where(base >= 0, ids.take(base, mode="clip"), -1)
        if self.base_revision_id is not None:
            base_ids[base == PREVIOUS] = self.base_revision_id
        shown = np.flatnonzero(base != NOT_DIFFED)
        if page_first is not None:
            opened = np.flatnonzero(page_first)
            if len(opened):  # the last page starts here: it alone goes on
                shown = shown[shown >= opened[-1]]
                self.base_revision_id, self._utf8 = None, b""
        if len(shown):
            last = shown[-1]
            self.base_revision_id = int(ids[last])
            self._utf8 = _read_only(out)[starts[last]:ends[last]].tobytes()
        return base_ids, diffs


def apply_ops(base: str, ops) -> str:
    """Rebuild the new text from the base text and a revision's ops (the ``diffs`` contract)."""
    lines = split_lines(base)
    out = []
    at = 0
    for a_start, a_end, _b_start, _b_end, text in ops:
        out.extend(lines[at:a_start])
        out.append(text)
        at = a_end
    out.extend(lines[at:])
    return "".join(out)


def warm_up() -> None:
    """Compile (or load from the disk cache) the numba kernels and build the character classes
    before workers fork, so that no unit pays for them; says so first when they must be compiled."""
    from .. import compiled

    compiled.resolve()
    diff("a\nb\nc\n", "a\nx y\nc\n")
    texts = np.frombuffer(b"a\nb\nc\na\nx y\nc\n", np.uint8)
    diff_page(texts, np.array([0, -1, 6]), np.array([6, -1, 14]), page_first=np.array([True, False, False]))
