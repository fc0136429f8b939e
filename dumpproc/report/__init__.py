"""``dumpproc report``: one self-contained HTML page per wiki and snapshot of a processed output.

The stage after ``sink``: it reads what a run wrote (the ``revisions`` parts and
``_manifest.json``) and never the dumps. ``queries`` aggregates the figures
with DuckDB, streaming (``reverts`` recomputes identity reverts at radius 15);
``manifest`` summarises the run; ``charts`` draws the figures; ``html`` lays
out the page, ``run_section`` its account of the run, ``cells`` the values.

Where pages go (``dest``):

- a folder (an existing one, or a path ending in ``/``): ``report-<wiki>-<snapshot>.html`` in it;
- a file name, ``report.html`` by default: that file when OUT holds one wiki and
  snapshot, else ``<name>-<wiki>-<snapshot><suffix>`` beside it, one per partition.

Pages are written atomically, owner-only (0600) unless the run was
``--group-readable``: they name contributors, as the output does.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .. import __version__
from ..errors import InputNotFound
from ..sink import make_dirs, read_manifest, write_atomically
from . import charts, html, manifest, queries

DEFAULT_NAME = "report.html"


def partitions(out: str | os.PathLike) -> list[tuple[str, str, Path]]:
    """``(wiki_db, snapshot, folder)`` of every partition of ``OUT/revisions`` with committed parts."""
    root = Path(out)
    if not root.is_dir():
        raise InputNotFound("no such folder" if not root.exists() else "not a folder", path=str(root))
    found = []
    for folder in sorted((root / "revisions").glob("wiki_db=*/snapshot=*")):
        if folder.is_dir() and queries.part_files(folder):
            found.append((folder.parent.name.split("=", 1)[1], folder.name.split("=", 1)[1], folder))
    if not found:
        raise InputNotFound("no processed output here: the report reads "
                            "revisions/wiki_db=<db>/snapshot=<YYYY-MM>/part-*.parquet, and there is none",
                            path=str(root))
    return found


def destinations(keys: list[tuple[str, str]], dest: str | os.PathLike | None = None) -> list[Path]:
    """Where each partition's page goes (rules in the module docstring)."""
    text = os.fspath(dest) if dest is not None else DEFAULT_NAME
    target = Path(text)
    if text.endswith(os.sep) or target.is_dir():
        return [target / f"report-{db}-{snapshot}.html" for db, snapshot in keys]
    if len(keys) == 1:
        return [target]
    return [target.with_name(f"{target.stem}-{db}-{snapshot}{target.suffix or '.html'}") for db, snapshot in keys]


def _group_readable(out: Path, run: dict | None) -> bool:
    """Whether the run made its output group-readable: from the manifest, else OUT's own mode."""
    if run is not None and "group_readable" in run.get("options", {}):
        return bool(run["options"]["group_readable"])
    return bool(os.stat(out).st_mode & stat.S_IRGRP)


def build_report(out: str | os.PathLike, dest: str | os.PathLike | None = None) -> list[Path]:
    """Write one HTML page per wiki and snapshot of ``out``; returns the pages written."""
    found = partitions(out)
    charts.require()  # before the queries, which may take long on a large wiki
    paths = destinations([(db, snapshot) for db, snapshot, _ in found], dest)
    run = read_manifest(os.fspath(out))
    group_readable = _group_readable(Path(out), run)
    source = os.path.abspath(out)
    radius = manifest.revert_radius(run)
    with queries.connect() as con:
        for (db, snapshot, folder), path in zip(found, paths):
            files = queries.part_files(folder)
            figures = queries.figures(con, files)
            rows = {os.path.relpath(name, out): n for name, n in queries.file_rows(con, files).items()}
            page = html.render(db, snapshot, figures, manifest.summarise(run, db, snapshot, rows),
                               charts.charts(figures, radius), source, __version__, radius)
            make_dirs(os.fspath(path.parent) or ".", group_readable)
            write_atomically(os.fspath(path), page.encode("utf-8"), group_readable)
    return paths
