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

The compiled kernels live in ``lines`` (line level) and ``tokens`` (inside hunks), and
``kernel`` runs them in one call; this module imports them (and numba) on the first diff,
not when it is imported, so a run that writes no diff counters never loads numba.
"""

from __future__ import annotations

from typing import NamedTuple

from .words import WORD

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
    return sum(1 for _ in WORD.finditer(text))


_kernel = None  # the compiled side, ``kernel``, imported on the first diff: numba costs half a second


def _load_kernel():
    global _kernel
    from . import kernel

    _kernel = kernel
    return kernel


def diff(a: str, b: str) -> DiffResult:
    """The ops and counters that turn text ``a`` into text ``b``."""
    return diff_utf8(a.encode("utf-8"), b.encode("utf-8"))


def diff_utf8(ab: bytes, bb: bytes, ops_text: str = "str") -> DiffResult:
    """``diff`` of two texts given as UTF-8 bytes.

    ``ops_text`` is what each op's text is: ``"str"``, ``"bytes"`` (UTF-8, as Arrow takes it
    for a string column, without a Python string's up to four bytes a character), or
    ``"none"`` (None: only the counters are wanted).
    """
    exact, hunks, b_offsets, prefix, first_line, wa, wr, ca, cr, coarse = (_kernel or _load_kernel()).run(
        ab, bb, MAX_EDITS, WORK_BUDGET, TOKEN_BUDGET, TOKEN_MAX_EDITS, TOKEN_MAX_BYTES)
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


class PageDiffer:
    """Diffs each visible revision of a page against the last visible text before it."""

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
    import sys

    from .. import kernels

    _load_kernel()
    kernels.announce(*(sys.modules[f"{__name__}.{name}"] for name in ("kernel", "lines", "tokens")))
    diff("a\nb\nc\n", "a\nx y\nc\n")
