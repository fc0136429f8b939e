"""The manifest owns OUT: what a run may delete there, what it keeps of earlier runs, and its lock.

- dumpproc deletes only its own files, inside OUT: a path is ours when it has the
  shape dumpproc gives its parts (``<table>/wiki_db=<db>/snapshot=<YYYY-MM>/part-<name>.parquet``,
  or the users totals under ``_staging``), however a manifest names it; anything
  else a manifest lists (``../victim``, ``/etc/passwd``) is ignored.
- Runs one after another into one OUT: the units of an earlier run whose inputs
  this run does not read are carried over while all their files are there, so the
  manifest, the users table and ``_SUCCESS`` cover everything under OUT. The units of
  inputs this run reads again are superseded: their files go, whatever split made them.
- A part under OUT that no entry lists (left by a run killed while publishing) is removed.
- One run at a time: ``lock`` holds an exclusive ``flock`` on ``OUT/.dumpproc.lock`` for
  the run; the kernel releases it when the run's processes end, however they end, so a
  stale lock never blocks.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
from contextlib import contextmanager
from typing import Iterable, Iterator

from .errors import OutputError

log = logging.getLogger(__name__)

TABLE_NAMES = ("revisions", "diffs", "pages", "users", "content")
STAGING = "_staging"
LOCK_NAME = ".dumpproc.lock"
_PARTITION = r"wiki_db=[a-z0-9_]+/snapshot=\d{4}-\d{2}"
_OWN = re.compile(rf"^(?:(?:{'|'.join(TABLE_NAMES)})|{STAGING}/users)/{_PARTITION}/part-[A-Za-z0-9._-]+\.parquet$")
_DB = re.compile(r"^[a-z0-9_]+$")
_SNAPSHOT = re.compile(r"^\d{4}-\d{2}$")


class OutInUse(OutputError):
    """Another dumpproc run holds OUT (usage: exit 2)."""


def own_path(out: str, relative: object) -> str | None:
    """The absolute path of ``relative`` under ``out`` if it names one of dumpproc's own files, else None."""
    if not isinstance(relative, str) or os.path.isabs(relative) or "\\" in relative:
        return None
    normal = os.path.normpath(relative)
    if normal != relative or not _OWN.match(relative) or ".." in relative.split("/"):
        return None
    return os.path.join(out, relative)


def valid_partition(entry: dict) -> bool:
    """An entry's ``wiki_db`` and ``snapshot`` are names dumpproc writes (never a path)."""
    return (isinstance(entry.get("wiki_db"), str) and bool(_DB.match(entry["wiki_db"]))
            and isinstance(entry.get("snapshot"), str) and bool(_SNAPSHOT.match(entry["snapshot"])))


def remove_own(out: str, relatives: Iterable[object]) -> int:
    """Delete those of ``relatives`` that are dumpproc's own files under ``out``; returns how many."""
    removed = 0
    for relative in relatives:
        path = own_path(out, relative)
        if path is None:
            continue
        try:
            if os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
                removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            from .sink import output_error  # only on a fault: sink imports pyarrow
            raise output_error(exc, path) from exc
    return removed


def own_parts_on_disk(out: str) -> set[str]:
    """Every file under ``out`` that has the shape of one of dumpproc's parts, relative to ``out``."""
    found = set()
    for top in (*TABLE_NAMES, STAGING):
        root = os.path.join(out, top)
        if not os.path.isdir(root) or os.path.islink(root):
            continue
        for folder, _, files in os.walk(root):
            for name in files:
                relative = os.path.relpath(os.path.join(folder, name), out)
                if own_path(out, relative) is not None:
                    found.add(relative)
    return found


def _files_there(out: str, entry: dict) -> bool:
    files = entry.get("files") or []
    paths = [own_path(out, f) for f in files]
    return bool(files) and all(p is not None and os.path.isfile(p) for p in paths)


def carry_over(out: str, earlier: dict, reading: set[str]) -> tuple[list[dict], list[dict]]:
    """From an earlier manifest: (entries to keep as they are, entries this run supersedes).

    Kept: units of inputs this run does not read (``reading``: paths), committed or failed
    with pages kept, whose files are all there and whose partition is a real name. Superseded:
    every other entry with files (its files are removed by the caller, if they are ours).
    """
    kept, superseded = [], []
    for entry in earlier.get("units", []) if isinstance(earlier.get("units"), list) else []:
        if not isinstance(entry, dict):
            continue
        read_now = entry.get("path") in reading or any(p in reading for p in entry.get("continued") or [])
        if (not read_now and entry.get("status") in ("committed", "failed")
                and valid_partition(entry) and _files_there(out, entry)):
            kept.append({k: v for k, v in entry.items() if k != "resumed"} | {"earlier_run": True})
        elif entry.get("files"):
            superseded.append(entry)
    return kept, superseded


def read_earlier(out: str) -> dict:
    """The manifest an earlier run left in ``out``, or {} if there is none; one clear error if it is
    not a manifest (a folder, a file that is not JSON)."""
    path = os.path.join(out, "_manifest.json")
    try:
        with open(path, "rb") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise OutputError("is a folder, not dumpproc's manifest: move it away", path=path) from None
    except (ValueError, UnicodeDecodeError):
        raise OutputError("is not valid JSON, so it is not dumpproc's manifest: move it away or fix it",
                          path=path) from None
    except OSError as exc:
        raise OutputError(f"cannot be read: {exc.strerror}", path=path) from exc
    if not isinstance(manifest, dict):
        raise OutputError("is not dumpproc's manifest (not a JSON object): move it away", path=path)
    return manifest


@contextmanager
def lock(out: str, file_mode: int = 0o600) -> Iterator[None]:
    """Hold OUT for this run; another run already holding it raises ``OutInUse``."""
    path = os.path.join(out, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, file_mode)
    except OSError as exc:
        from .sink import output_error  # only on a fault: sink imports pyarrow
        raise output_error(exc, path) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise OutputError(f"cannot lock the output folder: {exc.strerror}", path=out) from exc
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise OutInUse(f"another dumpproc run is writing here ({holder}); wait for it to end, "
                           "or give another -o", path=out) from None
        os.fchmod(fd, file_mode)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock (workers forked meanwhile hold it until they end)


def remove_empty_out(out: str) -> None:
    """Remove an OUT this run created and left holding nothing but its lock."""
    try:
        names = os.listdir(out)
        if set(names) <= {LOCK_NAME}:
            for name in names:
                os.unlink(os.path.join(out, name))
            os.rmdir(out)
    except OSError:
        pass


def tighten(out: str, file_mode: int, dir_mode: int) -> None:
    """Give OUT, its table folders and dumpproc's files in them the run's modes (an earlier run's,
    or a folder made by hand, may be more open)."""
    def chmod(path: str, mode: int) -> None:
        try:
            if os.stat(path).st_mode & 0o777 != mode:
                os.chmod(path, mode)
        except FileNotFoundError:
            pass
        except OSError as exc:
            from .sink import output_error  # only on a fault: sink imports pyarrow
            raise output_error(exc, path) from exc

    chmod(out, dir_mode)
    for name in ("_manifest.json", "_SUCCESS", LOCK_NAME):
        chmod(os.path.join(out, name), file_mode)
    for top in (*TABLE_NAMES, STAGING):
        root = os.path.join(out, top)
        if not os.path.isdir(root) or os.path.islink(root):
            continue
        for folder, _, files in os.walk(root):
            chmod(folder, dir_mode)
            for name in files:
                relative = os.path.relpath(os.path.join(folder, name), out)
                if own_path(out, relative) is not None:
                    chmod(os.path.join(folder, name), file_mode)
