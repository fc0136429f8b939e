"""One ``<revision>`` element to a ``Revision`` record, for every schema from 0.3 to 0.11.

Its values are checked here (``values``); an error about one names the revision
by its id once that id has been read, and the line (of the current parse) of the
element at fault.
"""

from __future__ import annotations

from collections import Counter

from lxml.etree import tostring as _text_bytes

from ..errors import MalformedXML
from ..records import Revision
from . import values

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
    """Build a ``Revision`` from a finished ``<revision>`` element of any schema."""
    rev_id = parent_id = timestamp = sha1 = model = fmt = None
    user_id = user_text = None
    anonymous = user_deleted = minor = comment_deleted = False
    comment: str | None = ""
    main = None  # the element holding the main slot's text
    main_model = main_format = None
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
                        user_text = field.text or None  # an empty name is no name
                    elif ftag == "id":
                        user_id = field
                    elif ftag == "ip":
                        user_text = field.text or None
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
            sha1 = child.text or None
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
            if role == "main" and slot_text is not None:
                main, main_model, main_format = slot_text, slot_model, slot_format
        elif tag and tag not in _REVISION_IGNORED and unknown is not None:
            unknown[f"revision:{_local(tag)}"] += 1

    if rev_id is None:
        raise MalformedXML("<revision> has no <id>", line=element.sourceline)
    try:
        revision_id = values.revision_id(rev_id.text)
    except MalformedXML as exc:
        exc.line = rev_id.sourceline
        raise
    at = element  # the element being checked: an error's line is its line
    try:
        if timestamp is None:
            raise MalformedXML("<revision> has no <timestamp>")
        at = timestamp
        timestamp = values.timestamp(timestamp.text)
        if parent_id is not None:
            at = parent_id
            parent_id = values.parent_id(parent_id.text)
        text_bytes = None
        text_utf8 = None
        text_deleted = False
        if main is not None:
            text_deleted = main.get("deleted") is not None
            declared = main.get("bytes")
            if not text_deleted:
                # the UTF-8 bytes straight from libxml2: no Python string, no encoding
                text_utf8 = _text_bytes(main, method="text", encoding="utf-8", with_tail=False)
                if not text_utf8 and declared not in (None, "0") and (main.get("location") or main.get("id")):
                    text_utf8 = None  # a stub: the dump carries the size and sha1 but not the text
            if text_utf8 is not None:
                text_bytes = len(text_utf8)
            elif declared is not None:
                at = main
                text_bytes = values.integer(declared, "text/@bytes")  # -1 (unknown) is kept as it is
            if sha1 is None:
                sha1 = main.get("sha1") or None
        if anonymous or user_id is None:
            user_id = None
        else:
            at = user_id
            user_id = values.user_id(user_id.text)
    except MalformedXML as exc:
        exc.revision_id = revision_id  # the revision at fault is this one, whose id is known
        exc.line = at.sourceline
        raise
    return Revision(
        page_id=page_id,
        id=revision_id,
        parent_id=parent_id,
        timestamp=timestamp,
        user_id=user_id,
        user_text=user_text,
        user_is_anonymous=anonymous,
        user_deleted=user_deleted,
        minor=minor,
        comment=comment,
        comment_deleted=comment_deleted,
        model=main_model or model,
        format=main_format or fmt,
        text_utf8=text_utf8,
        text_bytes=text_bytes,
        text_deleted=text_deleted,
        sha1=sha1,
    )
