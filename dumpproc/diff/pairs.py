"""The compiled diff of two texts.

``_diff_pair`` is the whole compiled part of one diff: trim to whole lines
(``lines``), align the lines left, count words and characters inside the hunks
(``tokens``). It takes the texts as uint8 arrays, so that texts given as slices
of one buffer (the columns a compiled reader writes) need no copy.
"""

from __future__ import annotations

from numba import njit

from .lines import _common_prefix, _common_suffix, _line_hunks
from .tokens import _hunk_counts


@njit(cache=True, nogil=True)
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
    first_line = 0
    for i in range(prefix):
        if a[i] == 10:
            first_line += 1
    wa, wr, ca, cr, coarse = _hunk_counts(a_mid, b_mid, a_offsets, b_offsets, hunks, classes, token_budget,
                                          token_edits, token_bytes)
    return exact, hunks, b_offsets, prefix, first_line, wa, wr, ca, cr, coarse

