"""The typed records that flow from ``parse`` to the later stages.

Plain named tuples: cheap to build in the parser's hot loop, cheap to pickle to
worker processes, and holding ids rather than references to one another.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple


class SiteInfo(NamedTuple):
    """The dump's ``<siteinfo>`` and root attributes."""

    dbname: str | None
    sitename: str | None
    base: str | None
    generator: str | None
    case: str | None
    namespaces: dict[int, str]
    schema_version: str | None
    lang: str | None

    @classmethod
    def empty(cls, schema_version: str | None = None, lang: str | None = None) -> "SiteInfo":
        return cls(None, None, None, None, None, {}, schema_version, lang)

    def namespace_of(self, title: str) -> int:
        """The namespace id a title's prefix names (for schemas without ``<ns>``)."""
        prefix, sep, _ = title.partition(":")
        if sep:
            wanted = prefix.replace("_", " ").casefold()
            for key, name in self.namespaces.items():
                if key != 0 and name.casefold() == wanted:
                    return key
        return 0


class PageHeader(NamedTuple):
    """A page's own fields, read before its revisions."""

    id: int
    namespace: int
    title: str
    redirect_title: str | None
    restrictions: str | None


class Revision(NamedTuple):
    """One revision, with the page's id so that it stands alone.

    ``text_utf8`` is the text as UTF-8 bytes, as libxml2 holds it: the pipeline
    diffs, sizes and hashes those, and ``text`` decodes them only when asked (a
    Python string of a text with one emoji takes four bytes a character). Both
    are None when the text is deleted or the dump carries none (stubs);
    ``text_bytes`` is then the ``bytes`` attribute where the dump gives one.
    ``sha1`` is the revision's base-36 sha1 as the dump states it, else the
    main slot's, else None.
    """

    page_id: int
    id: int
    parent_id: int | None
    timestamp: str
    user_id: int | None
    user_text: str | None
    user_is_anonymous: bool
    user_deleted: bool
    minor: bool
    comment: str | None
    comment_deleted: bool
    model: str | None
    format: str | None
    text_utf8: bytes | None
    text_bytes: int | None
    text_deleted: bool
    sha1: str | None

    @property
    def text(self) -> str | None:
        """The text as a string, decoded at each call."""
        return None if self.text_utf8 is None else self.text_utf8.decode("utf-8")

    @classmethod
    def from_string(cls, xml: str, page_id: int = 1) -> "Revision":
        """Parse one ``<revision>`` element written as a string (for tests)."""
        from .parse import revision_from_element
        from lxml import etree

        element = etree.fromstring(xml.encode("utf-8"))
        return revision_from_element(element, page_id)


def sha1_base36(text: str | bytes) -> str:
    """MediaWiki's revision sha1: the SHA-1 of the UTF-8 text in base 36, padded to 31 digits."""
    number = int.from_bytes(hashlib.sha1(text.encode("utf-8") if isinstance(text, str) else text).digest(), "big")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out)).rjust(31, "0")
