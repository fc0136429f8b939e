"""The ``users`` table: each unit's contributor totals, and the reduce that adds them up.

``UserTotals`` adds up a unit's contributors page by page (``tables.PageSummary.contributions``).

A unit writes its contributors' totals to ``OUT/_staging/users/...`` (one row per
contributor, with a bucket). The reduce adds up, per wiki and snapshot, the totals
of every unit the manifest lists: this run's, those an earlier run committed and
``--resume`` kept, and those an earlier run wrote for other inputs. Staging files
are intermediate (a run that completes removes them), so a unit whose totals are
gone has them worked out again from its ``revisions`` part, which holds every
column they are made of.
"""

from __future__ import annotations

import os
import zlib
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from . import ownership
from .accounts import FLAGS, with_flags
from .schema import USERS
from .sink import ROW_GROUP_ROWS, PartWriter, partition_dir

#: Buckets of the users table: the reduce holds one bucket's totals in memory at a time.
USER_BUCKETS = 8
USERS_STAGING = USERS.append(pa.field("bucket", pa.int32(), nullable=False))


def user_bucket(user_text: str) -> int:
    return zlib.crc32(user_text.encode("utf-8")) % USER_BUCKETS


class UserTotals:
    """Each contributor's totals over the pages of one unit (or part of one)."""

    def __init__(self) -> None:
        # (anonymous, user id, user text) ->
        # [revisions, first us, last us, pages, reverts made, reverted, temporary, bot by name]
        self.totals: dict[tuple, list] = {}

    def __len__(self) -> int:
        return len(self.totals)

    def add_page(self, contributions) -> None:
        seen = set()
        totals = self.totals
        for user, moment, is_revert, reverted in contributions:
            if user is None:
                continue  # deleted, or an IP dropped: nobody to count
            key = user[:3]
            entry = totals.get(key)
            if entry is None:
                totals[key] = entry = [0, moment, moment, 0, 0, 0, False, False]
            entry[0] += 1
            if moment < entry[1]:
                entry[1] = moment
            if moment > entry[2]:
                entry[2] = moment
            if key not in seen:
                seen.add(key)
                entry[3] += 1
            entry[4] += is_revert
            entry[5] += reverted
            # the flags come from the dump's name; two names that --ips makes one are one contributor,
            # flagged when either name is (the users reduce adds up units the same way)
            entry[6] = entry[6] or user[3]
            entry[7] = entry[7] or user[4]

    def rows(self):
        """Rows of ``USERS_STAGING``: the users columns and the bucket."""
        for (anonymous, user_id, user_text), (count, first, last, pages, made, reverted, temporary, bot) \
                in self.totals.items():
            yield (user_id, user_text, anonymous, temporary, bot, count, first, last, pages, made, reverted,
                   user_bucket(user_text))

    def clear(self) -> None:
        self.totals.clear()


_KEYS = ["user_is_anonymous", "user_id", "user_text"]


def totals_from_revisions(revisions_part: str) -> pa.Table:
    """One unit's contributor totals (``USERS_STAGING`` rows) from its revisions part."""
    import pyarrow.compute as pc  # here: a tenth of a second to import, which most runs never need

    present = set(pq.read_schema(revisions_part).names)
    table = pq.read_table(revisions_part, columns=[
        "user_id", "user_text", "user_is_anonymous", "revision_dt", "page_id",
        "revision_is_identity_revert", "revision_is_identity_reverted", *(f for f in FLAGS if f in present)])
    table = table.filter(pc.is_valid(table["user_text"]))  # deleted names (or IPs dropped): nobody to count
    table = with_flags(table)
    table = table.append_column("revert", pc.cast(table["revision_is_identity_revert"], pa.int64()))
    table = table.append_column("reverted", pc.cast(table["revision_is_identity_reverted"], pa.int64()))
    grouped = table.group_by(_KEYS, use_threads=False).aggregate([
        ("revision_dt", "count"), ("revision_dt", "min"), ("revision_dt", "max"), ("page_id", "count_distinct"),
        ("revert", "sum"), ("reverted", "sum"), *((flag, "any") for flag in FLAGS)])
    names = {"revision_dt_count": "revision_count", "revision_dt_min": "first_revision_dt",
             "revision_dt_max": "last_revision_dt", "page_id_count_distinct": "pages_edited",
             "revert_sum": "identity_reverts_made", "reverted_sum": "revisions_identity_reverted",
             **{f"{flag}_any": flag for flag in FLAGS}}
    grouped = grouped.rename_columns([names.get(name, name) for name in grouped.column_names])
    buckets = pa.array([user_bucket(text) for text in grouped["user_text"].to_pylist()], pa.int32())
    grouped = grouped.append_column("bucket", buckets)
    return grouped.select(USERS_STAGING.names).cast(USERS_STAGING)


#: Staging rows the users reduce adds up in one pass; more are split by bucket.
USERS_PER_PASS = 4_000_000
#: Staging rows up to which they are added up in Python (about 40 µs a row, its times made datetimes):
#: below this, importing pyarrow.compute
#: (a tenth of a second, most of a small run's users reduce) costs more than the sums.
USERS_IN_PYTHON = 2_000
#: How each users column is made of the staging rows of one contributor: a sum, the least, the
#: greatest, or ``any`` (a contributor flagged in any unit is flagged).
_USER_SUMS = {"revision_count": "sum", "first_revision_dt": "min", "last_revision_dt": "max",
              "pages_edited": "sum", "identity_reverts_made": "sum", "revisions_identity_reverted": "sum",
              "user_is_temporary": "any", "user_is_bot_by_name": "any"}


def _sum_users(staged: pa.Table, keys: list[str]) -> pa.Table:
    """One row of ``USERS`` a contributor (``keys``), sorted by kind, name and id, from staging rows."""
    if staged.num_rows <= USERS_IN_PYTHON:
        return _sum_users_in_python(staged, keys)
    merged = staged.group_by(keys, use_threads=False).aggregate(list(_USER_SUMS.items()))
    renamed = merged.rename_columns([name.rsplit("_", 1)[0]
                                     if name.endswith(("_sum", "_min", "_max", "_any")) else name
                                     for name in merged.column_names])
    return renamed.select(USERS.names).cast(USERS).sort_by(
        [("user_is_anonymous", "ascending"), ("user_text", "ascending"), ("user_id", "ascending")])


def _sum_users_in_python(staged: pa.Table, keys: list[str]) -> pa.Table:
    """``_sum_users`` without pyarrow.compute, for a few thousand rows: the same table, row for row.

    Nulls are skipped by the sums and sort last, as Arrow's group-by and sort do; Python orders
    strings by code point, which is the order of their UTF-8 bytes that Arrow sorts by.
    """
    sums = {"sum": lambda a, b: b if a is None else a if b is None else a + b,
            "min": lambda a, b: b if a is None else a if b is None else min(a, b),
            "max": lambda a, b: b if a is None else a if b is None else max(a, b),
            "any": lambda a, b: b if a is None else a if b is None else a or b}
    adds = [(name, sums[how]) for name, how in _USER_SUMS.items()]
    totals: dict[tuple, dict] = {}
    for row in staged.select(keys + list(_USER_SUMS)).to_pylist():
        key = tuple(row[name] for name in keys)
        entry = totals.get(key)
        if entry is None:
            totals[key] = row
        else:
            for name, add in adds:
                entry[name] = add(entry[name], row[name])
    def order(row):
        return tuple(part for name in ("user_is_anonymous", "user_text", "user_id")
                     for part in (row[name] is None, row[name] if row[name] is not None else 0))
    rows = sorted(totals.values(), key=order)
    return pa.Table.from_pydict({field.name: pa.array([row[field.name] for row in rows], field.type)
                                 for field in USERS}, schema=USERS)


def merge_users(staging_files: list[str], folder: str, buckets: int,
                group_readable: bool = False) -> tuple[list["PartWriter"], int]:
    """Add up each contributor's totals from the units' staging files into ``folder/part-<n>.parquet``.

    Staging rows carry a bucket (a hash of the user); when there are more than
    ``USERS_PER_PASS`` rows, one bucket is added up at a time, so memory holds a
    bucket's totals, not everyone's. Returns the parts, finished under their temporary names
    (``publish`` puts each under its final one, once the manifest lists it), and their rows.
    """
    keys, staged = _KEYS, USERS_STAGING
    total = sum(pq.ParquetFile(path).metadata.num_rows for path in staging_files)
    passes = [list(range(buckets))] if total <= USERS_PER_PASS else [[b] for b in range(buckets)]
    written, rows = [], 0
    for number, wanted in enumerate(passes):
        pieces = []
        for path in staging_files:
            # one pass reads each file whole, without the dataset layer (a tenth of a second to import)
            table = pq.ParquetFile(path).read() if len(passes) == 1 else pq.read_table(
                path, filters=[("bucket", "in", wanted)])
            if table.num_rows:
                table = with_flags(table).select(staged.names)  # an older run's have no flags
                pieces.append(table if table.schema.equals(staged) else table.cast(staged))
        if not pieces:
            continue
        table = _sum_users(pa.concat_tables(pieces), keys)
        writer = PartWriter(os.path.join(folder, f"part-{number:05d}.parquet"), USERS, group_readable)
        try:
            for batch in table.to_batches(max_chunksize=ROW_GROUP_ROWS):
                writer.append_batch(batch)
            writer.finish()
            written.append(writer)
        except BaseException:
            writer.abort()
            for done in written:
                done.abort()
            raise
        rows += table.num_rows
    return written, rows


def _unit_totals(out: str, entry: dict, group_readable: bool) -> str | None:
    """The unit's staging totals file: the one it wrote, else one worked out from its revisions part."""
    files = entry.get("files", [])
    for relative in files:
        if relative.startswith(ownership.STAGING + os.sep + "users"):
            path = ownership.own_path(out, relative)
            if path is not None and os.path.isfile(path):
                return path
    revisions = next((ownership.own_path(out, f) for f in files if f.startswith("revisions" + os.sep)), None)
    if revisions is None or not os.path.isfile(revisions):
        return None  # a run without the revisions table keeps its staging totals until it completes
    staging = os.path.join(out, ownership.STAGING, "users", f"wiki_db={entry['wiki_db']}",
                           f"snapshot={entry['snapshot']}", f"part-{entry['id']}.parquet")
    writer = PartWriter(staging, USERS_STAGING, group_readable)
    try:
        for batch in totals_from_revisions(revisions).to_batches():
            writer.append_batch(batch)
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


def merge_unit_users(out: str, entries: list[dict], group_readable: bool = False,
                     also: Iterable[tuple[str, str]] = (), journal: Callable[[dict], None] | None = None) -> dict:
    """The users reduce: per wiki and snapshot, add up the totals of every unit with files.

    Every users part of those partitions (and of ``also``) is rewritten, so parts an earlier
    run left there and this one did not write are removed. ``journal(users)`` is called with the
    new parts' names before they appear, so the manifest lists every part at every moment.
    """
    groups: dict[tuple[str, str], list[str]] = {key: [] for key in also}
    for entry in entries:  # a failed unit's files hold the pages before its error
        if not ownership.valid_partition(entry):
            continue
        key = (entry["wiki_db"], entry["snapshot"])
        groups.setdefault(key, [])
        if entry.get("files"):
            totals = _unit_totals(out, entry, group_readable)
            if totals is not None:
                groups[key].append(totals)
    merged, parts = {}, []
    try:
        for (db, snapshot), staging in sorted(groups.items()):
            folder = partition_dir(out, "users", db, snapshot)
            written, rows = merge_users(staging, folder, USER_BUCKETS, group_readable) if staging else ([], 0)
            parts.append((folder, written))
            if written:
                merged[f"{db}/{snapshot}"] = {"files": [os.path.relpath(w.final_path, out) for w in written],
                                              "rows": rows}
        if journal is not None:
            journal(merged)  # the new parts are listed before they appear
        for folder, written in parts:
            finals = {w.publish() for w in written}
            if os.path.isdir(folder):
                for name in os.listdir(folder):
                    path = os.path.join(folder, name)
                    if name.startswith("part-") and path not in finals and os.path.isfile(path):
                        os.unlink(path)
    except BaseException:
        for _, written in parts:
            for writer in written:
                writer.abort()
        raise
    return merged
