"""The report's own radius-15 reverts (``dumpproc.report.reverts``): against ``dumpproc.stats``, mwreverts and the run.

The DuckDB query must give, revision for revision, what the run's detector gives
with ``--revert-radius 15`` (and so what mwreverts' ``Detector(radius=15)``
gives), from the rows a run with any radius wrote.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import shared_dump
from dumpproc.pipeline import Options, run
from dumpproc.report import queries, reverts
from dumpproc.stats import RevertDetector, RevertMarks

duckdb = pytest.importorskip("duckdb", reason="DuckDB is in the report and test extras: pip install -e '.[test]'")

EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


def write_histories(path, pages: list[list[str | None]], sha1: str = "revision_text_sha1",
                    first: tuple[int, int] = (1, 1)) -> None:
    """A ``revisions``-shaped file: one page per sha1 list, ids counting up from ``first`` (page, revision)."""
    rows = {"page_id": [], "revision_id": [], "revision_dt": [], "page_revision_count": [], sha1: []}
    revision_id = first[1] - 1
    for page_id, history in enumerate(pages, first[0]):
        for position, value in enumerate(history, 1):
            revision_id += 1
            rows["page_id"].append(page_id)
            rows["revision_id"].append(revision_id)
            rows["revision_dt"].append(EPOCH + timedelta(days=revision_id))
            rows["page_revision_count"].append(position)
            rows[sha1].append(value)
    table = pa.table(rows).cast(pa.schema([("page_id", pa.int64()), ("revision_id", pa.int64()),
                                           ("revision_dt", pa.timestamp("us", tz="UTC")),
                                           ("page_revision_count", pa.int64()), (sha1, pa.string())]))
    # rows shuffled across row groups: the query must order by position, not trust the file's order
    order = list(range(table.num_rows))
    random.Random(7).shuffle(order)
    pq.write_table(table.take(order), path, row_group_size=64)


def flags(files: list[str], radius: int = 15, sha1: str = "revision_text_sha1") -> dict[int, tuple[bool, bool]]:
    """revision id -> (is revert, is reverted) by the report's query."""
    con = duckdb.connect()
    rows = con.execute(reverts.flags(radius, sha1), {"files": [str(f) for f in files]}).fetchall()
    return {revision_id: (revert, reverted) for _, revision_id, _, revert, reverted in rows}


def by_stats(pages: list[list[str | None]], radius: int = 15) -> dict[int, tuple[bool, bool]]:
    """The same from the run's own detector, ``dumpproc.stats``."""
    out, revision_id = {}, 0
    for history in pages:
        detector, marks, ids, is_revert = RevertDetector(radius), RevertMarks(), [], []
        for position, value in enumerate(history):
            revision_id += 1
            marks.add()
            found = detector.add(value)
            if found is not None:
                marks.mark(found[0], found[1], position)
            ids.append(revision_id)
            is_revert.append(found is not None)
        for position, rid in enumerate(ids):
            out[rid] = (is_revert[position], marks.reverter[position] != -1)
    return out


def sha1(n: int) -> str:
    """A base-36 sha1 the detector can parse, distinct per n."""
    return f"{n:031d}"


def test_the_radius_bounds_how_far_back_a_revert_reaches(tmp_path):
    fifteen = [sha1(1), *(sha1(100 + i) for i in range(15)), sha1(1)]  # the match is 16 back: in reach
    sixteen = [sha1(1), *(sha1(200 + i) for i in range(16)), sha1(1)]  # 17 back: out of reach
    nulls = [sha1(1), None, sha1(1), None, None]  # a null counts toward the radius and matches nothing
    again = [sha1(1), sha1(1), sha1(2), sha1(2)]  # the predecessor matches: no revert
    path = tmp_path / "part-0.parquet"
    write_histories(path, [fifteen, sixteen, nulls, again])
    got = flags([path])
    ids = iter(range(1, 100))
    assert [got[next(ids)] for _ in fifteen] == [(False, False)] + [(False, True)] * 15 + [(True, False)]
    assert [got[next(ids)] for _ in sixteen] == [(False, False)] * 18
    assert [got[next(ids)] for _ in nulls] == [(False, False), (False, True), (True, False),
                                                (False, False), (False, False)]
    assert [got[next(ids)] for _ in again] == [(False, False)] * 4
    assert got == by_stats([fifteen, sixteen, nulls, again])


@pytest.mark.parametrize("radius", [1, 3, 15])
def test_random_histories_agree_with_the_runs_detector(tmp_path, radius):
    rng = random.Random(radius)
    pages = [[None if rng.random() < 0.1 else sha1(rng.randrange(6)) for _ in range(rng.randrange(1, 120))]
             for _ in range(60)]
    # two files, as a partition of several units has
    write_histories(tmp_path / "part-a.parquet", pages[:30])
    write_histories(tmp_path / "part-b.parquet", pages[30:], first=(31, sum(map(len, pages[:30])) + 1))
    expected = by_stats(pages, radius)
    assert sum(v[0] for v in expected.values()) > 100 and sum(v[1] for v in expected.values()) > 100
    assert flags([tmp_path / "part-a.parquet", tmp_path / "part-b.parquet"], radius) == expected


def test_the_all_slots_sha1_is_preferred_when_the_output_has_it(tmp_path):
    path = tmp_path / "part-0.parquet"
    history = [sha1(1), sha1(2), sha1(1)]
    write_histories(path, [history], sha1="revision_sha1")
    assert reverts.sha1_column(["page_id", "revision_text_sha1", "revision_sha1"]) == "revision_sha1"
    assert reverts.sha1_column(["page_id", "revision_text_sha1"]) == "revision_text_sha1"
    with pytest.raises(ValueError):
        reverts.sha1_column(["page_id"])
    con = duckdb.connect()
    assert queries.reference_reverts(con, [str(path)]) == {"2020-01": (1, 1)}
    with pytest.raises(ValueError):
        reverts.flags(0)  # unlimited is the run's business, not this query's


#: Plain XML histories mwxml reads directly; with reverts, and with several slots (the Commons sample).
BY_MWREVERTS = ["Schuwi__wikiwho_rs/Hallo.xml", "wikimedia__pywikibot/article-pear.xml",
                "wikimedia__analytics-refinery-source/MediawikiDumperOutputTest.Commonswiki.Sample.xml"]


def revert_columns(out) -> dict[int, tuple[bool, bool]]:
    rows = pq.read_table(out / "revisions", columns=["revision_id", "revision_is_identity_revert",
                                                     "revision_is_identity_reverted"]).to_pylist()
    return {r["revision_id"]: (r["revision_is_identity_revert"], r["revision_is_identity_reverted"]) for r in rows}


def processed(path, out, radius: int) -> list[str]:
    """Process ``path`` into ``out`` at ``radius``; returns the revisions part files."""
    assert run([str(path)], Options(out=str(out), workers=1, revert_radius=radius, tables=("revisions",))).ok
    return queries.part_files(next((out / "revisions").glob("wiki_db=*/snapshot=*")))


@pytest.mark.parametrize("relative", BY_MWREVERTS)
def test_real_histories_agree_with_mwreverts_and_the_run_at_radius_15(relative, tmp_path):
    from test_reverts_reference import expected

    path = shared_dump(relative)
    theirs = {k: v[:2] for k, v in expected(path, "none", radius=15).items()}  # mwreverts
    ours = flags(processed(path, tmp_path / "unlimited", radius=0))  # from an unlimited run's rows
    assert ours == theirs
    processed(path, tmp_path / "fifteen", radius=15)
    assert ours == revert_columns(tmp_path / "fifteen")
    if relative.startswith("Schuwi"):
        assert sum(v[0] for v in ours.values()) > 5 and sum(v[1] for v in ours.values()) > 5


def test_aawiki_agrees_with_the_run_at_radius_15(tmp_path):
    path = shared_dump("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z")
    ours = flags(processed(path, tmp_path / "unlimited", radius=0))
    processed(path, tmp_path / "fifteen", radius=15)
    assert ours == revert_columns(tmp_path / "fifteen")
    assert sum(v[0] for v in ours.values()) > 20 and sum(v[1] for v in ours.values()) > 20


@pytest.mark.slow
def test_anarchism_radius_15_figures_equal_the_runs_columns_at_radius_15(tmp_path):
    """The history that motivated the lines: 93 % "reverted later" unlimited, a quarter at radius 15."""
    path = shared_dump("maribelacosta__wikiwho/enwiki-Anarchism-pages-meta-history.xml.7z")
    con = duckdb.connect()
    files = processed(path, tmp_path / "unlimited", radius=0)
    figures = queries.figures(con, files)
    at_15 = processed(path, tmp_path / "fifteen", radius=15)
    expected = queries.figures(con, at_15)
    totals, reference = figures["totals"], expected["totals"]
    assert (totals["identity_reverts_radius_15"], totals["identity_reverted_radius_15"]) == (
        reference["identity_reverts"], reference["identity_reverted"])
    assert [(m["month"], m["identity_reverts_radius_15"], m["identity_reverted_radius_15"])
            for m in figures["months"]] == [(m["month"], m["identity_reverts"], m["identity_reverted"])
                                            for m in expected["months"]]
    assert totals["identity_reverted_rate"] > 0.9 > 0.5 > totals["identity_reverted_rate_radius_15"]
    assert flags(files) == revert_columns(tmp_path / "fifteen")
