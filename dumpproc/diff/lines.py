"""Line-level kernels of the diff, compiled by numba: trimming, splitting, hashing, aligning.

The common prefix and suffix are compared eight bytes at a time with unaligned loads
(``unaligned._word_at``), since a text is often a slice at any offset of a larger buffer.

``_myers`` is Myers' O(ND) greedy algorithm with a trace for the walk back;
``_lcs_hunks`` a full LCS table, cheaper when one side is short. Both return
hunks ``(a_start, a_end, b_start, b_end)`` of an int64 array; they serve the
token level too (``tokens``).
"""

from __future__ import annotations

import numpy as np

from ..compiled import kernel
from ..unaligned import _LF, _lowest_byte, _newlines, _word_at, _zero_bytes


@kernel
def _push(hunks, count, a_start, a_end, b_start, b_end):  # pragma: no cover - compiled
    """Append a hunk, merging it into the previous one when they touch; returns the new count."""
    if count > 0 and hunks[count - 1, 1] == a_start and hunks[count - 1, 3] == b_start:
        hunks[count - 1, 1] = a_end
        hunks[count - 1, 3] = b_end
        return count
    hunks[count, 0] = a_start
    hunks[count, 1] = a_end
    hunks[count, 2] = b_start
    hunks[count, 3] = b_end
    return count + 1


@kernel
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
            count = _push(hunks, count, ax, sx, by, sy)
        ax = sx + snakes[i, 2]
        by = sy + snakes[i, 2]
    if ax < n or by < m:
        count = _push(hunks, count, ax, n, by, m)
    return True, hunks[:count]


@kernel
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
                count = _push(hunks, count, start_i, i, start_j, j)
            i += 1
            j += 1
            start_i = i
            start_j = j
        elif j >= m or (i < n and table[i + 1, j] >= table[i, j + 1]):
            i += 1
        else:
            j += 1
    if i > start_i or j > start_j:
        count = _push(hunks, count, start_i, i, start_j, j)
    return hunks[:count]


#: a line's hash starts from this and takes its bytes eight at a time (``_mix``)
_SEED = np.uint64(14695981039346656037)
_PRIME = np.uint64(0x9E3779B97F4A7C15)


@kernel
def _mix(h, word):  # pragma: no cover - compiled
    """The hash ``h`` after eight more bytes of a line (fewer, zero above them, at its end)."""
    return (h ^ word) * _PRIME


@kernel
def _lines(data):  # pragma: no cover - compiled
    """Line byte offsets (one more than lines) and line hashes of UTF-8 bytes, split after each \\n.

    Eight bytes at a time: a line's hash is of its bytes from its first, eight by eight, the last
    word cut after its \\n (or at the end of the text), so that equal lines hash alike wherever
    they start. ``_line_hunks`` checks every match byte for byte, so a collision cannot pass.
    """
    n = data.shape[0]
    count = _newlines(data, 0, n)
    if n > 0 and data[n - 1] != 10:
        count += 1
    offsets = np.zeros(count + 1, np.int64)
    hashes = np.empty(count, np.int64)
    line = 0
    h = _SEED
    i = 0
    while i < n:
        if i + 8 <= n:
            word = _word_at(data, i)
            width = 8
        else:  # the last bytes, fewer than eight: zero above them, which no \\n matches
            word = np.uint64(0)
            width = n - i
            for k in range(width):
                word |= np.uint64(data[i + k]) << np.uint64(8 * k)
        marks = _zero_bytes(word ^ _LF)
        if width < 8:
            marks &= (np.uint64(1) << np.uint64(8 * width)) - np.uint64(1)
        if marks == 0:
            h = _mix(h, word)
            i += width
            continue
        lowest = marks & (~marks + np.uint64(1))  # the first \\n's high bit
        h = _mix(h, word & ((lowest << np.uint64(1)) - np.uint64(1)))  # its bytes up to the \\n
        i += _lowest_byte(marks) + 1
        hashes[line] = np.int64(h)
        offsets[line + 1] = i
        line += 1
        h = _SEED
    if line < count:  # a last line without \\n
        hashes[line] = np.int64(h)
        offsets[line + 1] = n
    return offsets, hashes


@kernel
def _same_lines(a, b, a_offsets, b_offsets, i, j, count):  # pragma: no cover - compiled
    """Whether lines a[i:i+count] and b[j:j+count] are equal byte for byte: their bytes are one run
    in each text, and equal runs are split into the same lines (after each \\n)."""
    a0 = a_offsets[i]
    b0 = b_offsets[j]
    length = a_offsets[i + count] - a0
    if length != b_offsets[j + count] - b0:
        return False
    x = 0
    while x + 8 <= length:  # eight bytes at a time
        if _word_at(a, a0 + x) != _word_at(b, b0 + x):
            return False
        x += 8
    while x < length:
        if a[a0 + x] != b[b0 + x]:
            return False
        x += 1
    return True


@kernel
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


@kernel
def _common_prefix(a, b, limit):  # pragma: no cover - compiled
    """Length of the common prefix of two uint8 arrays, at most ``limit``."""
    i = 0
    while i + 8 <= limit and _word_at(a, i) == _word_at(b, i):  # eight bytes at a time
        i += 8
    while i < limit and a[i] == b[i]:
        i += 1
    return i


@kernel
def _common_suffix(a, b, limit):  # pragma: no cover - compiled
    """Length of the common suffix of two uint8 arrays, at most ``limit``."""
    la = a.shape[0]
    lb = b.shape[0]
    i = 0
    while i + 8 <= limit and _word_at(a, la - 8 - i) == _word_at(b, lb - 8 - i):
        i += 8
    while i < limit and a[la - 1 - i] == b[lb - 1 - i]:
        i += 1
    return i
