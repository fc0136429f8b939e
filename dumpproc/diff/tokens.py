"""Token-level kernels of the diff: words and characters added and removed inside hunks.

Tokens are the runs of ``\\w+``, ``\\s+`` and ``[^\\w\\s]+`` of a hunk's UTF-8, with
Unicode's classes (UTS #18, as the ``regex`` module has them): a word character is
a letter, mark, decimal digit, connector punctuation or join control, so a word
written with combining marks (Devanagari, Thai, Bengali, Tamil, vowelled Arabic,
Hebrew with niqqud) is one word. Python's ``re`` leaves the marks out of ``\\w``
and would cut such words apart. The kernels look each code point's class up in
one table over all code points (``_classes``), built in a few hundredths of a second
and kept in the kernels' cache folder, so that later runs read it (a millisecond),
once per process before workers fork (see ``diff.warm_up``).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from ..compiled import kernel
from . import words
from .lines import _common_prefix, _common_suffix, _lcs_hunks, _myers
#: The kernels' classes of a code point.
PUNCTUATION, WORD_CLASS, SPACE_CLASS = 0, 1, 2

#: code points in the class table; its cache file is the table and the sha1 of it
_CODE_POINTS = 0x110000


def _class_tables() -> np.ndarray:
    """Per code point: 1 for \\w (word), 2 for \\s (space), 0 otherwise, as ``WORD`` and ``SPACE`` see them."""
    table = np.zeros(_CODE_POINTS, np.uint8)
    # every code point in one string (4.5 MB), made by NumPy: a chr() call each costs ten times more
    every = np.arange(_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    for kind, pattern in ((WORD_CLASS, words.WORD), (SPACE_CLASS, words.SPACE)):
        for match in pattern.finditer(every):
            table[match.start():match.end()] = kind
    return table


def _table_path() -> str | None:
    """Where the class table of this ``regex`` module is kept: in the kernels' cache folder, named
    for the patterns and the module's compiled file (another ``regex`` has other Unicode tables)."""
    import hashlib
    import importlib.util

    from ..kernels import kernel_cache_dir

    spec = importlib.util.find_spec("regex")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    compiled = sorted(os.path.join(folder, name) for folder in folders for name in os.listdir(folder)
                      if name.startswith("_regex") and name.endswith((".so", ".pyd")))
    if not compiled:
        return None
    stat = os.stat(compiled[0])
    key = repr((words.SOURCES, compiled[0], stat.st_size, stat.st_mtime_ns)).encode()
    return os.path.join(kernel_cache_dir(), f"classes-{hashlib.sha1(key).hexdigest()[:16]}.u8")


def _load_class_tables() -> np.ndarray:
    """The class table from its cache file, or built (a few hundredths of a second) and kept there.

    The file ends with the sha1 of the table: one damaged on disk, cut or flipped, is built again,
    never trusted (a wrong class would count words wrongly, silently)."""
    import hashlib

    try:
        path = _table_path()
    except OSError:
        path = None
    if path is not None:
        try:
            kept = np.fromfile(path, np.uint8)
            table, digest = kept[:_CODE_POINTS], kept[_CODE_POINTS:].tobytes()
            if kept.shape == (_CODE_POINTS + 20,) and hashlib.sha1(table).digest() == digest:
                return table
        except (OSError, ValueError):
            pass
    table = _class_tables()
    if path is not None:
        temporary = f"{path}.{os.getpid()}.tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(table.tobytes() + hashlib.sha1(table).digest())
            os.replace(temporary, path)  # whole or not at all: a concurrent run reads either
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return table


_CLASSES: np.ndarray | None = None


def _classes() -> np.ndarray:
    """The class table, loaded on first use and kept for the process."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _load_class_tables()
    return _CLASSES


@kernel
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


@kernel
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


@kernel
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


@kernel
def _unmatched_tokens(lengths, words, matched):  # pragma: no cover - compiled
    """(words, code points) of the tokens not marked matched."""
    word_count = 0
    chars = 0
    for t in range(lengths.shape[0]):
        if not matched[t]:
            chars += lengths[t]
            if words[t]:
                word_count += 1
    return word_count, chars


@kernel
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
    wr, cr = _unmatched_tokens(old_lengths, old_words, matched_old)
    wa, ca = _unmatched_tokens(new_lengths, new_words, matched_new)
    return wa, wr, ca, cr


@kernel
def _shared_edges(old, new, classes):  # pragma: no cover - compiled
    """(head, tail) byte lengths that both texts share as whole tokens: ``old[:head] == new[:head]``
    and the last ``tail`` bytes equal, each ending or starting at a token boundary of both texts.

    A boundary is a change of character class between two characters that both texts share, so
    the shared edges tokenise alike and need not be tokenised at all.
    """
    n = old.shape[0]
    m = new.shape[0]
    limit = min(n, m)
    p = _common_prefix(old, new, limit)
    if p == n and p == m:
        return n, 0
    # the head ends where the run of one class that the last wholly shared character is in starts:
    # found walking back from it, not forward from the start (a long shared line costs nothing)
    end = p
    if end < n:
        while end > 0 and (old[end] & 0xC0) == 0x80:
            end -= 1  # p cuts a character: it is not wholly shared
    head = 0
    if end > 0:
        last = end - 1
        while last > 0 and (old[last] & 0xC0) == 0x80:
            last -= 1  # the start of the last wholly shared character
        cp, _ = _code_point(old, last)
        kind = classes[cp]
        head = last
        while head > 0:
            before = head - 1
            while before > 0 and (old[before] & 0xC0) == 0x80:
                before -= 1
            cp, _ = _code_point(old, before)
            if classes[cp] != kind:
                break
            head = before
    s = _common_suffix(old, new, limit - head)
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


@kernel
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


@kernel
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


@kernel
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
