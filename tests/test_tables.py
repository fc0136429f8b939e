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
                                 "revisions_identity_reverted": 0, "dts": [], "temporary": False, "bot": False})
    for r in rows:
        if r["user_text"] is None:
            continue
        user = users[(r["user_is_anonymous"], r["user_id"], r["user_text"])]
        user["revision_count"] += 1
        user["pages"].add(r["page_id"])
        user["identity_reverts_made"] += r["revision_is_identity_revert"]
        user["revisions_identity_reverted"] += r["revision_is_identity_reverted"]
        user["dts"].append(r["revision_dt"])
        user["temporary"] |= r["user_is_temporary"]  # any of its revisions: the flags come from the dump's name
        user["bot"] |= r["user_is_bot_by_name"]
    return {key: {"user_is_anonymous": key[0], "user_id": key[1], "user_text": key[2],
                  "user_is_temporary": u["temporary"], "user_is_bot_by_name": u["bot"],
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


# -- IP addresses, one page at a time ------------------------------------------------------------
_REVISION = ("<revision><id>{id}</id><timestamp>2020-01-0{id}T00:00:00Z</timestamp>"
             "<contributor><username>{name}</username><id>{user_id}</id></contributor>"
             "<comment>{comment}</comment><text>{text}</text></revision>")
_EDITS = [  # (contributor name, id as the dump gives it, comment, text)
    ("192.0.2.7", -1, "first", "Hello\n"),  # an IP written as a user name, as the Data Lake's dumper does
    ("2A00:23C4:C2FA:5400:132:F168:F648:4824", 0, "hi", "Hello\n-- [[User:192.0.2.7|192.0.2.7]]\n"),
    ("Bob 192.0.2.7", 5, "Reverted edits by [[Special:Contributions/192.0.2.7|192.0.2.7]]", "Hello\n"),
    ("Alice", 6, "talk", "Hello\nAlice here, not 2a00:23c4:c2fa:5400:132:f168:f648:4824\n"),
]


def _assemble(ips: IpPolicy):
    from dumpproc.records import PageHeader, Revision
    from dumpproc.schema import REVISIONS
    from dumpproc.tables import PageAssembler

    assembler = PageAssembler(PageHeader(1, 3, "User talk:192.0.2.7", "User talk:192.0.2.7/a", None), ips=ips)
    diffs, texts = [], []
    for n, (name, user_id, comment, text) in enumerate(_EDITS, 1):
        revision = Revision.from_string(_REVISION.format(id=n, name=name, user_id=user_id, comment=comment, text=text))
        diffs.append(assembler.add(revision))
        texts.append(assembler.content_text)
    summary = assembler.finish()
    return dict(zip(REVISIONS.names, summary.revisions)), summary, diffs, texts


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_a_contributor_named_by_an_ip_address_is_anonymous_in_every_mode(mode):
    columns, summary, _, _ = _assemble(IpPolicy(mode, b"k" if mode == "hash" else None))
    assert columns["user_is_anonymous"] == [True, True, False, False]
    assert columns["user_id"] == [None, None, 5, 6]
    users = [user[:2] if user else None for user, *_ in summary.contributions]  # what the users table adds up
    anonymous = [None, None] if mode == "drop" else [(True, None), (True, None)]  # drop: no one to count
    assert users == [*anonymous, (False, 5), (False, 6)]


def test_hash_and_drop_replace_every_address_and_keep_sizes_and_sha1s():
    from dumpproc.diff import apply_ops
    from dumpproc.records import sha1_base36

    hashed = IpPolicy("hash", b"k")
    v4, v6 = hashed.apply("192.0.2.7"), hashed.apply("2a00:23c4:c2fa:5400:132:f168:f648:4824")
    kept, _, _, _ = _assemble(IpPolicy("keep"))
    for policy, v4_in_text, v4_name, v6_in_text in ((hashed, v4, v4, v6), (IpPolicy("drop"), "<ip>", "<ip>", "<ip>")):
        columns, summary, diffs, texts = _assemble(policy)
        assert columns["page_title"] == [f"User talk:{v4_in_text}"] * 4
        assert columns["page_redirect_title"] == [f"User talk:{v4_in_text}/a"] * 4
        assert summary.page_row[2:4] == (f"User talk:{v4_in_text}", f"User talk:{v4_in_text}/a")
        assert columns["user_text"] == [v4_name, v6_in_text, f"Bob {v4_in_text}", "Alice"]
        assert summary.page_row[9] == v4_name  # creator_user_text
        assert columns["revision_comment"][2] == (f"Reverted edits by [[Special:Contributions/{v4_in_text}|"
                                                  f"{v4_in_text}]]")
        assert texts[1] == f"Hello\n-- [[User:{v4_in_text}|{v4_in_text}]]\n"
        assert texts[3] == f"Hello\nAlice here, not {v6_in_text}\n"
        # the diffs rebuild the replaced texts; sizes and sha1s stay the dump's (so reverts do too)
        previous = ""
        for (base, result), text in zip(diffs, texts):
            assert apply_ops(previous, [(*op[:4], op[4].decode()) for op in result.ops]) == text
            assert result.chars_added - result.chars_removed == len(text) - len(previous)
            previous = text
        for name in ("revision_text_bytes", "revision_text_sha1", "revision_text_bytes_diff",
                     "revision_is_identity_revert", "revision_is_identity_reverted"):
            assert columns[name] == kept[name], name
        assert columns["revision_text_sha1"] == [sha1_base36(e[3]) for e in _EDITS]
        assert columns["revision_is_identity_revert"] == [False, False, True, False]
