"""The pages and users tables agree with what the revisions table says, whatever the units and buckets."""

from __future__ import annotations

from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE
from dumpproc import sink
from dumpproc.pipeline import Options, run
from dumpproc.privacy import IpPolicy
from dumpproc.schema import DIFFS, PAGES, USERS


def pages_from_revisions(rows):
    pages = {}
    for r in rows:  # dump order within a page
        page = pages.get(r["page_id"])
        if page is None:
            pages[r["page_id"]] = page = {
                "page_id": r["page_id"], "page_namespace": r["page_namespace"], "page_title": r["page_title"],
                "page_redirect_title": r["page_redirect_title"], "revision_count": 0,
                "first_revision_id": r["revision_id"], "first_revision_dt": r["revision_dt"],
                "creator_user_text": r["user_text"], "editors": set(), "identity_revert_count": 0}
        page["revision_count"] += 1
        page["last_revision_id"], page["last_revision_dt"] = r["revision_id"], r["revision_dt"]
        page["last_text_bytes"] = r["revision_text_bytes"]
        page["identity_revert_count"] += r["revision_is_identity_revert"]
        if r["user_text"] is not None:
            page["editors"].add((r["user_is_anonymous"], r["user_id"], r["user_text"]))
    for page in pages.values():
        page["distinct_editors"] = len(page.pop("editors"))
    return pages


def users_from_revisions(rows):
    users = defaultdict(lambda: {"revision_count": 0, "pages": set(), "identity_reverts_made": 0,
                                 "revisions_identity_reverted": 0, "dts": []})
    for r in rows:
        if r["user_text"] is None:
            continue
        user = users[(r["user_is_anonymous"], r["user_id"], r["user_text"])]
        user["revision_count"] += 1
        user["pages"].add(r["page_id"])
        user["identity_reverts_made"] += r["revision_is_identity_revert"]
        user["revisions_identity_reverted"] += r["revision_is_identity_reverted"]
        user["dts"].append(r["revision_dt"])
    return {key: {"user_is_anonymous": key[0], "user_id": key[1], "user_text": key[2],
                  "revision_count": u["revision_count"], "first_revision_dt": min(u["dts"]),
                  "last_revision_dt": max(u["dts"]), "pages_edited": len(u["pages"]),
                  "identity_reverts_made": u["identity_reverts_made"],
                  "revisions_identity_reverted": u["revisions_identity_reverted"]} for key, u in users.items()}


@pytest.fixture
def two_wikis(generate):
    """Several units: two of one wiki (different page ids, shared editors), one of another."""
    first = generate("onewiki-20260101-pages-meta-history1.xml", pages=20, revisions=(1, 30), seed=1, dbname="onewiki")
    second = generate("onewiki-20260101-pages-meta-history2.xml", pages=20, revisions=(1, 30), seed=2,
                      dbname="onewiki", start_page_id=10_000, start_revision_id=1_000_000)
    return [str(first), str(second), str(SAMPLE)]


@pytest.mark.parametrize("per_pass, pack_rows", [(4_000_000, 4096), (10, 4)])  # one pass / by bucket; packed pages
def test_pages_and_users_agree_with_revisions(two_wikis, tmp_path, monkeypatch, per_pass, pack_rows):
    from dumpproc import tables

    monkeypatch.setattr(sink, "USERS_PER_PASS", per_pass)
    monkeypatch.setattr(tables, "_PACK_ROWS", pack_rows)  # long pages come back as Arrow batches
    out = tmp_path / "out"
    assert run(two_wikis, Options(out=str(out), workers=1, ips=IpPolicy("hash", b"k"))).ok
    for db in ("onewiki", "samplewiki"):
        revisions = pq.read_table(out / "revisions" / f"wiki_db={db}").to_pylist()
        pages = {r["page_id"]: r for r in pq.read_table(out / "pages" / f"wiki_db={db}").to_pylist()}
        expected = pages_from_revisions(revisions)
        assert pages.keys() == expected.keys()
        for page_id, page in pages.items():
            page.pop("snapshot"), page.pop("wiki_db", None)
            assert page == expected[page_id]
        users_table = pq.read_table(out / "users" / f"wiki_db={db}")
        parts = list((out / "users" / f"wiki_db={db}").rglob("*.parquet"))
        assert (len(parts) > 1) == (per_pass == 10)
        users = {}
        for row in users_table.to_pylist():
            row.pop("snapshot"), row.pop("wiki_db", None)
            key = (row["user_is_anonymous"], row["user_id"], row["user_text"])
            assert key not in users, "a contributor appears twice"
            users[key] = row
        assert users == users_from_revisions(revisions)
    assert pq.read_schema(next((out / "users").rglob("*.parquet"))) == USERS
    assert pq.read_schema(next((out / "pages").rglob("*.parquet"))) == PAGES


def test_diffs_table_rebuilds_every_visible_text(tmp_path):
    from dumpproc.diff import apply_ops

    path = FIXTURES / "samplewiki-20260101-deleted-0.11.xml"
    out = tmp_path / "out"
    assert run([str(path)], Options(out=str(out), workers=1,
                                    tables=("revisions", "diffs", "content"))).ok
    assert pq.read_schema(next((out / "diffs").rglob("*.parquet"))) == DIFFS
    texts = {r["revision_id"]: r["revision_text"] for r in pq.read_table(out / "content").to_pylist()}
    diffs = pq.read_table(out / "diffs").to_pylist()
    revisions = pq.read_table(out / "revisions").to_pylist()
    visible = [r["revision_id"] for r in revisions if r["content_is_visible"]]
    assert [d["revision_id"] for d in diffs] == visible and len(visible) < len(revisions)
    for d in diffs:
        base = texts[d["base_revision_id"]] if d["base_revision_id"] is not None else ""
        ops = [(o["a_start"], o["a_end"], o["b_start"], o["b_end"], o["text"]) for o in d["ops"]]
        assert apply_ops(base, ops) == texts[d["revision_id"]]
    hidden = [r for r in revisions if not r["content_is_visible"]]
    assert hidden and all(r["diff_lines_added"] is None and r["diff_chars_removed"] is None for r in hidden)
    # the revision after a deleted text is diffed against the last visible one before it
    by_page = defaultdict(list)
    for r in revisions:
        by_page[r["page_id"]].append(r)
    bases = {d["revision_id"]: d["base_revision_id"] for d in diffs}
    for history in by_page.values():
        last_visible = None
        for r in history:
            if r["content_is_visible"]:
                assert bases[r["revision_id"]] == last_visible
                last_visible = r["revision_id"]
