"""One ``<revision>`` element to a ``Revision`` record, for every schema from 0.3 to 0.11."""

from __future__ import annotations

from collections import Counter

from lxml.etree import tostring as _text_bytes

from ..errors import MalformedXML
from ..records import Revision

_REVISION_IGNORED = {"origin"}


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _int(text: str | None, what: str) -> int:
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MalformedXML(f"<{what}> is {text!r}, not an integer") from None



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
            rev_id = child.text
        elif tag == "timestamp":
            timestamp = child.text
        elif tag == "contributor":
            if child.get("deleted") is not None:
                user_deleted = True
            else:
                for field in child:
                    ftag = _local(field.tag)
                    if ftag == "username":
                        user_text = field.text or None  # an empty name is no name
                    elif ftag == "id":
                        user_id = field.text
                    elif ftag == "ip":
                        user_text = field.text or None
                        anonymous = True
                    elif unknown is not None and ftag:
                        unknown[f"contributor:{ftag}"] += 1
        elif tag == "parentid":
            parent_id = child.text
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
            unknown[f"revision:{tag}"] += 1

    if rev_id is None:
        raise MalformedXML("<revision> has no <id>")
    if timestamp is None:
        raise MalformedXML("<revision> has no <timestamp>")
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
            text_bytes = _int(declared, "text/@bytes")
        if sha1 is None:
            sha1 = main.get("sha1") or None
    if user_id is not None:
        user_id = _int(user_id, "contributor/id")
    if anonymous:
        user_id = None
    return Revision(
        page_id=page_id,
        id=_int(rev_id, "revision/id"),
        parent_id=_int(parent_id, "parentid") if parent_id else None,
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
