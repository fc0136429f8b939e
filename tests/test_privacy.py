"""--ips keep|hash|drop."""

from __future__ import annotations

import pytest

from dumpproc.privacy import IpPolicy


def test_keep_and_drop():
    assert IpPolicy("keep").apply("192.0.2.1") == "192.0.2.1"
    assert IpPolicy("drop").apply("192.0.2.1") == "<ip>"  # a fixed marker: null means deleted


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
        for column in pq.read_table(out / table).columns:
            for chunk in column.chunks:
                values.update(_string_values(chunk))
        found[table] = values
    return found


def _string_values(array: pa.Array):
    """The strings in an array, however deep: lists (ops, slot roles), structs, maps (content slots)."""
    kind = array.type
    if pa.types.is_string(kind):
        yield from (v for v in array.to_pylist() if v is not None)
    elif pa.types.is_map(kind):
        yield from _string_values(array.keys)
        yield from _string_values(array.items)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        yield from _string_values(array.flatten())
    elif pa.types.is_struct(kind):
        for i in range(kind.num_fields):
            yield from _string_values(array.field(i))


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


def test_drop_writes_the_fixed_marker_and_keeps_the_anonymous_flag(tmp_path, kept):
    out = _process(tmp_path, "drop", "--ips", "drop")
    dropped = _anonymous(out)
    assert dropped.keys() == kept.keys() and set(dropped.values()) == {"<ip>"}  # null means deleted
    pages = pq.read_table(out / "pages").to_pylist()
    revisions = pq.read_table(out / "revisions").to_pylist()
    first = {r["page_id"]: r for r in revisions if r["page_revision_count"] == 1}
    for page in pages:  # the creator as the first revision has it; dropped editors are nobody to count
        assert page["creator_user_text"] == first[page["page_id"]]["user_text"]
        named = {r["user_text"] for r in revisions if r["page_id"] == page["page_id"]
                 and r["user_text"] is not None and not r["user_is_anonymous"]}
        assert page["distinct_editors"] == len(named)
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


# -- no input IP anywhere in OUT ------------------------------------------------------------------
import ipaddress  # noqa: E402

from dumpproc.diff import apply_ops  # noqa: E402

KEY = "a key for the privacy test"


def _forms(address: str) -> set[str]:
    """The ways one address may be written: as in the dump, in either case, compressed or not."""
    forms = {address, address.lower(), address.upper()}
    try:
        parsed = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return forms
    forms |= {parsed.compressed, parsed.exploded, parsed.compressed.upper()}
    if parsed.version == 6:
        forms.add(":".join(f"{int.from_bytes(parsed.packed[i:i + 2], 'big'):X}" for i in range(0, 16, 2)))
    return forms


def _walk(value):
    """Every scalar inside a decoded value (lists and structs of the diffs' ops included), as text."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)
    elif value is not None:
        yield value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _found(ips: set[str], texts) -> set[str]:
    """The addresses of ``ips`` that any of ``texts`` holds, in any of their forms."""
    forms = {form: ip for ip in ips for form in _forms(ip)}
    found = set()
    for text in texts:
        found.update(ip for form, ip in forms.items() if form in text)
    return found


@pytest.fixture(scope="module")
def ip_run(tmp_path_factory):
    """Two generated dumps full of IPs, processed with --ips keep, hash and drop into every table,
    with -v, and each output's report: {mode: (OUT, stderr, report html)}, and the input's IPs."""
    import gen_dump

    folder = tmp_path_factory.mktemp("ips")
    inputs, ips = [], set()
    for n, (schema, compression) in enumerate((("0.10", "none"), ("0.11", "bz2"))):
        path = folder / (f"ipwiki-20260101-pages-meta-history{n + 1}.xml" + (".bz2" if compression == "bz2" else ""))
        stats = gen_dump.generate(str(path), gen_dump.Options(
            pages=30, revisions=(2, 12), text_size=600, seed=40 + n, ip_mentions=0.3, ip_rate=0.3, schema=schema,
            compression=compression, dbname="ipwiki", start_page_id=1 + n * 1000, start_revision_id=1 + n * 100_000))
        xml = path.read_bytes() if compression == "none" else __import__("bz2").decompress(path.read_bytes())
        ips |= {ip for ip in stats.ips if ip.encode() in xml}  # written (not only drawn for a deleted field)
        inputs.append(path)
    runs = {}
    for mode in ("keep", "hash", "drop"):
        out = folder / mode
        done = run_cli("-v", "process", *inputs, "-o", out, "--tables", ",".join(TABLES), "--ips", mode, "-j", "2",
                       env={"DUMPPROC_IP_KEY": KEY}, check=True)
        page = folder / f"report-{mode}.html"
        shown = run_cli("report", out, "-o", page, check=True)
        runs[mode] = (out, done.stdout + done.stderr + shown.stdout + shown.stderr, page.read_text())
    return runs, ips


def _leaks(out, logs: str, html: str, ips: set[str]) -> dict[str, set[str]]:
    """Where in a run's output, logs and report each input IP appears."""
    values = {}
    for table in TABLES:
        rows = pq.read_table(out / table).to_pylist()
        values[table] = _found(ips, (text for row in rows for text in _walk(row)))
    files = {str(path.relative_to(out)): _found(ips, [path.read_bytes().decode("latin-1")])
             for path in out.rglob("*") if path.is_file()}
    manifest = json.loads((out / "_manifest.json").read_text())
    return {**{f"table {t}": v for t, v in values.items()}, **{f"file {f}": v for f, v in files.items()},
            "manifest": _found(ips, _walk(manifest)), "logs": _found(ips, [logs]), "report": _found(ips, [html])}


def _statistics(out) -> list[str]:
    """Every string the Parquet footers' column statistics hold."""
    found = []
    for path in out.rglob("*.parquet"):
        metadata = pq.ParquetFile(path).metadata
        for group in range(metadata.num_row_groups):
            for column in range(metadata.num_columns):
                statistics = metadata.row_group(group).column(column).statistics
                if statistics is not None and statistics.has_min_max:
                    found += [str(statistics.min), str(statistics.max)]
    return found


def test_keep_writes_the_ips_so_the_search_can_find_them(ip_run):
    runs, ips = ip_run
    assert len(ips) > 100 and any(":" in ip for ip in ips) and any("%" in ip or "::ffff:" in ip for ip in ips)
    out, logs, html = runs["keep"]
    leaks = _leaks(out, logs, html, ips)
    assert set().union(*(found for where, found in leaks.items() if where.startswith("table"))) == ips
    assert leaks["table pages"] and leaks["table users"] and leaks["table diffs"] and leaks["table content"]
    assert any(found for where, found in leaks.items() if where.startswith("file "))  # in the footers, at least
    assert _found(ips, _statistics(out))


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_hash_and_drop_leave_no_input_ip_anywhere(ip_run, mode):
    runs, ips = ip_run
    out, logs, html = runs[mode]
    leaks = {where: found for where, found in _leaks(out, logs, html, ips).items() if found}
    assert not leaks, f"IPs of the input in {sorted(leaks)}: {sorted(set().union(*leaks.values()))[:5]}"
    assert not _found(ips, _statistics(out))
    assert KEY not in logs and KEY.encode() not in b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_the_diffs_rebuild_the_replaced_texts_and_sizes_and_sha1s_stay(ip_run, mode):
    runs, _ = ip_run
    out = runs[mode][0]
    texts = {r["revision_id"]: r["revision_text"] for r in pq.read_table(out / "content").to_pylist()}
    for d in pq.read_table(out / "diffs").to_pylist():
        base = texts[d["base_revision_id"]] if d["base_revision_id"] is not None else ""
        ops = [(o["a_start"], o["a_end"], o["b_start"], o["b_end"], o["text"]) for o in d["ops"]]
        assert apply_ops(base, ops) == texts[d["revision_id"]]
    columns = ["revision_id", "revision_text_bytes", "revision_text_sha1", "revision_text_bytes_diff",
               "revision_is_identity_revert", "revision_is_identity_reverted", "user_is_anonymous", "user_id"]
    kept = pq.read_table(runs["keep"][0] / "revisions", columns=columns).sort_by("revision_id")
    assert pq.read_table(out / "revisions", columns=columns).sort_by("revision_id").equals(kept)


def test_a_contributor_named_by_an_ip_is_anonymous(ip_run):
    runs, ips = ip_run
    rows = pq.read_table(runs["keep"][0] / "revisions", columns=["user_text", "user_is_anonymous", "user_id"])
    named = [r for r in rows.to_pylist() if r["user_text"] in ips]
    assert named and all(r["user_is_anonymous"] and r["user_id"] is None for r in named)
    users = pq.read_table(runs["hash"][0] / "users").to_pylist()
    anonymous = [u for u in users if u["user_is_anonymous"]]
    assert anonymous and all(u["user_id"] is None and len(u["user_text"]) == 64 for u in anonymous)
