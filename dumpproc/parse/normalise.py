"""What any reader of the dump format does once it has found a page's or a revision's fields.

A reader (``parse.readers``: the lxml walker, the compiled one) finds where each field is and
hands over its raw values: the element's text as a string, a ``<text>``'s bytes and attributes
(``RawText``), which elements were there. Everything from there on is the same whoever read
them, and lives here so that two readers cannot differ on it:

- values are checked (``values``): ids, namespaces, timestamps, sizes;
- the main slot is chosen (a ``<content>`` with role ``main`` over the first ``<text>``), the
  other slots are kept once per role and sorted by role, and a ``<content>`` without a role is
  counted as unknown;
- a text's size and whether it is deleted, absent (a stub) or empty (``text_value``);
- a page without ``<ns>`` takes its namespace from its title and the siteinfo.

A fault raises ``MalformedXML`` with ``field`` set to the field at fault (``FIELDS``) and, for a
revision, ``revision_id`` once the id is read, so that the reader places it in the file: lxml at
the element's line, the compiled reader at the byte where the field starts.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import NamedTuple

from ..errors import MalformedXML
from ..records import PageHeader, Revision, SiteInfo, Slot
from . import values

#: What ``MalformedXML.field`` names: the element at fault (``slot:<role>``: that slot's
#: ``<text>``), or ``revision``/``page`` for the element itself (a field it lacks).
FIELDS = ("page", "page/id", "page/ns", "revision", "revision/id", "timestamp", "parentid", "text",
          "contributor/id", "slot:<role>")


@contextmanager
def at(field: str, revision_id: int | None = None, page_id: int | None = None):
    """Name ``field`` (and the revision or page, when known) on a ``MalformedXML`` raised inside."""
    try:
        yield
    except MalformedXML as exc:
        exc.field = field
        if revision_id is not None:
            exc.revision_id = revision_id
        if page_id is not None:
            exc.page_id = page_id
        raise


class RawText(NamedTuple):
    """A ``<text>`` as a reader found it: its UTF-8 bytes (entities decoded, line ends as XML
    reads them; None when ``deleted``) and the attributes that matter."""

    utf8: bytes | None
    deleted: bool = False
    bytes: str | None = None  # the ``bytes`` attribute as written
    sha1: str | None = None  # the ``sha1`` attribute (0.11)
    stored: bool = False  # an ``id`` or ``location`` attribute: the text is stored elsewhere (stubs)


class RawRevision(NamedTuple):
    """A ``<revision>``'s fields as written, before any check: element texts are strings (None:
    the element is absent, "": it is empty); ``contents`` are the ``<content>`` slots as (role, model, format,
    text) in dump order, ``main`` among them if it is there."""

    id: str | None
    timestamp: str | None
    parent_id: str | None = None
    user_id: str | None = None  # the contributor's ``<id>``
    user_text: str | None = None  # ``<username>`` or ``<ip>``, the last one written
    anonymous: bool = False  # an ``<ip>`` was written
    user_deleted: bool = False
    minor: bool = False
    comment: str | None = ""  # "" when absent, None when deleted
    comment_deleted: bool = False
    model: str | None = None
    format: str | None = None
    sha1: str | None = None
    text: RawText | None = None  # the first ``<text>`` directly in the revision
    contents: tuple = ()


def text_value(text: RawText, declared_first: bool = False) -> tuple[bytes | None, int | None, bool]:
    """A slot's ``<text>``: (its UTF-8 bytes or None, its size or None, deleted).

    The size is the bytes', else the ``bytes`` attribute (``declared_first``: the attribute, else
    the bytes'), where a negative one (Wikimedia's dumper writes ``-1`` for deleted texts) is
    unknown. An empty ``<text>`` that names a size other than 0, or, without a size, a stored
    text (``id``, ``location``: stubs), is a text not in the dump, not an empty one.
    """
    text_utf8 = None if text.deleted else text.utf8
    if text_utf8 and not declared_first:
        return text_utf8, len(text_utf8), False
    declared = text.bytes
    size = None
    if declared is not None:
        size = values.integer(declared, "text/@bytes")
        if size < 0:
            size = None  # unknown, not a size
    if text_utf8:
        return text_utf8, len(text_utf8) if size is None else size, False
    if text_utf8 is not None:  # empty
        if declared is None and text.stored:
            return None, None, False  # a stub: the text is stored elsewhere
        if declared is not None and size != 0:
            return None, size, False  # a size, but not the text
        return text_utf8, 0, False
    return None, size, text.deleted


def revision(raw: RawRevision, page_id: int, unknown: Counter | None = None) -> Revision:
    """The ``Revision`` of a revision's raw fields, checked (module docstring)."""
    if raw.id is None:
        with at("revision"):
            raise MalformedXML("<revision> has no <id>")
    with at("revision/id"):
        revision_id = values.revision_id(raw.id)
    if raw.timestamp is None:
        with at("revision", revision_id):
            raise MalformedXML("<revision> has no <timestamp>")
    with at("timestamp", revision_id):
        timestamp = values.timestamp(raw.timestamp)
    parent_id = None
    if raw.parent_id is not None:
        with at("parentid", revision_id):
            parent_id = values.parent_id(raw.parent_id)
    main, main_model, main_format = raw.text, None, None
    others = []
    for role, model, fmt, text in raw.contents:
        if role == "main":
            if text is not None:
                main, main_model, main_format = text, model, fmt
        elif role:
            others.append((role, model, fmt, text))
        elif unknown is not None:
            unknown["content:(no role)"] += 1  # a slot without a name cannot be a column's key
    text_bytes = text_utf8 = text_sha1 = None
    text_deleted = False
    if main is not None:
        with at("text", revision_id):
            text_utf8, text_bytes, text_deleted = text_value(main)
        text_sha1 = main.sha1 or None
    slots = []
    seen = set()
    for role, model, fmt, text in others:
        if role in seen:  # a role twice: the first is the slot, as the first <text> is the main one
            continue
        seen.add(role)
        body = size = sha1 = None
        deleted = False
        if text is not None:
            with at(f"slot:{role}", revision_id):
                # MediaWiki's size of the slot, as the Data Lake has it: for Wikibase content
                # (Commons' mediainfo) it is not the bytes of the JSON the dump holds
                body, size, deleted = text_value(text, declared_first=True)
            sha1 = text.sha1 or None
        slots.append(Slot(role, model, fmt, body, size, sha1, deleted))
    slots.sort(key=lambda slot: slot.role)
    user_id = None
    if not raw.anonymous and raw.user_id is not None:
        with at("contributor/id", revision_id):
            user_id = values.user_id(raw.user_id)
    return Revision(
        page_id=page_id,
        id=revision_id,
        parent_id=parent_id,
        timestamp=timestamp,
        user_id=user_id,
        user_text=raw.user_text or None,  # an empty name is no name
        user_is_anonymous=raw.anonymous,
        user_deleted=raw.user_deleted,
        minor=raw.minor,
        comment=raw.comment,
        comment_deleted=raw.comment_deleted,
        model=main_model or raw.model,
        format=main_format or raw.format,
        text_utf8=text_utf8,
        text_bytes=text_bytes,
        text_deleted=text_deleted,
        sha1=raw.sha1 or None,
        text_sha1=text_sha1,
        slots=tuple(slots),
    )


def page_header(page_id: str | None, title: str | None, ns: str | None, redirect: str | None,
                restrictions: str | None, site_info: SiteInfo) -> tuple[PageHeader, bool]:
    """The ``PageHeader`` of a page's raw fields (``page_id``, ``title``, ``ns``: the elements'
    texts, None when absent; an empty element is ""), and whether its namespace came from its
    title for want of ``<ns>`` (the manifest counts those pages)."""
    if page_id is None:
        with at("page"):
            raise MalformedXML("<page> has no <id>")
    with at("page/id"):
        checked_id = values.page_id(page_id)
    if title is None:
        with at("page", page_id=checked_id):
            raise MalformedXML("<page> has no <title>")
    if ns is None:  # before 0.6 no page has one; mwxml reads a later page without one the same way
        return PageHeader(checked_id, site_info.namespace_of(title), title, redirect, restrictions), True
    with at("page/ns", page_id=checked_id):
        namespace = values.namespace(ns)
    return PageHeader(checked_id, namespace, title, redirect, restrictions), False
