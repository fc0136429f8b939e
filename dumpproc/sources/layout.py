"""Where dump files are: given files, folders, and the trees Wikimedia publishes dumps in.

Two trees are read under a dumps root (``--dumps-root``):

- Wikimedia's XML dumps, ``ROOT/<wiki>/<YYYYMMDD>/``, with ``dumpstatus.json`` (its job must be
  ``done`` unless incomplete dumps are allowed) and the ``*-md5sums.txt`` / ``*-sha1sums.txt``
  lists beside the files;
- the content-history dumps written from the Data Lake (``MediawikiDumper``),
  ``ROOT/other/mediawiki_content_history/<wiki>/<YYYY-MM-DD>/xml/<codec>/`` (codec ``bzip2``,
  ``zstd``, ``gzip``, ``none``), one folder per compression of the same files (``sources.names``).

A wiki and date mean that dump's ``pages-meta-history`` files: from the XML dumps' folder when it
has them, else from the content-history tree (both hold every revision: reading both would write
each twice). A folder given as input is read the same way: its history files; if it has none, one
other kind (current pages before articles, before stubs); a content-history date folder, by one of
its codec folders. Wikimedia publishes the same files in several formats; one is taken for each
file (bz2 first, it decodes in parallel; zstandard first in the content-history tree, whose files
are many and small, so it is speed of decoding that counts), so no revision is read twice. What was
chosen, and what was left, is said in one line, ``Chosen.plan``.

``verify_checksum`` streams a file through the hash its folder's lists give.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from ..errors import ChecksumMismatch, IncompleteDump, InputNotFound
from .names import HISTORY, KINDS, compression_suffix, page_order, parse_name, stem
from .piped import STDIN, input_name, is_piped

DEFAULT_ROOT = "/mnt/data/xmldatadumps/public"
#: Suffixes by preference when the same dump is there in several formats.
FORMAT_PREFERENCE = (".bz2", ".7z", ".zst", ".gz", ".xz", ".lzma", ".xml")
#: The content-history tree's codec folders by preference (its files are many and bounded in size).
CODEC_FOLDERS = ("zstd", "bzip2", "gzip", "none")
CONTENT_HISTORY = os.path.join("other", "mediawiki_content_history")
#: dumpstatus.json's job for each format of the history files.
HISTORY_JOBS = {".bz2": "metahistorybz2dump", ".7z": "metahistory7zdump"}
_NOT_DUMPS = re.compile(r"(md5sums|sha1sums|-index\.txt|\.json$|\.html$|\.txt$|\.tmp$|\.partial$)")


def _format_of(name: str) -> str:
    return compression_suffix(name)


def one_format_each(paths: list[str], preference: tuple[str, ...] = FORMAT_PREFERENCE) -> list[str]:
    """Keep one file of each dump part that is there in several formats (bz2 first), in name order."""
    best: dict[tuple[str, str], str] = {}
    for path in sorted(paths):
        key = (os.path.dirname(path), stem(os.path.basename(path)))
        kept = best.get(key)
        if kept is None or preference.index(_format_of(path)) < preference.index(_format_of(kept)):
            best[key] = path
    return sorted(best.values())


def dump_files_in(folder: str) -> list[str]:
    """Every dump file in a folder (not its checksum lists, indexes or status), one format each."""
    names = [n for n in os.listdir(folder) if ".xml" in n and not n.startswith(".") and not _NOT_DUMPS.search(n)]
    return one_format_each([os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))])


@dataclass
class Chosen:
    """The files a folder or a wiki and date are read as, and one line saying what was chosen."""

    files: list[str]
    plan: str


def _kinds_line(files: list[str]) -> str:
    kinds = sorted({parse_name(p).kind or "other" for p in files})
    formats = sorted({_format_of(p).lstrip(".") for p in files})
    return f"{'/'.join(kinds)} in {'/'.join(formats)}"


def choose_in_folder(folder: str) -> Chosen:
    """A folder's files as a dump is read (module docstring): its history in one format each, else one
    other kind; a content-history date folder (``…/<date>/`` or its ``xml/``) by one codec folder."""
    codecs = _codec_folders(folder)
    if codecs:
        picked = codecs[0]
        chosen = choose_in_folder(picked)
        others = [os.path.basename(c) for c in codecs[1:]]
        also = f"; the same files in {', '.join(others)} are not read" if others else ""
        return Chosen(chosen.files, chosen.plan + also)
    every = [os.path.join(folder, n) for n in os.listdir(folder)
             if ".xml" in n and not n.startswith(".") and not _NOT_DUMPS.search(n)
             and os.path.isfile(os.path.join(folder, n))]
    if not every:
        return Chosen([], f"{folder}: no dump file (*.xml*)")
    by_kind: dict[str | None, list[str]] = {}
    for path in every:
        by_kind.setdefault(parse_name(path).kind, []).append(path)
    kinds = [k for k in KINDS if k in by_kind]
    kind = kinds[0] if kinds else None  # KINDS lists the history first
    preference = _preference(folder)
    files = page_order(one_format_each(by_kind[kind], preference))
    left = [p for p in every if p not in files]
    plan = f"{folder}: {len(files)} file(s), {_kinds_line(files)}"
    if kind not in (None, HISTORY):
        plan += " (there is no pages-meta-history)"
    if left:
        plan += f"; not read: {len(left)} file(s), {_kinds_line(left)}"
    return Chosen(files, plan)


def _preference(folder: str) -> tuple[str, ...]:
    if CONTENT_HISTORY in os.path.abspath(folder) or "mediawiki_content_" in os.path.abspath(folder):
        return (".zst",) + tuple(f for f in FORMAT_PREFERENCE if f != ".zst")
    return FORMAT_PREFERENCE


def _codec_folders(folder: str) -> list[str]:
    """A content-history date folder's codec folders (``xml/<codec>/``) holding files, by preference."""
    base = os.path.join(folder, "xml") if os.path.isdir(os.path.join(folder, "xml")) else folder
    try:
        names = os.listdir(base)
    except OSError:
        return []
    found = [n for n in names if os.path.isdir(os.path.join(base, n)) and n in CODEC_FOLDERS
             and any(".xml" in f for f in os.listdir(os.path.join(base, n)))]
    return [os.path.join(base, n) for n in sorted(found, key=CODEC_FOLDERS.index)]


def expand_inputs(inputs: list[str], plans: list[str] | None = None) -> list[str]:
    """Files as they are, folders as a dump is read (``choose_in_folder``; its plan line is added to
    ``plans``), piped inputs (``-``, ``/dev/stdin``, a FIFO) by their names (``-`` for standard
    input); a missing input is a usage error."""
    files: list[str] = []
    for given in inputs:
        if is_piped(given):  # before isfile: /dev/stdin may be a redirected file, still read as a stream
            files.append(input_name(given))
        elif os.path.isdir(given):
            chosen = choose_in_folder(given)
            if not chosen.files:
                raise InputNotFound("the folder holds no dump file (*.xml*)", path=given)
            files.extend(chosen.files)
            if plans is not None:
                plans.append(chosen.plan)
        elif os.path.isfile(given):
            files.append(given)
        else:
            raise InputNotFound("no such file or folder", path=given)
    return files


@dataclass
class DumpRun:
    """One wiki's dump of one date: its folder, the files read, and what the choice was."""

    folder: str
    wiki: str
    date: str
    files: list[str]
    status: dict = field(default_factory=dict)
    #: "dumps" (``ROOT/<wiki>/<date>/``) or "content-history" (the Data Lake's tree)
    layout: str = "dumps"
    plan: str = ""

    def job_of(self, path: str) -> str | None:
        return HISTORY_JOBS.get(_format_of(path)) if self.layout == "dumps" else None


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
    """The ``pages-meta-history`` files of a wiki's dump of ``date`` (YYYYMMDD) under ``root``, one
    format each: from ``ROOT/<wiki>/<date>/`` when it has them, else from the content-history tree."""
    if not re.fullmatch(r"\d{8}", date):
        raise ValueError(f"--date must be YYYYMMDD, not {date!r}")
    folder = os.path.join(root, wiki, date)
    content = os.path.join(root, CONTENT_HISTORY, wiki, f"{date[:4]}-{date[4:6]}-{date[6:]}")
    prefix = f"{wiki}-{date}-{HISTORY}"
    files = []
    if os.path.isdir(folder):
        files = [p for p in dump_files_in(folder) if os.path.basename(p).startswith(prefix)]
    if files:
        files = page_order(files)
        plan = f"{folder}: {len(files)} file(s), {_kinds_line(files)}"
        if _codec_folders(content):
            plan += f"; {content} holds this dump too (from the Data Lake) and is not read"
        return DumpRun(folder, wiki, date, files, read_status(folder), plan=plan)
    if _codec_folders(content):
        chosen = choose_in_folder(content)
        if chosen.files:
            plan = chosen.plan + (f"; {folder} has no {prefix}*.xml*" if os.path.isdir(folder) else "")
            return DumpRun(os.path.dirname(chosen.files[0]), wiki, date, chosen.files, {},
                           layout="content-history", plan=plan)
    if not os.path.isdir(folder):
        raise InputNotFound(f"no dump folder for this wiki and date (nor {content})", path=folder)
    raise InputNotFound(f"no {prefix}*.xml* files (nor a content-history dump in {content})", path=folder)


def check_status(run: DumpRun, allow_incomplete: bool = False) -> list[str]:
    """Refuse a dump whose history job is not done; returns warnings when allowed anyway."""
    if run.layout != "dumps":
        return []  # the Data Lake's tree has no dumpstatus.json to check
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
