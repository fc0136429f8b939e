"""The typed records that flow from ``parse`` to the later stages.

Plain named tuples: cheap to build in the parser's hot loop, cheap to pickle to
worker processes, and holding ids rather than references to one another.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Iterable, NamedTuple

import numpy as np


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


class HeaderFields:
    """``id``, ``namespace`` and ``title`` of an object that holds a page's ``header`` (a reader's page)."""

    __slots__ = ()
    header: PageHeader

    @property
    def id(self) -> int:
        return self.header.id

    @property
    def namespace(self) -> int:
        return self.header.namespace

    @property
    def title(self) -> str:
        return self.header.title


class Slot(NamedTuple):
    """One content slot of a revision other than ``main`` (schema 0.11's ``<content>``, by ``role``).

    ``text_utf8`` is None when the slot's text is deleted or not in the dump; ``size`` is
    its ``bytes`` attribute (MediaWiki's size of the slot, which for Wikibase content is not
    the bytes of its JSON), else the text's UTF-8 bytes, else None (a negative attribute is
    unknown); ``sha1`` is its ``<text sha1=…>`` as the dump gives it, else None.
    """

    role: str
    model: str | None
    format: str | None
    text_utf8: bytes | None
    size: int | None
    sha1: str | None
    deleted: bool

    @property
    def text(self) -> str | None:
        return None if self.text_utf8 is None else self.text_utf8.decode("utf-8")

    def computed_sha1(self) -> str | None:
        """The slot's sha1: the dump's, else computed from its text, else None."""
        if self.sha1 is not None:
            return self.sha1
        return None if self.text_utf8 is None else sha1_base36(self.text_utf8)


class Revision(NamedTuple):
    """One revision, with the page's id so that it stands alone.

    ``text_utf8`` is the main slot's text as UTF-8 bytes, as libxml2 holds it: the
    pipeline diffs, sizes and hashes those, and ``text`` decodes them only when asked (a
    Python string of a text with one emoji takes four bytes a character). Both are None
    when the text is deleted or the dump carries none (stubs); ``text_bytes`` is then the
    ``bytes`` attribute where the dump gives one (None when it gives none, or a negative one:
    unknown). ``sha1`` is the revision's ``<sha1>`` (over all its slots) as the dump gives
    it, ``text_sha1`` the main slot's ``<text sha1=…>`` (0.11), each None when absent;
    ``main_sha1`` and ``revision_sha1`` derive the values the tables hold. ``slots`` are
    the slots other than ``main``, sorted by role (empty for a one-slot revision).
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
    text_sha1: str | None = None
    slots: tuple[Slot, ...] = ()

    @property
    def roles(self) -> list[str]:
        """The revision's slot roles, ``main`` first."""
        return ["main", *(slot.role for slot in self.slots)]

    def main_sha1(self) -> str | None:
        """The main slot's sha1: ``<text sha1=…>``, else the revision's ``<sha1>`` when it is the only
        slot, else computed from the text (as XML delivers it), else None."""
        if self.text_sha1 is not None:
            return self.text_sha1
        if self.sha1 is not None and not self.slots:
            return self.sha1
        return None if self.text_utf8 is None else sha1_base36(self.text_utf8)

    def revision_sha1(self, main_sha1: str | None = None) -> str | None:
        """The sha1 over all slots: the dump's ``<sha1>``, else computed as MediaWiki's
        ``RevisionSlots::computeSha1`` from each slot's sha1 (``slots_sha1``); None when one is
        not known. ``main_sha1``: ``main_sha1()``, when the caller has it already."""
        if self.sha1 is not None:
            return self.sha1
        main = main_sha1 if main_sha1 is not None else self.main_sha1()
        if not self.slots:
            return main
        return slots_sha1([("main", main), *((slot.role, slot.computed_sha1()) for slot in self.slots)])

    def size(self) -> int | None:
        """Bytes of all slots together; None when one slot's size is not known."""
        total = self.text_bytes
        for slot in self.slots:
            if total is None or slot.size is None:
                return None
            total += slot.size
        return total

    @property
    def text(self) -> str | None:
        """The text as a string, decoded at each call."""
        return None if self.text_utf8 is None else self.text_utf8.decode("utf-8")


class RevisionBatch:
    """Consecutive one-slot revisions of one page as columns: what a columnar reader (``fastxml``)
    hands the stages instead of a ``Revision`` each, holding the same values.

    Every field is a NumPy array of one value per revision, views of the reader's buffers.
    Strings are spans of ``out`` (UTF-8, decoded): ``spans[name]`` is (starts, ends), start -1
    where the value is None, for ``user_text``, ``comment`` (absent is "", deleted is None, as
    ``Revision.comment``), ``model``, ``format``, ``sha1``, ``text_sha1``. Ids are 0 where None
    (no parent, no user id); ``text_bytes`` is -1 where None; ``text_start`` -1 where the text is
    None (deleted, or not in the dump).
    """

    __slots__ = ("out", "ids", "parent_ids", "timestamps_us", "user_ids", "anonymous", "user_deleted", "minor",
                 "comment_deleted", "text_deleted", "text_bytes", "text_start", "text_end", "spans", "_decoded")

    def __init__(self, decoded=None, **columns):
        for name in self.__slots__[:-1]:
            setattr(self, name, columns[name])
        #: ``strings(name)`` as the reader decoded it already (a block's columns at once), if it did
        self._decoded = decoded

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def joined(batches: list["RevisionBatch"]) -> "RevisionBatch":
        """The revisions of ``batches`` (of one buffer ``out``) as one batch, in order."""
        columns = {name: np.concatenate([getattr(b, name) for b in batches]) for name in _BATCH_ARRAYS}
        spans = {name: (np.concatenate([b.spans[name][0] for b in batches]),
                        np.concatenate([b.spans[name][1] for b in batches])) for name in batches[0].spans}
        return RevisionBatch(out=batches[0].out, spans=spans,
                             decoded=lambda name: [v for b in batches for v in b.strings(name)], **columns)

    def text(self, i: int) -> memoryview | None:
        """Revision ``i``'s main text (UTF-8), a view of ``out``; None when it has none."""
        start = self.text_start[i]
        return None if start < 0 else memoryview(self.out[start:self.text_end[i]])

    def strings(self, name: str) -> list:
        """Column ``name`` as Python strings (None where None)."""
        if self._decoded is not None:
            return self._decoded(name)
        starts, ends = self.spans[name]
        out = self.out
        return [None if s < 0 else out[s:e].tobytes().decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist())]


#: ``RevisionBatch``'s columns of one value per revision
_BATCH_ARRAYS = ("ids", "parent_ids", "timestamps_us", "user_ids", "anonymous", "user_deleted", "minor",
                 "comment_deleted", "text_deleted", "text_bytes", "text_start", "text_end")

_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def _groups36() -> list[str]:
    """Every three-digit group of base 36 (36 ** 3 of them): a digest is written eleven groups at a time."""
    return [a + b + c for a in _DIGITS36 for b in _DIGITS36 for c in _DIGITS36]


def sha1_base36(text: str | bytes | memoryview) -> str:
    """MediaWiki's revision sha1: the SHA-1 of the UTF-8 text in base 36, padded to 31 digits."""
    return digest_base36(hashlib.sha1(text.encode("utf-8") if isinstance(text, str) else text).digest())


def digest_base36(digest: bytes) -> str:
    """A SHA-1 digest in base 36, padded to 31 digits, as MediaWiki writes sha1s."""
    number = int.from_bytes(digest, "big")
    groups = _groups36()
    out = []
    while number:
        number, rest = divmod(number, 46_656)
        out.append(groups[rest])
    return "".join(reversed(out)).lstrip("0").rjust(31, "0")


def slots_sha1(roles_and_sha1s: Iterable[tuple[str, str | None]]) -> str | None:
    """MediaWiki's ``RevisionSlots::computeSha1``: the slots' sha1s in the order of their roles,
    folded as ``sha1_base36(accumulated + next)``; one slot's is its own. None when a slot's sha1
    is not known (MediaWiki always knows it; a dump may not say) or there are no slots."""
    accumulated = None
    for _, sha1 in sorted(roles_and_sha1s, key=lambda pair: pair[0]):  # code points: PHP's ksort of UTF-8 bytes
        if sha1 is None:
            return None
        accumulated = sha1 if accumulated is None else sha1_base36(accumulated + sha1)
    return accumulated


_BASE36_SHA1 = re.compile(r"[0-9a-z]{1,31}", re.ASCII)
_SHA1_LIMIT = 1 << 160


def is_base36_sha1(sha1: str) -> bool:
    """Whether a sha1 is written as MediaWiki writes them: a SHA-1 in base 36, lower case, at most 31
    digits (old exports have hexadecimal ones, which are kept as given)."""
    return _BASE36_SHA1.fullmatch(sha1) is not None and int(sha1, 36) < _SHA1_LIMIT
