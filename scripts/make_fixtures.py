#!/usr/bin/env python3
"""Regenerate the small dumps in fixtures/ with gen_dump.py (deterministic: same bytes every time).

    python scripts/make_fixtures.py [FOLDER]
    python scripts/make_fixtures.py --with-tools   # also fixtures/codecs/, made by lbzip2, pbzip2 and 7zz

The files in fixtures/codecs/ are the demo sample's XML compressed by the
external tools Wikimedia and researchers use; they are committed because those
tools are not pip-installable, and tests check that they decompress to exactly
the generated XML.
"""

from __future__ import annotations

import bz2
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_dump import Options, generate  # noqa: E402

#: file name -> generator options; tests regenerate these and compare bytes.
FIXTURES = {
    # the demo of the README's Quick start: a small wiki's full history, bz2
    "samplewiki-20260101-pages-meta-history.xml.bz2": Options(
        pages=40, revisions=(1, 25), text_size=1500, seed=2026, schema="0.10", compression="bz2", dbname="samplewiki"
    ),
    # schema 0.11 with deleted users, comments and texts
    "samplewiki-20260101-deleted-0.11.xml": Options(
        pages=6, revisions=(1, 8), text_size=400, seed=11, schema="0.11", deleted_rate=0.15, dbname="samplewiki",
        start_page_id=10_001, start_revision_id=1_000_001,  # its ids apart from the sample's: one partition
    ),
    # an old schema: no <ns>, no sha1, no parentid, no model
    "samplewiki-20260101-old-0.4.xml": Options(
        pages=6, revisions=(1, 8), text_size=400, seed=4, schema="0.4", deleted_rate=0.1
    ),
}


SAMPLE = "samplewiki-20260101-pages-meta-history.xml.bz2"
#: fixtures/codecs/ file name -> the command that makes it from the sample's XML on stdin
TOOL_FIXTURES = {
    "sample.lbzip2.xml.bz2": ["lbzip2", "-9", "-n2", "-c"],
    "sample.pbzip2.xml.bz2": ["pbzip2", "-9", "-p2", "-c"],
    "sample.xml.7z": None,  # 7zz needs a file name: see make_tool_fixtures
}


def make_tool_fixtures(folder: str) -> None:
    codecs = os.path.join(folder, "codecs")
    os.makedirs(codecs, exist_ok=True)
    xml = bz2.decompress(open(os.path.join(folder, SAMPLE), "rb").read())
    for name, argv in TOOL_FIXTURES.items():
        target = os.path.join(codecs, name)
        if argv is None:
            plain = os.path.join(codecs, "sample.xml")
            with open(plain, "wb") as fh:
                fh.write(xml)
            if os.path.exists(target):
                os.unlink(target)
            subprocess.run([shutil.which("7zz") or "7z", "a", "-bd", "-mx=9", target, plain], check=True,
                           capture_output=True)
            os.unlink(plain)
        else:
            with open(target, "wb") as fh:
                subprocess.run(argv, input=xml, stdout=fh, check=True)
        print(f"codecs/{name}: {os.path.getsize(target):,} bytes")


def main(argv: list[str]) -> int:
    with_tools = "--with-tools" in argv
    argv = [a for a in argv if a != "--with-tools"]
    folder = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
    os.makedirs(folder, exist_ok=True)
    for name, options in FIXTURES.items():
        stats = generate(os.path.join(folder, name), options)
        print(f"{name}: {stats.pages} pages, {stats.revisions} revisions, {stats.xml_bytes:,} bytes of XML")
    if with_tools:
        make_tool_fixtures(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
