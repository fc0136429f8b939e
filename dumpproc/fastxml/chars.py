"""Character data as XML reads it, compiled: references and the five entities decoded, line ends
made LF, UTF-8 and XML's ``Char`` checked (``_text``, which ``scan`` calls for every value)."""

from __future__ import annotations

import numpy as np

from ..compiled import kernel
from ..unaligned import _HIGH, _LF, _ONES, _put_word, _word_at, _zero_bytes


@kernel
def _put_code_point(out, n, cp):  # pragma: no cover - compiled
    """Write code point ``cp`` as UTF-8 at ``out[n]``; returns the new end."""
    if cp < 0x80:
        out[n] = cp
        return n + 1
    if cp < 0x800:
        out[n] = 0xC0 | (cp >> 6)
        out[n + 1] = 0x80 | (cp & 0x3F)
        return n + 2
    if cp < 0x10000:
        out[n] = 0xE0 | (cp >> 12)
        out[n + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[n + 2] = 0x80 | (cp & 0x3F)
        return n + 3
    out[n] = 0xF0 | (cp >> 18)
    out[n + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[n + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[n + 3] = 0x80 | (cp & 0x3F)
    return n + 4


@kernel
def _xml_char(cp):  # pragma: no cover - compiled
    """Whether XML 1.0 allows the character (``Char``)."""
    return cp == 0x9 or cp == 0xA or cp == 0xD or (0x20 <= cp <= 0xD7FF) or (0xE000 <= cp <= 0xFFFD) \
        or (0x10000 <= cp <= 0x10FFFF)


@kernel
def _reference(buf, i, end, out, n):  # pragma: no cover - compiled
    """Decode the reference at ``buf[i] == '&'``: returns (next byte, new out end), or (-1, n) when it
    is not one of the five entities or an allowed character reference, (-2, n) when it runs past
    ``end``."""
    j = i + 1
    while j < end and buf[j] != 0x3B and j - i < 12:  # ';'
        j += 1
    if j >= end:
        return (-2, n) if j - i < 12 else (-1, n)
    if buf[j] != 0x3B:
        return -1, n
    length = j - i - 1
    if length >= 2 and buf[i + 1] == 0x23:  # '#'
        cp = 0
        if buf[i + 2] == 0x78:  # 'x'
            if length < 3:
                return -1, n
            for k in range(i + 3, j):
                b = buf[k]
                if 0x30 <= b <= 0x39:
                    cp = cp * 16 + (b - 0x30)
                elif 0x61 <= b <= 0x66:
                    cp = cp * 16 + (b - 0x57)
                elif 0x41 <= b <= 0x46:
                    cp = cp * 16 + (b - 0x37)
                else:
                    return -1, n
                if cp > 0x10FFFF:
                    return -1, n
        else:
            for k in range(i + 2, j):
                b = buf[k]
                if not 0x30 <= b <= 0x39:
                    return -1, n
                cp = cp * 10 + (b - 0x30)
                if cp > 0x10FFFF:
                    return -1, n
        if not _xml_char(cp):
            return -1, n
        return j + 1, _put_code_point(out, n, cp)
    b1 = buf[i + 1]
    if length == 2 and buf[i + 2] == 0x74 and (b1 == 0x6C or b1 == 0x67):  # lt, gt
        out[n] = 0x3C if b1 == 0x6C else 0x3E
        return j + 1, n + 1
    if length == 3 and b1 == 0x61 and buf[i + 2] == 0x6D and buf[i + 3] == 0x70:  # amp
        out[n] = 0x26
        return j + 1, n + 1
    if length == 4 and b1 == 0x71 and buf[i + 2] == 0x75 and buf[i + 3] == 0x6F and buf[i + 4] == 0x74:  # quot
        out[n] = 0x22
        return j + 1, n + 1
    if length == 4 and b1 == 0x61 and buf[i + 2] == 0x70 and buf[i + 3] == 0x6F and buf[i + 4] == 0x73:  # apos
        out[n] = 0x27
        return j + 1, n + 1
    return -1, n


@kernel
def _utf8(buf, i, end):  # pragma: no cover - compiled
    """The length of the UTF-8 character of an XML ``Char`` at ``buf[i]`` (>= 0x80), -1 when it is
    not one, -2 when it runs past ``end``."""
    b = buf[i]
    if 0xC2 <= b <= 0xDF:
        need, cp = 1, b & 0x1F
    elif 0xE0 <= b <= 0xEF:
        need, cp = 2, b & 0x0F
    elif 0xF0 <= b <= 0xF4:
        need, cp = 3, b & 0x07
    else:
        return -1
    if i + need >= end:
        return -2
    for k in range(1, need + 1):
        c = buf[i + k]
        if c & 0xC0 != 0x80:
            return -1
        cp = (cp << 6) | (c & 0x3F)
    if (need == 2 and cp < 0x800) or (need == 3 and (cp < 0x10000 or cp > 0x10FFFF)):
        return -1  # overlong, or past Unicode
    if not _xml_char(cp):
        return -1  # a surrogate, U+FFFE, U+FFFF
    return need + 1


#: the bytes character data holds as they are, copied without a second look: printable ASCII but
#: ``<``, ``&``, ``>`` (``]]>``), and tab and line feed (which an attribute value turns into spaces)
PLAIN_TEXT = np.zeros(256, np.uint8)
PLAIN_TEXT[0x20:0x7F] = 1
PLAIN_TEXT[[0x09, 0x0A]] = 1
PLAIN_TEXT[[0x3C, 0x26, 0x3E]] = 0


_TO_SPACE = np.uint64(0x6060606060606060)  # added to a byte below 0x80, sets its high bit when it is >= 0x20
_TAB = np.uint64(0x09) * _ONES
_LT, _AMP, _GT, _DEL = (np.uint64(c) * _ONES for c in (0x3C, 0x26, 0x3E, 0x7F))


@kernel
def _plain_word(w):  # pragma: no cover - compiled
    """Whether all eight bytes of ``w`` are ``PLAIN_TEXT`` ASCII."""
    if w & _HIGH:
        return False
    controls = ~(w + _TO_SPACE) & _HIGH & ~_zero_bytes(w ^ _LF) & ~_zero_bytes(w ^ _TAB)
    special = _zero_bytes(w ^ _LT) | _zero_bytes(w ^ _AMP) | _zero_bytes(w ^ _GT) | _zero_bytes(w ^ _DEL)
    return (controls | special) == 0


@kernel
def _plain_words(buf, i, end, put_off):  # pragma: no cover - compiled
    """Pass eight plain ASCII bytes at a time from ``buf[i]``; returns where it stopped, where to try
    next, and the next put-off (8 after a word passed, else twice the last, up to 512)."""
    start = i
    while i + 8 <= end and _plain_word(_word_at(buf, i)):
        i += 8
    put_off = 8 if i > start else min(2 * put_off, 512)
    return i, i + put_off, put_off


@kernel
def _copy(buf, start, stop, out, n):  # pragma: no cover - compiled
    """Copy ``buf[start:stop]`` to ``out[n:]``, eight bytes at a time; returns the new end of ``out``."""
    k = 0
    length = stop - start
    while k + 8 <= length:
        _put_word(out, n + k, _word_at(buf, start + k))
        k += 8
    while k < length:
        out[n + k] = buf[start + k]
        k += 1
    return n + length


@kernel
def _text(buf, i, end, out, n, attribute, quote):  # pragma: no cover - compiled
    """Decode character data from ``buf[i]`` up to ``<`` (text) or ``quote`` (an attribute value)
    into ``out[n:]``; returns (the stopping byte, new out end), (-1, n) for a fault (a fallback),
    (-2, n) when the data runs past ``end``."""
    # where eight bytes at a time are tried next: a word that fails puts the next try off, twice as
    # far each time in a row (a text of accented words seldom has eight ASCII bytes in a row). They
    # are tried where a run starts and after each multi-byte character, never between ASCII bytes
    words_from = i
    put_off = 8
    while i < end:
        if not attribute:
            # the run of bytes that are themselves, found in one tight loop and then copied at once:
            # most of a wiki's text, eight ASCII bytes at a time, two- and three-byte UTF-8
            # characters checked here too (the general path below does the rest)
            run = i
            if i >= words_from:
                i, words_from, put_off = _plain_words(buf, i, end, put_off)
            while i < end:
                b = buf[i]
                if PLAIN_TEXT[b]:
                    i += 1
                    continue
                if 0xC2 <= b <= 0xDF and i + 1 < end and buf[i + 1] & 0xC0 == 0x80:
                    i += 2
                elif 0xE0 <= b <= 0xEF and i + 2 < end and buf[i + 1] & 0xC0 == 0x80 and buf[i + 2] & 0xC0 == 0x80:
                    cp = ((b & 0x0F) << 12) | ((buf[i + 1] & 0x3F) << 6) | (buf[i + 2] & 0x3F)
                    if cp < 0x800 or 0xD800 <= cp <= 0xDFFF or cp >= 0xFFFE:
                        break  # overlong, a surrogate, U+FFFE or U+FFFF: the general path refuses it
                    i += 3
                else:
                    break
                if i >= words_from:
                    i, words_from, put_off = _plain_words(buf, i, end, put_off)
            n = _copy(buf, run, i, out, n)
            if i >= end:
                return -2, n
            b = buf[i]
        else:
            b = buf[i]
        if b == 0x3C:  # '<'
            if attribute:
                return -1, n
            return i, n
        if attribute and b == quote:
            return i, n
        if b == 0x26:  # '&'
            i, n = _reference(buf, i, end, out, n)
            if i < 0:
                return i, n
            continue
        if b == 0x0D:  # CR: a line end, alone or before LF
            if i + 1 >= end:
                return -2, n
            out[n] = 0x20 if attribute else 0x0A
            n += 1
            i += 2 if buf[i + 1] == 0x0A else 1
            continue
        if b < 0x20:
            if b != 0x09 and b != 0x0A:
                return -1, n
            out[n] = 0x20 if attribute else b
            n += 1
            i += 1
            continue
        if b == 0x3E and not attribute and i >= 2 and buf[i - 1] == 0x5D and buf[i - 2] == 0x5D:
            return -1, n  # ']]>' in text
        if b < 0x80:
            out[n] = b
            n += 1
            i += 1
            continue
        width = _utf8(buf, i, end)
        if width < 0:
            return width, n
        for k in range(width):
            out[n + k] = buf[i + k]
        n += width
        i += width
    return -2, n
