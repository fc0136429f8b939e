"""The job of one unit, and the run that ties the units together.

Units are planned in ``units`` (a file, or a run of its pieces). ``run_unit``
is the whole job for one unit: open, parse, diff and count each page
(``tables.PageAssembler``), write the unit's Parquet parts and commit them; it
is a plain function of picklable arguments so that a process pool, or a Spark
task, can run it. ``run`` plans the units, runs them (in worker processes when more
than one can run at once), merges the contributors' totals of every unit into
the ``users`` table (the reduce), and writes the manifest and ``_SUCCESS``.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Iterable

from . import __version__, interrupts, kernels
from .errors import DumpError, MalformedXML, OutputError
from .parse import ON_ERROR, Dump
from .privacy import IpPolicy
from .diff import warm_up
from .engines import ENGINES, run_units
from .schema import TABLES
from .progress import Progress, Reporter
from .sink import (PartWriter, clear_success, make_dirs, mark_success, merge_users, partition_dir, read_manifest,
                   remove_temporaries, remove_tree, write_manifest)
from .tables import USER_BUCKETS, USERS_STAGING, PageAssembler, UserTotals
from .units import Unit, plan_units, release_inputs, snapshot_of, this_month, wiki_db
from .sources import open_dump
from .sources.layout import verify_checksum

log = logging.getLogger(__name__)

DEFAULT_TABLES = ("revisions", "diffs", "pages", "users")
#: Per-unit intermediate files (the users totals before the reduce); readers skip names starting with _.
STAGING = "_staging"
_SNAPSHOT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_WIKI_DB = re.compile(r"^[a-z0-9_]+$")


#: Bytes (as stored) per unit when a file is split (--split-size), unless told otherwise.
DEFAULT_SPLIT_SIZE = 256 << 20


@dataclass(frozen=True)
class Options:
    """Everything a unit needs to know about the run; picklable."""

    out: str
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    tables: tuple[str, ...] = DEFAULT_TABLES
    namespaces: frozenset[int] | None = None
    snapshot: str | None = None
    group_readable: bool = False
    ips: IpPolicy = field(default_factory=IpPolicy)
    revert_radius: int = 0
    engine: str = "local"
    resume: bool = False
    split_size: int | None = DEFAULT_SPLIT_SIZE
    #: absolute path -> (algorithm, digest) to verify before reading; None: do not verify
    checksums: dict[str, tuple[str, str]] | None = None
    #: what malformed XML inside a page does: fail the unit, or skip the page
    on_error: str = "fail-unit"
    #: the wiki_db= partition of inputs whose siteinfo and file name give none (--wiki-db)
    wiki_db: str | None = None
    #: the snapshot= partition of inputs with no date in their name: the month the run began (UTC),
    #: set by ``run`` (or kept from the run being resumed), so a run over midnight stays in one
    run_month: str | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}; dumpproc writes {', '.join(TABLES)}")
        if not self.tables:
            raise ValueError("--tables names no table")
        if self.snapshot is not None and not _SNAPSHOT.match(self.snapshot):
            raise ValueError(f"--snapshot must be YYYY-MM, not {self.snapshot!r}")
        if self.workers < 1:
            raise ValueError("--workers must be at least 1")
        if self.engine not in ENGINES:
            raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.on_error not in ON_ERROR:
            raise ValueError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {self.on_error!r}")
        if self.revert_radius < 0:
            raise ValueError("--revert-radius must be 0 (unlimited) or positive")
        if self.wiki_db is not None and not _WIKI_DB.match(self.wiki_db):
            raise ValueError(f"--wiki-db must be a database name such as enwiki (a-z, 0-9, _), not {self.wiki_db!r}")

    def describe(self) -> dict:
        """The options as the manifest records them (never the IP key)."""
        described = asdict(self)
        described["ips"] = self.ips.mode
        described["tables"] = list(self.tables)
        described["namespaces"] = sorted(self.namespaces) if self.namespaces is not None else None
        described["verify_checksums"] = self.checksums is not None
        del described["checksums"]
        return described


#: Contributors' totals held per unit before they are written to the staging file.
USER_FLUSH = 500_000


def _staging_users_path(out: str, db: str, snapshot: str, unit_id: str) -> str:
    return os.path.join(out, STAGING, "users", f"wiki_db={db}", f"snapshot={snapshot}", f"part-{unit_id}.parquet")


def _open_unit(unit: Unit, threads: int):
    if unit.split is None:
        return open_dump(unit.source(), threads)
    from .sources.codecs import CODECS
    from .sources.split import UnitStream

    codec = next(c for c in CODECS if c.name == unit.split)
    return UnitStream(unit.path, unit.split, unit.header, unit.first_block, unit.end_block, threads, codec)


def _open_writers(unit: Unit, options: Options, db: str, snapshot: str) -> dict[str, PartWriter]:
    writers: dict[str, PartWriter] = {}
    try:
        for table in options.tables:
            if table == "users":
                path = _staging_users_path(options.out, db, snapshot, unit.id)
                writers[table] = PartWriter(path, USERS_STAGING, options.group_readable)
            else:
                folder = partition_dir(options.out, table, db, snapshot)
                writers[table] = PartWriter(os.path.join(folder, f"part-{unit.id}.parquet"), TABLES[table],
                                            options.group_readable)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return writers


class _UnitTables:
    """A unit's writers and counts, fed page by page; a page's rows go in whole or not at all."""

    def __init__(self, writers: dict[str, PartWriter], options: Options):
        self.writers = writers
        self.options = options
        self.revisions, self.diffs, self.pages, self.content, self.users = (
            writers.get(t) for t in ("revisions", "diffs", "pages", "content", "users"))
        self.totals = UserTotals()
        self.with_diffs = self.revisions is not None or self.diffs is not None
        self.page_count = self.revision_count = self.coarse = 0

    def add_page(self, page, tick=None) -> int:
        """Read one page to its end; returns its revisions. Rows of a page cut short are withdrawn.

        Each writer is marked after every whole page (a new writer starts marked), so
        ``withdraw_page`` drops exactly the rows of the page being read. ``tick(revisions in
        this page)`` runs after each revision: progress, and the safe point to stop at.
        """
        assembler = PageAssembler(page.header, self.options.revert_radius, self.options.ips, self.with_diffs,
                                  "bytes" if self.diffs is not None else "none")
        diffs, content = self.diffs, self.content
        count = 0
        for revision in page:
            count += 1
            if tick is not None:
                tick(count)
            diffed = assembler.add(revision)
            if diffs is not None and diffed is not None:
                diffs.append((page.id, revision.id, diffed[0], diffed[1].ops))
            if content is not None:
                content.append((page.id, revision.id, assembler.content_text))  # as --ips says
        if page.skipped:
            if not self.withdraw_page():
                raise MalformedXML(f"page {page.id} is malformed and too large to skip: part of its rows were "
                                   "already written", page_id=page.id)
            return count
        if assembler.ids:  # a page without revisions has no rows
            self._page_rows(assembler.finish())
        self.page_count += 1
        self.revision_count += count
        for writer in self.writers.values():
            writer.mark()  # row groups are cut here, between pages
        return count

    def withdraw_page(self) -> bool:
        """Drop the current page's rows; False when some of them could not be."""
        withdrawn = True
        for writer in (self.diffs, self.content):
            if writer is not None:
                withdrawn = writer.rollback() and withdrawn
        return withdrawn

    def _page_rows(self, summary) -> None:
        self.coarse += summary.coarse_diffs
        if self.revisions is not None:
            if isinstance(summary.revisions, list):
                self.revisions.extend(summary.revisions)
            else:
                self.revisions.append_batch(summary.revisions)
        if self.pages is not None:
            self.pages.append(summary.page_row)
        if self.users is not None:
            self.totals.add_page(summary.contributions)
            if len(self.totals) >= USER_FLUSH:  # at a page boundary: a page is never split
                self._flush_users()

    def _flush_users(self) -> None:
        for row in self.totals.rows():
            self.users.append(row)
        self.totals.clear()

    def commit(self, out: str) -> list[str]:
        """Every table complete before any appears under its name; returns the files, relative to ``out``."""
        if self.users is not None:
            self._flush_users()
        for writer in self.writers.values():
            writer.finish()
        return [os.path.relpath(w.publish(), out) for w in self.writers.values()]

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def _error_fields(exc: DumpError) -> dict:
    return {"error": str(exc), "error_type": type(exc).__name__,
            "error_at": {k: v for k, v in (("offset", exc.offset), ("xml_offset", exc.uncompressed_offset),
                                           ("line", exc.line), ("page_id", exc.page_id),
                                           ("revision_id", exc.revision_id)) if v is not None}}


def run_unit(unit: Unit, options: Options, threads: int = 1, progress=None) -> dict:
    """Process one unit end to end and commit its parts; returns its manifest entry.

    Bad input (a ``DumpError`` other than an output error) fails the unit, but the
    pages read whole before it are committed, and the entry says so; with
    ``on_error="skip-page"`` a malformed page is skipped and counted instead.
    ``progress`` is a queue (``put_nowait``) for ``(unit id, bytes done, pages, revisions)`` updates.
    A signal (``interrupts``) abandons the unit at the next revision: nothing of it is
    published, and the entry's status is ``interrupted``.
    """
    started = time.monotonic()
    entry = {**unit.describe(), "status": "failed", "pages": 0, "revisions": 0, "seconds": 0.0, "error": None}
    tables = None
    try:
        interrupts.check()
        if options.checksums is not None:
            verify_checksum(unit.path, options.checksums.get(unit.path))
        with _open_unit(unit, threads) as stream:
            # a pipe cannot say how far it is: count what it handed out
            position = (lambda: stream.position() or stream.bytes_read) if unit.stream else stream.position
            report = Reporter(progress, unit.id, unit.start, position)
            dump = Dump(stream, unit.path, options.on_error)
            db, db_from = wiki_db(dump.site_info, unit.path, options.wiki_db)
            snapshot, snapshot_from = snapshot_of(unit.path, options.snapshot, options.run_month)
            entry.update(wiki_db=db, snapshot=snapshot, wiki_db_from=db_from, snapshot_from=snapshot_from,
                         codec=stream.codec.name, schema_version=dump.site_info.schema_version)
            tables = _UnitTables(_open_writers(unit, options, db, snapshot), options)
            wanted = options.namespaces
            revisions_read = 0
            failure = None

            def tick(in_page: int) -> None:
                interrupts.check()
                report.tick(tables.page_count, revisions_read + in_page)

            try:
                for page in dump.pages():
                    if wanted is not None and page.namespace not in wanted:
                        continue
                    revisions_read += tables.add_page(page, tick)
                    report(position() or unit.start, tables.page_count, revisions_read)
            except DumpError as exc:
                interrupts.check()  # a decompressor stopped by the same signal is no fault of the input
                if isinstance(exc, OutputError) or not tables.withdraw_page():
                    raise
                failure = exc  # the pages before it are committed below
            entry.update(pages=tables.page_count, revisions=tables.revision_count, coarse_diffs=tables.coarse,
                         unknown_elements=dict(dump.unknown_elements), bytes_xml=stream.bytes_read,
                         skipped_pages=dump.skipped_pages)
            entry["files"] = tables.commit(options.out)
            entry["rows"] = {table: w.rows for table, w in tables.writers.items() if table != "users"}
            if failure is None:
                entry["status"] = "committed"
                done_at = unit.end if unit.end is not None else position() or 0  # a stream: as read
                report(done_at, tables.page_count, revisions_read, force=True)
            else:
                entry.update(_error_fields(failure))
                log.info("unit %s failed after %s pages: %s", unit.id, tables.page_count, failure)
    except interrupts.Interrupted:
        if tables is not None:
            tables.abort()
        entry.update(status="interrupted", pages=0, revisions=0)
        entry.pop("files", None)
    except DumpError as exc:
        if tables is not None:
            tables.abort()
        if interrupts.requested():
            entry.update(status="interrupted", pages=0, revisions=0)
        else:
            entry.update(_error_fields(exc))
            log.info("unit %s failed: %s", unit.id, exc)
        entry.pop("files", None)
    except BaseException:
        if tables is not None:
            tables.abort()
        raise
    entry["seconds"] = round(time.monotonic() - started, 3)
    return entry


def merge_unit_users(out: str, entries: list[dict], group_readable: bool = False,
                     also: Iterable[tuple[str, str]] = ()) -> dict:
    """The users reduce: per wiki and snapshot, add up the units' staging totals.

    Every users part of those partitions (and of ``also``) is rewritten from the staging
    files, so parts an earlier run left there and this one did not write are removed.
    """
    groups: dict[tuple[str, str], list[str]] = {key: [] for key in also}
    for entry in entries:  # a failed unit's files hold the pages before its error
        if "wiki_db" in entry:
            groups.setdefault((entry["wiki_db"], entry["snapshot"]), [])
        for relative in entry.get("files", []):
            if relative.startswith(STAGING + os.sep + "users"):
                groups[(entry["wiki_db"], entry["snapshot"])].append(os.path.join(out, relative))
    merged = {}
    for (db, snapshot), staging in sorted(groups.items()):
        folder = partition_dir(out, "users", db, snapshot)
        files, rows = merge_users(staging, folder, USER_BUCKETS, group_readable) if staging else ([], 0)
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if name.startswith("part-") and path not in files:
                    os.unlink(path)
        if files:
            merged[f"{db}/{snapshot}"] = {"files": [os.path.relpath(f, out) for f in files], "rows": rows}
    return merged


@dataclass
class RunResult:
    """What a run did: its manifest and where it went."""

    out: str
    manifest: dict
    #: --resume found every unit committed already: there was nothing to do
    resumed_all: bool = False

    @property
    def units(self) -> list[dict]:
        return self.manifest["units"]

    @property
    def failed(self) -> list[dict]:
        return [u for u in self.units if u["status"] != "committed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def _versions() -> dict:
    import lxml.etree
    import pyarrow

    return {
        "dumpproc": __version__,
        "python": platform.python_version(),
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
        "pyarrow": pyarrow.__version__,
    }


def _unit_key(entry) -> tuple:
    return (entry["id"], entry["path"], entry["start"], entry["end"])


def _committed_before(out: str, manifest: dict, units: list[Unit]) -> dict[tuple, dict]:
    """Entries of an earlier run's manifest for these units that committed and whose files are all there.

    A unit's users totals (``_staging``) are gone once a run completed; without them a unit is
    kept only when every unit is (there is nothing to do, and the users table is whole already).
    A piped input's unit is never kept: what comes down a pipe may differ from one run to the next.
    """
    wanted = {_unit_key(unit.describe()) for unit in units if not unit.stream}  # a stream may differ each time
    complete, whole = {}, {}
    for entry in manifest.get("units", []):
        key = _unit_key(entry)
        if entry.get("status") != "committed" or key not in wanted:
            continue
        files = entry.get("files", [])
        parts = [f for f in files if not f.startswith(STAGING + os.sep)]
        if all(os.path.exists(os.path.join(out, f)) for f in parts):
            complete[key] = {**entry, "resumed": True}
            if len(parts) == len(files) or all(os.path.exists(os.path.join(out, f)) for f in files):
                whole[key] = complete[key]
    nothing_to_do = len(complete) == len(wanted) and not any(unit.stream for unit in units)
    return complete if nothing_to_do else whole


def _remove_stale_parts(out: str, manifest: dict, units: list[Unit],
                        kept: dict[tuple, dict]) -> set[tuple[str, str]]:
    """Delete the parts an earlier run wrote for units this run does again; returns their partitions.

    A unit that failed keeps the pages before its error; if it now fails before writing
    anything, those old parts must not stay beside the new manifest that does not list them.
    """
    again = {unit.id for unit in units if _unit_key(unit.describe()) not in kept}
    partitions = set()
    for entry in manifest.get("units", []):
        if entry.get("id") in again and entry.get("files"):
            partitions.add((entry["wiki_db"], entry["snapshot"]))
            for relative in entry["files"]:
                path = os.path.join(out, relative)
                if os.path.isfile(path):
                    os.unlink(path)
    return partitions


def run(paths: Iterable[str], options: Options, progress: Progress | None = None) -> RunResult:
    """Process every input into ``options.out``; one unit's failure does not stop the others.

    The manifest is rewritten (atomically) each time a unit finishes, so a run that is killed
    leaves a manifest naming what committed; ``options.resume`` then skips those units (never a
    piped input's: what comes down a pipe may differ from one run to the next).
    SIGINT or SIGTERM stop the run at a safe point (``interrupts``): the units committed
    by then are in the manifest, temporaries are removed, and ``Interrupted`` is raised.
    """
    with interrupts.handling():
        started = time.monotonic()
        earlier = read_manifest(options.out) or {}
        if options.run_month is None:
            resumed_month = earlier.get("options", {}).get("run_month") if options.resume else None
            options = replace(options, run_month=resumed_month or this_month())
        units = plan_units(list(paths), options.split_size)
        try:
            if options.engine == "spark" and any(unit.piped is not None for unit in units):
                raise ValueError("standard input is read by this process, not by Spark tasks: use --engine local")
            return _run(units, options, progress, started, earlier)
        finally:
            release_inputs(units)  # standard input's descriptor, held for the unit that reads it


def _run(units: list[Unit], options: Options, progress: Progress | None, started: float,
         earlier: dict) -> RunResult:
    make_dirs(options.out, options.group_readable)
    clear_success(options.out)
    remove_temporaries(options.out)  # a crashed run's; one run at a time writes to an OUT
    if not options.resume:
        remove_tree(os.path.join(options.out, STAGING))  # only a resumed run adds to it
    done = _committed_before(options.out, earlier, units) if options.resume else {}
    stale = _remove_stale_parts(options.out, earlier, units, done)
    entries = {unit.id: done.get(_unit_key(unit.describe()), {**unit.describe(), "status": "pending"})
               for unit in units}
    todo = [unit for unit in units if entries[unit.id]["status"] != "committed"]
    base = {
        "dumpproc_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": options.describe(),
        "versions": _versions(),
    }

    def journal(**more) -> dict:
        manifest = {**base, "seconds": round(time.monotonic() - started, 3), "units": list(entries.values()),
                    **more}
        write_manifest(options.out, manifest, options.group_readable)
        return manifest

    journal()
    if progress is not None:
        for entry in done.values():
            progress.update(entry["id"], entry["end"] - entry["start"], entry["pages"], entry["revisions"])
    kernels.set_notifier(progress.note if progress is not None else log.info)
    try:
        if todo:
            warm_up()  # compile or load the diff kernels once, before workers fork
        for entry in run_units(todo, options, progress.update if progress is not None else None):
            if entry["status"] == "interrupted":
                entry = {**entry, "status": "pending"}  # abandoned whole: --resume does it again
            entries[entry["id"]] = entry
            journal()
            log.info("unit %s %s: %s pages, %s revisions in %.1f s", entry["id"], entry["status"],
                     entry.get("pages"), entry.get("revisions"), entry.get("seconds", 0))
    except interrupts.Interrupted as stop:
        stop.manifest = journal(interrupted=True)
        remove_temporaries(options.out)  # the abandoned units' (their workers are gone)
        raise
    finally:
        kernels.set_notifier(None)
    finished = list(entries.values())
    resumed_all = bool(units) and not todo
    if "users" not in options.tables:
        users = {}
    elif resumed_all and not os.path.isdir(os.path.join(options.out, STAGING)):
        users = earlier.get("users", {})  # merged by the run that completed them
    else:
        users = merge_unit_users(options.out, finished, options.group_readable, stale)
    manifest = journal(users=users, coarse_diffs=sum(e.get("coarse_diffs", 0) for e in finished),
                       skipped_pages=sum(len(e.get("skipped_pages", [])) for e in finished))
    result = RunResult(options.out, manifest, resumed_all=resumed_all)
    if result.ok:
        remove_tree(os.path.join(options.out, STAGING))  # nothing is left for --resume to add to
        mark_success(options.out, options.group_readable)
    return result
