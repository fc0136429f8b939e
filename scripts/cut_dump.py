#!/usr/bin/env python3
"""Cut one MediaWiki history into files as the Data Lake's dumper does, for tests and trials.

``MediawikiDumper`` (analytics-refinery-source) writes a wiki's history as files of whole pages,
``<wiki>-<YYYY-MM-DD>-p<first>p<last>.xml.<ext>``, and a page too large for one file as several
files of that page alone, ``<wiki>-<YYYY-MM-DD>-p<page>r<first>r<last>.xml.<ext>``, each a whole
document (the siteinfo, then ``<page>`` with the page's header and part of its revisions).
``cut`` does the same to any history, in one of two shapes: ``isolate`` as ``MediawikiDumper``
does (a page with more than ``per_file`` revisions gets files of its own, the other pages are
grouped ``per_file`` revisions or more to a file, a group going on around such a page), or else
ending a file after every ``per_file`` revisions wherever that falls, so that any page may go on
in the next file. Every file has the history's header (root element and siteinfo).

    python scripts/cut_dump.py history.xml OUT_FOLDER --wiki aawiki --date 2026-01-01 --per-file 100
"""

from __future__ import annotations

import argparse
import bz2
import os
import re
from dataclasses import dataclass

_REVISION_ID = re.compile(rb"<id>\s*(\d+)\s*</id>")


@dataclass
class Page:
    id: int
    head: bytes  # <page> up to its first <revision>
    revisions: list[bytes]  # each <revision>...</revision> with the blanks after it
    tail: bytes  # what follows the last revision, </page> included


def read_pages(xml: bytes) -> tuple[bytes, list[Page]]:
    """The document's text before its first ``<page>``, and its pages cut into their parts."""
    first = xml.index(b"<page>")
    header, pages, at = xml[:first], [], first
    while True:
        start = xml.find(b"<page>", at)
        if start == -1:
            break
        end = xml.index(b"</page>", start) + len(b"</page>")
        text = xml[start:end]
        cuts = [m.start() for m in re.finditer(rb"<revision>", text)]
        head = text[:cuts[0]] if cuts else text[:-len(b"</page>")]
        page_id = int(_REVISION_ID.search(head).group(1))
        revisions = []
        for i, begin in enumerate(cuts):
            close = text.index(b"</revision>", begin) + len(b"</revision>")
            stop = cuts[i + 1] if i + 1 < len(cuts) else close
            revisions.append(text[begin:stop])
        tail = text[text.rindex(b"</revision>") + len(b"</revision>"):] if cuts else b"</page>"
        pages.append(Page(page_id, head, revisions, tail))
        at = end
    return header, pages


def revision_id(revision: bytes) -> int:
    return int(_REVISION_ID.search(revision).group(1))


def _groups(pages: list[Page], per_file: int, isolate: bool) -> list[list[tuple[Page, list[bytes]]]]:
    """The files' contents: for each, its (page, the page's revisions in it), in order."""
    if isolate:
        files, group, count = [], [], 0
        for page in pages:
            if len(page.revisions) > per_file:  # a file of its own per ``per_file`` revisions
                for at in range(0, len(page.revisions), per_file):
                    files.append([(page, page.revisions[at:at + per_file])])
                continue
            group.append((page, page.revisions))
            count += len(page.revisions)
            if count >= per_file:
                files.append(group)
                group, count = [], 0
        if group:
            files.append(group)
        return sorted(files, key=lambda parts: parts[0][0].id)  # the dumper's order: by first page
    files, count = [[]], 0
    for page in pages:
        for revision in page.revisions or [None]:
            if count == per_file:
                files.append([])
                count = 0
            if not files[-1] or files[-1][-1][0] is not page:
                files[-1].append((page, []))
            if revision is not None:
                files[-1][-1][1].append(revision)
                count += 1
    return files


def cut(xml: bytes, wiki: str, date: str, per_file: int, compress: str = "none",
        isolate: bool = False) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the files (module docstring), named as ``MediawikiDumper`` names them
    (``date`` is YYYY-MM-DD)."""
    header, pages = read_pages(xml)
    out = []
    for parts in _groups(pages, per_file, isolate):
        first, last = parts[0][0], parts[-1][0]
        if first is last and first.revisions:
            span = f"p{first.id}r{revision_id(parts[0][1][0])}r{revision_id(parts[0][1][-1])}"
        else:
            span = f"p{first.id}p{last.id}"
        text = header + b"".join(page.head + b"".join(revisions) + page.tail + b"\n" for page, revisions in parts)
        text += b"</mediawiki>\n"
        suffix = {"none": "", "bz2": ".bz2"}[compress]
        out.append((f"{wiki}-{date}-{span}.xml{suffix}", bz2.compress(text) if compress == "bz2" else text))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("history", help="a plain XML history")
    parser.add_argument("out", help="the folder to write the files into")
    parser.add_argument("--wiki", required=True)
    parser.add_argument("--date", required=True, help="YYYY-MM-DD")
    parser.add_argument("--per-file", type=int, default=1000, help="revisions per file")
    parser.add_argument("--compress", choices=("none", "bz2"), default="none")
    parser.add_argument("--isolate", action="store_true", help="long pages in files of their own, as the dumper")
    args = parser.parse_args(argv)
    with open(args.history, "rb") as fh:
        xml = fh.read()
    os.makedirs(args.out, exist_ok=True)
    for name, data in cut(xml, args.wiki, args.date, args.per_file, args.compress, args.isolate):
        with open(os.path.join(args.out, name), "wb") as fh:
            fh.write(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
