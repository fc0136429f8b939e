"""Where dump files are: given files, folders, and Wikimedia's ``ROOT/<wiki>/<date>/`` trees.

A folder means every dump file inside it. A wiki and date mean the
``pages-meta-history`` files of ``ROOT/<wiki>/<YYYYMMDD>/``, where
``dumpstatus.json`` must say the job is ``done`` (unless incomplete dumps are
allowed). Wikimedia publishes the same history as bz2 and as 7z; one format is
taken, bz2 first (it decodes in parallel), so no revision is read twice.

Checksums come from the ``*-md5sums.txt`` / ``*-sha1sums.txt`` lists and
``dumpstatus.json`` beside the files; ``verify_checksum`` streams a file
through the hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from ..errors import ChecksumMismatch, IncompleteDump, InputNotFound
from .piped import STDIN, input_name, is_piped

DEFAULT_ROOT = "/mnt/data/xmldatadumps/public"
#: Suffixes by preference when the same dump is there in several formats.
FORMAT_PREFERENCE = (".bz2", ".7z", ".zst", ".gz", ".xz", ".lzma", ".xml")
#: dumpstatus.json's job for each format of the history files.
HISTORY_JOBS = {".bz2": "metahistorybz2dump", ".7z": "metahistory7zdump"}
_NOT_DUMPS = re.compile(r"(md5sums|sha1sums|-index\.txt|\.json$|\.html$|\.txt$|\.tmp$|\.partial$)")
_COMPRESSION_SUFFIX = re.compile(r"\.(bz2|7z|gz|zst|xz|lzma)$")


def _format_of(name: str) -> str:
    found = _COMPRESSION_SUFFIX.search(name)
    return found.group(0) if found else ".xml"


def _stem(name: str) -> str:
    return _COMPRESSION_SUFFIX.sub("", name)


def one_format_each(paths: list[str]) -> list[str]:
    """Keep one file of each dump that is there in several formats (bz2 first), in name order."""
    best: dict[tuple[str, str], str] = {}
    for path in sorted(paths):
        key = (os.path.dirname(path), _stem(os.path.basename(path)))
        kept = best.get(key)
        if kept is None or FORMAT_PREFERENCE.index(_format_of(path)) < FORMAT_PREFERENCE.index(_format_of(kept)):
            best[key] = path
    return sorted(best.values())


def dump_files_in(folder: str) -> list[str]:
    """Every dump file in a folder (not its checksum lists, indexes or status)."""
    names = [n for n in os.listdir(folder) if ".xml" in n and not n.startswith(".") and not _NOT_DUMPS.search(n)]
    return one_format_each([os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))])


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files as they are, folders as the dump files inside, piped inputs (``-``, ``/dev/stdin``, a FIFO)
    by their names (``-`` for standard input); a missing input is a usage error."""
    files: list[str] = []
    for given in inputs:
        if is_piped(given):  # before isfile: /dev/stdin may be a redirected file, still read as a stream
            files.append(input_name(given))
        elif os.path.isdir(given):
            found = dump_files_in(given)
            if not found:
                raise InputNotFound("the folder holds no dump file (*.xml*)", path=given)
            files.extend(found)
        elif os.path.isfile(given):
            files.append(given)
        else:
            raise InputNotFound("no such file or folder", path=given)
    return files


@dataclass
class DumpRun:
    """One wiki's dump of one date, as laid out on Wikimedia's hosts."""

    folder: str
    wiki: str
    date: str
    files: list[str]
    status: dict = field(default_factory=dict)

    def job_of(self, path: str) -> str | None:
        return HISTORY_JOBS.get(_format_of(path))


def read_status(folder: str) -> dict:
    """``dumpstatus.json`` of a dump folder, or {} when there is none."""
    path = os.path.join(folder, "dumpstatus.json")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise IncompleteDump(f"dumpstatus.json cannot be read: {exc}", path=path) from exc


def find_history(wiki: str, date: str, root: str = DEFAULT_ROOT) -> DumpRun:
    """The ``pages-meta-history`` files of ``ROOT/<wiki>/<date>/``, one format."""
    if not re.fullmatch(r"\d{8}", date):
        raise ValueError(f"--date must be YYYYMMDD, not {date!r}")
    folder = os.path.join(root, wiki, date)
    if not os.path.isdir(folder):
        raise InputNotFound("no dump folder for this wiki and date", path=folder)
    prefix = f"{wiki}-{date}-pages-meta-history"
    files = [p for p in dump_files_in(folder) if os.path.basename(p).startswith(prefix)]
    if not files:
        raise InputNotFound(f"no {prefix}*.xml* files", path=folder)
    return DumpRun(folder, wiki, date, files, read_status(folder))


def check_status(run: DumpRun, allow_incomplete: bool = False) -> list[str]:
    """Refuse a dump whose history job is not done; returns warnings when allowed anyway."""
    problems = []
    jobs = run.status.get("jobs", {})
    for job in sorted({run.job_of(p) for p in run.files if run.job_of(p)}):
        state = jobs.get(job, {}).get("status")
        if state != "done":
            problems.append(f"job {job} is {state or 'not listed in dumpstatus.json'}, not done")
    if not run.status:
        problems.append("there is no dumpstatus.json")
    if problems and not allow_incomplete:
        raise IncompleteDump(
            "; ".join(problems) + " (--allow-incomplete processes it anyway)",
            path=os.path.join(run.folder, "dumpstatus.json"),
        )
    return problems


def read_checksums(folder: str) -> dict[str, tuple[str, str]]:
    """file name -> (algorithm, hex digest) from the folder's sums lists and dumpstatus.json; sha1 wins."""
    found: dict[str, dict[str, str]] = {}
    for name in sorted(os.listdir(folder)):
        algorithm = "md5" if "md5sums" in name else "sha1" if "sha1sums" in name else None
        if algorithm is None:
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 2:
                    found.setdefault(parts[1].lstrip("*"), {})[algorithm] = parts[0].lower()
    for job in read_status(folder).get("jobs", {}).values():
        for file_name, info in (job.get("files") or {}).items():
            for algorithm in ("md5", "sha1"):
                if info.get(algorithm):
                    found.setdefault(file_name, {}).setdefault(algorithm, info[algorithm].lower())
    return {name: ("sha1", d["sha1"]) if "sha1" in d else ("md5", d["md5"]) for name, d in found.items()}


def checksums_for(files: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (algorithm, digest) for every file whose folder lists one; a piped input is refused."""
    by_folder: dict[str, dict[str, tuple[str, str]]] = {}
    result = {}
    for path in files:
        if is_piped(path):  # the lists name files, and checking would read the stream before its unit does
            what = "standard input" if input_name(path) == STDIN else f"{path} (a pipe)"
            raise ValueError(f"--verify-checksums checks files against the dump's lists; {what} cannot be "
                             "checked: verify the file it comes from, or leave out --verify-checksums")
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in by_folder:
            by_folder[folder] = read_checksums(folder)
        listed = by_folder[folder].get(os.path.basename(path))
        if listed:
            result[os.path.abspath(path)] = listed
    return result


def verify_checksum(path: str, expected: tuple[str, str] | None) -> None:
    """Stream ``path`` through its hash; raise ``ChecksumMismatch`` when it differs or none is listed."""
    if expected is None:
        raise ChecksumMismatch("no md5 or sha1 is listed for this file", path=path)
    algorithm, digest = expected
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            hasher.update(chunk)
    if hasher.hexdigest() != digest:
        raise ChecksumMismatch(f"{algorithm} is {hasher.hexdigest()}, the dump lists {digest}", path=path)
