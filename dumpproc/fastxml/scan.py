"""The compiled scanner: the fields of ``<page>`` and ``<revision>`` elements in a block of XML bytes.

``scan`` reads the part of a dump after its ``<siteinfo>`` (inside the root ``<mediawiki>``) as
MediaWiki's XML writer writes it, and writes a *field table*: one row per element or attribute
it knows (``fields``: code, start and end of its decoded value in ``out``, its XML byte), plus
rows marking where a page, its header, a revision and a page end. A leaf element's row comes at
its end, after the rows of its attributes; a ``<contributor>``'s and a ``<content>``'s at their
start, after their attributes'. Values are decoded as XML
reads them: the five entities and numeric character references replaced, line ends in text
made LF (``\\r\\n`` and a lone ``\\r``), tab, LF and CR in attribute values made spaces, UTF-8
checked, characters XML does not allow refused.

It works on blocks: it stops at the end of its bytes (``final`` false) at the last *boundary*
it passed (before a ``<page>``, before a page's first ``<revision>``, after a ``</revision>`` or a
``</page>``) and says how far that is (``consumed``): the caller keeps the bytes from there,
appends the next block, and scans again with the returned state. Rows past the boundary are
not counted, so every row returned belongs to a whole unit, whatever the block size.

Anything outside what MediaWiki writes stops the scan with ``FALLBACK`` and the XML byte where
it was met: a comment, CDATA, a processing instruction or a DTD, an entity other than the five,
an element or attribute it does not know, a namespace prefix or declaration, text beside child
elements, bytes that are not UTF-8, a character XML does not allow, a malformed tag. The caller
then reads the unit with the lxml reader, which reads what it can and names what is wrong.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# -- element names, as codes; a field's code is parent * 32 + name ------------------------------
ELEMENTS = ("", "mediawiki", "page", "title", "ns", "id", "redirect", "restrictions", "revision", "parentid",
            "timestamp", "contributor", "username", "ip", "minor", "comment", "model", "format", "text", "sha1",
            "origin", "content", "role")
E = {name: code for code, name in enumerate(ELEMENTS) if name}
#: the elements whose children are elements (their own text may only be white space)
CONTAINERS = ("mediawiki", "page", "revision", "contributor", "content")
#: which element may be inside which: (parent, child) pairs MediaWiki writes
ALLOWED = {
    "mediawiki": ("page",),
    "page": ("title", "ns", "id", "redirect", "restrictions", "revision"),
    "revision": ("id", "parentid", "timestamp", "contributor", "minor", "comment", "model", "format", "text",
                 "sha1", "origin", "content"),
    "contributor": ("username", "id", "ip"),
    "content": ("role", "origin", "model", "format", "text"),
}
ATTRIBUTES = ("", "title", "deleted", "bytes", "sha1", "id", "location", "xml:space")
A = {name: code for code, name in enumerate(ATTRIBUTES) if name}
#: which attributes each element may have
ATTRIBUTES_OF = {"redirect": ("title",), "contributor": ("deleted",), "comment": ("deleted",),
                 "text": ("deleted", "bytes", "sha1", "id", "location", "xml:space")}

#: row codes past the fields: an element's field is parent * 32 + name (< 1024); an attribute's is
#: ATTRIBUTE + element * 8 + attribute
ATTRIBUTE = 1024
PAGE_START, HEADER_END, REVISION_START, REVISION_END, PAGE_END = 2000, 2001, 2002, 2003, 2004

#: what ``scan`` returns as its status
MORE, DONE, FALLBACK, FULL = 0, 1, 2, 3

_NAME_WIDTH = 16


def _name_table(names) -> tuple[np.ndarray, np.ndarray]:
    table = np.zeros((len(names), _NAME_WIDTH), np.uint8)
    lengths = np.zeros(len(names), np.int64)
    for code, name in enumerate(names):
        table[code, :len(name)] = np.frombuffer(name.encode(), np.uint8)
        lengths[code] = len(name)
    return table, lengths


ELEMENT_NAMES, ELEMENT_LENGTHS = _name_table(ELEMENTS)
ATTRIBUTE_NAMES, ATTRIBUTE_LENGTHS = _name_table(ATTRIBUTES)

#: rules[parent, child] = 1 where the child may be in the parent; containers[e] = 1 for containers;
#: attribute_rules[element, attribute] = 1 where the element may have it
RULES = np.zeros((len(ELEMENTS), len(ELEMENTS)), np.uint8)
for _parent, _children in ALLOWED.items():
    for _child in _children:
        RULES[E[_parent], E[_child]] = 1
CONTAINER = np.zeros(len(ELEMENTS), np.uint8)
for _name in CONTAINERS:
    CONTAINER[E[_name]] = 1
ATTRIBUTE_RULES = np.zeros((len(ELEMENTS), len(ATTRIBUTES)), np.uint8)
for _element, _attributes in ATTRIBUTES_OF.items():
    for _attribute in _attributes:
        ATTRIBUTE_RULES[E[_element], A[_attribute]] = 1


@njit(cache=True, nogil=True)
def _lookup(buf, start, end, names, lengths):  # pragma: no cover - compiled
    """The code of the name ``buf[start:end]`` in ``names``, or 0 when it is not there."""
    n = end - start
    for code in range(1, names.shape[0]):
        if lengths[code] != n:
            continue
        same = True
        for i in range(n):
            if buf[start + i] != names[code, i]:
                same = False
                break
        if same:
            return code
    return 0


@njit(cache=True, nogil=True)
def _is_space(byte):  # pragma: no cover - compiled
    return byte == 0x20 or byte == 0x09 or byte == 0x0A or byte == 0x0D


@njit(cache=True, nogil=True)
def _is_name_byte(byte):  # pragma: no cover - compiled
    return (0x61 <= byte <= 0x7A) or (0x41 <= byte <= 0x5A) or (0x30 <= byte <= 0x39) or byte == 0x5F \
        or byte == 0x2D or byte == 0x2E or byte == 0x3A


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _xml_char(cp):  # pragma: no cover - compiled
    """Whether XML 1.0 allows the character (``Char``)."""
    return cp == 0x9 or cp == 0xA or cp == 0xD or (0x20 <= cp <= 0xD7FF) or (0xE000 <= cp <= 0xFFFD) \
        or (0x10000 <= cp <= 0x10FFFF)


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _text(buf, i, end, out, n, attribute, quote):  # pragma: no cover - compiled
    """Decode character data from ``buf[i]`` up to ``<`` (text) or ``quote`` (an attribute value)
    into ``out[n:]``; returns (the stopping byte, new out end), (-1, n) for a fault (a fallback),
    (-2, n) when the data runs past ``end``."""
    while i < end:
        b = buf[i]
        if not attribute:
            # the run of bytes that are themselves, in one tight loop: most of a wiki's text; two- and
            # three-byte UTF-8 characters are checked here too (the general path below does the rest)
            while True:
                if PLAIN_TEXT[b]:
                    out[n] = b
                    n += 1
                    i += 1
                elif 0xC2 <= b <= 0xDF and i + 1 < end and buf[i + 1] & 0xC0 == 0x80:
                    out[n] = b
                    out[n + 1] = buf[i + 1]
                    n += 2
                    i += 2
                elif 0xE0 <= b <= 0xEF and i + 2 < end and buf[i + 1] & 0xC0 == 0x80 and buf[i + 2] & 0xC0 == 0x80:
                    cp = ((b & 0x0F) << 12) | ((buf[i + 1] & 0x3F) << 6) | (buf[i + 2] & 0x3F)
                    if cp < 0x800 or 0xD800 <= cp <= 0xDFFF or cp >= 0xFFFE:
                        break  # overlong, a surrogate, U+FFFE or U+FFFF: the general path refuses it
                    out[n] = b
                    out[n + 1] = buf[i + 1]
                    out[n + 2] = buf[i + 2]
                    n += 3
                    i += 3
                else:
                    break
                if i >= end:
                    return -2, n
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


@njit(cache=True, nogil=True)
def scan(buf, end, final, state, out, fields, element_names, element_lengths, attribute_names,
         attribute_lengths, rules, container, attribute_rules):  # pragma: no cover - compiled
    """Scan ``buf[:end]`` from a boundary (module docstring).

    ``state``: an int64 array of 3, in and out: [depth outside the root (0: inside <mediawiki>,
    1: inside a <page>), whether the page's header has been ended, unused]. Returns (status,
    consumed, rows, out bytes, fault byte). ``out`` must have room for ``end`` bytes (decoding
    never grows data); ``fields`` rows are (code, value start, value end, XML byte)."""
    stack = np.zeros(8, np.int64)
    depth = 1 if state[0] == 1 else 0
    stack[0] = 1  # mediawiki
    stack[1] = 2  # page, when depth is 1
    header_done = state[1]
    rows = 0
    n = 0
    i = 0
    commit_i, commit_rows, commit_n = 0, 0, 0
    commit_depth, commit_header = depth, header_done
    capacity = fields.shape[0]
    value_start = 0  # where the current leaf element's value begins in out
    while True:
        # the character data before the next tag
        if container[stack[depth]] == 1:
            while i < end and _is_space(buf[i]):
                i += 1
            if i < end and buf[i] != 0x3C:
                return FALLBACK, commit_i, commit_rows, commit_n, i  # text beside elements
        else:
            j, n2 = _text(buf, i, end, out, n, False, 0)
            if j == -1:
                return FALLBACK, commit_i, commit_rows, commit_n, i
            if j == -2:
                break
            i, n = j, n2
        if i >= end:
            break
        if rows + 4 > capacity:
            state[0], state[1] = commit_depth, commit_header
            return FULL, commit_i, commit_rows, commit_n, i
        # a tag at buf[i] == '<'
        tag = i
        if i + 1 >= end:
            break
        closing = buf[i + 1] == 0x2F
        j = i + 2 if closing else i + 1
        k = j
        while k < end and _is_name_byte(buf[k]):
            k += 1
        if k >= end:
            break
        if k == j:
            return FALLBACK, commit_i, commit_rows, commit_n, tag  # '<!', '<?', or no name
        code = _lookup(buf, j, k, element_names, element_lengths)
        if closing:
            while k < end and _is_space(buf[k]):
                k += 1
            if k >= end:
                break
            if buf[k] != 0x3E or code == 0 or code != stack[depth] or depth == 0 and code != 1:
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            i = k + 1
            if code == 1:  # </mediawiki>: the end of the document; only white space may follow
                while i < end and _is_space(buf[i]):
                    i += 1
                if i < end or not final:
                    if i < end:
                        return FALLBACK, commit_i, commit_rows, commit_n, i
                    break
                state[0], state[1] = 0, 0
                return DONE, i, rows, n, -1
            parent = stack[depth - 1]
            if container[code] == 0:
                fields[rows, 0] = parent * 32 + code
                fields[rows, 1] = value_start
                fields[rows, 2] = n
                fields[rows, 3] = tag
                rows += 1
            depth -= 1
            if code == 8:  # </revision>
                fields[rows, 0] = REVISION_END
                fields[rows, 3] = tag
                rows += 1
                commit_i, commit_rows, commit_n, commit_depth, commit_header = i, rows, n, depth, header_done
            elif code == 2:  # </page>
                if header_done == 0:
                    fields[rows, 0] = HEADER_END
                    fields[rows, 3] = tag
                    rows += 1
                fields[rows, 0] = PAGE_END
                fields[rows, 3] = tag
                rows += 1
                header_done = 0
                commit_i, commit_rows, commit_n, commit_depth, commit_header = i, rows, n, depth, header_done
            continue
        # a start tag
        parent = stack[depth]
        if code == 0 or rules[parent, code] == 0 or depth >= 6:
            return FALLBACK, commit_i, commit_rows, commit_n, tag
        if code == 2:  # <page>: a boundary before it
            commit_i, commit_rows, commit_n, commit_depth, commit_header = tag, rows, n, depth, header_done
            fields[rows, 0] = PAGE_START
            fields[rows, 3] = tag
            rows += 1
        elif code == 8:  # <revision>
            if header_done == 0:
                fields[rows, 0] = HEADER_END
                fields[rows, 3] = tag
                rows += 1
                header_done = 1
                commit_i, commit_rows, commit_n, commit_depth, commit_header = tag, rows, n, depth, header_done
            fields[rows, 0] = REVISION_START
            fields[rows, 3] = tag
            rows += 1
        # attributes
        seen = 0
        incomplete = False
        while True:
            start = k
            while k < end and _is_space(buf[k]):
                k += 1
            if k >= end:
                incomplete = True
                break
            b = buf[k]
            if b == 0x3E or b == 0x2F:
                break
            if k == start:
                return FALLBACK, commit_i, commit_rows, commit_n, tag  # no space before an attribute
            name = k
            while k < end and _is_name_byte(buf[k]):
                k += 1
            if k >= end:
                incomplete = True
                break
            attribute = _lookup(buf, name, k, attribute_names, attribute_lengths)
            if k == name or attribute == 0 or attribute_rules[code, attribute] == 0 or seen & (1 << attribute):
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            seen |= 1 << attribute
            while k < end and _is_space(buf[k]):
                k += 1
            if k >= end:
                incomplete = True
                break
            if buf[k] != 0x3D:  # '='
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            k += 1
            while k < end and _is_space(buf[k]):
                k += 1
            if k >= end:
                incomplete = True
                break
            quote = buf[k]
            if quote != 0x22 and quote != 0x27:
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            value = n
            j, n = _text(buf, k + 1, end, out, n, True, quote)
            if j == -1:
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            if j == -2:
                incomplete = True
                break
            if rows + 4 > capacity:
                state[0], state[1] = commit_depth, commit_header
                return FULL, commit_i, commit_rows, commit_n, i
            fields[rows, 0] = ATTRIBUTE + code * 8 + attribute
            fields[rows, 1] = value
            fields[rows, 2] = n
            fields[rows, 3] = name
            rows += 1
            k = j + 1
        if incomplete:
            break
        if buf[k] == 0x2F:  # '/>'
            if k + 1 >= end:
                break
            if buf[k + 1] != 0x3E:
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            i = k + 2
            if container[code] == 0:
                fields[rows, 0] = parent * 32 + code
                fields[rows, 1] = n
                fields[rows, 2] = n
                fields[rows, 3] = tag
                rows += 1
            elif code == 8 or code == 2:  # <revision/>, <page/>: MediaWiki never writes one
                return FALLBACK, commit_i, commit_rows, commit_n, tag
            else:  # <contributor deleted="deleted" />: its start is its row
                fields[rows, 0] = parent * 32 + code
                fields[rows, 1] = n
                fields[rows, 2] = n
                fields[rows, 3] = tag
                rows += 1
            continue
        i = k + 1
        if code == 11 or code == 21:  # <contributor>, <content>: a row at the start, after its attributes'
            fields[rows, 0] = parent * 32 + code
            fields[rows, 1] = n
            fields[rows, 2] = n
            fields[rows, 3] = tag
            rows += 1
        depth += 1
        stack[depth] = code
        value_start = n
    # the bytes ran out: back to the last boundary
    if final:
        return FALLBACK, commit_i, commit_rows, commit_n, end  # the document ends inside an element
    state[0], state[1] = commit_depth, commit_header
    return MORE, commit_i, commit_rows, commit_n, -1

