"""What an XML fault is and where, said without quoting the input.

libxml2's messages copy input into the text: tag, attribute and entity names,
the bytes that are not UTF-8, and up to 50 characters after an unfinished
CDATA section or comment. A damaged stream can put anything there, an IP
address or a user name among it, and an error's text goes to stderr, the
manifest and the report, whatever ``--ips`` says. So the message is never
passed on: ``describe`` names the fault from libxml2's error code instead
(``ERR_TAG_NAME_MISMATCH`` becomes "an end tag does not match its start tag"),
and the place comes from the line and column.

``ids_being_read`` finds, in the tree lxml has built so far, the page and
revision a fault cut short, where their ``<id>`` was read whole before it
(``ids_of`` those of one element).

libxml2 goes on after some errors (a name that is not a qualified name, an
undeclared namespace prefix) and lxml raises them only when the document ends,
after every page was read: ``logged_error`` finds such an error as soon as the
element that holds it ends, so that it fails where it is, like any other.

Some of what libxml2 logs at its error level is a warning (its name says so,
``WAR_``) about a document that is well-formed all the same: a namespace name
that is not a valid URI, as a hard-wrapped ``xmlns:xsi`` declaration makes one
(``HARMLESS``). Such an entry fails nothing: ``logged_error`` passes over it, and
``fault`` finds the real fault behind the one lxml raised, if there is one.
"""

from __future__ import annotations

from lxml import etree

from ..errors import MalformedXML
from . import values

# libxml2's error codes by name, for the ones a damaged dump meets; others are named by their code.
_PHRASES = {
    "ERR_TAG_NAME_MISMATCH": "an end tag does not match its start tag",
    "ERR_TAG_NOT_FINISHED": "an element is not closed before the data ends",
    "ERR_LTSLASH_REQUIRED": "an end tag is missing",
    "ERR_GT_REQUIRED": "a tag is not finished",
    "ERR_LT_REQUIRED": "a tag is expected",
    "ERR_NAME_REQUIRED": "a tag or attribute name is missing or not a name",
    "ERR_INVALID_CHAR": "a character that XML does not allow",
    "ERR_INVALID_CHARREF": "a character reference that XML does not allow",
    "ERR_INVALID_DEC_CHARREF": "a character reference that XML does not allow",
    "ERR_INVALID_HEX_CHARREF": "a character reference that XML does not allow",
    "ERR_INVALID_ENCODING": "bytes that are not valid in the document's encoding (UTF-8 unless it declares another)",
    "ERR_UNSUPPORTED_ENCODING": "an encoding declaration that libxml2 does not support",
    "ERR_UNDECLARED_ENTITY": "an entity reference that is not defined",
    "WAR_UNDECLARED_ENTITY": "an entity reference that is not defined",
    "ERR_ENTITYREF_SEMICOL_MISSING": "an entity reference without its ';'",
    "ERR_ENTITYREF_NO_NAME": "an '&' that does not begin an entity or character reference",
    "ERR_CDATA_NOT_FINISHED": "a CDATA section that is not closed",
    "ERR_MISPLACED_CDATA_END": "']]>' in text",
    "ERR_COMMENT_NOT_FINISHED": "a comment that is not closed",
    "ERR_PI_NOT_FINISHED": "a processing instruction that is not closed",
    "ERR_PI_NOT_STARTED": "a processing instruction without a target",
    "ERR_RESERVED_XML_NAME": "an XML declaration that is not at the start",
    "ERR_DOCUMENT_EMPTY": "the document is empty",
    "ERR_DOCUMENT_END": "content after the end of the document",
    "ERR_EXTRA_CONTENT": "content after the end of the document",
    "ERR_ATTRIBUTE_REDEFINED": "an attribute given twice on one element",
    "ERR_ATTRIBUTE_NOT_STARTED": "an attribute value without quotes",
    "ERR_ATTRIBUTE_NOT_FINISHED": "an attribute value that is not closed",
    "ERR_ATTRIBUTE_WITHOUT_VALUE": "an attribute without a value",
    "ERR_LT_IN_ATTRIBUTE": "a '<' inside an attribute value",
    "ERR_SPACE_REQUIRED": "a space is missing between attributes",
    "ERR_STRING_NOT_STARTED": "a quoted value is expected",
    "ERR_STRING_NOT_CLOSED": "a quoted value that is not closed",
    "ERR_VERSION_MISSING": "an XML declaration without a version",
    "ERR_HYPHEN_IN_COMMENT": "'--' inside a comment",
    "NS_ERR_QNAME": "a name that is not a valid qualified name",
    "NS_ERR_UNDEFINED_NAMESPACE": "a namespace prefix that is not declared",
    "NS_ERR_ATTRIBUTE_REDEFINED": "an attribute given twice on one element",
    "ERR_INTERNAL_ERROR": "the document ends before it is complete",
}
_NAMES = {code: name for name, code in vars(etree.ErrorTypes).items() if isinstance(code, int)}

#: Warnings libxml2 logs at its error level, and lxml raises when the document ends, though the
#: document is well-formed: namespace names that are not valid (or not absolute) URIs. Dumps never
#: resolve a namespace name; they only compare it (``export_version``), so a broken one is harmless.
HARMLESS = frozenset({etree.ErrorTypes.WAR_NS_URI, etree.ErrorTypes.WAR_NS_URI_RELATIVE})


def fault(error_log):
    """The first entry of a parser's ``error_log`` that is a fault, not a ``HARMLESS`` warning; None when
    there is none: the document is well-formed, and lxml raised for the warnings alone.

    The parser's own log, not the raised error's: that one holds entries of earlier parses in the
    same thread too."""
    for entry in error_log or ():
        if entry.type not in HARMLESS:
            return entry
    return None


def logged_error(error_log, element):
    """The first error libxml2 went on after (not a warning, not a fatal error, which lxml raises itself
    once the events before it are read) in ``error_log``, if it lies inside ``element`` or before its end.

    Places are compared by line: in a file without line breaks such an error fails at the first
    element of the line, which is the whole file.
    """
    for entry in error_log:
        if entry.level == etree.ErrorLevels.ERROR and entry.type not in HARMLESS:
            return entry if not entry.line or entry.line <= last_line(element) else None
    return None


def last_line(element) -> int:
    """The line (of the current parse) where ``element`` ends, near enough: where its last descendant
    begins, plus the line breaks in that one's text and in the text after it."""
    last = element
    for last in element.iter():
        pass
    line = (last.sourceline or 0) + (last.text or "").count("\n")
    return line + ((last.tail or "").count("\n") if last is not element else 0)


def describe(code: int | None) -> str:
    """What libxml2's error ``code`` means, in words that quote nothing of the input."""
    name = _NAMES.get(code) if code is not None else None
    if name is None:
        return f"libxml2 error {code}"
    return f"{_PHRASES[name]} ({name})" if name in _PHRASES else name


def ids_being_read(root) -> tuple[int | None, int | None]:
    """The ids of the last page under ``root`` and of its last revision, each only where its ``<id>``
    was read whole: the page and revision a fault cut short.

    ``root`` is the document's root as lxml has built it so far (finished pages are removed from it
    as they are read, so the last page is the one being read), or a ``<page>`` root itself.
    """
    if root is None:
        return None, None
    page = root if _local(root.tag) == "page" else _last(root, "page")
    if page is None:
        return None, None
    revision = _last(page, "revision")
    return ids_of(revision) if revision is not None else ids_of(page)


def ids_of(element) -> tuple[int | None, int | None]:
    """(page id, revision id) of a ``<revision>`` (and its page) or a ``<page>``, where each was read whole."""
    if _local(element.tag) == "revision":
        page = element.getparent()
        page_id = ids_of(page)[0] if page is not None and _local(page.tag) == "page" else None
        return page_id, _valid(whole_id(element), values.revision_id)
    return _valid(whole_id(element), values.page_id), None


def _valid(text: str | None, read) -> int | None:
    try:
        return read(text) if text is not None else None
    except MalformedXML:
        return None  # an id that is itself bad names nothing


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _last(parent, name: str):
    for child in reversed(parent):
        if _local(child.tag) == name:
            return child
    return None


def whole_id(element) -> str | None:
    """The text of ``element``'s ``<id>`` child, if the element after it began (so it was read whole)."""
    for child in element:
        if _local(child.tag) == "id":
            # the element after it has begun: the id's end tag was read, so its text is whole
            return child.text if child.getnext() is not None else None
    return None
