"""Line diffs between consecutive revisions, and the word and character counts inside them.

``diff(a, b)`` returns the ops that rebuild ``b`` from ``a`` line by line (the
``diffs`` table) and the ``diff_*`` counters of the revisions table:

1. The common prefix and suffix are found on the raw strings in C-speed chunks
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
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; this keeps imports working without it
    def njit(*args, **kwargs):
        def wrap(function):
            return function
        return wrap

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
_SPACE = re.compile(r"\s+")


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
@njit(cache=True, nogil=True)
def _myers(a, b, max_edits):  # pragma: no cover - compiled
    """Hunks (a_start, a_end, b_start, b_end) turning ``a`` into ``b``; an empty (0, 4) array with
    ``ok`` False when more than ``max_edits`` edits are needed."""
    n = a.shape[0]
    m = b.shape[0]
    limit = min(n + m, max_edits)
    offset = limit + 1
    v = np.zeros(2 * limit + 3, np.int64)
    trace = np.zeros(min((limit + 1) * (limit + 1), 1024), np.int64)  # v of step d at d*d .. d*d + 2d
    found = -1
    for d in range(limit + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[offset + k] = x
            if x >= n and y >= m:
                found = d
                break
        base = d * d
        if base + 2 * d + 1 > trace.shape[0]:  # grow by doubling: most diffs need few steps
            grown = np.zeros(max(trace.shape[0] * 2, base + 2 * d + 1), np.int64)
            grown[: trace.shape[0]] = trace
            trace = grown
        for k in range(-d, d + 1):
            trace[base + k + d] = v[offset + k]
        if found >= 0:
            break
    if found < 0:
        return False, np.zeros((0, 4), np.int64)

    # Walk back from (n, m) collecting snakes (runs of matches), last first.
    snakes = np.zeros((found + 1, 3), np.int64)  # x_start, y_start, length
    x = n
    y = m
    for d in range(found, 0, -1):
        k = x - y
        prev = (d - 1) * (d - 1)
        pd = d - 1
        if k == -d or (k != d and trace[prev + k - 1 + pd] < trace[prev + k + 1 + pd]):
            prev_k = k + 1
            prev_x = trace[prev + prev_k + pd]
            start_x = prev_x
        else:
            prev_k = k - 1
            prev_x = trace[prev + prev_k + pd]
            start_x = prev_x + 1
        start_y = start_x - k
        snakes[d, 0] = start_x
        snakes[d, 1] = start_y
        snakes[d, 2] = x - start_x
        x = prev_x
        y = prev_x - prev_k
    snakes[0, 0] = 0
    snakes[0, 1] = 0
    snakes[0, 2] = x  # the first snake starts at (0, 0)

    hunks = np.zeros((found + 1, 4), np.int64)
    count = 0
    ax = 0
    by = 0
    for i in range(found + 1):
        sx = snakes[i, 0]
        sy = snakes[i, 1]
        if sx > ax or sy > by:
            if count > 0 and hunks[count - 1, 1] == ax and hunks[count - 1, 3] == by:
                hunks[count - 1, 1] = sx
                hunks[count - 1, 3] = sy
            else:
                hunks[count, 0] = ax
                hunks[count, 1] = sx
                hunks[count, 2] = by
                hunks[count, 3] = sy
                count += 1
        ax = sx + snakes[i, 2]
        by = sy + snakes[i, 2]
    if ax < n or by < m:
        if count > 0 and hunks[count - 1, 1] == ax and hunks[count - 1, 3] == by:
            hunks[count - 1, 1] = n
            hunks[count - 1, 3] = m
        else:
            hunks[count, 0] = ax
            hunks[count, 1] = n
            hunks[count, 2] = by
            hunks[count, 3] = m
            count += 1
    return True, hunks[:count]


@njit(cache=True, nogil=True)
def _lines(data):  # pragma: no cover - compiled
    """Line byte offsets (one more than lines) and line hashes of UTF-8 bytes, split after each \\n."""
    n = data.shape[0]
    count = 0
    for i in range(n):
        if data[i] == 10:
            count += 1
    if n > 0 and data[n - 1] != 10:
        count += 1
    offsets = np.zeros(count + 1, np.int64)
    hashes = np.empty(count, np.int64)
    line = 0
    h = np.uint64(14695981039346656037)
    for i in range(n):
        h = (h ^ np.uint64(data[i])) * np.uint64(1099511628211)
        if data[i] == 10 or i == n - 1:
            hashes[line] = np.int64(h)
            offsets[line + 1] = i + 1
            line += 1
            h = np.uint64(14695981039346656037)
    return offsets, hashes


@njit(cache=True, nogil=True)
def _same_lines(a, b, a_offsets, b_offsets, i, j, count):  # pragma: no cover - compiled
    """Whether lines a[i:i+count] and b[j:j+count] are equal byte for byte."""
    for k in range(count):
        a0 = a_offsets[i + k]
        a1 = a_offsets[i + k + 1]
        b0 = b_offsets[j + k]
        if a1 - a0 != b_offsets[j + k + 1] - b0:
            return False
        for x in range(a1 - a0):
            if a[a0 + x] != b[b0 + x]:
                return False
    return True


@njit(cache=True, nogil=True)
def _line_hunks(a, b, max_edits, budget):  # pragma: no cover - compiled
    """(exact, hunks, a line offsets, b line offsets) turning the lines of ``a`` into those of ``b``.

    Lines are compared by hash, then every matched run byte for byte, so that a hash collision
    can never pass for equality; beyond the edit or work budget, one hunk covers everything.
    """
    a_offsets, a_hashes = _lines(a)
    b_offsets, b_hashes = _lines(b)
    n = a_hashes.shape[0]
    m = b_hashes.shape[0]
    whole = np.zeros((1, 4), np.int64)
    whole[0, 1] = n
    whole[0, 3] = m
    if n == 0 or m == 0:
        if n == 0 and m == 0:
            return True, np.zeros((0, 4), np.int64), a_offsets, b_offsets
        return True, whole, a_offsets, b_offsets
    if min(n, m) <= 32 and n * m <= budget // 4:  # a short side: a full table beats Myers' trace
        ok = True
        hunks = _lcs_hunks(a_hashes, b_hashes)
    else:
        ok, hunks = _myers(a_hashes, b_hashes, max(16, min(max_edits, budget // (n + m))))
    if not ok:
        return False, whole, a_offsets, b_offsets
    ax = 0
    by = 0
    for h in range(hunks.shape[0] + 1):
        a_start = hunks[h, 0] if h < hunks.shape[0] else n
        b_start = hunks[h, 2] if h < hunks.shape[0] else m
        if a_start - ax != b_start - by or not _same_lines(a, b, a_offsets, b_offsets, ax, by, a_start - ax):
            return False, whole, a_offsets, b_offsets
        if h < hunks.shape[0]:
            ax = hunks[h, 1]
            by = hunks[h, 3]
    return True, hunks, a_offsets, b_offsets


@njit(cache=True, nogil=True)
def _common_prefix(a, b, a64, b64, limit):  # pragma: no cover - compiled
    """Length of the common prefix of two uint8 arrays (and their uint64 views), at most ``limit``."""
    i = 0
    words = min(limit // 8, a64.shape[0], b64.shape[0])
    while i < words and a64[i] == b64[i]:  # eight bytes at a time
        i += 1
    i *= 8
    while i < limit and a[i] == b[i]:
        i += 1
    return i


@njit(cache=True, nogil=True)
def _common_suffix(a, b, a64, b64, limit):  # pragma: no cover - compiled
    """Length of the common suffix of two uint8 arrays, at most ``limit``; ``a64``/``b64`` are
    uint64 views of their last whole eight-byte words."""
    la = a.shape[0]
    lb = b.shape[0]
    words = min(limit // 8, a64.shape[0], b64.shape[0])
    i = 0
    while i < words and a64[a64.shape[0] - 1 - i] == b64[b64.shape[0] - 1 - i]:
        i += 1
    i *= 8
    while i < limit and a[la - 1 - i] == b[lb - 1 - i]:
        i += 1
    return i


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


def _class_tables() -> np.ndarray:
    """Per code point: 1 for \\w (word), 2 for \\s (space), 0 otherwise, as Python's re sees them."""
    table = np.zeros(0x110000, np.uint8)
    step = 1 << 14  # a slice of code points at a time keeps the transient strings small
    for low in range(0, 0x110000, step):
        chunk = "".join(map(chr, range(low, min(low + step, 0x110000))))
        for kind, pattern in ((1, _WORD), (2, _SPACE)):
            for match in pattern.finditer(chunk):
                table[low + match.start():low + match.end()] = kind
    return table


_CLASSES: np.ndarray | None = None


def _classes() -> np.ndarray:
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _class_tables()
    return _CLASSES


@njit(cache=True, nogil=True)
def _code_point(data, i):  # pragma: no cover - compiled
    """The code point of the valid UTF-8 at ``data[i]``, and where the next one starts."""
    byte = data[i]
    if byte < 0x80:
        return byte, i + 1
    if byte < 0xE0:
        return ((byte & 0x1F) << 6) | (data[i + 1] & 0x3F), i + 2
    if byte < 0xF0:
        return ((byte & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F), i + 3
    return ((byte & 0x07) << 18) | ((data[i + 1] & 0x3F) << 12) | ((data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F), i + 4


@njit(cache=True, nogil=True)
def _tokens(data, classes):  # pragma: no cover - compiled
    """Tokens of UTF-8 bytes as \\w+ | \\s+ | [^\\w\\s]+ runs: (keys, lengths in code points, is word)."""
    n = data.shape[0]
    keys = np.empty(n, np.int64)  # at most a token a byte; hunks are capped at TOKEN_MAX_BYTES
    lengths = np.empty(n, np.int64)
    words = np.empty(n, np.bool_)
    count = 0
    current = -1
    h = np.uint64(14695981039346656037)
    i = 0
    while i < n:
        cp, i = _code_point(data, i)
        kind = classes[cp]
        if kind != current:
            if current >= 0:
                keys[count] = np.int64(h ^ np.uint64(current)) ^ (lengths[count] << 56)
                count += 1
            current = kind
            h = np.uint64(14695981039346656037)
            words[count] = kind == 1
            lengths[count] = 0
        h = (h ^ np.uint64(cp)) * np.uint64(1099511628211)
        lengths[count] += 1
    if current >= 0:
        keys[count] = np.int64(h ^ np.uint64(current)) ^ (lengths[count] << 56)
        count += 1
    return keys[:count], lengths[:count], words[:count]


@njit(cache=True, nogil=True)
def _lcs_hunks(a, b):  # pragma: no cover - compiled
    """Hunks turning ``a`` into ``b`` from a full LCS table: O(n m), for when one side is short."""
    n = a.shape[0]
    m = b.shape[0]
    table = np.zeros((n + 1, m + 1), np.int32)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if a[i] == b[j]:
                table[i, j] = table[i + 1, j + 1] + 1
            elif table[i + 1, j] >= table[i, j + 1]:
                table[i, j] = table[i + 1, j]
            else:
                table[i, j] = table[i, j + 1]
    hunks = np.zeros((n + m + 1, 4), np.int64)
    count = 0
    i = 0
    j = 0
    start_i = 0
    start_j = 0
    while i < n or j < m:
        if i < n and j < m and a[i] == b[j] and table[i, j] == table[i + 1, j + 1] + 1:
            if i > start_i or j > start_j:
                hunks[count, 0] = start_i
                hunks[count, 1] = i
                hunks[count, 2] = start_j
                hunks[count, 3] = j
                count += 1
            i += 1
            j += 1
            start_i = i
            start_j = j
        elif j >= m or (i < n and table[i + 1, j] >= table[i, j + 1]):
            i += 1
        else:
            j += 1
    if i > start_i or j > start_j:
        hunks[count, 0] = start_i
        hunks[count, 1] = i
        hunks[count, 2] = start_j
        hunks[count, 3] = j
        count += 1
    return hunks[:count]


@njit(cache=True, nogil=True)
def _unmatched(lengths, words, hunks, side):  # pragma: no cover - compiled
    """(words, code points) of the tokens inside the hunks on one side (0: old, 1: new)."""
    word_count = 0
    chars = 0
    for h in range(hunks.shape[0]):
        for t in range(hunks[h, 2 * side], hunks[h, 2 * side + 1]):
            chars += lengths[t]
            if words[t]:
                word_count += 1
    return word_count, chars


@njit(cache=True, nogil=True)
def _bag_counts(old_keys, old_lengths, old_words, new_keys, new_lengths, new_words):  # pragma: no cover
    """Unmatched (words, chars) of each side when tokens match as a multiset, ignoring order:
    the coarse count for hunks too large to align, O((n + m) log(n + m))."""
    old_order = np.argsort(old_keys, kind="mergesort")
    new_order = np.argsort(new_keys, kind="mergesort")
    n = old_order.shape[0]
    m = new_order.shape[0]
    matched_old = np.zeros(n, np.bool_)
    matched_new = np.zeros(m, np.bool_)
    i = 0
    j = 0
    while i < n and j < m:
        a = old_keys[old_order[i]]
        b = new_keys[new_order[j]]
        if a == b:
            matched_old[old_order[i]] = True
            matched_new[new_order[j]] = True
            i += 1
            j += 1
        elif a < b:
            i += 1
        else:
            j += 1
    wr = 0
    cr = 0
    for t in range(n):
        if not matched_old[t]:
            cr += old_lengths[t]
            if old_words[t]:
                wr += 1
    wa = 0
    ca = 0
    for t in range(m):
        if not matched_new[t]:
            ca += new_lengths[t]
            if new_words[t]:
                wa += 1
    return wa, wr, ca, cr


@njit(cache=True, nogil=True)
def _shared_edges(old, new, classes):  # pragma: no cover - compiled
    """(head, tail) byte lengths that both texts share as whole tokens: ``old[:head] == new[:head]``
    and the last ``tail`` bytes equal, each ending or starting at a token boundary of both texts.

    A boundary is a change of character class between two characters that both texts share, so
    the shared edges tokenise alike and need not be tokenised at all.
    """
    n = old.shape[0]
    m = new.shape[0]
    limit = min(n, m)
    p = 0
    while p < limit and old[p] == new[p]:
        p += 1
    head = 0
    previous = -1
    i = 0
    while i < p:
        cp, following = _code_point(old, i)
        if following > p:
            break  # this character is not wholly shared
        kind = classes[cp]
        if kind != previous:
            head = i
        previous = kind
        i = following
    if p == n and p == m:
        return n, 0
    s = 0
    while s < limit - head and old[n - 1 - s] == new[m - 1 - s]:
        s += 1
    i = n - s
    while i < n and (old[i] & 0xC0) == 0x80:
        i += 1  # to the first character wholly in the shared tail
    if i >= n:
        return head, 0
    cp, i2 = _code_point(old, i)
    previous = classes[cp]
    i = i2
    while i < n:
        cp, following = _code_point(old, i)
        kind = classes[cp]
        if kind != previous:
            return head, n - i
        previous = kind
        i = following
    return head, 0


@njit(cache=True, nogil=True)
def _token_diff(old, new, classes, budget, max_edits):  # pragma: no cover - compiled
    """(words added, words removed, chars added, chars removed, exact) between two UTF-8 hunks."""
    head, tail = _shared_edges(old, new, classes)
    old_keys, old_lengths, old_words = _tokens(old[head:old.shape[0] - tail], classes)
    new_keys, new_lengths, new_words = _tokens(new[head:new.shape[0] - tail], classes)
    # the common token prefix and suffix match as they are; align only what lies between
    p = 0
    while p < old_keys.shape[0] and p < new_keys.shape[0] and old_keys[p] == new_keys[p]:
        p += 1
    q = 0
    while (q < old_keys.shape[0] - p and q < new_keys.shape[0] - p
           and old_keys[old_keys.shape[0] - 1 - q] == new_keys[new_keys.shape[0] - 1 - q]):
        q += 1
    old_keys = old_keys[p:old_keys.shape[0] - q]
    old_lengths = old_lengths[p:old_lengths.shape[0] - q]
    old_words = old_words[p:old_words.shape[0] - q]
    new_keys = new_keys[p:new_keys.shape[0] - q]
    new_lengths = new_lengths[p:new_lengths.shape[0] - q]
    new_words = new_words[p:new_words.shape[0] - q]
    n = old_keys.shape[0]
    m = new_keys.shape[0]
    if n == 0 or m == 0:
        hunks = np.zeros((1, 4), np.int64)
        hunks[0, 1] = n
        hunks[0, 3] = m
        ok = True
    elif min(n, m) <= 32 and n * m <= budget:  # a short side: a full table beats Myers' trace
        ok = True
        hunks = _lcs_hunks(old_keys, new_keys)
    else:
        limit = min(max_edits, budget // (n + m))
        ok = False
        if abs(n - m) <= limit:  # Myers needs at least |n - m| edits
            ok, hunks = _myers(old_keys, new_keys, limit)
        if not ok:  # too far apart to align within the budget: match tokens as a multiset
            wa, wr, ca, cr = _bag_counts(old_keys, old_lengths, old_words, new_keys, new_lengths, new_words)
            return wa, wr, ca, cr, False
    words_removed, chars_removed = _unmatched(old_lengths, old_words, hunks, 0)
    words_added, chars_added = _unmatched(new_lengths, new_words, hunks, 1)
    return words_added, words_removed, chars_added, chars_removed, ok


@njit(cache=True, nogil=True)
def _words_and_chars(data, classes):  # pragma: no cover - compiled
    """(\\w+ tokens, code points) of UTF-8 bytes."""
    words = 0
    chars = 0
    in_word = False
    i = 0
    n = data.shape[0]
    while i < n:
        cp, i = _code_point(data, i)
        chars += 1
        if classes[cp] == 1:
            if not in_word:
                words += 1
                in_word = True
        else:
            in_word = False
    return words, chars


@njit(cache=True, nogil=True)
def _hunk_counts(a, b, a_offsets, b_offsets, hunks, classes, budget, max_edits, max_bytes):  # pragma: no cover
    """Total (words added, words removed, chars added, chars removed, coarse hunks) over line hunks;
    ``a_offsets``/``b_offsets`` are the byte offsets of the lines of ``a``/``b`` (one more than lines)."""
    wa = wr = ca = cr = 0
    coarse = 0
    for h in range(hunks.shape[0]):
        removed = a[a_offsets[hunks[h, 0]]:a_offsets[hunks[h, 1]]]
        added = b[b_offsets[hunks[h, 2]]:b_offsets[hunks[h, 3]]]
        if removed.shape[0] == 0:
            words, chars = _words_and_chars(added, classes)
            wa += words
            ca += chars
        elif added.shape[0] == 0:
            words, chars = _words_and_chars(removed, classes)
            wr += words
            cr += chars
        elif removed.shape[0] + added.shape[0] > max_bytes:  # too large to hold its tokens: nothing matches
            words, chars = _words_and_chars(added, classes)
            wa += words
            ca += chars
            words, chars = _words_and_chars(removed, classes)
            wr += words
            cr += chars
            coarse += 1
        else:
            w_a, w_r, c_a, c_r, exact = _token_diff(removed, added, classes, budget, max_edits)
            wa += w_a
            wr += w_r
            ca += c_a
            cr += c_r
            if not exact:
                coarse += 1
    return wa, wr, ca, cr, coarse


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
