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

from ..compiled import entry
from .chars import _text
from .grammar import (A, ATTRIBUTE, ATTRIBUTE_LENGTHS, ATTRIBUTE_NAMES, ATTRIBUTE_RULES, ATTRIBUTES, ATTRIBUTES_OF,
                      CONTAINER, DONE, E, ELEMENT_LENGTHS, ELEMENT_NAMES, ELEMENTS, FALLBACK, FULL, HEADER_END, MORE,
                      PAGE_END, PAGE_START, REVISION_END, REVISION_START, RULES, _is_name_byte, _is_space, _lookup)

__all__ = ["A", "ATTRIBUTE", "ATTRIBUTE_LENGTHS", "ATTRIBUTE_NAMES", "ATTRIBUTE_RULES", "ATTRIBUTES", "ATTRIBUTES_OF",
           "CONTAINER", "DONE", "E", "ELEMENT_LENGTHS", "ELEMENT_NAMES", "ELEMENTS", "FALLBACK", "FULL", "HEADER_END",
           "MORE", "PAGE_END", "PAGE_START", "REVISION_END", "REVISION_START", "RULES", "scan"]


@entry("uint8[:], int64, boolean, int64[:]!, uint8[:]!, int64[:,:]!, uint8[:,:], int64[:], uint8[:,:], int64[:], uint8[:,:], uint8[:], uint8[:,:]")
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

