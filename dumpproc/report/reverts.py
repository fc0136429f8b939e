"""Identity reverts at a fixed radius, recomputed by the report from the ``revisions`` sha1s with DuckDB.

A run's revert columns depend on its ``--revert-radius``; with the default,
unlimited, one revert to a much older state marks every revision since as
reverted, and the "reverted later" share of an old, busy page sits near 100 %.
The report therefore also draws the rates at radius 15, the radius of
mwreverts' ``Detector`` and of most research, computed here from the same rows
whatever radius the run used.

The rule is SPEC's: within one page, in revision order (``page_revision_count``),
a revision R is a revert when, among the ``radius + 1`` revisions just before
it, the latest with R's sha1 is not R's immediate predecessor; the revisions
after that one and before R are reverted by R. A null sha1 matches nothing but
still counts toward the radius. Two window passes, both out of core in DuckDB
(it sorts and spills per page partition):

1. ``reach``: how many revisions back the latest match lies, from ``lag(sha1, k)``
   for k = 1 … radius + 1 (the first k that matches wins; k = 1 is no revert);
2. a revision at ``position`` p is reverted when some revert among the next
   ``radius`` revisions reaches back past it: ``min(position - reach)`` over
   them is below p.
"""

from __future__ import annotations

#: mwreverts' ``Detector`` default, and the radius most research on reverts uses.
REFERENCE_RADIUS = 15

#: The sha1 identity reverts compare, newest schema first: SPEC's all-slots ``revision_sha1``,
#: else the main slot's ``revision_text_sha1``, which outputs without the former compared.
SHA1_COLUMNS = ("revision_sha1", "revision_text_sha1")


def sha1_column(columns: list[str]) -> str:
    """The column of ``revisions`` that identity reverts compare, given the files' column names."""
    for name in SHA1_COLUMNS:
        if name in columns:
            return name
    raise ValueError(f"the revisions files have none of {', '.join(SHA1_COLUMNS)}")


def flags(radius: int = REFERENCE_RADIUS, sha1: str = SHA1_COLUMNS[0]) -> str:
    """SQL over ``read_parquet($files)``: each revision's ``is_revert`` and ``is_reverted`` at ``radius``.

    Columns: ``page_id``, ``revision_id``, ``revision_dt``, ``is_revert``, ``is_reverted``.
    """
    if not isinstance(radius, int) or radius < 1:
        raise ValueError(f"the radius must be a positive number of revisions, not {radius!r}")
    if sha1 not in SHA1_COLUMNS:
        raise ValueError(f"not a sha1 column: {sha1!r}")
    # the predecessor matching first means "no revert"; a match further back gives its distance
    reach = "\n".join(f"when lag(sha1, {k}) over w = sha1 then {'null' if k == 1 else k}"
                      for k in range(1, radius + 2))
    # revision_id breaks ties so that the order is the same on every run, should positions repeat
    order = "partition by page_id order by page_revision_count, revision_id"
    return f"""
        with r as (
            select page_id, revision_id, revision_dt, page_revision_count, nullif({sha1}, '') as sha1
            from read_parquet($files)),
        reached as (
            select page_id, revision_id, revision_dt, page_revision_count,
                   row_number() over w as position,
                   case when sha1 is null then null {reach} end as reach
            from r window w as ({order}))
        select page_id, revision_id, revision_dt, reach is not null as is_revert,
               coalesce(min(position - reach) over (
                   {order} rows between 1 following and {radius} following) < position, false) as is_reverted
        from reached
    """
