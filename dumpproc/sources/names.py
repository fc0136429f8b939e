"""What a dump file's name says: its wiki, date, kind, format and the pages it holds.

Two families of names are read:

- Wikimedia's XML dumps, ``<wiki>-<YYYYMMDD>-<kind>[N].xml[-p<first>p<last>].<ext>``
  (``enwiki-20260101-pages-meta-history3.xml-p151574p311329.bz2``);
- the content-history dumps written from the Data Lake (analytics-refinery-source's
  ``MediawikiDumper``), ``<wiki>-<YYYY-MM-DD>-p<first>p<last>.xml[.<ext>]`` for a run of pages and
  ``<wiki>-<YYYY-MM-DD>-p<page>r<first>r<last>.xml[.<ext>]`` for a file holding one page (its
  revisions ``first`` to ``last``, in the dumper's (timestamp, id) order): a page whose history
  is larger than a file is cut into several of these. Their names carry no kind (before
  September 2025 they ended ``-pages-meta-history.xml.<ext>``); the folder says it,
  ``…/mediawiki_content_history/…`` (every revision) or ``…/mediawiki_content_current/…``.
  Names written before February 2026 repeat the first revision (``r<first>r<first>``).

``page_order`` sorts one dump's files by the pages they hold, and ``continues`` says when a
file's first page is the one the file before it ended with (its history goes on there).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

#: Dump kinds that each hold every page's revisions (or a subset of the same revisions).
KINDS = ("pages-meta-history", "pages-meta-current", "pages-articles-multistream", "pages-articles",
         "stub-meta-history", "stub-meta-current", "stub-articles", "pages-logging")
HISTORY = "pages-meta-history"
CURRENT = "pages-meta-current"
#: The folders of the Data Lake's dumps, and the kind their (kind-less) files are.
CONTENT_FOLDERS = {"mediawiki_content_history": HISTORY, "mediawiki_content_current": CURRENT}

_WIKI_DATE = re.compile(r"^(?P<wiki>[a-z0-9_]+)-(?P<date>\d{8}|\d{4}-\d{2}-\d{2}|latest)-")
_PAGES = re.compile(r"-p(?P<first>\d+)(?:p(?P<last>\d+)|r(?P<rfirst>\d+)r(?P<rlast>\d+))(?=[.-]|$)")
_COMPRESSION = re.compile(r"\.(bz2|7z|gz|zst|xz|lzma)$")


def compression_suffix(name: str) -> str:
    """``.bz2``, ``.7z``, ... or ``.xml`` for a name without a compression suffix."""
    found = _COMPRESSION.search(name)
    return found.group(0) if found else ".xml"


def stem(name: str) -> str:
    """The name without its compression suffix: the same dump's part in any format."""
    return _COMPRESSION.sub("", name)


@dataclass(frozen=True)
class DumpName:
    """What a file's name says; fields the name does not give are None."""

    wiki: str | None
    #: YYYYMMDD (a content-history name's YYYY-MM-DD without dashes), or "latest"
    date: str | None
    kind: str | None
    format: str
    #: the first and last page ids of a run of pages; both the page's for a one-page file
    first_page: int | None = None
    last_page: int | None = None
    #: a one-page file's first and last revision ids (``p<page>r<first>r<last>``)
    first_revision: int | None = None
    last_revision: int | None = None
    #: written from the Data Lake (a YYYY-MM-DD date), not by Wikimedia's XML dumps
    lake: bool = False

    @property
    def one_page(self) -> bool:
        return self.first_revision is not None

    @property
    def dump(self) -> tuple:
        """Files with the same key are parts of one dump of one kind, in one format."""
        return (self.wiki, self.date, self.kind, self.lake, self.format)


def parse_name(path: str) -> DumpName:
    """The ``DumpName`` of a path (a content-history file's kind comes from its folder)."""
    name = os.path.basename(path)
    found = _WIKI_DATE.match(name)
    wiki = found.group("wiki") if found else None
    date = found.group("date").replace("-", "") if found else None
    kind = next((k for k in KINDS if f"-{k}" in name), None)
    if kind is None:
        parts = os.path.abspath(path).split(os.sep)
        kind = next((CONTENT_FOLDERS[p] for p in parts if p in CONTENT_FOLDERS), None)
        if kind is None and found and _PAGES.search(name):  # a Data Lake dump's name outside its tree
            kind = HISTORY
    pages = _PAGES.search(name[found.end() - 1:] if found else name)
    first = last = r_first = r_last = None
    if pages:
        first = int(pages.group("first"))
        if pages.group("last") is not None:
            last = int(pages.group("last"))
        else:
            last, r_first, r_last = first, int(pages.group("rfirst")), int(pages.group("rlast"))
    lake = bool(found) and "-" in found.group("date")
    return DumpName(wiki, date, kind, compression_suffix(name), first, last, r_first, r_last, lake)


def order_key(path: str) -> tuple:
    """Where a file's pages come in its dump (``page_order``)."""
    name = parse_name(path)
    if name.first_page is None:
        return (1, 0, 0, 0, os.path.basename(path))
    # a page's one-page pieces come before a run that begins with the same page (it goes on from them)
    return (0, name.first_page, 0 if name.one_page else 1, name.first_revision or 0, os.path.basename(path))


def page_order(paths: list[str]) -> list[str]:
    """One dump's files in the order of the pages they hold (``p10p20`` after ``p2p9``; the pieces of
    one page by their first revision); files whose names give no pages after them, by name."""
    return sorted(paths, key=order_key)


def continues(before: str, after: str) -> bool:
    """Whether ``after`` begins with the page ``before`` ends with, in the same dump (names say so)."""
    a, b = parse_name(before), parse_name(after)
    return (a.dump == b.dump and a.wiki is not None and a.last_page is not None
            and a.last_page == b.first_page and os.path.dirname(before) == os.path.dirname(after))
