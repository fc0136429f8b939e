"""The run's ``_manifest.json``, summarised for the report of one wiki and snapshot.

A run may write several wikis and snapshots; the manifest lists its units
with the partition each wrote. A page of the report shows that partition's
inputs, units and failures, and the whole run's time and throughput. A unit
that failed before its wiki was known belongs to no partition: every page
lists it, so no failure goes unseen.

An OUT can be reused by several runs, and the manifest describes only the
last (and the units it resumed): a partition may hold part files an earlier
run wrote that no unit lists. ``coverage`` names them, so that the page can
say its run figures do not count them while its charts do.
"""

from __future__ import annotations

import os

#: The order the page shows the run's options in; any other option the manifest records follows, by name,
#: so that an option added to the command line is shown without a change here.
OPTION_ORDER = ("tables", "ips", "revert_radius", "namespaces", "snapshot", "workers", "engine",
                "split_size", "on_error", "resume", "verify_checksums", "group_readable", "out")


def _option_rank(name: str) -> tuple[int, str]:
    return (OPTION_ORDER.index(name) if name in OPTION_ORDER else len(OPTION_ORDER), name)


def revert_radius(manifest: dict | None) -> int | None:
    """The run's ``--revert-radius`` (0 is unlimited), or None when no manifest says."""
    radius = ((manifest or {}).get("options") or {}).get("revert_radius")
    return radius if isinstance(radius, int) and not isinstance(radius, bool) else None


def radius_label(radius: int | None) -> str:
    """``unlimited`` for 0, ``unknown`` for None, else the number."""
    if radius is None:
        return "unknown"
    return "unlimited" if radius == 0 else str(radius)


def _rate(amount: float, seconds: float) -> float | None:
    return amount / seconds if seconds else None


def _unit_bytes(unit: dict) -> int:
    start, end = unit.get("start") or 0, unit.get("end")
    return max(end - start, 0) if isinstance(end, int) else 0


def coverage(manifest: dict, mine: list[dict], part_files: dict[str, int]) -> dict:
    """Which of the partition's ``revisions`` part files (path relative to OUT -> rows) the manifest lists.

    A file no unit lists under ``files`` was written by another run into the same OUT.
    """
    listed = {os.path.normpath(f) for unit in manifest.get("units", []) for f in unit.get("files") or []}
    unlisted = sorted(f for f in part_files if os.path.normpath(f) not in listed)
    return {
        "created": manifest.get("created"),
        "dumpproc_version": manifest.get("dumpproc_version"),
        "resumed_units": sum(1 for u in mine if u.get("resumed")),
        "earlier_units": sum(1 for u in mine if u.get("earlier_run")),
        "part_files": len(part_files),
        "unlisted_files": unlisted,
        "unlisted_revisions": sum(part_files[f] for f in unlisted),
    }


def summarise(manifest: dict | None, wiki_db: str, snapshot: str,
              part_files: dict[str, int] | None = None) -> dict | None:
    """What the page shows of the run, or None without a manifest.

    ``part_files`` maps the partition's ``revisions`` part files, relative to OUT, to their rows.
    """
    if manifest is None:
        return None
    every = manifest.get("units", [])
    mine = [u for u in every if (u.get("wiki_db"), u.get("snapshot")) == (wiki_db, snapshot)]
    unplaced = [u for u in every if u.get("wiki_db") is None]
    committed = [u for u in mine if u.get("status") == "committed"]
    inputs: dict[str, dict] = {}
    for unit in mine:
        entry = inputs.setdefault(unit["path"], {"path": unit["path"], "codec": unit.get("codec"),
                                                 "units": 0, "compressed_bytes": 0})
        entry["units"] += 1
        entry["compressed_bytes"] += _unit_bytes(unit)
    seconds = float(manifest.get("seconds") or 0)
    done = [u for u in every if u.get("status") == "committed"]
    unit_seconds = sum(float(u.get("seconds") or 0) for u in committed)
    options = manifest.get("options", {})
    return {
        "created": manifest.get("created"),
        "dumpproc_version": manifest.get("dumpproc_version"),
        "versions": manifest.get("versions", {}),
        "options": {name: options[name] for name in sorted(options, key=_option_rank)},
        "coverage": coverage(manifest, mine, part_files or {}),
        "inputs": sorted(inputs.values(), key=lambda e: e["path"]),
        "units": len(mine),
        "units_committed": len(committed),
        "failures": [{"id": u.get("id"), "path": u.get("path"), "error": u.get("error")}
                     for u in mine + unplaced if u.get("status") != "committed"],
        "pages": sum(u.get("pages") or 0 for u in committed),
        "revisions": sum(u.get("revisions") or 0 for u in committed),
        "xml_bytes": sum(u.get("bytes_xml") or 0 for u in committed),
        "unit_seconds": round(unit_seconds, 3),
        "run": {
            "units": len(every),
            "seconds": seconds,
            "compressed_bytes_per_second": _rate(sum(_unit_bytes(u) for u in done), seconds),
            "xml_bytes_per_second": _rate(sum(u.get("bytes_xml") or 0 for u in done), seconds),
            "revisions_per_second": _rate(sum(u.get("revisions") or 0 for u in done), seconds),
        },
    }
