"""The reader registry: which reader turns a dump's XML into pages and revisions, by name.

A reader is one named function, registered here, that opens a decompressed XML stream and
imports its implementation inside (as the codecs do, ``sources.codecs``): adding a reader is
adding one function. ``pipeline`` opens the reader a run asks for by name (``open_reader``), and
the manifest records, per unit, which one read it. The stages after a reader never ask which
one ran: every reader gives the same records through the interface below (``DumpReader``), and
the normalisation they share (values, slots, sizes, ids) is ``parse.normalise``.

What a reader gives (``DumpReader``):

- ``site_info``, read when it is opened (a ``SiteInfo``; an empty one for a dump without);
- ``pages()``: a lazy, single-pass iterator of pages in file order, each a ``PageSource``: its
  ``header`` (``PageHeader``), then iterated once, its revisions (``Revision``); a page left
  half-read is drained when the next one is asked for;
- what the manifest counts: ``unknown_elements`` (a ``Counter`` of ``parent:child`` names, the
  same names whichever reader), ``skipped_pages`` (``{"page_id", "error"}`` per page skipped
  under ``--on-error skip-page``, the page's ``skipped`` set), ``pages_without_revisions``,
  ``pages_without_ns``, ``page_count``, ``revision_count``;
- faults as ``MalformedXML`` (or the codec's ``CorruptInput``), placed at the XML byte and
  line, naming the page and revision, raised where met; ``path`` names the file in them;
- a reader that works on a thread of its own (the fast one reads ahead) has ``close()``, which
  stops it: called before its stream is closed.

Registered: ``lxml``, the reference (``parse.Dump``), and ``fast``, the compiled reader
(``fastxml``), which raises ``fastxml.Fallback`` (a ``DumpError``) on anything it does not read.
``auto`` is not a reader but the run's choice of one (``pipeline.unit``, SPEC ``--parser``): a
unit is read with ``fast`` and, if it falls back or meets a fault, again with ``lxml``, so that
the rows, errors and positions users see are the reference reader's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, Protocol

from ..records import PageHeader, Revision, SiteInfo


class PageSource(Protocol):
    """One page of a reader: its header, then its revisions, iterated once."""

    header: PageHeader
    skipped: bool

    @property
    def id(self) -> int: ...

    @property
    def namespace(self) -> int: ...

    @property
    def title(self) -> str: ...

    def __iter__(self) -> Iterator[Revision]: ...


class DumpReader(Protocol):
    """One pass over one dump's XML (module docstring)."""

    path: str | None
    site_info: SiteInfo
    unknown_elements: Counter
    skipped_pages: list[dict]
    page_count: int
    revision_count: int
    pages_without_revisions: int
    pages_without_ns: int

    def pages(self) -> Iterator[PageSource]: ...


@dataclass(frozen=True)
class Reader:
    """A registered reader: its name and how to open it on a decompressed stream."""

    name: str
    open: Callable[[BinaryIO, str | None, str], DumpReader]


READERS: dict[str, Reader] = {}


def reader(name: str):
    """Register the decorated ``open(stream, path, on_error) -> DumpReader`` under ``name``."""

    def register(opener: Callable[[BinaryIO, str | None, str], DumpReader]):
        READERS[name] = Reader(name, opener)
        return opener

    return register


def names() -> tuple[str, ...]:
    """The registered readers' names."""
    return tuple(READERS)


#: ``--parser``'s choices: the readers, and ``auto`` (fast, falling back to lxml for a unit)
AUTO = "auto"


def choices() -> tuple[str, ...]:
    return (AUTO, *READERS)


def open_reader(name: str, stream: BinaryIO, path: str | None = None, on_error: str = "fail-unit") -> DumpReader:
    """Open ``stream`` with the reader registered as ``name``; ``path`` names the file in errors."""
    try:
        chosen = READERS[name]
    except KeyError:
        raise ValueError(f"the parser must be one of {', '.join(READERS)}, not {name!r}") from None
    return chosen.open(stream, path, on_error)


@reader("lxml")
def _lxml(stream: BinaryIO, path: str | None, on_error: str) -> DumpReader:
    """The reference reader: lxml's iterparse, in constant memory (``parse.Dump``)."""
    from . import Dump

    return Dump(stream, path, on_error)


@reader("fast")
def _fast(stream: BinaryIO, path: str | None, on_error: str) -> DumpReader:
    """The compiled reader (``fastxml``): the same records, or ``Fallback`` where it cannot read on.
    ``on_error`` is lxml's concern: a malformed page is a fallback here."""
    from ..fastxml.reader import FastDump

    return FastDump(stream, path)
