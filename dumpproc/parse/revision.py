"""One ``<revision>`` element to a ``Revision`` record, for every schema from 0.3 to 0.11.

The lxml reader's part is finding the fields in the element tree (``raw_revision``);
checking and normalising them is shared with every reader (``normalise``). An error
about a value names the revision by its id once that id has been read, and the line
(of the current parse) of the element at fault.
"""

from __future__ import annotations

from collections import Counter

from lxml.etree import tostring as _text_bytes

from ..errors import MalformedXML
from ..records import Revision
from . import normalise
from .normalise import RawRevision, RawText

_REVISION_IGNORED = {"origin"}


#: What an element name that is not an XML name is counted as: the name is input, and an IPv6 address
#: (which has colons, as no XML local name has) must not reach the manifest through it.
NOT_A_NAME = "(not an XML name)"


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    local = tag.rpartition("}")[2]
    return local if ":" not in local else NOT_A_NAME


def revision_from_element(element, page_id: int, unknown: Counter | None = None) -> Revision:
    """Build a ``Revision`` from a finished ``<revision>`` element of any schema.

    The walk only finds the fields (``raw_revision``); ``normalise.revision`` checks them, and a
    fault it names by field is placed here at that element's line.
    """
    raw, elements = raw_revision(element, unknown)
    try:
        return normalise.revision(raw, page_id, unknown)
    except MalformedXML as exc:
        at = elements.get(getattr(exc, "field", None), element)
        exc.line = at.sourceline
        raise


def raw_revision(element, unknown: Counter | None = None) -> tuple[RawRevision, dict]:
    """A ``<revision>`` element's fields as written (``normalise.RawRevision``), and the element
    each checked field came from (by ``normalise.FIELDS`` name), for placing a fault."""
    rev_id = parent_id = timestamp = sha1 = model = fmt = None
    user_id = user_text = None
    anonymous = user_deleted = minor = comment_deleted = False
    comment: str | None = ""
    main = None  # the element holding the first <text>
    contents = []  # (role, model, format, RawText) of the <content> slots, in dump order
    elements = {}
    for child in element:
        tag = child.tag.rpartition("}")[2] if isinstance(child.tag, str) else ""
        if tag == "text":
            if main is None:
                main = child
        elif tag == "id":
            rev_id = child
        elif tag == "timestamp":
            timestamp = child
        elif tag == "contributor":
            if child.get("deleted") is not None:
                user_deleted = True
            else:
                for field in child:
                    ftag = _local(field.tag)
                    if ftag == "username":
                        user_text = field.text
                    elif ftag == "id":
                        user_id = field
                    elif ftag == "ip":
                        user_text = field.text
                        anonymous = True
                    elif unknown is not None and ftag:
                        unknown[f"contributor:{ftag}"] += 1
        elif tag == "parentid":
            parent_id = child
        elif tag == "minor":
            minor = True
        elif tag == "comment":
            if child.get("deleted") is not None:
                comment, comment_deleted = None, True
            else:
                comment = child.text or ""
        elif tag == "sha1":
            sha1 = child.text
        elif tag == "model":
            model = child.text
        elif tag == "format":
            fmt = child.text
        elif tag == "content":
            role = slot_text = None
            slot_model = slot_format = None
            for field in child:
                ftag = _local(field.tag)
                if ftag == "role":
                    role = field.text
                elif ftag == "text":
                    slot_text = field
                elif ftag == "model":
                    slot_model = field.text
                elif ftag == "format":
                    slot_format = field.text
            if role and role != "main" and slot_text is not None:
                elements.setdefault(f"slot:{role}", slot_text)
            elif role == "main" and slot_text is not None:
                elements["text"] = slot_text  # the last one with a text is the main slot, as in normalise
            contents.append((role, slot_model, slot_format, None if slot_text is None else _raw_text(slot_text)))
        elif tag and tag not in _REVISION_IGNORED and unknown is not None:
            unknown[f"revision:{_local(tag)}"] += 1
    if main is not None:
        elements.setdefault("text", main)
    for name, found in (("revision/id", rev_id), ("timestamp", timestamp), ("parentid", parent_id),
                        ("contributor/id", user_id)):
        if found is not None:
            elements[name] = found
    raw = RawRevision(
        id=_value(rev_id), timestamp=_value(timestamp), parent_id=_value(parent_id), user_id=_value(user_id),
        user_text=user_text, anonymous=anonymous, user_deleted=user_deleted, minor=minor, comment=comment,
        comment_deleted=comment_deleted, model=model, format=fmt, sha1=sha1,
        text=None if main is None else _raw_text(main), contents=tuple(contents))
    return raw, elements


def _value(element) -> str | None:
    """An element's text: None when it is absent, "" when it is empty."""
    return None if element is None else (element.text or "")


def _raw_text(element) -> RawText:
    """A ``<text>`` as ``normalise`` takes it: the UTF-8 bytes straight from libxml2 (no Python
    string, no encoding; line ends read as LF, as XML has them) and its attributes."""
    deleted = element.get("deleted") is not None
    return RawText(
        utf8=None if deleted else _text_bytes(element, method="text", encoding="utf-8", with_tail=False),
        deleted=deleted, bytes=element.get("bytes"), sha1=element.get("sha1"),
        stored=element.get("id") is not None or element.get("location") is not None)


def revision_from_string(xml: str, page_id: int = 1) -> Revision:
    """One ``<revision>`` element written as a string, read as a dump's would be (for tests)."""
    from lxml import etree

    return revision_from_element(etree.fromstring(xml.encode("utf-8")), page_id)
