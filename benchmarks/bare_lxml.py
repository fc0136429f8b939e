#!/usr/bin/env python3
"""The CPU floor of issue 16: a bare lxml ``iterparse`` that only pulls each revision's text out of a zstd dump.

The least a Python program built on lxml does to read a dump: the file is
decompressed in this process by the ``zstandard`` module (as dumpproc decompresses
zstd, so both pay the same decompression), ``lxml.etree.iterparse`` walks it,
each ``<text>`` becomes UTF-8 bytes (``el.text.encode('utf-8')``), and every
revision and page is cleared and dropped from its parent once it ends, so memory
stays flat. No fields, no diffs, no output.

    python benchmarks/bare_lxml.py DUMP.xml.zst [DUMP.xml.zst ...]

Prints the revisions and the bytes of text it read, so that a benchmark can check
it did the work dumpproc did.
"""

from __future__ import annotations

import io
import sys

import zstandard
from lxml import etree

TAGS = ("{*}text", "{*}revision", "{*}page")
READ_BYTES = 1 << 20  # dumpproc reads its decompressed stream through a buffer of this size


def read(path: str) -> tuple[int, int]:
    """The revisions of one zstd dump and the UTF-8 bytes of their texts."""
    revisions = text_bytes = 0
    with open(path, "rb") as raw:
        stream = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw, read_across_frames=True)
        for _, element in etree.iterparse(io.BufferedReader(stream, READ_BYTES), events=("end",), tag=TAGS,
                                          huge_tree=True):
            name = element.tag
            if name.endswith("text"):
                text_bytes += len((element.text or "").encode("utf-8"))
            elif name.endswith("revision"):
                revisions += 1
            element.clear(keep_tail=True)
            if not name.endswith("text"):  # a text stays until its revision ends, then goes with it
                while element.getprevious() is not None:
                    del element.getparent()[0]
    return revisions, text_bytes


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    revisions = text_bytes = 0
    for path in paths:
        more, size = read(path)
        revisions += more
        text_bytes += size
    print(revisions, text_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
