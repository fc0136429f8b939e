"""A scan's revisions as columns: one compiled pass over the field table, no Python per revision.

``revision_columns`` reads every revision of a ``Scanned`` block (its rows from ``REVISION_START``
to ``REVISION_END``) and fills one row of ``R`` per revision: where each field's value is in
``out`` (start, end; start -1 when absent) and its flags, and for the revisions it can take as
they are, the checked values: ids, the timestamp in microseconds, the text's size. It follows
the lxml walker's rules for what it takes (``rows`` mirrors them record by record), and marks
``COMPLEX`` every revision that needs more than that: a field written twice, a ``<content>`` slot,
a second ``<text>``, a value not in the one form MediaWiki writes (a timestamp with an offset
or a fraction, an id with a sign). Those go through ``rows`` and ``parse.normalise`` one by one,
as every revision did before, so that the rules and errors exist once; on MediaWiki's own dumps
nearly every revision is simple.
"""

from __future__ import annotations

import numpy as np

from ..compiled import entry, kernel
from . import scan

# -- the columns of R: spans (start, end in out) first, then values and flags ------------------
ID, TIMESTAMP, PARENT, USER_ID, USER_TEXT, COMMENT, MODEL, FORMAT, SHA1, TEXT, TEXT_BYTES, TEXT_SHA1 = (
    0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22)
ANONYMOUS, USER_DELETED, MINOR, COMMENT_DELETED, TEXT_DELETED, STORED, COMPLEX, OFFSET, FIRST_ROW, LAST_ROW = (
    24, 25, 26, 27, 28, 29, 30, 31, 32, 33)
#: checked values of a simple revision: id, parent id (0: none), user id (0: none), microseconds,
#: the main text's size (-1: not known), and the main text's span (-1: no text, as ``text_value``)
V_ID, V_PARENT, V_USER_ID, V_US, V_SIZE, V_TEXT_START, V_TEXT_END = 34, 35, 36, 37, 38, 39, 40
WIDTH = 41

E, A = scan.E, scan.A


def _code(parent: str, name: str) -> int:
    return E[parent] * 32 + E[name]


def _attribute(element: str, name: str) -> int:
    return scan.ATTRIBUTE + E[element] * 8 + A[name]


#: the row codes the kernel tells apart, passed in as an array (a compiled kernel keeps no globals
#: that could change under its disk cache)
_NAMES = (
    ("revision", "id"), ("revision", "parentid"), ("revision", "timestamp"), ("revision", "contributor"),
    ("revision", "minor"), ("revision", "comment"), ("revision", "model"), ("revision", "format"),
    ("revision", "text"), ("revision", "sha1"), ("revision", "origin"), ("contributor", "username"),
    ("contributor", "id"), ("contributor", "ip"))
_ATTRIBUTES = (("text", "deleted"), ("text", "bytes"), ("text", "sha1"), ("text", "id"), ("text", "location"),
               ("text", "xml:space"), ("contributor", "deleted"), ("comment", "deleted"))
CODES = np.array([_code(*pair) for pair in _NAMES] + [_attribute(*pair) for pair in _ATTRIBUTES]
                 + [scan.ATTRIBUTE], np.int64)


@kernel
def _digits(out, start, end):  # pragma: no cover - compiled
    """The number written in ASCII digits at out[start:end] (at most 18 of them), or -1."""
    if end <= start or end - start > 18:
        return -1
    value = 0
    for i in range(start, end):
        b = out[i]
        if b < 0x30 or b > 0x39:
            return -1
        value = value * 10 + (b - 0x30)
    return value


@kernel
def _is_none_id(out, start, end):  # pragma: no cover - compiled
    """``0`` or ``-1``: no parent, no user id."""
    n = end - start
    return (n == 1 and out[start] == 0x30) or (n == 2 and out[start] == 0x2D and out[start + 1] == 0x31)


@kernel
def _optional_id(out, start, end, empty_is_none):  # pragma: no cover - compiled
    """A parent's or a contributor's id: 0 for none (absent, ``0``, ``-1``, and empty where
    ``empty_is_none``), -1 for anything but positive ASCII digits (the record path says why)."""
    if start < 0 or (empty_is_none and end <= start) or _is_none_id(out, start, end):
        return 0
    value = _digits(out, start, end)
    return value if value > 0 else -1


@kernel
def _days_from_civil(y, m, d):  # pragma: no cover - compiled
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@kernel
def _timestamp_us(out, start, end):  # pragma: no cover - compiled
    """Microseconds since the epoch of ``YYYY-MM-DDTHH:MM:SSZ`` naming a real moment; -2**62 for
    anything else (the record path reads, converts or refuses it)."""
    bad = -(1 << 62)
    if end - start != 20 or out[start + 4] != 0x2D or out[start + 7] != 0x2D or out[start + 10] != 0x54 \
            or out[start + 13] != 0x3A or out[start + 16] != 0x3A or out[start + 19] != 0x5A:
        return bad
    parts = np.empty(6, np.int64)
    spans = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))
    for k in range(6):
        a, b = spans[k]
        value = _digits(out, start + a, start + b)
        if value < 0:
            return bad
        parts[k] = value
    year, month, day, hour, minute, second = parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]
    if year < 1 or month < 1 or month > 12 or day < 1 or hour > 23 or minute > 59 or second > 59:
        return bad
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    lengths = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if day > lengths[month - 1]:
        return bad
    days = _days_from_civil(year, month, day)
    return ((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000


@kernel
def _take(r, row, column, start, end):  # pragma: no cover - compiled
    """Put a field's span in its column; a field already there makes the revision complex."""
    if r[row, column] >= 0:
        r[row, COMPLEX] = 1
    r[row, column] = start
    r[row, column + 1] = end


@kernel
def _spans(fields, first, last, out, codes, r, row):  # pragma: no cover - compiled
    """One revision's rows ``fields[first..last]`` (its start and end markers) into ``r[row]``."""
    rev_id, rev_parent, rev_ts, rev_contributor, rev_minor, rev_comment, rev_model, rev_format = (
        codes[0], codes[1], codes[2], codes[3], codes[4], codes[5], codes[6], codes[7])
    rev_text, rev_sha1, rev_origin, c_username, c_id, c_ip = codes[8], codes[9], codes[10], codes[11], codes[12], \
        codes[13]
    a_text_deleted, a_text_bytes, a_text_sha1, a_text_id, a_text_location, a_text_space = (
        codes[14], codes[15], codes[16], codes[17], codes[18], codes[19])
    a_contributor_deleted, a_comment_deleted, attribute_base = codes[20], codes[21], codes[22]
    for column in range(24):
        r[row, column] = -1
    for column in range(24, WIDTH):
        r[row, column] = 0
    r[row, OFFSET] = fields[first, 3]
    r[row, FIRST_ROW] = first
    r[row, LAST_ROW] = last
    # the attributes of the element whose row comes next
    deleted = stored = 0
    bytes_start = bytes_end = sha1_start = sha1_end = -1
    contributors = texts = 0
    contributor_deleted = 0
    for k in range(first + 1, last):
        code, start, end = fields[k, 0], fields[k, 1], fields[k, 2]
        if code >= attribute_base:
            if code == a_text_deleted or code == a_contributor_deleted or code == a_comment_deleted:
                deleted = 1
            elif code == a_text_bytes:
                bytes_start, bytes_end = start, end
            elif code == a_text_sha1:
                sha1_start, sha1_end = start, end
            elif code == a_text_id or code == a_text_location:
                stored = 1
            elif code != a_text_space:
                r[row, COMPLEX] = 1
            continue
        if code == rev_id:
            _take(r, row, ID, start, end)
        elif code == rev_ts:
            _take(r, row, TIMESTAMP, start, end)
        elif code == rev_parent:
            _take(r, row, PARENT, start, end)
        elif code == rev_minor:
            r[row, MINOR] = 1
        elif code == rev_comment:
            if r[row, COMMENT] >= 0 or r[row, COMMENT_DELETED]:
                r[row, COMPLEX] = 1
            if deleted:
                r[row, COMMENT_DELETED] = 1
            else:
                r[row, COMMENT] = start
                r[row, COMMENT + 1] = end
        elif code == rev_model:
            _take(r, row, MODEL, start, end)
        elif code == rev_format:
            _take(r, row, FORMAT, start, end)
        elif code == rev_sha1:
            _take(r, row, SHA1, start, end)
        elif code == rev_text:
            texts += 1
            if texts > 1:
                r[row, COMPLEX] = 1  # the first <text> is the main one: the record path says so
            r[row, TEXT] = start
            r[row, TEXT + 1] = end
            r[row, TEXT_DELETED] = deleted
            r[row, TEXT_BYTES] = bytes_start
            r[row, TEXT_BYTES + 1] = bytes_end
            r[row, TEXT_SHA1] = sha1_start
            r[row, TEXT_SHA1 + 1] = sha1_end
            r[row, STORED] = stored
        elif code == rev_contributor:
            contributors += 1
            if contributors > 1:
                r[row, COMPLEX] = 1
            contributor_deleted = deleted
            if deleted:
                r[row, USER_DELETED] = 1
        elif code == c_username or code == c_ip or code == c_id:
            if not contributor_deleted:  # lxml reads no field of a deleted contributor
                if code == c_id:
                    _take(r, row, USER_ID, start, end)
                else:
                    _take(r, row, USER_TEXT, start, end)
                    if code == c_ip:
                        r[row, ANONYMOUS] = 1
        elif code != rev_origin:
            r[row, COMPLEX] = 1  # <content> slots, and anything else: the record path
        deleted = stored = 0
        bytes_start = bytes_end = sha1_start = sha1_end = -1


@kernel
def _values(out, r, row):  # pragma: no cover - compiled
    """A simple revision's checked values (``parse.values``, ``normalise.text_value``); a value in
    any other form than MediaWiki's makes it complex."""
    value = _digits(out, r[row, ID], r[row, ID + 1]) if r[row, ID] >= 0 else -1
    if value <= 0:
        r[row, COMPLEX] = 1
        return
    r[row, V_ID] = value
    us = _timestamp_us(out, r[row, TIMESTAMP], r[row, TIMESTAMP + 1]) if r[row, TIMESTAMP] >= 0 else -(1 << 62)
    if us == -(1 << 62):
        r[row, COMPLEX] = 1
        return
    r[row, V_US] = us
    parent = _optional_id(out, r[row, PARENT], r[row, PARENT + 1], True)
    user = 0 if r[row, ANONYMOUS] else _optional_id(out, r[row, USER_ID], r[row, USER_ID + 1], False)
    if parent < 0 or user < 0:
        r[row, COMPLEX] = 1
        return
    r[row, V_PARENT], r[row, V_USER_ID] = parent, user
    # strings as the record path has them: an empty value is None (lxml's .text), but a comment
    # absent or empty is "" and only a deleted one None
    for column in (USER_TEXT, MODEL, FORMAT, SHA1, TEXT_SHA1):
        if r[row, column + 1] <= r[row, column]:
            r[row, column] = -1
    if r[row, COMMENT] < 0 and r[row, COMMENT_DELETED] == 0:
        r[row, COMMENT] = r[row, COMMENT + 1] = 0
    # the main text, as normalise.text_value has it
    r[row, V_TEXT_START] = r[row, V_TEXT_END] = -1
    r[row, V_SIZE] = -1
    start, end = r[row, TEXT], r[row, TEXT + 1]
    if start < 0:
        return  # no <text>: no text, no size
    if r[row, TEXT_DELETED] == 0 and end > start:
        r[row, V_TEXT_START], r[row, V_TEXT_END], r[row, V_SIZE] = start, end, end - start
        return
    declared = r[row, TEXT_BYTES] >= 0
    size = -1
    if declared:
        b0, b1 = r[row, TEXT_BYTES], r[row, TEXT_BYTES + 1]
        if b1 - b0 >= 2 and out[b0] == 0x2D:
            magnitude = _digits(out, b0 + 1, b1)
            if magnitude < 0:
                r[row, COMPLEX] = 1
                return
            size = 0 if magnitude == 0 else -1  # negative: unknown
        else:
            size = _digits(out, b0, b1)
            if size < 0:
                r[row, COMPLEX] = 1
                return
    if r[row, TEXT_DELETED]:
        r[row, V_SIZE] = size
        return
    # an empty <text>
    if not declared and r[row, STORED]:
        return  # a stub
    if declared and size != 0:
        r[row, V_SIZE] = size  # a size, but not the text
        return
    r[row, V_TEXT_START], r[row, V_TEXT_END], r[row, V_SIZE] = start, start, 0


@entry("int64[:,:], int64[:], int64[:], uint8[:], int64[:]")
def revision_columns(fields, starts, ends, out, codes):  # pragma: no cover - compiled
    """``R``: one row per revision, whose rows in ``fields`` run from ``starts[i]`` to ``ends[i]``."""
    n = starts.shape[0]
    r = np.empty((n, WIDTH), np.int64)
    for i in range(n):
        _spans(fields, starts[i], ends[i], out, codes, r, i)
        if r[i, COMPLEX] == 0:
            _values(out, r, i)
    return r
