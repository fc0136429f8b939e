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
from .sink import PartWriter, merge_users, partition_dir

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
