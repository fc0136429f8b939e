"""What the scanner knows of MediaWiki's export format: element and attribute names as codes,
which element may hold which, the row codes of the field table and the scan's statuses, and the
compiled lookups of names (``scan`` uses them; ``rows`` and ``columns`` read the codes)."""

from __future__ import annotations

import numpy as np

from ..compiled import kernel

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


@kernel
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


@kernel
def _is_space(byte):  # pragma: no cover - compiled
    return byte == 0x20 or byte == 0x09 or byte == 0x0A or byte == 0x0D


@kernel
def _is_name_byte(byte):  # pragma: no cover - compiled
    return (0x61 <= byte <= 0x7A) or (0x41 <= byte <= 0x5A) or (0x30 <= byte <= 0x39) or byte == 0x5F \
        or byte == 0x2D or byte == 0x2E or byte == 0x3A
