"""One ``<revision>`` element to a ``Revision`` record, for every schema from 0.3 to 0.11.

Its values are checked here (``values``); an error about one names the revision
by its id once that id has been read, and the line (of the current parse) of the
element at fault.
"""

from __future__ import annotations

from collections import Counter

from lxml.etree import tostring as _text_bytes

from ..errors import MalformedXML
from ..records import Revision, Slot
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
    contents = []  # (role, model, format, text element) of the other slots, in dump order
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
            if role == "main":
                if slot_text is not None:
                    main, main_model, main_format = slot_text, slot_model, slot_format
            elif role:
                contents.append((role, slot_model, slot_format, slot_text))
            elif unknown is not None:
                unknown["content:(no role)"] += 1  # a slot without a name cannot be a column's key
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
        text_bytes = text_utf8 = text_sha1 = None
        text_deleted = False
        if main is not None:
            at = main
            text_utf8, text_bytes, text_deleted = _read_text(main)
            text_sha1 = main.get("sha1") or None
        slots = []
        seen = set()
        for role, slot_model, slot_format, slot_text in contents:
            if role in seen:  # a role twice: the first is the slot, as the first <text> is the main one
                continue
            seen.add(role)
            body = size = slot_sha1 = None
            deleted = False
            if slot_text is not None:
                at = slot_text
                # MediaWiki's size of the slot, as the Data Lake has it: for Wikibase content
                # (Commons' mediainfo) it is not the bytes of the JSON the dump holds
                body, size, deleted = _read_text(slot_text, declared_first=True)
                slot_sha1 = slot_text.get("sha1") or None
            slots.append(Slot(role, slot_model, slot_format, body, size, slot_sha1, deleted))
        slots.sort(key=lambda slot: slot.role)
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
        text_sha1=text_sha1,
        slots=tuple(slots),
    )


def _read_text(element, declared_first: bool = False) -> tuple[bytes | None, int | None, bool]:
    """A slot's ``<text>``: (its UTF-8 bytes or None, its size or None, deleted).

    The bytes are those libxml2 delivers (line ends read as LF, as XML has them). The size
    is theirs, else the ``bytes`` attribute (``declared_first``: the attribute, else theirs),
    where a negative one (Wikimedia's dumper writes ``-1`` for deleted texts) is unknown. An
    empty ``<text>`` that names a size other than 0, or, without a size, a stored text
    (``id``, ``location``: stubs), is a text not in the dump, not an empty one.
    """
    deleted = element.get("deleted") is not None
    text_utf8 = None
    if not deleted:
        # the UTF-8 bytes straight from libxml2: no Python string, no encoding
        text_utf8 = _text_bytes(element, method="text", encoding="utf-8", with_tail=False)
        if text_utf8 and not declared_first:
            return text_utf8, len(text_utf8), False
    declared = element.get("bytes")
    size = None
    if declared is not None:
        size = values.integer(declared, "text/@bytes")
        if size < 0:
            size = None  # unknown, not a size
    if text_utf8:
        return text_utf8, len(text_utf8) if size is None else size, False
    if text_utf8 is not None:  # empty
        if declared is None and (element.get("id") is not None or element.get("location") is not None):
            return None, None, False  # a stub: the text is stored elsewhere
        if declared is not None and size != 0:
            return None, size, False  # a size, but not the text
        return text_utf8, 0, False
    return None, size, deleted


def revision_from_string(xml: str, page_id: int = 1) -> Revision:
    """One ``<revision>`` element written as a string, read as a dump's would be (for tests)."""
    from lxml import etree

    return revision_from_element(etree.fromstring(xml.encode("utf-8")), page_id)
