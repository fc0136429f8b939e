"""The compiled part of a diff in one call: ``run`` hands two UTF-8 texts to ``_diff_kernel``.

``_diff_kernel`` trims the texts to the lines that differ (``lines``), aligns
those lines and counts the words and characters inside the hunks (``tokens``);
``diff.diff_utf8`` makes the ops and counters of what it returns. This module
and the two it calls are the only ones that import numba; ``diff`` imports them
on the first diff.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .lines import _common_prefix, _common_suffix, _line_hunks
from .tokens import _classes, _hunk_counts


def _tail_words(data: np.ndarray) -> np.ndarray:
    """The last whole eight-byte words of a byte array, as (possibly unaligned) uint64."""
    return data[len(data) % 8:].view(np.uint64)


@njit(cache=True, nogil=True)
def _diff_kernel(a, b, a64, b64, a_tail, b_tail, classes, max_edits, budget, token_budget, token_edits,
                 token_bytes):  # pragma: no cover - compiled
    """The whole compiled part of a diff, in one call: trim to whole lines, align the lines left,
    count inside the hunks. Returns (exact, hunks, b line offsets, prefix bytes, prefix lines,
    words added, words removed, chars added, chars removed, coarse)."""
    n = a.shape[0]
    m = b.shape[0]
    limit = min(n, m)
    prefix = _common_prefix(a, b, a64, b64, limit)
    while prefix > 0 and a[prefix - 1] != 10:  # back to a line start
        prefix -= 1
    suffix = _common_suffix(a, b, a_tail, b_tail, limit - prefix) if limit > prefix else 0
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


def run(ab: bytes, bb: bytes, max_edits: int, budget: int, token_budget: int, token_edits: int,
        token_bytes: int) -> tuple:
    """``_diff_kernel`` of two UTF-8 texts, with the limits ``diff`` sets (see there)."""
    av = np.frombuffer(ab, np.uint8)
    bv = np.frombuffer(bb, np.uint8)
    words = min(len(ab), len(bb)) // 8
    return _diff_kernel(av, bv, av[: words * 8].view(np.uint64), bv[: words * 8].view(np.uint64), _tail_words(av),
                        _tail_words(bv), _classes(), max_edits, budget, token_budget, token_edits, token_bytes)
