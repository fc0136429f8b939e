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

import hashlib
import hmac
import logging
import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Iterable

from . import __version__, interrupts, kernels, overlaps, ownership
from .errors import DumpError, InputNotFound, MalformedXML, OutputError
from .parse import ON_ERROR, Dump
from .privacy import IpPolicy
from .diff import warm_up
from .engines import ENGINES, run_units
from .schema import TABLES
from .progress import Progress, Reporter
from .sink import (PartWriter, clear_success, make_dirs, mark_success, merge_users, modes, partition_dir,
                   publish_file, remove_temporaries, remove_tree, write_manifest)
from .tables import USERS_STAGING, PageAssembler, UserTotals
from .users import merge_unit_users
from .units import Unit, input_path, plan_units, release_inputs, snapshot_of, this_month, wiki_db
from .sources import open_dump
from .sources.layout import verify_checksum

log = logging.getLogger(__name__)

DEFAULT_TABLES = ("revisions", "diffs", "pages", "users")
#: Per-unit intermediate files (the users totals before the reduce); readers skip names starting with _.
STAGING = ownership.STAGING
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
        # which key hashed the IPs, without the key: --resume must not mix two keys' hashes
        described["ips_fingerprint"] = (
            hmac.new(self.ips.key, b"dumpproc: which key", hashlib.sha256).hexdigest()[:16] if self.ips.key else None)
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

    def finish(self, out: str) -> tuple[list[str], list[str]]:
        """Every table complete under its temporary name; returns (final names, temporary names),
        relative to ``out``. The run publishes them (``publish``), after the manifest lists them."""
        if self.users is not None:
            self._flush_users()
        for writer in self.writers.values():
            writer.finish()
        return ([os.path.relpath(w.final_path, out) for w in self.writers.values()],
                [os.path.relpath(w.tmp_path, out) for w in self.writers.values()])

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
    written, and the entry's status is ``interrupted``. An ``OutputError`` is raised: the run stops.

    The parts are left complete under temporary names (``entry["staged"]``, beside
    ``entry["files"]``): the run publishes them once the manifest lists them (``publish``),
    so that no part appears under OUT that the manifest does not name.
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
            except OutputError:
                raise
            except DumpError as exc:
                interrupts.check()  # a decompressor stopped by the same signal is no fault of the input
                if not tables.withdraw_page():
                    raise
                failure = exc  # the pages before it are committed below
            entry.update(pages=tables.page_count, revisions=tables.revision_count, coarse_diffs=tables.coarse,
                         unknown_elements=dict(dump.unknown_elements), bytes_xml=stream.bytes_read,
                         skipped_pages=dump.skipped_pages,
                         pages_without_revisions=dump.pages_without_revisions)  # no rows: counted here
            entry["files"], entry["staged"] = tables.finish(options.out)
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
    except OutputError:
        if tables is not None:
            tables.abort()
        raise  # the output cannot be written: the run stops (``engines``)
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


@dataclass
class RunResult:
    """What a run did: its manifest and where it went."""

    out: str
    manifest: dict
    #: --resume found every unit committed already: there was nothing to do
    resumed_all: bool = False

    @property
    def units(self) -> list[dict]:
        """This run's units (the manifest also lists the units of earlier runs that OUT keeps)."""
        return [u for u in self.manifest["units"] if not u.get("earlier_run")]

    @property
    def earlier(self) -> list[dict]:
        """The units of earlier runs, for other inputs, that OUT keeps."""
        return [u for u in self.manifest["units"] if u.get("earlier_run")]

    @property
    def failed(self) -> list[dict]:
        return [u for u in self.units if u["status"] != "committed"]

    @property
    def duplicates(self) -> dict:
        """Revision ids written more than once in a partition (``overlaps``), by partition."""
        return self.manifest.get("duplicate_revisions", {})

    @property
    def ok(self) -> bool:
        """Every unit of this run committed, and no revision is written twice (exit 0)."""
        return not self.failed and not self.duplicates

    @property
    def complete(self) -> bool:
        """Every unit the manifest lists committed, no revision twice: OUT gets ``_SUCCESS``."""
        return all(u["status"] == "committed" for u in self.manifest["units"]) and not self.duplicates


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
    return (entry.get("id"), entry.get("path"), entry.get("start"), entry.get("end"))


#: Options that change what a committed unit's files hold: --resume refuses to mix them.
RESUME_MUST_MATCH = ("tables", "ips", "ips_fingerprint", "revert_radius", "namespaces", "on_error",
                     "wiki_db", "snapshot", "group_readable", "run_month")


def resume_conflicts(earlier: dict, options: Options) -> list[str]:
    """The options in which this run differs from the one it would resume, as ``--option: was → now``."""
    before = earlier.get("options")
    if not isinstance(before, dict):
        return ["the earlier manifest records no options"]
    now = options.describe()
    differ = []
    for name in RESUME_MUST_MATCH:
        if name == "run_month" and (options.snapshot or before.get("snapshot")):
            continue  # only inputs with no date use it, and --snapshot names theirs
        if before.get(name) != now.get(name):
            flag = "--ip-key-file/$DUMPPROC_IP_KEY (another key)" if name == "ips_fingerprint" else \
                "the run's month" if name == "run_month" else "--" + name.replace("_", "-")
            differ.append(f"{flag}: {before.get(name)!r} then, {now.get(name)!r} now")
    return differ


def _resumable(out: str, earlier: dict, units: list[Unit]) -> dict[tuple, dict]:
    """Entries of the earlier manifest for these units that committed and whose parts are all there.

    A piped input's unit is never kept: what comes down a pipe may differ from one run to the next.
    A unit's users totals may be gone (a run that completed removes ``_staging``): they are
    worked out again from its revisions part when the users table is merged.
    """
    wanted = {_unit_key(unit.describe()) for unit in units if not unit.stream}
    kept = {}
    for entry in earlier.get("units", []):
        key = _unit_key(entry)
        if entry.get("status") != "committed" or key not in wanted or not ownership.valid_partition(entry):
            continue
        parts = [f for f in entry.get("files", []) if not f.startswith(STAGING + os.sep)]
        paths = [ownership.own_path(out, f) for f in parts]
        if parts and all(p is not None and os.path.isfile(p) for p in paths):
            kept[key] = {**entry, "resumed": True}
    return kept


def publish(out: str, entry: dict) -> dict:
    """Move a unit's finished parts under their final names (the manifest already lists them)."""
    staged = entry.pop("staged", None) or []
    for temporary, final in zip(staged, entry.get("files", [])):
        publish_file(os.path.join(out, temporary), os.path.join(out, final))
    return entry


def run(paths: Iterable[str], options: Options, progress: Progress | None = None) -> RunResult:
    """Process every input into ``options.out``; one unit's failure does not stop the others.

    The manifest is rewritten (atomically) each time a unit finishes, and lists a unit's parts
    before they appear under their final names, so a run that is killed leaves a manifest naming
    every part; ``options.resume`` then skips the units committed (never a piped input's: what
    comes down a pipe may differ from one run to the next), and refuses other options than theirs.
    Units that earlier runs wrote for other inputs are kept (``ownership``). One run at a time
    writes to an OUT. SIGINT or SIGTERM stop the run at a safe point (``interrupts``): the units
    committed by then are in the manifest, temporaries are removed, and ``Interrupted`` is raised;
    an output fault stops it the same way and raises ``OutputError``.
    """
    paths = list(paths)
    overlaps.refuse_overlapping_names(paths)
    with interrupts.handling():
        started = time.monotonic()
        _check_out(options.out)
        new_out = not os.path.lexists(options.out)
        make_dirs(options.out, options.group_readable, tighten=True)
        try:
            return _locked_run(paths, options, progress, started)
        except (ValueError, InputNotFound):
            if new_out:  # refused before any work: leave no OUT behind (it holds only the lock)
                ownership.remove_empty_out(options.out)
            raise


def _locked_run(paths: list[str], options: Options, progress: Progress | None, started: float) -> RunResult:
    with ownership.lock(options.out, modes(options.group_readable)[0]):
        earlier = ownership.read_earlier(options.out)
        if options.run_month is None:
            before = earlier.get("options") if isinstance(earlier.get("options"), dict) else {}
            resumed_month = before.get("run_month") if options.resume else None
            options = replace(options, run_month=resumed_month or this_month())
        if options.resume:
            conflicts = resume_conflicts(earlier, options) if earlier else []
            if conflicts:
                raise ValueError("--resume with other options than the run it resumes: "
                                 + "; ".join(conflicts) + " (run without --resume to start afresh)")
        reading = {input_path(path) for path in paths}
        carried, superseded = ownership.carry_over(options.out, earlier, reading)
        units = plan_units(paths, options.split_size, taken=[entry["id"] for entry in carried])
        try:
            if options.engine == "spark" and any(unit.piped is not None for unit in units):
                raise ValueError("standard input is read by this process, not by Spark tasks: "
                                 "use --engine local")
            return _run(units, options, progress, started, earlier, carried, superseded)
        finally:
            release_inputs(units)  # standard input's descriptor, held for the unit that reads it


def _check_out(out: str) -> None:
    """OUT must be a folder, or not exist yet under folders: one clear line otherwise."""
    if os.path.islink(out) and not os.path.exists(out):
        raise ValueError(f"-o {out}: a symbolic link to nothing ({os.readlink(out)}): remove it or give another -o")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"-o {out}: is a file, not a folder: give a folder for the output")
    head = os.path.dirname(os.path.abspath(out))
    while head and not os.path.exists(head):
        head = os.path.dirname(head)
    if head and not os.path.isdir(head):
        raise ValueError(f"-o {out}: {head} is a file, so no folder can be made under it")


def _run(units: list[Unit], options: Options, progress: Progress | None, started: float, earlier: dict,
         carried: list[dict], superseded: list[dict]) -> RunResult:
    out = options.out
    clear_success(out)
    remove_temporaries(out)  # a crashed run's: the lock says no other run is writing
    if not options.resume:
        remove_tree(os.path.join(out, STAGING))  # only a resumed run adds to it
    done = _resumable(out, earlier, units) if options.resume else {}
    kept_ids = {entry["id"] for entry in done.values()}
    stale = {(e["wiki_db"], e["snapshot"]) for e in superseded if ownership.valid_partition(e)}
    ownership.remove_own(out, [f for e in superseded if e.get("id") not in kept_ids for f in e.get("files", [])])
    entries = {entry["id"]: entry for entry in carried}
    entries.update({unit.id: done.get(_unit_key(unit.describe()), {**unit.describe(), "status": "pending"})
                    for unit in units})
    listed = {f for entry in entries.values() for f in entry.get("files", [])}
    orphans = ownership.own_parts_on_disk(out) - listed
    users_parts = {f for f in orphans if f.startswith("users" + os.sep)}  # the reduce rewrites these
    if orphans - users_parts:
        log.warning("removing %d part file(s) under %s that no manifest entry lists (a run killed while "
                    "publishing)", len(orphans - users_parts), out)
    ownership.remove_own(out, orphans - users_parts)
    ownership.tighten(out, *modes(options.group_readable))
    todo = [unit for unit in units if entries[unit.id]["status"] != "committed"]
    base = {
        "dumpproc_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": options.describe(),
        "versions": _versions(),
    }
    # the users parts on disk stay listed until the reduce rewrites them
    earlier_users = earlier.get("users") if isinstance(earlier.get("users"), dict) else {}

    def journal(**more) -> dict:
        manifest = {**base, "seconds": round(time.monotonic() - started, 3), "units": list(entries.values()),
                    "users": earlier_users, **more}
        write_manifest(out, manifest, options.group_readable)
        return manifest

    def drop_staging() -> bool:
        """Remove the units' users totals once nothing needs them: the revisions parts hold them
        again (``users``), or every unit committed. Returns whether they were removed."""
        if "revisions" not in options.tables and not all(e["status"] == "committed" for e in entries.values()):
            return False  # --resume needs them to merge users again
        remove_tree(os.path.join(out, STAGING))
        for entry in entries.values():  # the manifest no longer names the totals it removed
            if entry.get("files"):
                entry["files"] = [f for f in entry["files"] if not f.startswith(STAGING + os.sep)]
        return True

    journal()
    if progress is not None:
        for entry in done.values():
            progress.update(entry["id"], entry["end"] - entry["start"], entry["pages"], entry["revisions"])
    kernels.set_notifier(progress.note if progress is not None else log.info)
    try:
        if todo:
            warm_up()  # compile or load the diff kernels once, before workers fork
            if progress is not None:
                progress.restart_clock()  # rates and ETA from here: a first run's compile is no reading
        for entry in run_units(todo, options, progress.update if progress is not None else None):
            if entry["status"] == "interrupted":
                entry = {**entry, "status": "pending"}  # abandoned whole: --resume does it again
            if entry.get("lost_worker_pid"):
                remove_temporaries(out, entry.pop("lost_worker_pid"))
            if entry.get("staged"):
                # listed before they appear: a reader never sees a part the manifest does not name
                entries[entry["id"]] = {**{k: v for k, v in entry.items() if k != "staged"},
                                        "status": "publishing"}
                journal()
                entry = publish(out, entry)
            entries[entry["id"]] = entry
            journal()
            log.info("unit %s %s: %s pages, %s revisions in %.1f s", entry["id"], entry["status"],
                     entry.get("pages"), entry.get("revisions"), entry.get("seconds", 0))
    except (interrupts.Interrupted, OutputError) as stop:
        try:
            if isinstance(stop, interrupts.Interrupted):
                drop_staging()
            stop.manifest = journal(interrupted=True) if isinstance(stop, interrupts.Interrupted) else journal()
        except OutputError:
            pass  # the disk is full: the last manifest written stands
        remove_temporaries(out)  # the abandoned units' (their workers are gone)
        raise
    finally:
        kernels.set_notifier(None)
    finished = list(entries.values())
    resumed_all = bool(units) and not todo
    if "users" not in options.tables:
        users = {}
    elif resumed_all and not carried and not os.path.isdir(os.path.join(out, STAGING)):
        users = earlier.get("users", {})  # merged by the run that completed them
    else:
        def listed(new_users: dict) -> None:
            """The new users parts and the old, until the old are gone: the manifest names both."""
            both = {}
            for key in set(earlier_users) | set(new_users):
                old, new = earlier_users.get(key) or {}, new_users.get(key) or {}
                both[key] = {"files": sorted(set(old.get("files", [])) | set(new.get("files", []))),
                             "rows": new.get("rows", old.get("rows"))}
            journal(users=both)

        users = merge_unit_users(out, finished, options.group_readable, stale, journal=listed)
    duplicates = overlaps.find_duplicates(out, finished)
    if duplicates:
        base["duplicate_revisions"] = duplicates
    manifest = journal(users=users, coarse_diffs=sum(e.get("coarse_diffs", 0) for e in finished),
                       skipped_pages=sum(len(e.get("skipped_pages", [])) for e in finished))
    result = RunResult(out, manifest, resumed_all=resumed_all)
    if drop_staging():
        result = RunResult(out, journal(users=users, coarse_diffs=manifest["coarse_diffs"],
                                        skipped_pages=manifest["skipped_pages"]), resumed_all=resumed_all)
    if result.complete:
        mark_success(out, options.group_readable)
    return result
