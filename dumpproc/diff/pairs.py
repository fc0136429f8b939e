"""The compiled diff of two texts, and of a batch of a page's texts, pair after pair.

``_diff_pair`` is the whole compiled part of one diff: trim to whole lines
(``lines``), align the lines left, count words and characters inside the hunks
(``tokens``). Both paths of the package call it, so they cannot drift apart:
``diff_utf8`` once per pair from Python (the record path), and ``_diff_batch``
once per batch of a page's revisions, for texts given as spans of one decoded
buffer (the columns a compiled reader writes): one call, no Python object per
revision or op, and no GIL held, so a reader can fill the next buffer meanwhile.
"""

from __future__ import annotations

import numpy as np

from ..compiled import entry
from ..unaligned import _newlines
from .lines import _common_prefix, _common_suffix, _line_hunks
from .tokens import _hunk_counts

#: ``_diff_batch``'s base of a revision whose text is not visible: it is not diffed.
NOT_DIFFED = -2
#: ``_diff_batch``'s base of a revision diffed against the text before the batch.
PREVIOUS = -1
#: ``_diff_batch``'s base of a page's first visible revision when the page starts inside the batch:
#: it is diffed against the empty text.
NO_BASE = -3
#: Rows of ``_diff_batch``'s counters, one column per revision.
COUNTERS = ("lines_added", "lines_removed", "words_added", "words_removed", "chars_added", "chars_removed",
            "coarse")
#: Rows of ``_diff_batch``'s ops, one column per op; text_start/text_end index the batch's buffer.
OP_FIELDS = ("revision", "a_start", "a_end", "b_start", "b_end", "text_start", "text_end")


@entry("uint8[:], uint8[:], uint8[:], int64, int64, int64, int64, int64")
def _diff_pair(a, b, classes, max_edits, budget, token_budget, token_edits, token_bytes):  # pragma: no cover
    """Trim to whole lines, align the lines left, count inside the hunks. Returns (exact, hunks,
    b line offsets, prefix bytes, prefix lines, words added, words removed, chars added, chars
    removed, coarse); hunks and b's line offsets count from the prefix."""
    n = a.shape[0]
    m = b.shape[0]
    limit = min(n, m)
    prefix = _common_prefix(a, b, limit)
    while prefix > 0 and a[prefix - 1] != 10:  # back to a line start
        prefix -= 1
    suffix = _common_suffix(a, b, limit - prefix) if limit > prefix else 0
    if suffix > 0:
        a_starts = n - suffix == prefix or a[n - suffix - 1] == 10
        b_starts = m - suffix == prefix or b[m - suffix - 1] == 10
        if not (a_starts and b_starts):
            # a newline inside the common part ends a line in both texts alike
            at = n - suffix
            while at < n and a[at] != 10:
                at += 1
            suffix = n - at - 1 if at < n else 0
    a_mid = a[prefix:n - suffix]
    b_mid = b[prefix:m - suffix]
    exact, hunks, a_offsets, b_offsets = _line_hunks(a_mid, b_mid, max_edits, budget)
    first_line = _newlines(a, 0, prefix)
    wa, wr, ca, cr, coarse = _hunk_counts(a_mid, b_mid, a_offsets, b_offsets, hunks, classes, token_budget,
                                          token_edits, token_bytes)
    return exact, hunks, b_offsets, prefix, first_line, wa, wr, ca, cr, coarse


@entry("uint8[:], int64[:], int64[:], boolean[:], uint8[:], uint8[:], int64, int64, int64, int64, int64")
def _diff_batch(out, starts, ends, page_first, previous, classes, max_edits, budget, token_budget, token_edits,
                token_bytes):  # pragma: no cover - compiled
    """Each visible text ``out[starts[i]:ends[i]]`` (``starts[i] < 0``: not visible) diffed against
    the last visible one before it in its page, the first against ``previous``; ``page_first[i]``
    (when ``page_first`` is not empty) says revision ``i`` starts a page, whose first visible text is
    diffed against the empty text. Returns (base per revision: its position, ``PREVIOUS``,
    ``NO_BASE`` or ``NOT_DIFFED``; counters, ``COUNTERS`` by revision; op offsets per revision, one
    more than revisions; ops, ``OP_FIELDS`` by op)."""
    count = starts.shape[0]
    if ends.shape[0] != count or (page_first.shape[0] != count and page_first.shape[0] != 0):
        raise ValueError("starts, ends and page_first must be of one length")
    for i in range(count):
        if starts[i] >= 0 and (ends[i] < starts[i] or ends[i] > out.shape[0]):
            raise ValueError("a text's span lies outside the buffer")
    pages = page_first.shape[0] != 0
    base = np.full(count, NOT_DIFFED, np.int64)
    counters = np.zeros((7, count), np.int64)
    op_offsets = np.zeros(count + 1, np.int64)
    ops = np.empty((7, max(16, 2 * count)), np.int64)
    total = 0
    a = previous
    last = PREVIOUS
    for i in range(count):
        if pages and page_first[i]:
            a = previous[:0]
            last = NO_BASE
        if starts[i] >= 0:
            start = starts[i]
            b = out[start:ends[i]]
            exact, hunks, b_offsets, prefix, first_line, wa, wr, ca, cr, coarse = _diff_pair(
                a, b, classes, max_edits, budget, token_budget, token_edits, token_bytes)
            if total + hunks.shape[0] > ops.shape[1]:  # grow by doubling: most revisions have few ops
                grown = np.empty((7, max(2 * ops.shape[1], total + hunks.shape[0])), np.int64)
                grown[:, :total] = ops[:, :total]
                ops = grown
            added = 0
            removed = 0
            for h in range(hunks.shape[0]):
                ops[0, total] = i
                ops[1, total] = first_line + hunks[h, 0]
                ops[2, total] = first_line + hunks[h, 1]
                ops[3, total] = first_line + hunks[h, 2]
                ops[4, total] = first_line + hunks[h, 3]
                ops[5, total] = start + prefix + b_offsets[hunks[h, 2]]
                ops[6, total] = start + prefix + b_offsets[hunks[h, 3]]
                removed += hunks[h, 1] - hunks[h, 0]
                added += hunks[h, 3] - hunks[h, 2]
                total += 1
            base[i] = last
            counters[0, i] = added
            counters[1, i] = removed
            counters[2, i] = wa
            counters[3, i] = wr
            counters[4, i] = ca
            counters[5, i] = cr
            counters[6, i] = coarse + (0 if exact else 1)
            a = b
            last = i
        op_offsets[i + 1] = total
    return base, counters, op_offsets, ops[:, :total]


@entry("uint8[:], int64[:], int64[:]")
def _gather(data, starts, ends):  # pragma: no cover - compiled
    """The spans ``data[starts[i]:ends[i]]`` one after another, and their offsets (one more than spans)."""
    count = starts.shape[0]
    if ends.shape[0] != count:
        raise ValueError("starts and ends must be of one length")
    offsets = np.empty(count + 1, np.int64)
    offsets[0] = 0
    total = 0
    for i in range(count):
        if starts[i] < 0 or ends[i] < starts[i] or ends[i] > data.shape[0]:
            raise ValueError("a span lies outside the buffer")
        total += ends[i] - starts[i]
        offsets[i + 1] = total
    joined = np.empty(total, np.uint8)
    for i in range(count):
        joined[offsets[i]:offsets[i + 1]] = data[starts[i]:ends[i]]
    return joined, offsets

