"""Units of work: a run's inputs planned into units, and the partitions they write to.

A unit is one input file, or, for a file larger than the split size whose format
allows it, a run of the file's pieces (``sources.split``: bzip2 blocks,
zstandard frames, plain byte ranges). Unit ids are stable across runs of the
same inputs and split size, which is what ``--resume`` matches on.

Files whose names show that a page goes on from one to the next (``sources.names.continues``:
the Data Lake's ``p<page>r<first>r<last>`` pieces of one long history, or any run of one dump's
files where the last page of one is the first of the next) are one unit reading them in page
order (``continued``), never split: its pages are read as one stream, and a page that goes on
is one page (``parse.continued``).

A piped input (``-``, a FIFO; ``sources.piped``) is one unit of unknown size
(``end`` is None), never split. Standard input is opened here, in the planning
process, and travels with its unit (see ``sources.piped`` for why); its id is
``stdin``.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from . import interrupts
from .records import SiteInfo
from .sources.names import continues, order_key, parse_name
from .sources.piped import STDIN, PipedInput, input_name, is_piped, open_piped



@dataclass(frozen=True)
class Unit:
    """A piece of work: one input file, or a run of its pieces (``sources.split``).

    A split unit names how its file is cut (``split``: bz2 blocks, zstd frames or plain
    byte ranges), its pieces ``[first_block, end_block)``, and carries the file's header
    (root element and siteinfo), read once when the units are planned. A ``stream`` unit
    reads a piped input whole, of unknown size; for standard input it carries the input
    opened by the planning process (``piped``). A unit of files that continue one another reads
    ``path`` and then each of ``continued`` whole; its ``end`` is their sizes together.
    """

    id: str
    path: str
    start: int = 0
    end: int | None = None
    first_block: int | None = None
    end_block: int | None = None
    split: str | None = None
    header: bytes = field(default=b"", repr=False, compare=False)
    stream: bool = False
    piped: PipedInput | None = field(default=None, repr=False, compare=False)
    continued: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Every file the unit reads, in order."""
        return (self.path, *self.continued)

    def describe(self) -> dict:
        """The unit as the manifest records it."""
        described = asdict(self)
        del described["header"], described["piped"]
        if not self.stream:
            del described["stream"]  # file units' entries stay as they were
        if self.continued:
            described["continued"] = list(self.continued)
        else:
            del described["continued"]
        return described

    def source(self) -> str | PipedInput:
        """What to open: the input opened while planning, else the path."""
        return self.piped if self.piped is not None else self.path


def _split(unit: Unit, split_size: int) -> list[Unit]:
    """A file larger than ``split_size`` as several units of whole pieces, where its format allows.

    A unit begins only at a piece ``split_points`` confirms. A file whose planning meets a fault (its
    first block damaged, no page near its start) stays one unit, which meets it again when it runs
    and fails as a unit, with the run going on.
    """
    if unit.end is None or unit.end <= split_size:
        return [unit]  # before the import: splitting loads numba's kernel of the bzip2 block scan
    from .errors import DumpError
    from .sources.split import file_header, piece_spans, plan_ranges, split_format, split_points

    fmt = split_format(unit.path)
    if fmt is None:
        return [unit]
    try:
        spans = piece_spans(unit.path, fmt)
        ranges = plan_ranges(spans, split_size, split_points(unit.path, fmt))
        if len(ranges) < 2:
            return [unit]
        header = file_header(unit.path, fmt)
    except DumpError:
        return [unit]
    return [Unit(f"{unit.id}-{n:05d}", unit.path, spans[first][0], spans[end][0] if end < len(spans) else unit.end,
                 first, end, fmt, header)
            for n, (first, end) in enumerate(ranges)]


def _once_each(paths: list[str]) -> None:
    """A piped input can be read once: refuse one named twice (standard input by any of its names)."""
    seen = set()
    for path in paths:
        if is_piped(path):
            name = input_name(path)
            if name in seen:
                what = "standard input" if name == STDIN else name
                raise ValueError(f"{what} is given twice: a piped input can be read only once per run")
            seen.add(name)


def continuing_runs(paths: list[str]) -> dict[str, list[str]]:
    """The inputs that continue one another (module docstring), as first file -> the files after it;
    an input that is in no such run is not a key."""
    files = [p for p in paths if not is_piped(p)]
    ordered = sorted(files, key=lambda p: (os.path.dirname(os.path.abspath(p)),
                                           tuple(map(str, parse_name(p).dump)), order_key(p)))
    runs: dict[str, list[str]] = {}
    head = None
    for before, after in zip(ordered, ordered[1:]):
        if continues(before, after):
            head = head if head is not None else before
            runs.setdefault(head, []).append(after)
        else:
            head = None
    return runs


def input_path(path: str) -> str:
    """The path a unit of this input records in the manifest: ``-`` for standard input, else absolute."""
    return STDIN if input_name(path) == STDIN else os.path.abspath(path)


def release_inputs(units: Iterable[Unit]) -> None:
    """Close the inputs that planning opened (standard input's descriptor)."""
    for unit in units:
        if unit.piped is not None:
            unit.piped.close()


def plan_units(paths: Iterable[str], split_size: int | None = None, taken: Iterable[str] = ()) -> list[Unit]:
    """Units for the inputs, with ids that are stable across runs of the same inputs and split size.

    ``taken``: ids that units of other inputs already hold in OUT (an earlier run's): an input
    whose name would give one of them gets the next free suffix, so no part overwrites another's.

    Standard input is opened here (``release_inputs`` closes it): its first bytes are read, and a
    7z is refused (``InputNotSeekable``) before any work.
    """
    paths = list(paths)
    taken = set(taken)
    _once_each(paths)
    units: list[Unit] = []
    seen: dict[str, int] = {}
    runs = continuing_runs(paths)
    in_runs = {p for rest in runs.values() for p in rest}
    try:
        for path in paths:
            if path in in_runs:
                continue  # read by the unit of its run's first file
            interrupts.check()  # planning a large file scans it: a signal stops between files
            name = "stdin" if input_name(path) == STDIN else os.path.basename(path)
            stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
            for suffix in (".bz2", ".gz", ".xz", ".zst", ".7z", ".lzma", ".xml"):
                if stem.endswith(suffix):
                    stem = stem[: -len(suffix)]
            unit_id = None
            while unit_id is None or any(t == unit_id or t.startswith(unit_id + "-0") for t in taken):
                seen[stem] = seen.get(stem, 0) + 1
                unit_id = stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"
            if input_name(path) == STDIN:
                units.append(Unit(unit_id, STDIN, 0, None, stream=True, piped=open_piped(path)))
            elif is_piped(path):  # a FIFO: its unit opens it, so its writer is waited for only then
                units.append(Unit(unit_id, os.path.abspath(path), 0, None, stream=True))
            elif path in runs:
                rest = tuple(os.path.abspath(p) for p in runs[path])
                size = sum(os.path.getsize(p) for p in (path, *rest))
                units.append(Unit(unit_id, os.path.abspath(path), 0, size, continued=rest))
            else:
                whole = Unit(unit_id, os.path.abspath(path), 0, os.path.getsize(path))
                units.extend(_split(whole, split_size) if split_size else [whole])
    except BaseException:
        release_inputs(units)
        raise
    return units


#: Where a partition name came from; the ones in FALLBACKS are warned about at the end of a run.
WIKI_FROM_SITEINFO, WIKI_FROM_NAME, WIKI_FROM_BASE, WIKI_FROM_OPTION, WIKI_UNKNOWN = (
    "siteinfo", "file name", "siteinfo base URL", "--wiki-db", "nothing")
SNAPSHOT_FROM_OPTION, SNAPSHOT_FROM_NAME, SNAPSHOT_FROM_RUN = ("--snapshot", "file name", "run month")
FALLBACKS = {WIKI_FROM_BASE, WIKI_UNKNOWN, SNAPSHOT_FROM_RUN}


def _wiki_from_base(base: str) -> str | None:
    """A wiki's database name guessed from its siteinfo's base URL (en.wikipedia.org -> enwiki)."""
    host = re.match(r"^\w+://([^/]+)", base)
    if not host:
        return None
    parts = host.group(1).split(".")
    if len(parts) < 3:
        return None
    lang, project = parts[0], parts[1]
    if project == "wikipedia":
        return f"{lang.replace('-', '_')}wiki"
    if project == "wikimedia" or lang == "www":
        return f"{project if lang == 'www' else lang}wiki"
    return f"{lang.replace('-', '_')}{project}"


def wiki_db(site_info: SiteInfo, path: str, given: str | None = None) -> tuple[str, str]:
    """The ``wiki_db=`` partition and where it came from.

    The siteinfo's dbname, else the file name's wiki prefix; failing both, ``given``
    (``--wiki-db``), else a guess from the siteinfo's base URL, else ``unknown``.
    """
    if site_info.dbname:
        return site_info.dbname, WIKI_FROM_SITEINFO
    named = parse_name(path).wiki
    if named:
        return named, WIKI_FROM_NAME
    if given:
        return given, WIKI_FROM_OPTION
    guessed = _wiki_from_base(site_info.base or "")
    if guessed:
        return guessed, WIKI_FROM_BASE
    return "unknown", WIKI_UNKNOWN


def this_month(now: datetime | None = None) -> str:
    """The run's month, ``YYYY-MM`` (UTC): the snapshot of inputs with no date."""
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m")


def snapshot_of(path: str, given: str | None = None, run_month: str | None = None) -> tuple[str, str]:
    """The ``snapshot=`` partition and where it came from: given, else the dump's date from its
    name, else the run's month."""
    if given:
        return given, SNAPSHOT_FROM_OPTION
    date = parse_name(path).date
    if date and date != "latest":
        return f"{date[:4]}-{date[4:6]}", SNAPSHOT_FROM_NAME
    return run_month or this_month(), SNAPSHOT_FROM_RUN
