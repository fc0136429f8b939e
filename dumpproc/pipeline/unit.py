"""The job of one unit: open it, parse, diff and count each page, write its parts.

``run_unit`` is a plain function of picklable arguments, so that a worker process or
a Spark task can run it; it leaves the parts finished under temporary names, and the
run (``pipeline.run``) publishes them once the manifest lists them.
"""

from __future__ import annotations

import logging
import os
import time

from .. import interrupts
from ..accounts import AccountKinds
from ..errors import DumpError, MalformedXML, OutputError
from ..fastxml import Fallback
from ..grouped import PageGroup
from ..parse.readers import AUTO
from ..progress import Reporter
from ..pieces import RevisionPieces
from ..records import RevisionBatch
from ..schema import TABLES
from ..sink import PartWriter, partition_dir
from ..sources import open_dump
from ..sources.layout import verify_checksum
from ..tables import PageAssembler
from ..units import Unit, snapshot_of, wiki_db
from ..users import USERS_STAGING, UserTotals
from .options import STAGING, Options
from .reading import UnitInput

log = logging.getLogger(__name__)


#: Contributors' totals held per unit before they are written to the staging file (the users reduce
#: merges a contributor's rows of several flushes). About 500 bytes each: 50,000 hold ~25 MB, so a
#: unit's memory stays flat however many distinct editors (IPs above all) its pages have.
USER_FLUSH = 50_000


def _staging_users_path(out: str, db: str, snapshot: str, unit_id: str) -> str:
    return os.path.join(out, STAGING, "users", f"wiki_db={db}", f"snapshot={snapshot}", f"part-{unit_id}.parquet")


def _open_unit(unit: Unit, threads: int):
    if unit.split is None:
        return open_dump(unit.source(), threads)
    from ..sources.codecs import CODECS
    from ..sources.split import UnitStream

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
        self.accounts = AccountKinds(options.temp_user_pattern)
        self.names: dict = {}  # contributor name -> its flags, for every page of the unit (``PageAssembler``)
        self.with_diffs = self.revisions is not None or self.diffs is not None
        #: pages are read as columns where the reader gives them (``records.RevisionBatch``)
        self.columnar = options.ips.mode == "keep" and self.content is None
        self.page_count = self.revision_count = self.coarse = 0
        self.sha1s_not_base36 = 0
        #: the page a fault cut short, its revisions read whole kept (at most one: the fault ends the unit)
        self.partial_pages: list[dict] = []
        #: whole pages of one block, each read as one batch, made rows together (``_group_page``)
        self.ops_text = "bytes" if self.diffs is not None else "none"  # the diffs' op texts, when written
        self.group = PageGroup(options.revert_radius, self.with_diffs, self.ops_text, self.accounts, self.names)

    def add_page(self, page, tick=None) -> int:
        """Read one page to its end; returns its revisions.

        Each writer is marked after every whole page (a new writer starts marked), so
        ``withdraw_page`` drops exactly the rows of the page being read: a page that
        ``--on-error skip-page`` skips. A fault of the input met inside the page under
        ``fail-unit`` keeps the revisions read whole before it (SPEC, Bad input): their rows
        are written, the page's ``pages`` row counts them, the page goes into
        ``partial_pages``, and the fault is raised on. ``tick(revisions in this page)`` runs
        after each revision: progress, and the safe point to stop at.
        """
        # columns where the reader has them and every row is the dump's own (no IP replaced, no text kept)
        if self.columnar and hasattr(page, "segments"):
            revisions = page.segments()
            head, fault = [], None
            try:
                head.append(next(revisions))
                if isinstance(head[0], RevisionBatch):
                    head.append(next(revisions))
            except StopIteration:
                if len(head) == 1 and isinstance(head[0], RevisionBatch):  # a whole page in one batch
                    return self._group_page(page.header, head[0], tick)
            except DumpError as exc:
                fault = exc
            self.flush_group()  # the pages before this one are written first
            revisions = _replay(head, fault, revisions)
        else:
            revisions = iter(page)
        assembler = self._assembler(page.header)
        diffs, content = self.diffs, self.content
        count = 0
        while True:
            try:
                revision = next(revisions)
            except StopIteration:
                break
            except OutputError:
                raise
            except DumpError as exc:
                if assembler.count:  # every revision yielded is in the assembler and its rows appended
                    self.partial_pages.append({"page_id": page.id, "revisions": count,
                                               "last_revision_id": assembler.last_id,
                                               "revision_id_at_fault": exc.revision_id})
                    self._page_done(assembler, count)
                raise
            if isinstance(revision, RevisionBatch):
                count += len(revision)
                if tick is not None:
                    tick(count)
                rows = assembler.add_batch(revision)
                if diffs is not None:
                    for piece in rows:
                        diffs.append_pieces(piece)
                continue
            count += 1
            if tick is not None:
                tick(count)
            diffed = assembler.add(revision)
            if diffs is not None and diffed is not None:
                diffs.append((page.id, revision.id, diffed[0], diffed[1].ops))
            if content is not None:
                content.append((page.id, revision.id, assembler.content_text, assembler.content_slots))  # as --ips says
        if page.skipped:
            if not self.withdraw_page():
                raise MalformedXML(f"page {page.id} is malformed and too large to skip: part of its rows were "
                                   "already written", page_id=page.id)
            return count
        self._page_done(assembler, count)
        return count

    def _assembler(self, header) -> PageAssembler:
        return PageAssembler(header, self.options.revert_radius, self.options.ips, self.with_diffs, self.ops_text,
                             self.accounts, self.names)

    def _group_page(self, header, batch: RevisionBatch, tick) -> int:
        """A whole page read as one batch: held with the pages before it of the same block, made
        rows with them (``grouped.PageGroup``) when the group is full or another page comes."""
        count = len(batch)
        if tick is not None:
            tick(count)
        if not self.group.fits(batch):
            self.flush_group()
        self.group.add(header, batch)
        self.page_count += 1
        self.revision_count += count
        return count

    def flush_group(self) -> None:
        """Write the rows of the pages the group holds; each writer is marked after them."""
        group = self.group
        if not len(group):
            return
        rows = group.rows()
        if rows is None:  # a sha1 needs the Python rules: page by page
            for header, batch in group.take():
                assembler = self._assembler(header)
                diffed = assembler.add_batch(batch)
                if self.diffs is not None:
                    for piece in diffed:
                        self.diffs.append_pieces(piece)
                self._page_rows(assembler.finish())
        else:
            self.coarse += rows.coarse_diffs
            if self.revisions is not None:
                self.revisions.append_pieces(rows.revisions)
            if self.diffs is not None and rows.diffs is not None:
                for piece in rows.diffs:
                    self.diffs.append_pieces(piece)
            if self.pages is not None:
                for row in rows.page_rows:
                    self.pages.append(row)
            if self.users is not None:
                for contributions in rows.contributions:
                    self.totals.add_page(contributions)
                if len(self.totals) >= USER_FLUSH:  # at a page boundary: a page is never split
                    self._flush_users()
        for writer in self.writers.values():
            writer.mark()  # row groups are cut here, between pages

    def _page_done(self, assembler: PageAssembler, count: int) -> None:
        if assembler.count:  # a page without revisions has no rows
            self._page_rows(assembler.finish())
        self.page_count += 1
        self.revision_count += count
        for writer in self.writers.values():
            writer.mark()  # row groups are cut here, between pages

    def withdraw_page(self) -> bool:
        """Drop the current page's rows; False when some of them could not be."""
        withdrawn = True
        for writer in (self.diffs, self.content):
            if writer is not None:
                withdrawn = writer.rollback() and withdrawn
        return withdrawn

    def _page_rows(self, summary) -> None:
        self.coarse += summary.coarse_diffs
        self.sha1s_not_base36 += summary.sha1s_not_base36
        if self.revisions is not None:
            if isinstance(summary.revisions, list):
                self.revisions.extend(summary.revisions)
            elif isinstance(summary.revisions, RevisionPieces):
                self.revisions.append_pieces(summary.revisions)
            else:
                for batch in summary.revisions:  # a long page's, a batch per chunk
                    self.revisions.append_batch(batch)
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
        self.flush_group()
        if self.users is not None:
            self._flush_users()
        for writer in self.writers.values():
            writer.finish()
        return ([os.path.relpath(w.final_path, out) for w in self.writers.values()],
                [os.path.relpath(w.tmp_path, out) for w in self.writers.values()])

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def _replay(head: list, fault: DumpError | None, rest):
    """The segments read ahead of a page, then its fault or its other segments."""
    yield from head
    if fault is not None:
        raise fault
    yield from rest


def _error_fields(exc: DumpError) -> dict:
    return {"error": str(exc), "error_type": type(exc).__name__,
            "error_at": {k: v for k, v in (("offset", exc.offset), ("xml_offset", exc.uncompressed_offset),
                                           ("line", exc.line), ("page_id", exc.page_id),
                                           ("revision_id", exc.revision_id),
                                           ("counted_from", _origin(exc.origin))) if v is not None}}


def _origin(origin: dict | None) -> dict | None:
    """A split unit's error counts its line (and a compressed file's XML byte) from the unit's first
    page: where that is, in the manifest's words."""
    if not origin:
        return None
    return {"offset" if key == "offset" else "xml_offset": value for key, value in origin.items()}


class _ReadAgain(Exception):
    """The fast reader's pass over a unit under ``--parser auto`` met what it does not read, or a
    fault: its parts are gone, and the unit is read again with lxml (not a ``DumpError``, so that no
    handler of input faults takes it)."""

    def __init__(self, cause: DumpError):
        super().__init__(str(cause))
        self.cause = cause


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

    ``--parser auto`` reads the unit with the fast reader; where that falls back (what MediaWiki
    does not write) or meets a fault of the input, nothing of that pass is kept and the unit is
    read again with lxml, so that the rows, errors and positions are the reference reader's; the
    entry's ``parser`` says which read it and ``parser_fallback`` why lxml did. A piped unit can
    be read once only: lxml reads it.
    """
    started = time.monotonic()
    parser = options.parser
    if parser == AUTO:
        parser = "lxml" if unit.stream else "fast"
    try:
        entry = _run_unit(unit, options, threads, progress, parser, read_again=options.parser == AUTO)
    except _ReadAgain as again:
        cause = again.cause
        log.info("unit %s: read again with lxml: %s", unit.id, cause)
        entry = _run_unit(unit, options, threads, progress, "lxml", verify=False)
        entry["parser_fallback"] = {
            "reason": cause.reason if isinstance(cause, Fallback) else f"a fault of the input ({type(cause).__name__})",
            **({"xml_offset": cause.uncompressed_offset} if cause.uncompressed_offset is not None else {})}
    entry["seconds"] = round(time.monotonic() - started, 3)
    return entry


def _run_unit(unit: Unit, options: Options, threads: int, progress, parser: str, read_again: bool = False,
              verify: bool = True) -> dict:
    """``run_unit`` with one reader; ``read_again``: a fault while reading raises ``_ReadAgain``
    (the unit's parts aborted) instead of failing the unit."""
    entry = {**unit.describe(), "status": "failed", "pages": 0, "revisions": 0, "seconds": 0.0, "error": None}
    tables = None
    reading = False
    try:
        interrupts.check()
        if verify and options.checksums is not None:
            for path in unit.paths:
                verify_checksum(path, options.checksums.get(path))
        reading = True
        with UnitInput(unit, threads, options.on_error, _open_unit, parser) as dump:
            # a pipe cannot say how far it is: count what it handed out
            position = dump.handed_out if unit.stream else dump.position
            report = Reporter(progress, unit.id, unit.start, position)
            db, db_from = wiki_db(dump.site_info, unit.path, options.wiki_db)
            snapshot, snapshot_from = snapshot_of(unit.path, options.snapshot, options.run_month)
            entry.update(wiki_db=db, snapshot=snapshot, wiki_db_from=db_from, snapshot_from=snapshot_from,
                         codec=dump.codec.name, schema_version=dump.site_info.schema_version,
                         parser=dump.parser)  # SPEC: the manifest records each unit's reader
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
                if read_again:
                    raise _ReadAgain(exc) from None  # the parts are aborted below
                if not tables.withdraw_page():
                    raise
                failure = exc  # the pages before it are committed below
            tables.flush_group()  # the rows of the pages held, before their counts are read
            entry.update(pages=tables.page_count, revisions=tables.revision_count, coarse_diffs=tables.coarse,
                         sha1s_not_base36=tables.sha1s_not_base36,  # kept as given (hexadecimal in old exports)
                         unknown_elements=dump.unknown_elements, bytes_xml=dump.bytes_read,
                         skipped_pages=dump.skipped_pages,
                         pages_without_revisions=dump.pages_without_revisions,  # no rows: counted here
                         pages_without_ns=dump.pages_without_ns,  # their namespace is the title's
                         partial_pages=tables.partial_pages)
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
        if read_again and reading and not interrupts.requested():
            raise _ReadAgain(exc) from None
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
    return entry
