"""Compiled per-page stages on columns: sha1 digests, identity reverts, string columns gathered.

``sha1_columns`` reads a batch's sha1s given as spans of a decoded buffer (the columns a
compiled reader writes), picks the main slot's and the revision's as the record path does, and
gives each revision its revert key: the 20-byte digest of a sha1 as MediaWiki writes them (base
36, lower case, at most 31 digits, below 2**160; ``records.is_base36_sha1``), so that reverts
compare fixed-width digests and no Python string is made per revision.

``identity_reverts`` finds a page's identity reverts at once from its revisions' keys (an
integer per distinct sha1, -1 where none), with the rules of ``stats.RevertDetector`` and
``stats.RevertMarks``, which stay the reference and are tested against it: a revision reverts
when the latest earlier one with its key is within the radius and not its predecessor, and each
reverted revision keeps the first revert that reverted it.

``gather_columns`` copies string columns' spans into one buffer with offsets (start -1: null),
so that a batch's strings outlive the reader's buffer without a Python object each.
"""

from __future__ import annotations

import numpy as np

from .compiled import entry, kernel

#: kinds of a sha1 (a revert key's first byte): none (absent or empty), a base-36 digest, kept as given.
NONE, DIGEST, OTHER = 0, 1, 2
#: bytes of a revert key: its kind (0: no sha1), then the 20 bytes of a digest
KEY_BYTES = 21


@kernel
def _digest(out, start, end, keys, row, write):  # pragma: no cover - compiled
    """The kind of the sha1 at out[start:end]; a ``DIGEST``'s key written in ``keys[row]`` if ``write``."""
    if start < 0 or end <= start:
        return NONE
    if end > out.shape[0]:
        raise ValueError("a span lies outside the buffer")
    if end - start > 31:
        return OTHER
    # five 32-bit limbs, least significant first
    l0 = np.uint64(0)
    l1 = np.uint64(0)
    l2 = np.uint64(0)
    l3 = np.uint64(0)
    l4 = np.uint64(0)
    mask = np.uint64(0xFFFFFFFF)
    for j in range(start, end):
        c = out[j]
        if 48 <= c <= 57:
            digit = c - 48
        elif 97 <= c <= 122:
            digit = c - 87
        else:
            return OTHER
        v = l0 * np.uint64(36) + np.uint64(digit)
        l0 = v & mask
        v = l1 * np.uint64(36) + (v >> np.uint64(32))
        l1 = v & mask
        v = l2 * np.uint64(36) + (v >> np.uint64(32))
        l2 = v & mask
        v = l3 * np.uint64(36) + (v >> np.uint64(32))
        l3 = v & mask
        v = l4 * np.uint64(36) + (v >> np.uint64(32))
        l4 = v & mask
        if (v >> np.uint64(32)) != np.uint64(0):  # 2**160 or more: not a SHA-1
            return OTHER
    if write:
        keys[row, 0] = 1
        k = 1
        for limb in (l4, l3, l2, l1, l0):
            keys[row, k] = np.uint8((limb >> np.uint64(24)) & np.uint64(255))
            keys[row, k + 1] = np.uint8((limb >> np.uint64(16)) & np.uint64(255))
            keys[row, k + 2] = np.uint8((limb >> np.uint64(8)) & np.uint64(255))
            keys[row, k + 3] = np.uint8(limb & np.uint64(255))
            k += 4
    return DIGEST


@entry("uint8[:,:], boolean[:], int64, boolean[:]!, int64[:]!")
def _identity_reverts(keys, page_first, radius, is_revert, reverter):  # pragma: no cover - compiled
    """Identity reverts from revisions' keys in dump order (rows of ``KEY_BYTES``, the first byte
    0 where the revision has no sha1): ``is_revert[i]``, and ``reverter[i]`` the position of the
    first revert that reverted revision i, or -1. The revisions are one page's, or with
    ``page_first`` (a flag a revision, empty for one page) several pages', each on its own."""
    count = keys.shape[0]
    width = keys.shape[1]
    if is_revert.shape[0] != count or reverter.shape[0] != count:
        raise ValueError("identity_reverts: columns of different lengths")
    pages = page_first.shape[0] == count
    if not pages and page_first.shape[0] != 0:
        raise ValueError("identity_reverts: page_first must have a flag a revision, or none")
    if radius < 0:
        raise ValueError("the radius must be 0 (unlimited) or positive")
    size = 16
    while size < 2 * count:
        size *= 2
    slots = np.full(size, -1, np.int64)  # open addressing: the latest position of each key
    following = np.arange(count + 1)  # union-find: the next position not yet marked
    for i in range(count):
        is_revert[i] = False
        reverter[i] = -1
    page_start = 0  # positions before it are another page's: their slots count as empty
    for i in range(count):
        if pages and page_first[i]:
            page_start = i
        if keys[i, 0] == 0:
            continue
        h = np.uint64(14695981039346656037)
        for k in range(width):
            h = (h ^ np.uint64(keys[i, k])) * np.uint64(1099511628211)
        slot = np.int64(h & np.uint64(size - 1))
        match = -1
        while slots[slot] >= page_start:
            other = slots[slot]
            same = True
            for k in range(width):
                if keys[other, k] != keys[i, k]:
                    same = False
                    break
            if same:
                match = other
                break
            slot = (slot + 1) & (size - 1)
        slots[slot] = i
        if match < 0 or match >= i - 1 or (radius > 0 and match < i - radius - 1):
            continue
        is_revert[i] = True  # match is in this page: the marks stay inside it
        position = match + 1
        while position < i:
            root = position
            while following[root] != root:
                root = following[root]
            while following[position] != root:  # compress the path
                after = following[position]
                following[position] = root
                position = after
            position = root
            if position >= i:
                break
            reverter[position] = i
            following[position] = position + 1
            position += 1


@entry("uint8[:], int64[:,:]!, uint8[:,:]!")
def _sha1_columns(out, spans, keys):  # pragma: no cover - compiled
    """A batch's sha1 columns from its spans: rows of ``spans`` are <sha1>'s starts and ends,
    <text sha1>'s, the text's start, and four rows written here: the main slot's sha1 (the text's,
    else the revision's), the revision's (its own, else the main's). ``keys`` gets each
    revision's revert key (``KEY_BYTES``: kind, digest). Returns how many revisions have no sha1
    but a text (computed by the caller), or -1 when a sha1 is not one MediaWiki writes (kept as
    given: the caller's Python rules)."""
    count = spans.shape[1]
    if spans.shape[0] != 9 or keys.shape[0] != count or keys.shape[1] != KEY_BYTES:
        raise ValueError("sha1_columns: wrong shapes")
    missing = 0
    for i in range(count):
        kind = _digest(out, spans[0, i], spans[1, i], keys, i, True)
        if kind == OTHER:
            return -1
        # the revision's key is its own <sha1>'s where it has one, else the text's
        text_kind = _digest(out, spans[2, i], spans[3, i], keys, i, kind != DIGEST)
        if text_kind == OTHER:
            return -1
        if (spans[0, i] >= 0 and spans[1, i] == spans[0, i]) or (spans[2, i] >= 0 and spans[3, i] == spans[2, i]):
            return -1  # an empty sha1
        main = 2 if text_kind == DIGEST else 0  # the text's sha1, else the revision's
        spans[5, i] = spans[main, i]
        spans[6, i] = spans[main + 1, i]
        own = 0 if kind == DIGEST else 5  # the revision's own, else the main slot's
        spans[7, i] = spans[own, i]
        spans[8, i] = spans[own + 1, i]
        if kind == NONE and text_kind == NONE:
            keys[i, 0] = 0
            if spans[4, i] >= 0:
                missing += 1
    return missing


@entry("uint8[:], int64[:,:], int64[:,:]")
def _gather_columns(out, starts, ends):  # pragma: no cover - compiled
    """The spans out[starts[c, i]:ends[c, i]] of each column c (a row each) one after another in
    one buffer, each column's offsets a row (continuing from the column before), and each value's
    validity: a span whose start is -1 is null (empty)."""
    columns = starts.shape[0]
    count = starts.shape[1]
    if ends.shape[0] != columns or ends.shape[1] != count:
        raise ValueError("starts and ends must be of one shape")
    offsets = np.empty((columns, count + 1), np.int64)
    valid = np.empty((columns, count), np.bool_)
    total = 0
    for c in range(columns):
        offsets[c, 0] = total
        for i in range(count):
            if starts[c, i] < 0:
                valid[c, i] = False
            else:
                if ends[c, i] < starts[c, i] or ends[c, i] > out.shape[0]:
                    raise ValueError("a span lies outside the buffer")
                valid[c, i] = True
                total += ends[c, i] - starts[c, i]
            offsets[c, i + 1] = total
    joined = np.empty(total, np.uint8)
    for c in range(columns):
        for i in range(count):
            if starts[c, i] >= 0:
                joined[offsets[c, i]:offsets[c, i + 1]] = out[starts[c, i]:ends[c, i]]
    return joined, offsets, valid


_ONE_PAGE = np.zeros(0, np.bool_)


def identity_reverts(keys: np.ndarray, radius: int, page_first: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(is_revert, reverter) of a page whose revisions' revert keys are ``keys``, or of several
    pages (``page_first``: the flag of each revision that starts one) (``_identity_reverts``)."""
    count = len(keys)
    is_revert = np.empty(count, np.bool_)
    reverter = np.empty(count, np.int64)
    flags = _ONE_PAGE if page_first is None else np.ascontiguousarray(page_first, np.bool_)
    _identity_reverts(np.ascontiguousarray(keys, np.uint8), flags, int(radius), is_revert, reverter)
    return is_revert, reverter


def sha1_columns(out: np.ndarray, spans: np.ndarray, keys: np.ndarray) -> int:
    """``_sha1_columns``: fills rows 5-8 of ``spans`` and ``keys``; the revisions to compute, or -1."""
    return _sha1_columns(out, spans, keys)


def gather_columns(out: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """(joined bytes, offsets, validity) of several string columns, a row each (``_gather_columns``)."""
    return _gather_columns(out, starts, ends)
