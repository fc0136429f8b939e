"""One revision id at most once per partition (SPEC): refused by names before any work, else found after.

- Before any work: inputs whose names show they overlap (two kinds of one dump, such as
  ``pages-meta-history`` and ``pages-meta-current`` of one wiki and date; one part in two formats;
  the XML dumps' and the Data Lake's dump of one wiki and date; or page ranges ``p<first>p<last>``
  that overlap) are refused (a usage error, exit 2).
- After the units: the revision ids of each partition's ``revisions`` parts are checked.
  Parts whose id ranges (from the Parquet statistics) do not overlap cannot share an id,
  so a dump's files, which hold disjoint ranges, cost one footer read each; only parts
  that overlap are read, one pair at a time. What is found goes into the manifest and
  fails the run (exit 1): the rows stay, so that the user can see them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Iterable

import numpy as np
import pyarrow.parquet as pq

from . import ownership
from .sources.names import parse_name, stem


def refuse_overlapping_names(paths: Iterable[str]) -> None:
    """Raise ``ValueError`` when the inputs' names show that they hold the same revisions: one file
    twice, two kinds of one dump, two dumps of one wiki and date (the XML dumps' and the Data
    Lake's), one part in two formats, or page ranges that overlap. Ranges that meet at one page
    (``p1p100``, ``p100p200``) do not: that page goes on in the second file (``units``)."""
    paths = [p for p in paths if p != "-"]
    seen_paths: dict[str, str] = {}
    for path in paths:
        real = os.path.realpath(path)
        if real in seen_paths:
            raise ValueError(f"{seen_paths[real]} and {path} are the same file: a revision is written once per "
                             "partition")
        seen_paths[real] = path
    kinds: dict[tuple[str, str], dict[tuple, str]] = defaultdict(dict)
    parts: dict[tuple, str] = {}
    ranges: dict[tuple, list[tuple[int, int, str]]] = defaultdict(list)
    for path in paths:
        name, found = os.path.basename(path), parse_name(path)
        if found.wiki is None:
            continue
        key = (found.wiki, found.date)
        if found.kind is not None:
            kinds[key].setdefault((found.kind, found.lake), name)
        part = (*key, found.kind, found.lake, stem(name))
        if part in parts:
            raise ValueError(f"{parts[part]} and {name} are the same part of the {found.wiki} dump of {found.date} "
                             "in two formats: a revision is written once per partition; give one of them")
        parts[part] = name
        if found.first_page is not None and not found.one_page:  # a one-page file may lie inside a run's range
            ranges[(*key, found.kind, found.lake)].append((found.first_page, found.last_page, name))
    for (wiki, date), seen in kinds.items():
        if len(seen) > 1:
            (a_kind, a_lake), (b_kind, b_lake) = sorted(seen)[:2]
            a_name, b_name = seen[(a_kind, a_lake)], seen[(b_kind, b_lake)]
            what = (f"two kinds of the {wiki} dump of {date}" if a_kind != b_kind else
                    f"two dumps of {wiki} of {date} (Wikimedia's XML dumps and the Data Lake's)")
            raise ValueError(f"{a_name} and {b_name} are {what}: they hold the same revisions, and a revision "
                             "is written once per partition; give one of them")
    for spans in ranges.values():
        spans.sort()
        for (a_first, a_last, a_name), (b_first, b_last, b_name) in zip(spans, spans[1:]):
            if b_first < a_last:
                raise ValueError(f"{a_name} and {b_name} hold overlapping pages (p{a_first}-p{a_last} and "
                                 f"p{b_first}-p{b_last}): a revision is written once per partition")


def _id_range(path: str) -> tuple[int, int] | None:
    metadata = pq.ParquetFile(path).metadata
    column = metadata.schema.names.index("revision_id")
    low = high = None
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return (-(2**63), 2**63 - 1)  # unknown: assume it overlaps everything
        low = stats.min if low is None else min(low, stats.min)
        high = stats.max if high is None else max(high, stats.max)
    return None if low is None else (low, high)


def _ids(path: str) -> np.ndarray:
    # ParquetFile, not read_table: that imports the dataset layer, a tenth of a second of a small run
    return pq.ParquetFile(path).read(columns=["revision_id"]).column(0).to_numpy()


def find_duplicates(out: str, entries: list[dict], examples: int = 10) -> dict:
    """Per partition (``db/snapshot``), the revision ids written more than once: a count, a few ids,
    and the parts they are in; {} when there are none."""
    parts: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if not ownership.valid_partition(entry):
            continue
        for relative in entry.get("files") or []:
            path = ownership.own_path(out, relative)
            if relative.startswith("revisions" + os.sep) and path is not None and os.path.isfile(path):
                parts[f"{entry['wiki_db']}/{entry['snapshot']}"].append(path)
    found = {}
    for partition, paths in sorted(parts.items()):
        spans = sorted((span, path) for path in paths if (span := _id_range(path)) is not None)
        repeated: set[int] = set()
        where: set[str] = set()
        for path in paths:  # within one part
            ids = np.sort(_ids(path))
            twice = ids[1:][ids[1:] == ids[:-1]]
            if twice.size:
                repeated.update(twice.tolist()[:examples])
                where.add(path)
        for i, ((low, high), path) in enumerate(spans):  # between parts whose ranges overlap
            for (other_low, _), other in spans[i + 1:]:
                if other_low > high:
                    break
                shared = np.intersect1d(_ids(path), _ids(other))
                if shared.size:
                    repeated.update(shared.tolist()[:examples])
                    where.update((path, other))
        if repeated:
            found[partition] = {"examples": sorted(repeated)[:examples],
                                "files": sorted(os.path.relpath(p, out) for p in where)}
    return found
