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
   (``\\w+`` words, whitespace runs, punctuation runs) and diffed the same way:
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
a last line without one is a line too); words are the tokens of ``\\w+``.

The compiled kernels live in ``lines`` (line level) and ``tokens`` (inside hunks).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from .lines import _common_prefix, _common_suffix, _line_hunks
from .tokens import _classes, _hunk_counts

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
_WORD = re.compile(r"\w+")


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
    return sum(1 for _ in _WORD.finditer(text))


# -- Myers' O(ND) diff on integer sequences ------------------------------------------------
def _tail_words(data: np.ndarray) -> np.ndarray:
    """The last whole eight-byte words of a byte array, as (possibly unaligned) uint64."""
    return data[len(data) % 8:].view(np.uint64)


def _snap_suffix(a: bytes, b: bytes, prefix: int, suffix: int) -> int:
    """The longest common suffix, at most ``suffix`` long, that starts a line in both texts."""
    if not suffix:
        return 0

    def starts_line(text: bytes, at: int) -> bool:
        return at == prefix or text[at - 1] == 10  # b"\n"

    if starts_line(a, len(a) - suffix) and starts_line(b, len(b) - suffix):
        return suffix
    # a newline inside the common part ends a line in both texts alike
    newline = a.find(b"\n", len(a) - suffix)
    return len(a) - newline - 1 if newline != -1 else 0


def diff(a: str, b: str, a_utf8: bytes | None = None, b_utf8: bytes | None = None) -> DiffResult:
    """The ops and counters that turn text ``a`` into text ``b`` (their UTF-8 forms may be given)."""
    ab = a.encode("utf-8") if a_utf8 is None else a_utf8
    bb = b.encode("utf-8") if b_utf8 is None else b_utf8
    av = np.frombuffer(ab, np.uint8)
    bv = np.frombuffer(bb, np.uint8)
    limit = min(len(ab), len(bb))
    words = limit // 8
    prefix = int(_common_prefix(av, bv, av[: words * 8].view(np.uint64), bv[: words * 8].view(np.uint64),
                                limit)) if limit else 0
    prefix = ab.rfind(b"\n", 0, prefix) + 1  # back to a line start (0 when none)
    suffix = int(_common_suffix(av, bv, _tail_words(av), _tail_words(bv), limit - prefix)) if limit > prefix else 0
    suffix = _snap_suffix(ab, bb, prefix, suffix)
    a_mid = av[prefix:len(ab) - suffix]
    b_mid = bv[prefix:len(bb) - suffix]
    exact, hunks, a_offsets, b_offsets = _line_hunks(a_mid, b_mid, MAX_EDITS, WORK_BUDGET)
    if not hunks.shape[0]:
        return DiffResult([], 0, 0, 0, 0, 0, 0, 0)
    first_line = ab.count(b"\n", 0, prefix)
    ops = []
    lines_added = lines_removed = 0
    for a_start, a_end, b_start, b_end in hunks.tolist():
        added = bb[prefix + b_offsets[b_start]:prefix + b_offsets[b_end]].decode("utf-8")
        ops.append((first_line + a_start, first_line + a_end, first_line + b_start, first_line + b_end, added))
        lines_removed += a_end - a_start
        lines_added += b_end - b_start
    words_added, words_removed, chars_added, chars_removed, coarse = _hunk_counts(
        a_mid, b_mid, a_offsets, b_offsets, hunks, _classes(), TOKEN_BUDGET, TOKEN_MAX_EDITS, TOKEN_MAX_BYTES)
    return DiffResult(ops, lines_added, lines_removed, int(words_added), int(words_removed), int(chars_added),
                      int(chars_removed), int(coarse) + (0 if exact else 1))


class PageDiffer:
    """Diffs each visible revision of a page against the last visible text before it."""

    __slots__ = ("base_revision_id", "_text", "_utf8")

    def __init__(self) -> None:
        self.base_revision_id: int | None = None
        self._text = ""
        self._utf8 = b""

    def next(self, revision_id: int, text: str, utf8: bytes | None = None) -> tuple[int | None, DiffResult]:
        """(the revision diffed against, the diff) for the page's next visible text (and its UTF-8)."""
        if utf8 is None:
            utf8 = text.encode("utf-8")
        result = diff(self._text, text, self._utf8, utf8)
        base = self.base_revision_id
        self.base_revision_id, self._text, self._utf8 = revision_id, text, utf8
        return base, result


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
    before workers fork, so that no unit pays for them."""
    diff("a\nb\nc\n", "a\nx y\nc\n")
