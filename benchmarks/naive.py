#!/usr/bin/env python3
"""The naive pipeline: what a researcher writes today to get one row per revision, the baseline of the suite.

One process, the usual libraries, no tricks: the dump is opened as a
decompressing file object (``bz2.open``, ``gzip.open``, a ``zstandard``
stream, a ``7zz e -so`` pipe), read by ``mwxml``; each revision's lines are
diffed against the page's previous revision with ``difflib.SequenceMatcher``
(autojunk off, so the diff is exact), identity reverts are found by
``mwreverts.Detector(radius=15)`` on the text's sha1, and the rows go to one
Parquet file through pyarrow, a batch at a time.

    python benchmarks/naive.py DUMP [DUMP ...] [-o revisions.parquet]

Prints the number of rows written. The columns are a subset of dumpproc's
``revisions`` table: enough to do the same work, not to match its schema.
"""

from __future__ import annotations

import argparse
import bz2
import difflib
import gzip
import hashlib
import shutil
import subprocess
import sys
from contextlib import contextmanager

import mwreverts
import mwxml
import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 10_000
SCHEMA = pa.schema([
    ("page_id", pa.int64()), ("namespace", pa.int32()), ("revision_id", pa.int64()), ("timestamp", pa.string()),
    ("user_id", pa.int64()), ("user_text", pa.string()), ("bytes", pa.int64()), ("lines_added", pa.int64()),
    ("lines_removed", pa.int64()), ("is_revert", pa.bool_()), ("reverted_to_revision_id", pa.int64()),
])


@contextmanager
def open_dump(path: str):
    """A file object of the dump's XML, decompressed by the usual library for its extension."""
    if path.endswith(".bz2"):
        with bz2.open(path, "rb") as fh:
            yield fh
    elif path.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield fh
    elif path.endswith(".zst"):
        import zstandard

        with open(path, "rb") as raw, zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw) as fh:
            yield fh
    elif path.endswith(".7z"):
        seven = shutil.which("7zz") or shutil.which("7z") or "7z"
        unpack = subprocess.Popen([seven, "e", "-so", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            yield unpack.stdout
        finally:
            unpack.stdout.close()
            if unpack.wait() not in (0, -13):  # -13: we stopped reading early (SIGPIPE)
                raise RuntimeError(f"{seven} failed on {path}: {unpack.stderr.read().decode(errors='replace')}")
    else:
        with open(path, "rb") as fh:
            yield fh


def page_rows(page):
    """One row per revision of a page: line diff against the previous revision, identity reverts."""
    detector = mwreverts.Detector(radius=15)
    previous: list[str] = []
    for revision in page:
        text = revision.text or ""
        lines = text.splitlines()
        added = removed = 0
        matcher = difflib.SequenceMatcher(None, previous, lines, autojunk=False)
        for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
            if tag != "equal":
                removed += a_end - a_start
                added += b_end - b_start
        sha1 = revision.sha1 or hashlib.sha1(text.encode("utf-8")).hexdigest()
        revert = detector.process(sha1, revision.id)
        yield {
            "page_id": page.id,
            "namespace": page.namespace,
            "revision_id": revision.id,
            "timestamp": str(revision.timestamp),
            "user_id": revision.user.id if revision.user else None,
            "user_text": revision.user.text if revision.user else None,
            "bytes": len(text.encode("utf-8")),
            "lines_added": added,
            "lines_removed": removed,
            "is_revert": revert is not None,
            "reverted_to_revision_id": revert.reverted_to if revert else None,
        }
        previous = lines


def process(paths: list[str], out: str) -> int:
    """Write the rows of every revision in ``paths`` to the Parquet file ``out``; returns the row count."""
    rows: list[dict] = []
    count = 0
    with pq.ParquetWriter(out, SCHEMA) as writer:
        for path in paths:
            with open_dump(path) as fh:
                for page in mwxml.Dump.from_file(fh):
                    rows.extend(page_rows(page))
                    if len(rows) >= BATCH_ROWS:
                        writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
                        count += len(rows)
                        rows.clear()
        writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
        count += len(rows)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", metavar="DUMP")
    parser.add_argument("-o", "--out", default="revisions.parquet", help="Parquet file to write")
    args = parser.parse_args(argv)
    print(process(args.dumps, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
