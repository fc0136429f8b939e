"""The pages and users tables agree with what the revisions table says, whatever the units and buckets."""

from __future__ import annotations

from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE
from dumpproc.parse.revision import revision_from_string
from dumpproc import users as users_module
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
    first = generate("onewiki-20260101-pages-meta-history1.xml", pages=20, revisions=(1, 30), seed=1, dbname="onewiki",
                     account_names=True)
    second = generate("onewiki-20260101-pages-meta-history2.xml", pages=20, revisions=(1, 30), seed=2,
                      dbname="onewiki", start_page_id=10_000, start_revision_id=1_000_000, account_names=True)
    return [str(first), str(second), str(SAMPLE)]


@pytest.mark.parametrize("per_pass, pack_rows", [(4_000_000, 4096), (10, 4)])  # one pass / by bucket; packed pages
def test_pages_and_users_agree_with_revisions(two_wikis, tmp_path, monkeypatch, per_pass, pack_rows):
    from dumpproc import tables

    monkeypatch.setattr(users_module, "USERS_PER_PASS", per_pass)
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
        if db == "onewiki":  # temporary accounts and name-bots, in both units, each one row
            kinds = {(row["user_is_temporary"], row["user_is_bot_by_name"]) for row in users.values()}
            assert {(True, False), (False, True), (False, False)} <= kinds
            assert all(row["user_is_temporary"] == row["user_text"].startswith("~2025-") for row in users.values())
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
    from dumpproc.records import PageHeader
    from dumpproc.schema import REVISIONS
    from dumpproc.tables import PageAssembler

    assembler = PageAssembler(PageHeader(1, 3, "User talk:192.0.2.7", "User talk:192.0.2.7/a", None), ips=ips)
    diffs, texts = [], []
    for n, (name, user_id, comment, text) in enumerate(_EDITS, 1):
        revision = revision_from_string(_REVISION.format(id=n, name=name, user_id=user_id, comment=comment, text=text))
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


# -- a page whose dump is not in time order ------------------------------------------------------
@pytest.mark.parametrize("pack_rows", [4096, 2])
def test_seconds_since_previous_revision_follow_time_when_the_dump_does_not(monkeypatch, pack_rows):
    """docs/schema.md: as mediawiki_history, the seconds since the revision saved just before, never
    negative; the other columns stay in dump order (page_revision_count, bytes diff, the diff base)."""
    from dumpproc import tables
    from dumpproc.records import PageHeader
    from dumpproc.schema import REVISIONS

    monkeypatch.setattr(tables, "_PACK_ROWS", pack_rows)  # 2: the page's rows are packed as Arrow batches
    assembler = tables.PageAssembler(PageHeader(1, 0, "Merged", None, None))
    stamps = ["2020-01-01T00:01:40Z", "2020-01-01T00:04:10Z", "2020-01-01T00:00:40Z", "2020-01-01T00:04:20Z"]
    for n, stamp in enumerate(stamps, 1):  # revision 3 was saved first: an imported history
        assembler.add(revision_from_string(f"<revision><id>{n}</id><timestamp>{stamp}</timestamp>"
                                           f"<contributor><username>A</username><id>1</id></contributor>"
                                           f"<text>{'x' * n}</text></revision>"))
    summary = assembler.finish()
    revisions = summary.revisions
    if pack_rows == 2:  # a batch per packed chunk
        import pyarrow as pa

        table = pa.Table.from_batches(revisions)
        revisions = [table.column(name).to_pylist() for name in REVISIONS.names]
    columns = dict(zip(REVISIONS.names, revisions))
    assert columns["page_seconds_since_previous_revision"] == [60, 150, None, 10]
    assert columns["page_revision_count"] == [1, 2, 3, 4]
    assert columns["revision_text_bytes_diff"] == [None, 1, 1, 1]


# -- account kinds: IP editors, temporary accounts, registered accounts, bots by name --------------
_ACCOUNT_REVISION = ("<revision><id>{id}</id><timestamp>2025-06-{day:02d}T00:00:00Z</timestamp>"
                     "<contributor>{who}</contributor><text>v{id}</text></revision>")
_ACCOUNTS = [  # (contributor element, user_is_anonymous, user_is_temporary, user_is_bot_by_name)
    ("<ip>192.0.2.7</ip>", True, False, False),
    ("<username>~2025-12345-67</username><id>901</id>", False, True, False),
    ("<username>~2025-1bot</username><id>902</id>", False, True, True),  # the two flags are apart
    ("<username>~25-12345-67</username><id>903</id>", False, False, False),  # look-alikes, registered
    ("<username>2025-12345-67</username><id>904</id>", False, False, False),
    ("<username>~Tilde</username><id>905</id>", False, False, False),
    ("<username>ClueBot NG</username><id>906</id>", False, False, True),
    ("<username>Botany</username><id>907</id>", False, False, False),
    ("<username>Abbot</username><id>908</id>", False, False, True),
    ("<username>2001:db8::b07</username><id>0</id>", True, False, False),  # an IP name: anonymous, no bot
    ('<contributor deleted="deleted"/>', False, False, False),  # replaced below: a deleted contributor
    ("<username>Robot1.2.3.4</username><id>909</id>", False, False, True),  # an address in the name
    ("<username>~2025-12345-67</username><id>901</id>", False, True, False),  # the first account again
]


def _account_page(ips: IpPolicy | None = None, pattern: str | None = None):
    from dumpproc.accounts import AccountKinds
    from dumpproc.records import PageHeader
    from dumpproc.schema import REVISIONS
    from dumpproc.tables import PageAssembler
    from dumpproc.users import UserTotals

    kinds = AccountKinds(pattern) if pattern is not None else None
    assembler = PageAssembler(PageHeader(1, 0, "Page", None, None), ips=ips, accounts=kinds)
    for n, (who, *_) in enumerate(_ACCOUNTS, 1):
        xml = _ACCOUNT_REVISION.format(id=n, day=n, who=who)
        if who.startswith("<contributor"):
            xml = _ACCOUNT_REVISION.format(id=n, day=n, who="").replace("<contributor></contributor>", who)
        assembler.add(revision_from_string(xml))
    summary = assembler.finish()
    totals = UserTotals()
    totals.add_page(summary.contributions)
    users = {row[1]: row for row in totals.rows()}  # by user_text
    return dict(zip(REVISIONS.names, summary.revisions)), summary, users


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_each_revision_says_which_kind_of_account_made_it(mode):
    columns, summary, users = _account_page(IpPolicy(mode, b"k" if mode == "hash" else None))
    flags = list(zip(columns["user_is_anonymous"], columns["user_is_temporary"], columns["user_is_bot_by_name"]))
    assert flags == [tuple(kind) for _, *kind in _ACCOUNTS]
    assert columns["user_is_visible"][10] is False and columns["user_text"][10] is None
    # the users rows carry the flags; the temporary account's two revisions are one contributor
    temporary = users["~2025-12345-67"]
    assert temporary[:5] == (901, "~2025-12345-67", False, True, False) and temporary[5] == 2
    assert users["ClueBot NG"][3:5] == (False, True) and users["Botany"][3:5] == (False, False)
    assert users["~2025-1bot"][3:5] == (True, True)
    assert sum(1 for row in users.values() if row[3]) == 2  # temporary accounts
    assert summary.page_row[10] == len(users)  # distinct_editors counts contributors, not flag variants


def test_flags_are_decided_on_the_dumps_name_before_ips_replaces_an_address_in_it():
    from dumpproc.accounts import is_bot_by_name

    hashed = IpPolicy("hash", b"k")
    columns, _, users = _account_page(hashed)
    written = columns["user_text"][11]
    assert written == hashed.replace("Robot1.2.3.4") and written.startswith("Robotf")  # "bot" then a letter now
    assert not is_bot_by_name(written) and columns["user_is_bot_by_name"][11] is True
    assert users[written][3:5] == (False, True)
    # a temporary-account pattern that only the dump's name fits
    for policy in (IpPolicy("drop"), hashed):
        columns, _, _ = _account_page(policy, pattern=r"^Robot[0-9]+\.")
        assert columns["user_text"][11] != "Robot1.2.3.4" and columns["user_is_temporary"][11] is True
        assert columns["user_is_temporary"][1] is False  # ~2025-... is not temporary by this pattern


def test_users_totals_flag_a_contributor_when_any_of_its_names_is():
    """Two names that --ips makes one are one contributor; it is flagged when either name is."""
    from dumpproc.users import UserTotals

    totals = UserTotals()
    totals.add_page([((False, 0, "Ro<ip>", False, False), 1, False, False),
                     ((False, 0, "Ro<ip>", True, True), 2, False, False)])
    totals.add_page([((False, 0, "Ro<ip>", False, False), 3, True, False)])
    (row,) = totals.rows()
    assert row[:11] == (0, "Ro<ip>", False, True, True, 3, 1, 3, 2, 1, 0)


def _users_by_key(out, db):
    rows = pq.read_table(out / "users" / f"wiki_db={db}").to_pylist()
    return {(r["user_is_anonymous"], r["user_id"], r["user_text"]): r for r in rows}


def test_the_users_reduce_keeps_the_flags_when_it_works_totals_out_of_revisions_parts(generate, tmp_path):
    """A later run into the same OUT adds up the earlier run's units again from their revisions parts
    (their staging totals are gone): the flags come through, and a part an older dumpproc wrote,
    without them, gets them from its names."""
    first = generate("onewiki-20260101-pages-meta-history1.xml", pages=15, revisions=(1, 20), seed=3,
                     dbname="onewiki", account_names=True)
    second = generate("onewiki-20260101-pages-meta-history2.xml", pages=15, revisions=(1, 20), seed=4,
                      dbname="onewiki", start_page_id=10_000, start_revision_id=1_000_000, account_names=True)
    third = generate("onewiki-20260101-pages-meta-history3.xml", pages=5, revisions=(1, 5), seed=5,
                     dbname="onewiki", start_page_id=20_000, start_revision_id=2_000_000, account_names=True)
    out = tmp_path / "out"
    assert run([str(first)], Options(out=str(out), workers=1)).ok
    alone = _users_by_key(out, "onewiki")
    assert any(r["user_is_temporary"] for r in alone.values()) and any(r["user_is_bot_by_name"] for r in alone.values())
    assert not (out / "_staging").exists()
    assert run([str(second)], Options(out=str(out), workers=1)).ok
    both = _users_by_key(out, "onewiki")
    revisions = pq.read_table(out / "revisions" / "wiki_db=onewiki").to_pylist()
    expected = users_from_revisions(revisions)
    for row in both.values():
        row.pop("snapshot"), row.pop("wiki_db", None)
    assert both == expected
    assert all(both[key]["user_is_temporary"] == row["user_is_temporary"] for key, row in alone.items())

    # the first run's part as an older dumpproc wrote it: no flag columns
    part = next((out / "revisions" / "wiki_db=onewiki").rglob("part-*history1.parquet"))
    old = pq.read_table(part)
    old = old.drop_columns(["user_is_temporary", "user_is_bot_by_name"])
    pq.write_table(old, part)
    assert run([str(third)], Options(out=str(out), workers=1)).ok
    again = _users_by_key(out, "onewiki")
    for key, row in alone.items():
        assert (again[key]["user_is_temporary"], again[key]["user_is_bot_by_name"]) == (
            row["user_is_temporary"], row["user_is_bot_by_name"]), key
