"""The ``dumpproc`` command: a thin layer over ``pipeline.run``, ``inspect_dump`` and ``build_report``.

Errors are turned into one line on stderr and an exit code here, and only here:
0 every unit committed; 1 at least one unit failed; 2 bad usage or an input
that cannot be opened at all; 130 interrupted (SIGINT, SIGTERM), in one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import __version__
from .accounts import DEFAULT_TEMP_USER_PATTERN
from .errors import DumpError, IncompleteDump, InputNotFound, MissingDependency, OutputError
from .interrupts import EXIT_INTERRUPTED, Interrupted
from .ownership import OutInUse
from .parse import ON_ERROR
from .parse.readers import choices as parser_choices
from .privacy import IP_MODES, IpPolicy
from .sources.layout import DEFAULT_ROOT

EXIT_OK, EXIT_FAILED_UNITS, EXIT_USAGE = 0, 1, 2
#: What a shell reports for a program that SIGPIPE ended: the reader of its output went away.
EXIT_BROKEN_PIPE = 141


def _int_list(text: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma list of namespace ids, not {text!r}") from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _size(text: str) -> int:
    """A byte count such as 268435456, 256M or 1G."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("B")
    try:
        value = int(float(text[:-1]) * units[text[-1]]) if text and text[-1] in units else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 256M, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


PROCESS_EPILOG = """\
partitions:
  wiki_db=   the siteinfo's dbname, else the wiki in the file name (enwiki-20260101-...);
             failing both, --wiki-db, else a guess from the siteinfo's base URL, else 'unknown'
  snapshot=  --snapshot, else the dump's date in the file name, else the month the run began
  A partition that comes from a guess or the run's month is named in a warning at the end.

exit codes:
  0    every unit committed (OUT/_SUCCESS is written)
  1    at least one unit failed; the others are committed, the failures are in the manifest and on stderr
  2    bad usage, or an input that cannot be opened at all
  130  interrupted (Ctrl-C, SIGTERM): the units committed stay; --resume goes on from them
"""

INSPECT_EPILOG = """\
INPUT is one dump file in any format dumpproc reads (bzip2, 7z, gzip, zstandard, xz, lzma or plain XML,
recognised by its first bytes). It is read once, start to end; nothing is written.
exit codes: 0 read to its end; 2 the file cannot be opened or read.
"""


def _verbose_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log each unit as it finishes, workers' records included")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dumpproc", description="MediaWiki XML history dumps to Hive-partitioned Parquet."
    )
    parser.add_argument("--version", action="version", version=f"dumpproc {__version__}")
    _verbose_option(parser, False)
    # -v is also taken after the subcommand; there its default must not undo one given before
    shared = argparse.ArgumentParser(add_help=False)
    _verbose_option(shared, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    formatter = argparse.RawDescriptionHelpFormatter

    process = commands.add_parser("process", help="turn dump files into Parquet tables", parents=[shared],
                                  epilog=PROCESS_EPILOG, formatter_class=formatter)
    process.add_argument("inputs", nargs="*", metavar="INPUT", help="dump files or folders of them")
    process.add_argument("-o", "--out", required=True, help="output root")
    process.add_argument("--wiki", help="a wiki's dump under --dumps-root (with --date)")
    process.add_argument("--date", help="the dump's date, YYYYMMDD (with --wiki)")
    process.add_argument("--dumps-root", default=DEFAULT_ROOT, help=f"dump tree root (default: {DEFAULT_ROOT})")
    process.add_argument("--verify-checksums", action="store_true",
                         help="check inputs against the dump's md5/sha1 lists first (default: off)")
    process.add_argument("--allow-incomplete", action="store_true",
                         help="process a dump whose dumpstatus.json job is not done (default: refused)")
    process.add_argument("-j", "--workers", type=_positive, default=os.cpu_count() or 1,
                         help="worker processes (default: the number of CPUs, here %(default)s)")
    process.add_argument("--tables", default="revisions,diffs,pages,users",
                         help="comma list of revisions,diffs,pages,users,content (default: %(default)s)")
    process.add_argument("--revert-radius", type=int, default=0, metavar="N",
                         help="look back at most N revisions for identity reverts (default: 0, unlimited)")
    process.add_argument("--ips", choices=IP_MODES, default="keep",
                         help="IP addresses: keep them, hash them (keyed), or drop them; with hash or drop "
                              "no address of the input is left in OUT: editors, titles, comments, diffs and "
                              "content (docs/privacy.md) (default: %(default)s)")
    process.add_argument("--ip-key-file", help="secret key for --ips hash (default: $DUMPPROC_IP_KEY)")
    process.add_argument("--namespaces", type=_int_list, help="only pages in these namespace ids (default: all)")
    process.add_argument("--snapshot", help="the snapshot= partition, YYYY-MM (default: the dump's date in the "
                                            "file name, else the month the run began)")
    process.add_argument("--wiki-db", metavar="NAME",
                         help="the wiki_db= partition of inputs whose siteinfo and file name name no wiki "
                              "(default: a guess from the siteinfo's base URL, else 'unknown')")
    process.add_argument("--temp-user-pattern", default=DEFAULT_TEMP_USER_PATTERN, metavar="REGEX",
                         help="a registered name this Python regular expression finds (re.search) is a "
                              "temporary account, user_is_temporary: MediaWiki's automatic accounts for "
                              "unregistered editors (default: %(default)s, the form Wikimedia's wikis use, "
                              "~2025-12345-67)")
    process.add_argument("--split-size", type=_size, default=None, metavar="SIZE",
                         help="target bytes (as stored) per unit when a file is split: bzip2 at blocks, "
                              "zstandard at frames, plain UTF-8 XML anywhere (default: 256M)")
    process.add_argument("--resume", action="store_true",
                         help="skip units that an earlier run of the same OUT committed (default: off)")
    process.add_argument("--engine", choices=("local", "spark"), default="local",
                         help="run units in local worker processes, or as Spark tasks, which need PySpark: "
                              "pip install 'dumpproc[spark]', in a checkout pip install -e '.[spark]' "
                              "(default: %(default)s)")
    process.add_argument("--on-error", choices=ON_ERROR, default="fail-unit",
                         help="what malformed XML inside a page does: fail the unit (keeping the pages before "
                              "it) or skip the page (counted in the manifest) (default: %(default)s)")
    process.add_argument("--parser", choices=parser_choices(), default="auto",
                         help="which XML reader: the compiled one (fast), lxml's (the reference), or auto: "
                              "the fast one, falling back to lxml for a unit it does not fully cover; all give "
                              "the same rows (default: %(default)s)")
    process.add_argument("--group-readable", action="store_true",
                         help="create output readable by the owner's group (default: owner only)")

    inspect = commands.add_parser("inspect", help="summarise one dump file", parents=[shared],
                                  epilog=INSPECT_EPILOG, formatter_class=formatter)
    inspect.add_argument("input", metavar="INPUT", help="one dump file (see below)")
    inspect.add_argument("--json", action="store_true", help="print JSON for scripts")

    report = commands.add_parser("report", help="HTML pages with charts of a processed output", parents=[shared])
    report.add_argument("out", metavar="OUT", help="the output root a process run wrote")
    report.add_argument("-o", "--output", metavar="PATH",
                        help="the page (default report.html); with several wikis or snapshots, "
                             "NAME-<wiki>-<snapshot>.html beside it, or into PATH when it is a folder")
    return parser


def _inputs(args) -> tuple[list[str], list[str]]:
    """The dump files a ``process`` call names (files, folders, or a wiki and date), and for folders
    and a wiki and date the line saying which files were chosen (the plan)."""
    from .sources.layout import check_status, expand_inputs, find_history

    if args.wiki or args.date:
        if not (args.wiki and args.date):
            raise ValueError("--wiki and --date go together")
        if args.inputs:
            raise ValueError("give INPUT files or --wiki/--date, not both")
        dump = find_history(args.wiki, args.date, args.dumps_root)
        for problem in check_status(dump, args.allow_incomplete):
            logging.getLogger("dumpproc").warning("%s: %s (processing anyway)", dump.folder, problem)
        return dump.files, [dump.plan]
    if not args.inputs:
        raise ValueError("give INPUT files or folders, or --wiki and --date")
    plans: list[str] = []
    return expand_inputs(args.inputs, plans), plans


def _process(args) -> int:
    from .pipeline import Options, run
    from .sources.layout import checksums_for

    inputs, plans = _inputs(args)
    try:
        options = Options(
            out=args.out,
            workers=args.workers,
            tables=tuple(t.strip() for t in args.tables.split(",") if t.strip()),
            namespaces=args.namespaces,
            snapshot=args.snapshot,
            wiki_db=args.wiki_db,
            group_readable=args.group_readable,
            ips=IpPolicy.from_options(args.ips, args.ip_key_file),
            revert_radius=args.revert_radius,
            engine=args.engine,
            resume=args.resume,
            on_error=args.on_error,
            parser=args.parser,
            temp_user_pattern=args.temp_user_pattern,
            **({"split_size": args.split_size} if args.split_size else {}),
            checksums=checksums_for(inputs) if args.verify_checksums else None,
        )
    except OSError as exc:
        raise InputNotFound(f"cannot read the key file: {exc.strerror}", path=args.ip_key_file) from exc
    from .progress import Progress
    from .sources.piped import is_piped

    # a piped input has no size, so the run has no total to show a share or an ETA of
    total = None if any(map(is_piped, inputs)) else sum(os.path.getsize(p) for p in inputs)
    progress = Progress(total, what=_stored_as(inputs))
    try:
        result = run(inputs, options, progress, plan=plans)
    finally:
        progress.close()
    out_lines, err_lines = summary(result, options.tables, os.path.abspath(args.out))
    for line in err_lines:
        print(line, file=sys.stderr)
    for line in out_lines:
        print(line)
    return EXIT_OK if result.ok else EXIT_FAILED_UNITS


def _stored_as(inputs: list[str]) -> str:
    """What the progress line's bytes are: "compressed", "XML" (all plain) or "stored" (a mix)."""
    from .sources import detect_codec

    from .sources.piped import is_piped

    codecs = set()
    for path in inputs:
        if is_piped(path):  # read once, by its unit: its first bytes are not ours to take here
            codecs.add("piped")
            continue
        try:
            codecs.add(detect_codec(path).name)
        except DumpError:
            pass  # its unit fails and says why
    if codecs == {"xml"}:
        return "XML"
    if codecs == {"piped"}:
        return "input"
    return "stored" if "xml" in codecs or "piped" in codecs else "compressed"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _kept(unit: dict) -> str:
    """What a failed unit left committed, worded for the case at hand."""
    if not unit.get("files"):
        return "nothing of it was written"
    partial = unit.get("partial_pages", [])
    whole = unit["pages"] - len(partial)
    cut = [f"{_plural(p['revisions'], 'revision')} of page {p['page_id']} read before the fault" for p in partial]
    if whole == 0:
        return f"the {cut[0]} was kept" if cut else "no page of it was whole, so none was kept"
    kept = "its first page was kept" if whole == 1 else f"its first {whole:,} pages were kept"
    return ", and the ".join([kept, *cut])


def _partition_lines(units: list[dict]) -> tuple[list[str], list[str]]:
    """The partition each input went to (grouped), and a warning for each one from a fallback."""
    from .units import FALLBACKS, SNAPSHOT_FROM_RUN, WIKI_FROM_BASE

    groups: dict[tuple[str, str], set[str]] = {}
    fallbacks: dict[tuple[str, str, str], set[str]] = {}
    for unit in units:
        if "wiki_db" not in unit:
            continue
        groups.setdefault((unit["wiki_db"], unit["snapshot"]), set()).update([unit["path"], *unit.get("continued", [])])
        for kind, value, source in (("wiki_db", unit["wiki_db"], unit.get("wiki_db_from")),
                                    ("snapshot", unit["snapshot"], unit.get("snapshot_from"))):
            if source in FALLBACKS:
                fallbacks.setdefault((kind, value, source), set()).add(unit["path"])
    shown = [f"  wiki_db={db} snapshot={snapshot}: {_plural(len(paths), 'input')}"
             for (db, snapshot), paths in sorted(groups.items())]
    warnings = []
    for (kind, value, source), paths in sorted(fallbacks.items()):
        names = sorted(os.path.basename(p) for p in paths)
        who = names[0] if len(names) == 1 else f"{len(names):,} inputs ({', '.join(names[:3])}" + (
            ", ...)" if len(names) > 3 else ")")
        if source == SNAPSHOT_FROM_RUN:
            why, option = "this run's month: no dump date in the file name", "--snapshot YYYY-MM"
        elif source == WIKI_FROM_BASE:
            why, option = "guessed from the siteinfo's base URL: no dbname in the siteinfo, no wiki in the name", \
                "--wiki-db NAME"
        else:
            why, option = "no dbname in the siteinfo and no wiki in the file name", "--wiki-db NAME"
        warnings.append(f"dumpproc: warning: {who} went to {kind}={value} ({why}); set it with {option}")
    return shown, warnings


def summary(result, tables: tuple[str, ...], out: str) -> tuple[list[str], list[str]]:
    """What ``process`` prints at the end, as (stdout lines, stderr lines); it agrees with the manifest:
    the pages and revisions committed (failed units' kept pages included), only the tables written,
    each input's partition, and warnings for partitions from a fallback."""
    units = result.units
    written = [u for u in units if u.get("files")]
    pages = sum(u["pages"] for u in written)
    revisions = sum(u["revisions"] for u in written)
    committed = sum(1 for u in units if u["status"] == "committed")
    failed = len(result.failed)
    seconds = result.manifest["seconds"]
    has_files = {f.split(os.sep, 1)[0] for u in written for f in u["files"]}
    shown = [t for t in tables if t in has_files or (t == "users" and result.manifest.get("users"))]
    state = f"{committed:,} of {_plural(len(units), 'unit')} committed" + (f", {failed:,} failed" if failed else "")
    if result.resumed_all:
        head = (f"dumpproc: nothing to do (--resume): an earlier run committed all {_plural(len(units), 'unit')}, "
                f"{_plural(pages, 'page')}, {_plural(revisions, 'revision')}")
    elif shown:
        head = (f"dumpproc: wrote {', '.join(shown)}: {_plural(pages, 'page')}, {_plural(revisions, 'revision')} "
                f"in {seconds:.1f} s; {state}")
    else:
        head = f"dumpproc: wrote no table; {state}"
    partitions, warnings = _partition_lines(units)
    out_lines = [head, *(f"  read {line}" for line in result.manifest.get("plan") or []), *partitions]
    if result.earlier:
        kept = [u for u in result.earlier if u.get("files")]
        out_lines.append(f"  and {_plural(len(result.earlier), 'unit')} of earlier runs for other inputs, kept: "
                         f"{_plural(sum(u['pages'] for u in kept), 'page')}, "
                         f"{_plural(sum(u['revisions'] for u in kept), 'revision')}")
    out_lines += [f"  {table:<10} {os.path.join(out, table)}" for table in shown]
    out_lines.append(f"  manifest   {os.path.join(out, '_manifest.json')}")
    err_lines = []
    skipped = sum(len(u.get("skipped_pages", [])) for u in units)
    if skipped:
        err_lines.append(f"dumpproc: skipped {_plural(skipped, 'malformed page')}; see the manifest's skipped_pages")
    for partition, found in result.duplicates.items():
        err_lines.append(f"dumpproc: revisions written twice in {partition}, e.g. revision "
                         f"{found['examples'][0]} (in {', '.join(found['files'][:2])}): the inputs overlap; "
                         "see the manifest's duplicate_revisions")
    for unit in result.failed:
        err_lines.append(f"dumpproc: unit {unit['id']} failed ({_kept(unit)}): {unit['error']}")
    return out_lines, err_lines + warnings


def _inspect(args) -> int:
    from .inspection import inspect_dump
    from .sources.piped import is_piped

    if not is_piped(args.input) and not os.path.isfile(args.input):
        raise InputNotFound("no such file" if not os.path.exists(args.input) else "not a file", path=args.input)
    summary = inspect_dump(args.input, threads=os.cpu_count() or 1)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(summary.as_text())
    return EXIT_OK


def _report(args) -> int:
    from .report import build_report

    for path in build_report(args.out, args.output):
        print(f"dumpproc: wrote {path}")
    return EXIT_OK


#: Arrow's allocator for a run: the C library's malloc, unless the user chose one. Arrow's default
#: pools (mimalloc, jemalloc) keep what a huge revision's diff text took (its array and Parquet
#: pages, tens of MB) after it is written: two 50 MB revisions raised a run's peak by 100 MB
#: (``tests/test_memory.py``); malloc gives such blocks back at once, at no cost in speed measured.
#: Read by Arrow when it first allocates, so it is set before the run imports pyarrow.
ARROW_POOL = ("ARROW_DEFAULT_MEMORY_POOL", "system")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault(*ARROW_POOL)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
    )
    handler = {"process": _process, "inspect": _inspect, "report": _report}[args.command]
    try:
        return handler(args)
    except (InputNotFound, IncompleteDump, MissingDependency) as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutInUse as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_FAILED_UNITS
    except DumpError as exc:
        # inspect reads one file: an unreadable one is an input that cannot be opened
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE if args.command == "inspect" else EXIT_FAILED_UNITS
    except (Interrupted, KeyboardInterrupt) as exc:
        print(_interrupted_line(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (``dumpproc inspect ... | head``): end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _interrupted_line(exc: BaseException) -> str:
    manifest = getattr(exc, "manifest", None)
    if not manifest:
        return "dumpproc: interrupted; the units committed stay, and --resume goes on from them"
    units = manifest["units"]
    committed = sum(1 for u in units if u["status"] == "committed")
    return (f"dumpproc: interrupted; {committed:,} of {_plural(len(units), 'unit')} committed; "
            "--resume goes on from them")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
