"""--ips keep|hash|drop."""

from __future__ import annotations

import pytest

from dumpproc.privacy import IpPolicy


def test_keep_and_drop():
    assert IpPolicy("keep").apply("192.0.2.1") == "192.0.2.1"
    assert IpPolicy("drop").apply("192.0.2.1") is None


def test_hash_is_keyed_and_stable():
    one = IpPolicy("hash", b"k1")
    assert one.apply("192.0.2.1") == IpPolicy("hash", b"k1").apply("192.0.2.1")
    assert one.apply("192.0.2.1") != one.apply("192.0.2.2")
    assert one.apply("192.0.2.1") != IpPolicy("hash", b"k2").apply("192.0.2.1")
    assert "192.0.2.1" not in one.apply("192.0.2.1") and len(one.apply("192.0.2.1")) == 64


def test_hash_needs_a_key(monkeypatch):
    monkeypatch.delenv("DUMPPROC_IP_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a key"):
        IpPolicy.from_options("hash")


def test_key_from_file_or_environment(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text("secret\n")
    monkeypatch.setenv("DUMPPROC_IP_KEY", "secret")
    assert IpPolicy.from_options("hash", str(key_file)).apply("x") == IpPolicy.from_options("hash").apply("x")
    assert "secret" not in repr(IpPolicy.from_options("hash"))


def test_unknown_mode():
    with pytest.raises(ValueError):
        IpPolicy("scramble")


def test_addresses_in_texts_become_the_editors_hash_or_the_marker():
    text = "Reverted edits by [[Special:Contributions/2001:db8::1|2001:db8::1]] to 192.0.2.1 (v 1.2.3.4.5)"
    hashed = IpPolicy("hash", b"k")
    # the same address gives the hash its editor's user_text has, however either is written
    h6, h4 = hashed.apply("2001:DB8:0:0:0:0:0:1"), hashed.apply("192.0.2.1")
    assert hashed.replace(text) == (f"Reverted edits by [[Special:Contributions/{h6}|{h6}]] to {h4} (v 1.2.3.4.5)")
    assert IpPolicy("drop").replace(text) == "Reverted edits by [[Special:Contributions/<ip>|<ip>]] to <ip> (v 1.2.3.4.5)"
    assert IpPolicy("keep").replace(text) == text and IpPolicy("keep").replace_utf8(text.encode()) == text.encode()
    assert hashed.replace_utf8(text.encode()) == hashed.replace(text).encode()
    assert hashed.replace(None) is None and hashed.replace_utf8(None) is None


# -- through the whole command -----------------------------------------------------------
import json  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.compute  # noqa: E402,F401
import pyarrow.parquet as pq  # noqa: E402

from conftest import SAMPLE, run_cli  # noqa: E402

TABLES = ("revisions", "diffs", "pages", "users", "content")


def _strings(out, tables=TABLES) -> dict[str, set[str]]:
    """Every string value of every table (nested ones too), by table."""
    found = {}
    for table in tables:
        if not (out / table).exists():
            continue
        values: set[str] = set()
        for column in pq.read_table(out / table).flatten().columns:
            if pa.types.is_list(column.type):
                column = pa.compute.list_flatten(column).combine_chunks().flatten()[-1]  # ops' text
            if pa.types.is_string(column.type):
                values.update(v for v in column.to_pylist() if v is not None)
        found[table] = values
    return found


def _process(tmp_path, name, *options, env=None):
    out = tmp_path / name
    run_cli("process", SAMPLE, "-o", out, "--tables", ",".join(TABLES), *options, env=env, check=True)
    return out


def _anonymous(out) -> dict[int, str | None]:
    rows = pq.read_table(out / "revisions", columns=["revision_id", "user_text", "user_is_anonymous"]).to_pylist()
    return {r["revision_id"]: r["user_text"] for r in rows if r["user_is_anonymous"]}


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    out = _process(tmp_path_factory.mktemp("keep"), "out")
    ips = _anonymous(out)
    assert len(set(ips.values())) >= 5, "the sample needs anonymous edits"
    return ips


def test_hash_is_the_same_across_runs_with_the_same_key_and_never_stores_it(tmp_path, kept):
    key_file = tmp_path / "key"
    key_file.write_text("correct horse battery staple\n")
    by_env = _process(tmp_path, "env", "--ips", "hash", env={"DUMPPROC_IP_KEY": "correct horse battery staple"})
    by_file = _process(tmp_path, "file", "--ips", "hash", "--ip-key-file", key_file)
    other = _process(tmp_path, "other", "--ips", "hash", env={"DUMPPROC_IP_KEY": "another key"})
    hashed = _anonymous(by_env)
    assert hashed == _anonymous(by_file) and hashed.keys() == kept.keys()
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in hashed.values())
    for a in kept:  # the same address, the same value; different addresses, different values
        for b in kept:
            assert (kept[a] == kept[b]) == (hashed[a] == hashed[b])
    assert not set(_anonymous(other).values()) & set(hashed.values())
    for out in (by_env, by_file):
        assert json.loads((out / "_manifest.json").read_text())["options"]["ips"] == "hash"
        everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
        assert b"correct horse" not in everything
        for table, values in _strings(out).items():
            assert not values & set(kept.values()), f"an IP address in {table}"
    users = pq.read_table(by_env / "users").to_pylist()
    assert {u["user_text"] for u in users if u["user_is_anonymous"]} == set(hashed.values())


def test_drop_writes_null_and_keeps_the_anonymous_flag(tmp_path, kept):
    out = _process(tmp_path, "drop", "--ips", "drop")
    dropped = _anonymous(out)
    assert dropped.keys() == kept.keys() and set(dropped.values()) == {None}
    assert json.loads((out / "_manifest.json").read_text())["options"]["ips"] == "drop"
    assert not pq.read_table(out / "users").filter(pa.compute.field("user_is_anonymous")).num_rows
    for table, values in _strings(out).items():
        assert not values & set(kept.values()), f"an IP address in {table}"


def test_no_revision_text_without_the_content_table(tmp_path):
    """Texts go to ``content`` only; the default ``diffs`` table holds the lines each edit
    inserted (its contract in SPEC.md), and no other table holds any text."""
    from dumpproc.parse import Dump
    from dumpproc.sources import open_dump

    lines = set()
    with open_dump(str(SAMPLE), 1) as stream:
        for page in Dump(stream).pages():
            for revision in page:
                lines.update(line for line in (revision.text or "").split("\n") if len(line) >= 30)
    assert len(lines) > 100

    def holding_text(out):
        return {table for table, values in _strings(out).items()
                if any(line in value for value in values for line in lines)}

    plain = tmp_path / "plain"
    run_cli("process", SAMPLE, "-o", plain, "--tables", "revisions,pages,users", check=True)
    assert holding_text(plain) == set()
    default = tmp_path / "default"
    run_cli("process", SAMPLE, "-o", default, check=True)
    assert not (default / "content").exists() and holding_text(default) == {"diffs"}
    assert holding_text(_process(tmp_path, "content")) == {"diffs", "content"}
