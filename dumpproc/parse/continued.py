"""A page whose history goes on in the next ``<page>`` element: read as one page.

A dump may write one page as several ``<page>`` elements in a row, each with part of its
revisions: the Data Lake's dumps cut a long history into files of one page each
(``p<page>r<first>r<last>``, see ``sources.names``), and a unit reads those files one after the
other (``pipeline.unit``). ``merge_continued`` turns adjacent pages with the same id into one
``ContinuedPage``, whose revisions are those of every part in order (a part has the page's id and
title: two adjacent pages that share an id under other titles are two records, as mwxml reads them): the stages after it see one
page, so its diff chain, its reverts, its ``pages`` row and its counters are those of the same
history written as one element.

It stays single-pass and lazy like ``Dump.pages()``: whether a page goes on is known only when the
next ``<page>`` is read, which happens when the page's last revision has been handed out; that
next page, if it is another, is held and handed out next. A fault met there belongs to the next
page: the page is whole, and the fault is raised when the next page is asked for. The header is
the first part's.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from ..errors import DumpError
from ..records import HeaderFields, PageHeader, Revision


class ContinuedPage(HeaderFields):
    """One page made of adjacent parts with the same id; iterated once, like ``parse.Page``.

    ``skipped`` (``--on-error skip-page``): a part was malformed; the page is skipped whole, so the
    parts after it with the same id are read through without handing out their revisions.
    ``parts`` counts the elements it was made of.
    """

    __slots__ = ("header", "skipped", "parts", "following", "fault", "_first", "_source", "_revisions")

    def __init__(self, first, source: Iterator):
        self.header: PageHeader = first.header
        self.skipped = False
        self.parts = 1
        #: the next page of another id, read ahead to see that this one had ended (None at the end)
        self.following = None
        #: a fault met reading the next page's start: this page is whole, the fault comes after it
        self.fault: DumpError | None = None
        self._first = first
        self._source = source
        self._revisions = self._read()  # one generator: a page left half-read is finished where it stopped

    def __iter__(self) -> Iterator[Revision]:
        return self._revisions

    def segments(self) -> Iterator:
        """The revisions as a columnar reader's parts give them (``segments()``: ``RevisionBatch``
        runs and ``Revision``s), each part's records where it has no columns. Instead of iterating."""
        self._revisions = self._read(columns=True)
        return self._revisions

    def _read(self, columns: bool = False) -> Iterator[Revision]:
        part, self._first = self._first, None
        while part is not None:
            for revision in (part.segments() if columns and hasattr(part, "segments") else part):
                if not self.skipped:
                    yield revision
            self.skipped = self.skipped or part.skipped
            try:
                after = next(self._source, None)  # the source finishes ``part`` and reads the next <page>
            except DumpError as exc:
                self.fault, after = exc, None
            if after is not None and after.id == self.id and after.title == self.title:
                self.parts += 1
                part = after
            else:
                self.following, part = after, None

    def _drain(self) -> None:
        for _ in self._revisions:
            pass


def merge_continued(pages: Iterable) -> Iterator[ContinuedPage]:
    """The pages of ``pages`` with each run of adjacent same-id pages made one (module docstring)."""
    source = iter(pages)
    page = next(source, None)
    while page is not None:
        merged = ContinuedPage(page, source)
        yield merged
        merged._drain()
        if merged.fault is not None:
            raise merged.fault
        page = merged.following
