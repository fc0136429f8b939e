"""A unit's input as one stream of pages: its file (or split share), or the files that continue one
another, each opened when the one before it ends.

``UnitInput`` gives ``run_unit`` one ``pages()`` whatever the unit is: each file is read by its
own reader, opened by name from the registry (``parse.readers``; so a fault names its own file and
place), and adjacent ``<page>`` elements with the
same id, within a file or across two, are one page (``parse.continued``). What the manifest
counts per dump (unknown elements, skipped pages, XML bytes) is summed over the files.

The one-page pieces of a page (``p<page>r<first>r<last>``) are read in the order of their first
revisions' timestamps: the Data Lake's dumper cuts a history in (timestamp, revision id) order and
names each piece by its first revision's id, and ids do not always rise with time (imported
revisions get new ids). Each piece's first revision is peeked at when the unit starts; where one
cannot be, the names' order stands.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Callable, Iterator

from ..parse.readers import DumpReader, open_reader
from ..parse.continued import ContinuedPage, merge_continued
from ..errors import DumpError
from ..sources import open_dump
from ..sources.names import parse_name
from ..units import Unit


class UnitInput:
    """The unit's files read in order; use as a context manager (the open stream is closed)."""

    def __init__(self, unit: Unit, threads: int, on_error: str, open_first: Callable, parser: str = "lxml"):
        self.unit, self.threads, self.on_error = unit, threads, on_error
        #: the registered reader that reads every file of the unit (the manifest records it)
        self.parser = parser
        #: the files in the order they are read (a chain's pieces of one page by time)
        self.order = _reading_order(unit.paths, threads) if unit.continued else [unit.path]
        first = open_first(unit, threads) if self.order[0] == unit.path else open_dump(self.order[0], threads)
        self._streams = [first]
        self._dumps: list[DumpReader] = []
        self._done_bytes = 0  # the sizes of the files read to their end
        self.codec = first.codec
        try:
            self._dumps.append(open_reader(parser, first, self.order[0], on_error))
        except BaseException:
            first.close()
            raise
        self.site_info = self._dumps[0].site_info

    def __enter__(self) -> "UnitInput":
        return self

    def __exit__(self, *exc) -> None:
        _close_reader(self._dumps[-1])  # a reader reading ahead stops before its stream is closed
        self._streams[-1].close()

    def pages(self) -> Iterator[ContinuedPage]:
        """The unit's pages, a page that goes on in the next ``<page>`` (or file) as one."""
        return merge_continued(self._every_page())

    def _every_page(self):
        yield from self._dumps[0].pages()
        for before, path in zip(self.order, self.order[1:]):
            self._done_bytes += os.path.getsize(before)
            _close_reader(self._dumps[-1])
            self._streams[-1].close()
            self._streams.append(open_dump(path, self.threads))
            self._dumps.append(open_reader(self.parser, self._streams[-1], path, self.on_error))
            yield from self._dumps[-1].pages()

    # -- what the manifest counts, over every file ---------------------------------
    @property
    def bytes_read(self) -> int:
        return sum(stream.bytes_read for stream in self._streams)

    @property
    def unknown_elements(self) -> dict:
        return dict(sum((d.unknown_elements for d in self._dumps), Counter()))

    @property
    def skipped_pages(self) -> list[dict]:
        return [p for d in self._dumps for p in d.skipped_pages]

    @property
    def pages_without_revisions(self) -> int:
        return sum(d.pages_without_revisions for d in self._dumps)

    @property
    def pages_without_ns(self) -> int:
        return sum(d.pages_without_ns for d in self._dumps)

    def position(self) -> int | None:
        """How far the unit has read, as a byte of its files laid end to end (None: not known)."""
        at = self._streams[-1].position()
        if not self.unit.continued:
            return at
        return self._done_bytes + (at or 0)

    def handed_out(self) -> int:
        """What the open stream handed out: a pipe's progress, when it cannot say how far it is."""
        return self._streams[-1].position() or self._streams[-1].bytes_read


def _close_reader(dump: DumpReader) -> None:
    close = getattr(dump, "close", None)  # the fast reader's read-ahead thread
    if close is not None:
        close()


#: A revision's first fields, in the export schema's order: its id, a parent perhaps, its time.
_FIRST_REVISION = re.compile(rb"<revision>\s*<id>(\d+)</id>\s*(?:<parentid>\d*</parentid>\s*)?"
                             rb"<timestamp>([^<]+)</timestamp>")
#: How much of a piece's XML is read to find its first revision.
_PEEK = 8 << 20


def _first_revision(path: str, threads: int) -> tuple[bytes, int] | None:
    """(timestamp, id) of a file's first revision, or None where it is not in its first bytes."""
    try:
        with open_dump(path, threads) as stream:
            data = b""
            while len(data) < _PEEK:
                chunk = stream.read(1 << 16)
                if not chunk:
                    break
                data += chunk
                found = _FIRST_REVISION.search(data)
                if found:
                    return found.group(2).strip(), int(found.group(1))
    except DumpError:
        return None  # the piece fails when it is read, in its place
    return None


def _reading_order(paths: tuple[str, ...], threads: int) -> list[str]:
    """``paths`` with each run of one page's pieces in the order of their first revisions (module
    docstring)."""
    ordered = list(paths)
    at = 0
    while at < len(ordered):
        name = parse_name(ordered[at])
        end = at + 1
        while end < len(ordered) and name.one_page and parse_name(ordered[end]).one_page \
                and parse_name(ordered[end]).first_page == name.first_page:
            end += 1
        if end - at > 1:
            run = ordered[at:end]
            firsts = [_first_revision(p, threads) for p in run]
            if None not in firsts:
                ordered[at:end] = [run[i] for i in sorted(range(len(run)), key=lambda i: firsts[i])]
        at = end
    return ordered
