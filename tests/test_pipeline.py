"""The run: units, partitions, manifest, _SUCCESS, failures that do not stop the others."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLE
from dumpproc.pipeline import Options, run
from dumpproc.units import plan_units, snapshot_of, this_month, wiki_db
from dumpproc.privacy import IpPolicy
from dumpproc.records import SiteInfo
from dumpproc.schema import REVISIONS

def test_sample_run_layout_and_manifest(tmp_path):
    out = tmp_path / "out"
    result = run([str(SAMPLE)], Options(out=str(out), workers=1))
    assert result.ok
    part = out / "revisions" / "wiki_db=samplewiki" / "snapshot=2026-01" / "part-samplewiki-20260101-pages-meta-history.parquet"
    assert part.is_file() and (out / "_SUCCESS").is_file()
    table = pq.read_table(part)
    assert table.schema == REVISIONS
    assert "wiki_db" not in table.column_names and "snapshot" not in table.column_names
    manifest = json.loads((out / "_manifest.json").read_text())
    unit, = manifest["units"]
    assert unit["status"] == "committed" and unit["revisions"] == table.num_rows == 564 and unit["pages"] == 40
    for name in ("diffs", "pages", "users"):
        assert (out / name / "wiki_db=samplewiki" / "snapshot=2026-01").is_dir(), name
    assert manifest["users"]["samplewiki/2026-01"]["rows"] == pq.read_table(out / "users").num_rows > 0
    assert unit["path"] == str(SAMPLE.resolve()) and unit["start"] == 0 and unit["end"] == SAMPLE.stat().st_size
    assert unit["error"] is None and unit["seconds"] >= 0
    assert manifest["options"]["ips"] == "keep" and manifest["versions"]["pyarrow"]


def test_counters(tmp_path):
    run([str(SAMPLE)], Options(out=str(tmp_path), workers=1))
    table = pq.read_table(tmp_path / "revisions")
    rows = table.to_pylist()
    by_page: dict[int, list] = {}
    for row in rows:
        by_page.setdefault(row["page_id"], []).append(row)
    for revisions in by_page.values():
        assert [r["page_revision_count"] for r in revisions] == list(range(1, len(revisions) + 1))
        assert revisions[0]["revision_text_bytes_diff"] is None
        assert revisions[0]["page_seconds_since_previous_revision"] is None
        for before, after in zip(revisions, revisions[1:]):
            assert after["revision_text_bytes_diff"] == after["revision_text_bytes"] - before["revision_text_bytes"]
            assert after["page_seconds_since_previous_revision"] == int(
                (after["revision_dt"] - before["revision_dt"]).total_seconds())
    visible = [r for r in rows if r["content_is_visible"]]
    assert all(r["diff_lines_added"] is not None for r in visible)
    assert all(r["diff_lines_added"] is None for r in rows if not r["content_is_visible"])
    assert sum(r["revision_is_identity_revert"] for r in rows) > 0


def test_namespaces_filter(tmp_path):
    run([str(SAMPLE)], Options(out=str(tmp_path), workers=1, namespaces=frozenset({0})))
    table = pq.read_table(tmp_path / "revisions")
    assert table.num_rows > 0 and pc.all(pc.equal(table.column("page_namespace"), 0)).as_py()


def test_ips_hash_and_drop(tmp_path):
    def anonymous_names(mode, key=None):
        out = tmp_path / mode
        run([str(SAMPLE)], Options(out=str(out), workers=1, ips=IpPolicy(mode, key)))
        rows = pq.read_table(out / "revisions").to_pylist()
        return [(r["user_is_anonymous"], r["user_text"]) for r in rows if r["user_is_anonymous"]]

    kept, hashed, dropped = anonymous_names("keep"), anonymous_names("hash", b"key"), anonymous_names("drop")
    assert kept and len(kept) == len(hashed) == len(dropped)
    assert all(text == "<ip>" for _, text in dropped)  # the fixed marker: null means deleted
    assert all(len(text) == 64 and text != ip for (_, text), (_, ip) in zip(hashed, kept))
    manifest = json.loads((tmp_path / "hash" / "_manifest.json").read_text())
    assert manifest["options"]["ips"] == "hash" and "key" not in json.dumps(manifest["options"])


def test_content_only_when_asked(tmp_path):
    run([str(SAMPLE)], Options(out=str(tmp_path / "a"), workers=1))
    assert not (tmp_path / "a" / "content").exists()
    run([str(SAMPLE)], Options(out=str(tmp_path / "b"), workers=1, tables=("revisions", "content")))
    assert pq.read_table(tmp_path / "b" / "content").num_rows == 564


def test_failed_unit_does_not_stop_the_others(tmp_path):
    broken = tmp_path / "brokenwiki-20260101-pages.xml"
    broken.write_text(SAMPLE.with_name("samplewiki-20260101-old-0.4.xml").read_text()[:20_000])
    out = tmp_path / "out"
    result = run([str(broken), str(SAMPLE)], Options(out=str(out), workers=2))
    assert not result.ok
    failed, = result.failed
    assert failed["id"] == "brokenwiki-20260101-pages" and "brokenwiki-20260101-pages.xml" in failed["error"]
    assert pq.read_table(out / "revisions" / "wiki_db=samplewiki").num_rows == 564
    assert pq.read_table(out / "users").num_rows > 0  # the reduce ran over the committed unit
    assert not (out / "_SUCCESS").exists()
    assert not list(out.rglob(".*tmp*"))
    # the broken unit's pages before the cut are committed, and counted in the manifest
    kept = pq.read_table(out / "revisions" / "wiki_db=brokenwiki")
    assert failed["pages"] > 0 and kept.num_rows == failed["rows"]["revisions"] == failed["revisions"]
    assert failed["error_at"]["xml_offset"] > 0 and failed["error_type"] == "MalformedXML"


def test_workers_do_not_change_rows(tmp_path):
    inputs = [str(SAMPLE), str(SAMPLE.with_name("samplewiki-20260101-deleted-0.11.xml"))]
    run(inputs, Options(out=str(tmp_path / "one"), workers=1))
    run(inputs, Options(out=str(tmp_path / "two"), workers=2))
    for table, key in (("revisions", "revision_id"), ("diffs", "revision_id"), ("pages", "page_id"),
                       ("users", "user_text")):
        one = pq.read_table(tmp_path / "one" / table).sort_by(key)
        two = pq.read_table(tmp_path / "two" / table).sort_by(key)
        assert one.equals(two), table


def test_unit_ids_are_stable_and_unique(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "enwiki-20260101-pages-meta-history1.xml.bz2").write_bytes(b"BZh9")
    units = plan_units([str(tmp_path / "a" / "enwiki-20260101-pages-meta-history1.xml.bz2"),
                        str(tmp_path / "b" / "enwiki-20260101-pages-meta-history1.xml.bz2")])
    assert [u.id for u in units] == ["enwiki-20260101-pages-meta-history1", "enwiki-20260101-pages-meta-history1-2"]


def test_wiki_db_and_snapshot_fallbacks():
    site = SiteInfo.empty()
    assert wiki_db(site._replace(dbname="aawiki"), "x.xml", "given") == ("aawiki", "siteinfo")
    assert wiki_db(site, "/d/frwiki-20260101-pages-meta-history1.xml.bz2", "given") == ("frwiki", "file name")
    guessed = "siteinfo base URL"
    assert wiki_db(site._replace(base="https://zh-min-nan.wikipedia.org/wiki/Main"), "x.xml") == (
        "zh_min_nanwiki", guessed)
    assert wiki_db(site._replace(base="https://de.wiktionary.org/wiki/Main"), "x.xml") == ("dewiktionary", guessed)
    assert wiki_db(site._replace(base="https://commons.wikimedia.org/wiki/Main"), "x.xml") == ("commonswiki", guessed)
    assert wiki_db(site._replace(base="https://www.wikidata.org/wiki/Main"), "x.xml") == ("wikidatawiki", guessed)
    # --wiki-db names what siteinfo and file name leave open, a guess from the base URL included
    assert wiki_db(site._replace(base="https://www.wikidata.org/wiki/Main"), "x.xml", "mywiki") == (
        "mywiki", "--wiki-db")
    assert wiki_db(site, "x.xml") == ("unknown", "nothing")
    assert snapshot_of("/d/frwiki-20260101-pages.xml") == ("2026-01", "file name")
    assert snapshot_of("/d/frwiki-20260101-pages.xml", "2025-12") == ("2025-12", "--snapshot")
    assert snapshot_of("x.xml", run_month="2026-11") == ("2026-11", "run month")
    assert this_month(datetime(2026, 11, 27, tzinfo=timezone.utc)) == "2026-11"


@pytest.mark.parametrize("bad", [dict(tables=("revisions", "nope")), dict(tables=()), dict(snapshot="2026-13"),
                                 dict(workers=0)])
def test_bad_options(bad, tmp_path):
    with pytest.raises(ValueError):
        Options(out=str(tmp_path), **bad)
