"""A unit's input as one stream of pages: its file (or split share), or the files that continue one
another, each opened when the one before it ends.

``UnitInput`` gives ``run_unit`` one ``pages()`` whatever the unit is: each file is its own
``parse.Dump`` (so a fault names its own file and place), and adjacent ``<page>`` elements with the
same id, within a file or across two, are one page (``parse.continued``). What the manifest
counts per dump (unknown elements, skipped pages, XML bytes) is summed over the files.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Callable, Iterator

from ..parse import Dump
from ..parse.continued import ContinuedPage, merge_continued
from ..sources import open_dump
from ..units import Unit


class UnitInput:
    """The unit's files read in order; use as a context manager (the open stream is closed)."""

    def __init__(self, unit: Unit, threads: int, on_error: str, open_first: Callable):
        self.unit, self.threads, self.on_error = unit, threads, on_error
        self._streams = [open_first(unit, threads)]
        self._dumps: list[Dump] = []
        self._done_bytes = 0  # the sizes of the files read to their end
        self.codec = self._streams[0].codec
        try:
            self._dumps.append(Dump(self._streams[0], unit.path, on_error))
        except BaseException:
            self._streams[0].close()
            raise
        self.site_info = self._dumps[0].site_info

    def __enter__(self) -> "UnitInput":
        return self

    def __exit__(self, *exc) -> None:
        self._streams[-1].close()

    def pages(self) -> Iterator[ContinuedPage]:
        """The unit's pages, a page that goes on in the next ``<page>`` (or file) as one."""
        return merge_continued(self._every_page())

    def _every_page(self):
        yield from self._dumps[0].pages()
        for before, path in zip(self.unit.paths, self.unit.continued):
            self._done_bytes += os.path.getsize(before)
            self._streams[-1].close()
            self._streams.append(open_dump(path, self.threads))
            self._dumps.append(Dump(self._streams[-1], path, self.on_error))
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

    def position(self) -> int | None:
        """How far the unit has read, as a byte of its files laid end to end (None: not known)."""
        at = self._streams[-1].position()
        if not self.unit.continued:
            return at
        return self._done_bytes + (at or 0)

    def handed_out(self) -> int:
        """What the open stream handed out: a pipe's progress, when it cannot say how far it is."""
        return self._streams[-1].position() or self._streams[-1].bytes_read
