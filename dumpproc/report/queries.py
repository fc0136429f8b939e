"""The figures of one wiki and snapshot, aggregated from its ``revisions`` parts by DuckDB.

DuckDB reads only the columns a query names, streams the Parquet row groups,
and spills aggregation state to a private temporary folder when it outgrows
``memory_limit``, so a report on a large wiki never holds a table in memory.
Every figure comes from ``revisions`` alone, so a run without ``pages`` or
``users`` still gets a report.

Definitions the page states too:

- a month is the UTC calendar month of ``revision_dt``;
- an editor is a registered user's ``user_id`` (the name where the id is 0, as
  for imported revisions), or an anonymous editor's ``user_text`` as the
  output holds it (the IP, or its keyed hash with ``--ips hash``);
  contributors whose name is deleted or dropped are not counted as editors,
  though their revisions are;
- editors and revisions are of three kinds, counted apart: IP editors
  (``user_is_anonymous``, called anonymous), temporary accounts
  (``user_is_temporary``: the accounts that replaced IP editing on Wikimedia's
  wikis from 2025) and registered accounts (neither; a deleted contributor's
  revisions count here, as they did before temporary accounts); outputs of an
  older dumpproc, without the flag columns, get them from the names with the
  default rules (``ACCOUNT_FALLBACK``); name-bots (``user_is_bot_by_name``) are
  marked among the top editors;
- active editors of a month: distinct editors with at least one revision in it;
- identity-revert rate: revisions with ``revision_is_identity_revert`` over all
  revisions (``revision_is_identity_reverted`` gives the reverted rate), at the
  run's ``--revert-radius``; the same rates at radius 15, computed by the report
  from the sha1s (``reverts``), carry the suffix ``_radius_15``;
- bytes changed: ``revision_text_bytes_diff``, binned by sign and number of
  decimal digits (0, ±1–9, ±10–99, ...); a page's first revision has none.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import MissingDependency, install_hint
from . import reverts

#: How many pages and editors the "most edited" and "most active" tables list.
TOP = 20
#: DuckDB's memory bound for one report; beyond it aggregation spills to disk.
MEMORY_LIMIT = "2GB"

#: The account flags of outputs that have none (an older dumpproc): worked out from the names as
#: written, by the default --temp-user-pattern and mediawiki_history's bot-name rule (ASCII case only).
ACCOUNT_FALLBACK = {
    "user_is_temporary": "(user_text is not null and not user_is_anonymous "
                         "and regexp_matches(user_text, '^~[0-9]{4}-'))",
    "user_is_bot_by_name": "(user_text is not null and not user_is_anonymous "
                           "and regexp_matches(user_text, '[bB][oO][tT]([^a-zA-Z]|$)'))",
}

# One row per revision, with the derived month and editor key; {accounts} are the account flags.
_REVISIONS = """
    select page_id, page_namespace, page_title, revision_dt, page_revision_count, user_text,
           user_is_anonymous, {accounts}, revision_is_identity_revert, revision_is_identity_reverted,
           revision_text_bytes_diff,
           strftime(make_timestamp(epoch_us(revision_dt)), '%Y-%m') as month,
           case when user_text is null then null
                when user_is_anonymous and user_text = '<ip>' then null  -- --ips drop: nobody to count
                when user_is_anonymous then 'ip:' || user_text
                when user_id > 0 then 'id:' || user_id::varchar
                else 'name:' || user_text end as editor
    from read_parquet($files)
"""

_TOTALS = f"""
    select count(*), count(distinct page_id), count(distinct editor),
           count(distinct editor) filter (where user_is_anonymous),
           count(*) filter (where user_is_anonymous),
           count(distinct editor) filter (where user_is_temporary),
           count(*) filter (where user_is_temporary),
           count(distinct editor) filter (where not user_is_anonymous and not user_is_temporary),
           count(distinct editor) filter (where user_is_bot_by_name),
           count(*) filter (where user_is_bot_by_name),
           count(*) filter (where revision_is_identity_revert),
           count(*) filter (where revision_is_identity_reverted),
           min(revision_dt), max(revision_dt)
    from ({_REVISIONS})
"""

_MONTHS = f"""
    select month, count(*),
           count(*) filter (where user_is_anonymous),
           count(*) filter (where user_is_temporary),
           count(distinct editor),
           count(distinct editor) filter (where not user_is_anonymous and not user_is_temporary),
           count(distinct editor) filter (where user_is_anonymous),
           count(distinct editor) filter (where user_is_temporary),
           count(*) filter (where revision_is_identity_revert),
           count(*) filter (where revision_is_identity_reverted)
    from ({_REVISIONS}) group by month order by month
"""

_BYTES = f"""
    select case when revision_text_bytes_diff is null then null
                when revision_text_bytes_diff = 0 then 0
                else sign(revision_text_bytes_diff)
                     * length(abs(revision_text_bytes_diff)::varchar) end as bin,
           count(*)
    from ({_REVISIONS}) group by bin order by bin nulls first
"""

# The reverts at the reference radius, whatever radius the run used; {flags} is reverts.flags' query.
_REFERENCE_MONTHS = """
    select strftime(make_timestamp(epoch_us(revision_dt)), '%Y-%m') as month,
           count(*) filter (where is_revert), count(*) filter (where is_reverted)
    from ({flags}) group by month
"""

# Ties broken by id so that the list is the same on every run.
_TOP_PAGES = f"""
    select page_id, page_namespace, arg_max(page_title, page_revision_count), count(*),
           count(*) filter (where revision_is_identity_revert), min(revision_dt), max(revision_dt)
    from ({_REVISIONS}) group by page_id, page_namespace
    order by count(*) desc, page_id limit $top
"""

# Two passes: rank editors by count first, then the costlier details for the top ones only.
_TOP_EDITORS = f"""
    with r as ({_REVISIONS}),
    top as (select editor, count(*) as edits from r where editor is not null
            group by editor order by edits desc, editor limit $top)
    select top.editor, any_value(r.user_text), bool_or(r.user_is_anonymous), bool_or(r.user_is_temporary),
           bool_or(r.user_is_bot_by_name), top.edits,
           count(distinct r.page_id), count(*) filter (where r.revision_is_identity_revert),
           min(r.revision_dt), max(r.revision_dt)
    from r join top using (editor) group by top.editor, top.edits
    order by top.edits desc, top.editor
"""


def _duckdb():
    try:
        import duckdb
    except ImportError as exc:
        raise MissingDependency(
            f"dumpproc report needs DuckDB: {install_hint('report')}") from exc
    return duckdb


@contextmanager
def connect(memory_limit: str = MEMORY_LIMIT) -> Iterator:
    """A DuckDB connection whose spill files go to a private folder removed afterwards."""
    duckdb = _duckdb()
    spill = tempfile.mkdtemp(prefix="dumpproc-report-")  # 0700: spilled rows are personal data
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _month_range(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from first to last, so that charts show quiet months as quiet."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def bin_label(bin_: int | None) -> str:
    """``+[10, 100)`` for bin 2, ``-[1, 10)`` for bin -1, ``0``; ``first revision`` for None."""
    if bin_ is None:
        return "first revision"
    if bin_ == 0:
        return "0"
    digits = abs(bin_)
    return f"{'+' if bin_ > 0 else '-'}[{_compact(10 ** (digits - 1))}, {_compact(10 ** digits)})"


def _compact(number: int) -> str:
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if number >= size:
            return f"{number // size}{suffix}"
    return str(number)


def reference_reverts(con, files: list[str], radius: int = reverts.REFERENCE_RADIUS) -> dict[str, tuple[int, int]]:
    """``month -> (identity reverts, revisions reverted)`` at ``radius``, recomputed from the files' sha1s."""
    columns = [d[0] for d in con.execute("select * from read_parquet($files) limit 0", {"files": files}).description]
    query = _REFERENCE_MONTHS.format(flags=reverts.flags(radius, reverts.sha1_column(columns)))
    return {month: (rv, rvd) for month, rv, rvd in con.execute(query, {"files": files}).fetchall()}


def _reference_figures(made: int, reverted: int, revisions: int) -> dict:
    suffix = f"_radius_{reverts.REFERENCE_RADIUS}"
    return {"identity_reverts" + suffix: made, "identity_reverted" + suffix: reverted,
            "identity_revert_rate" + suffix: _rate(made, revisions),
            "identity_reverted_rate" + suffix: _rate(reverted, revisions)}


def account_columns(columns: list[str]) -> str:
    """The select list of the account flags: the files' own, else ``ACCOUNT_FALLBACK``'s."""
    return ", ".join(name if name in columns else f"{rule} as {name}" for name, rule in ACCOUNT_FALLBACK.items())


def figures(con, files: list[str], top: int = TOP) -> dict:
    """Every figure of the report for the given ``revisions`` part files, as plain JSON-able values."""
    params = {"files": files}
    columns = [d[0] for d in con.execute("select * from read_parquet($files) limit 0", params).description]
    accounts = account_columns(columns)

    def query(sql: str, more: dict | None = None):
        return con.execute(sql.format(accounts=accounts), {**params, **(more or {})})

    (revisions, pages, editors, anonymous_editors, anonymous, temporary_editors, temporary,
     registered_editors, bot_editors, bot_revisions, made, reverted, first, last) = query(_TOTALS).fetchone()
    found = {row[0]: row for row in query(_MONTHS).fetchall()}
    reference = reference_reverts(con, files)
    months = []
    if found:
        for month in _month_range(min(found), max(found)):
            (_, n, anon, temp, active, active_registered, active_anonymous, active_temporary,
             rv, rvd) = found.get(month, (month, *[0] * 9))
            rv15, rvd15 = reference.get(month, (0, 0))
            months.append({
                "month": month, "revisions": n, "anonymous_revisions": anon, "temporary_revisions": temp,
                "registered_revisions": n - anon - temp,
                "active_editors": active, "active_registered_editors": active_registered,
                "active_anonymous_editors": active_anonymous, "active_temporary_editors": active_temporary,
                "identity_reverts": rv, "identity_reverted": rvd,
                "anonymous_share": _rate(anon, n), "temporary_share": _rate(temp, n),
                "identity_revert_rate": _rate(rv, n), "identity_reverted_rate": _rate(rvd, n),
                **_reference_figures(rv15, rvd15, n),
            })
    bytes_bins = [{"bin": b, "label": bin_label(b), "revisions": n} for b, n in query(_BYTES).fetchall()]
    top_pages = [{"page_id": pid, "page_namespace": ns, "page_title": title, "revisions": n,
                  "identity_reverts": rv, "first_revision_dt": _iso(a), "last_revision_dt": _iso(b)}
                 for pid, ns, title, n, rv, a, b in query(_TOP_PAGES, {"top": top}).fetchall()]
    top_editors = [{"editor": key, "user_text": name, "user_is_anonymous": anon, "user_is_temporary": temp,
                    "user_is_bot_by_name": bot, "revisions": n, "pages_edited": pages_edited,
                    "identity_reverts": rv, "first_revision_dt": _iso(a), "last_revision_dt": _iso(b)}
                   for key, name, anon, temp, bot, n, pages_edited, rv, a, b
                   in query(_TOP_EDITORS, {"top": top}).fetchall()]
    return {
        "totals": {
            "revisions": revisions, "pages": pages, "editors": editors,
            "registered_editors": registered_editors, "temporary_editors": temporary_editors,
            "anonymous_editors": anonymous_editors,
            "registered_revisions": revisions - anonymous - temporary, "temporary_revisions": temporary,
            "anonymous_revisions": anonymous,
            "bot_by_name_editors": bot_editors, "bot_by_name_revisions": bot_revisions,
            "identity_reverts": made, "identity_reverted": reverted,
            "anonymous_share": _rate(anonymous, revisions), "temporary_share": _rate(temporary, revisions),
            "identity_revert_rate": _rate(made, revisions),
            "identity_reverted_rate": _rate(reverted, revisions),
            **_reference_figures(sum(r[0] for r in reference.values()),
                                 sum(r[1] for r in reference.values()), revisions),
            "first_revision_dt": _iso(first), "last_revision_dt": _iso(last),
        },
        "months": months,
        "bytes_diff": bytes_bins,
        "top_pages": top_pages,
        "top_editors": top_editors,
    }


def file_rows(con, files: list[str]) -> dict[str, int]:
    """The rows of each Parquet file, from its footer (no data is read)."""
    found = con.execute("select file_name, num_rows from parquet_file_metadata($files)", {"files": files})
    return {name: rows for name, rows in found.fetchall()}


def part_files(folder: Path) -> list[str]:
    """The committed parts of one partition folder (hidden temporaries excluded)."""
    return sorted(str(p) for p in folder.glob("part-*.parquet"))
