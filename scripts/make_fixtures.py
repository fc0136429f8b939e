#!/usr/bin/env python3
"""Regenerate the small dumps in fixtures/ with gen_dump.py (deterministic: same bytes every time).

    python scripts/make_fixtures.py [FOLDER]
"""

from __future__ import annotations

import os
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
        pages=6, revisions=(1, 8), text_size=400, seed=11, schema="0.11", deleted_rate=0.15, dbname="samplewiki"
    ),
    # an old schema: no <ns>, no sha1, no parentid, no model
    "samplewiki-20260101-old-0.4.xml": Options(
        pages=6, revisions=(1, 8), text_size=400, seed=4, schema="0.4", deleted_rate=0.1
    ),
}


def main(argv: list[str]) -> int:
    folder = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
    os.makedirs(folder, exist_ok=True)
    for name, options in FIXTURES.items():
        stats = generate(os.path.join(folder, name), options)
        print(f"{name}: {stats.pages} pages, {stats.revisions} revisions, {stats.xml_bytes:,} bytes of XML")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
