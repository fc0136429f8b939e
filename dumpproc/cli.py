"""The ``dumpproc`` command: a thin layer over ``pipeline.run``, ``inspect_dump`` and ``build_report``.

Errors are turned into one line on stderr and an exit code here, and only here:
0 every unit committed; 1 at least one unit failed; 2 bad usage or an input
that cannot be opened at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import __version__
from .errors import DumpError, IncompleteDump, InputNotFound, MissingDependency, OutputError
from .parse import ON_ERROR
from .privacy import IP_MODES, IpPolicy
from .sources.layout import DEFAULT_ROOT

EXIT_OK, EXIT_FAILED_UNITS, EXIT_USAGE = 0, 1, 2


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dumpproc", description="MediaWiki XML history dumps to Hive-partitioned Parquet."
    )
    parser.add_argument("--version", action="version", version=f"dumpproc {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    process = commands.add_parser("process", help="turn dump files into Parquet tables")
    process.add_argument("inputs", nargs="*", metavar="INPUT", help="dump files or folders of them")
    process.add_argument("-o", "--out", required=True, help="output root")
    process.add_argument("--wiki", help="a wiki's dump under --dumps-root (with --date)")
    process.add_argument("--date", help="the dump's date, YYYYMMDD (with --wiki)")
    process.add_argument("--dumps-root", default=DEFAULT_ROOT, help=f"dump tree root (default: {DEFAULT_ROOT})")
    process.add_argument("--verify-checksums", action="store_true",
                         help="check inputs against the dump's md5/sha1 lists first")
    process.add_argument("--allow-incomplete", action="store_true",
                         help="process a dump whose dumpstatus.json job is not done")
    process.add_argument("-j", "--workers", type=_positive, default=os.cpu_count() or 1,
                         help="worker processes (default: the number of CPUs)")
    process.add_argument("--tables", default="revisions,diffs,pages,users",
                         help="comma list of revisions,diffs,pages,users,content (default: all but content)")
    process.add_argument("--revert-radius", type=int, default=0, metavar="N",
                         help="look back at most N revisions for identity reverts; 0: unlimited (default)")
    process.add_argument("--ips", choices=IP_MODES, default="keep",
                         help="what to write for anonymous editors' IP addresses")
    process.add_argument("--ip-key-file", help=f"secret key for --ips hash (else ${'DUMPPROC_IP_KEY'})")
    process.add_argument("--namespaces", type=_int_list, help="only pages in these namespace ids")
    process.add_argument("--snapshot", help="the snapshot= partition, YYYY-MM (default: the dump's date)")
    process.add_argument("--split-size", type=_size, default=None, metavar="SIZE",
                         help="target bytes (as stored) per unit when a file is split: bzip2 at blocks, "
                              "zstandard at frames, plain UTF-8 XML anywhere (default 256M)")
    process.add_argument("--resume", action="store_true",
                         help="skip units that an earlier run of the same OUT committed")
    process.add_argument("--engine", choices=("local", "spark"), default="local",
                         help="run units in local worker processes or as Spark tasks (pip install 'dumpproc[spark]')")
    process.add_argument("--on-error", choices=ON_ERROR, default="fail-unit",
                         help="what malformed XML inside a page does: fail the unit (keeping the pages before "
                              "it) or skip the page (counted in the manifest)")
    process.add_argument("--group-readable", action="store_true",
                         help="create output readable by the owner's group")

    inspect = commands.add_parser("inspect", help="summarise one dump file")
    inspect.add_argument("input", metavar="INPUT")
    inspect.add_argument("--json", action="store_true", help="print JSON for scripts")

    report = commands.add_parser("report", help="HTML pages with charts of a processed output")
    report.add_argument("out", metavar="OUT", help="the output root a process run wrote")
    report.add_argument("-o", "--output", metavar="PATH",
                        help="the page (default report.html); with several wikis or snapshots, "
                             "NAME-<wiki>-<snapshot>.html beside it, or into PATH when it is a folder")
    return parser


def _inputs(args) -> list[str]:
    """The dump files a ``process`` call names: files, folders, or a wiki and date."""
    from .sources.layout import check_status, expand_inputs, find_history

    if args.wiki or args.date:
        if not (args.wiki and args.date):
            raise ValueError("--wiki and --date go together")
        if args.inputs:
            raise ValueError("give INPUT files or --wiki/--date, not both")
        dump = find_history(args.wiki, args.date, args.dumps_root)
        for problem in check_status(dump, args.allow_incomplete):
            logging.getLogger("dumpproc").warning("%s: %s (processing anyway)", dump.folder, problem)
        return dump.files
    if not args.inputs:
        raise ValueError("give INPUT files or folders, or --wiki and --date")
    return expand_inputs(args.inputs)


def _process(args) -> int:
    from .pipeline import Options, run
    from .sources.layout import checksums_for

    inputs = _inputs(args)
    try:
        options = Options(
            out=args.out,
            workers=args.workers,
            tables=tuple(t.strip() for t in args.tables.split(",") if t.strip()),
            namespaces=args.namespaces,
            snapshot=args.snapshot,
            group_readable=args.group_readable,
            ips=IpPolicy.from_options(args.ips, args.ip_key_file),
            revert_radius=args.revert_radius,
            engine=args.engine,
            resume=args.resume,
            on_error=args.on_error,
            **({"split_size": args.split_size} if args.split_size else {}),
            checksums=checksums_for(inputs) if args.verify_checksums else None,
        )
    except OSError as exc:
        raise InputNotFound(f"cannot read the key file: {exc.strerror}", path=args.ip_key_file) from exc
    from .progress import Progress
    from .sources.piped import is_piped

    # a piped input has no size, so the run has no total to show a share or an ETA of
    progress = Progress(None if any(map(is_piped, inputs)) else sum(os.path.getsize(p) for p in inputs))
    try:
        result = run(inputs, options, progress)
    finally:
        progress.close()
    committed = [u for u in result.units if u["status"] == "committed"]
    pages = sum(u["pages"] for u in committed)
    revisions = sum(u["revisions"] for u in committed)
    seconds = result.manifest["seconds"]
    print(f"dumpproc: wrote {', '.join(options.tables)} for {pages:,} pages, {revisions:,} revisions "
          f"from {len(committed)}/{len(result.units)} units in {seconds:.1f} s")
    for table in options.tables:
        print(f"  {table:<10} {os.path.join(os.path.abspath(args.out), table)}")
    print(f"  manifest   {os.path.join(os.path.abspath(args.out), '_manifest.json')}")
    from .units import dated_snapshot

    for unit in result.units:  # a stream (but a FIFO named as dumps are) has no file name to date it
        if unit.get("stream") and unit.get("snapshot") and not args.snapshot and not dated_snapshot(unit["path"]):
            print(f"dumpproc: warning: {unit['path']} went to snapshot={unit['snapshot']}, the run's month "
                  "(a piped input has no dump date; --snapshot YYYY-MM sets it)", file=sys.stderr)
    skipped = sum(len(u.get("skipped_pages", [])) for u in result.units)
    if skipped:
        print(f"dumpproc: skipped {skipped} malformed page(s); see the manifest's skipped_pages", file=sys.stderr)
    for unit in result.failed:
        kept = f" (its first {unit['pages']:,} pages were kept)" if unit.get("files") else ""
        print(f"dumpproc: unit {unit['id']} failed{kept}: {unit['error']}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED_UNITS


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
    )
    import multiprocessing_logging

    multiprocessing_logging.install_mp_handler()  # worker processes' records reach this log
    handler = {"process": _process, "inspect": _inspect, "report": _report}[args.command]
    try:
        return handler(args)
    except (InputNotFound, IncompleteDump, MissingDependency) as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as exc:
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_FAILED_UNITS
    except DumpError as exc:
        # inspect reads one file: an unreadable one is an input that cannot be opened
        print(f"dumpproc: {exc}", file=sys.stderr)
        return EXIT_USAGE if args.command == "inspect" else EXIT_FAILED_UNITS
    except KeyboardInterrupt:
        print("dumpproc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
