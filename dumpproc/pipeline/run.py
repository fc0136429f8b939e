"""The run that ties the units together: plan, run them, publish their parts, merge users, the manifest.

``run`` holds OUT (``ownership``), plans the inputs into units (``units``), runs
them (``engines``: worker processes or Spark tasks), lists each unit's parts in the
manifest before it publishes them, merges the contributors' totals into the
``users`` table (``users``), and writes ``_SUCCESS`` when every unit committed.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable

from .. import __version__, interrupts, kernels, overlaps, ownership
from ..diff import warm_up
from ..engines import run_units
from ..errors import InputNotFound, OutputError
from ..progress import Progress
from ..sink import clear_success, make_dirs, mark_success, modes, publish_file, remove_temporaries, remove_tree, write_manifest
from ..units import Unit, input_path, plan_units, release_inputs, this_month
from ..users import merge_unit_users
from .options import STAGING, Options
from .unit import run_unit

log = logging.getLogger(__name__)

#: The tables whose rows need the diff (its counters or its ops): without them numba is never loaded.
DIFFED = frozenset({"revisions", "diffs"})


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
                     "wiki_db", "snapshot", "group_readable", "run_month", "temp_user_pattern")


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


def run(paths: Iterable[str], options: Options, progress: Progress | None = None,
        plan: list[str] | None = None) -> RunResult:
    """Process every input into ``options.out``; one unit's failure does not stop the others.

    The manifest is rewritten (atomically) each time a unit finishes, and lists a unit's parts
    before they appear under their final names, so a run that is killed leaves a manifest naming
    every part; ``options.resume`` then skips the units committed (never a piped input's: what
    comes down a pipe may differ from one run to the next), and refuses other options than theirs.
    Units that earlier runs wrote for other inputs are kept (``ownership``). One run at a time
    writes to an OUT. SIGINT or SIGTERM stop the run at a safe point (``interrupts``): the units
    committed by then are in the manifest, temporaries are removed, and ``Interrupted`` is raised;
    an output fault stops it the same way and raises ``OutputError``. ``plan``: lines saying how
    folders or a wiki and date were read (``sources.layout``), kept in the manifest.
    """
    paths = list(paths)
    overlaps.refuse_overlapping_names(paths)
    with interrupts.handling():
        started = time.monotonic()
        _check_out(options.out)
        new_out = not os.path.lexists(options.out)
        make_dirs(options.out, options.group_readable, tighten=True)
        try:
            return _locked_run(paths, options, progress, started, plan or [])
        except (ValueError, InputNotFound):
            if new_out:  # refused before any work: leave no OUT behind (it holds only the lock)
                ownership.remove_empty_out(options.out)
            raise


def _locked_run(paths: list[str], options: Options, progress: Progress | None, started: float,
                plan: list[str]) -> RunResult:
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
            return _run(units, options, progress, started, earlier, carried, superseded, plan)
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
         carried: list[dict], superseded: list[dict], plan: list[str]) -> RunResult:
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
        **({"plan": plan} if plan else {}),
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
        if todo and DIFFED & set(options.tables):
            warm_up()  # compile or load the diff kernels once, before workers fork
            if progress is not None:
                progress.restart_clock()  # rates and ETA from here: a first run's compile is no reading
        for entry in run_units(run_unit, todo, options, progress.update if progress is not None else None):
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
    totals = dict(users=users, coarse_diffs=sum(e.get("coarse_diffs", 0) for e in finished),
                  sha1s_not_base36=sum(e.get("sha1s_not_base36", 0) for e in finished),
                  skipped_pages=sum(len(e.get("skipped_pages", [])) for e in finished),
                  pages_without_ns=sum(e.get("pages_without_ns", 0) for e in finished),
                  partial_pages=[{"unit": e["id"], **p} for e in finished for p in e.get("partial_pages", [])])
    result = RunResult(out, journal(**totals), resumed_all=resumed_all)
    if drop_staging():
        result = RunResult(out, journal(**totals), resumed_all=resumed_all)
    if result.complete:
        mark_success(out, options.group_readable)
    return result
