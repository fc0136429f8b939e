"""``--parser fast`` and ``auto`` against ``--parser lxml``: every table row for row, every unit's
manifest entry (issue 16's proof that the compiled reader gives the reference reader's output).

- generated dumps over seeds, schemas and shapes (deleted fields, IPs and IPv6 in titles,
  comments and texts, temporary accounts and bots, huge revisions past libxml2's limit, pages cut
  into several units): the fast reader reads them all itself, no fallback;
- every file in ``../shared/dumps``: the same output, read by the fast reader or fallen back;
- mutated dumps (flipped bytes, cuts, inserted markup): ``auto`` gives lxml's output, errors and
  places included, whatever the damage.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE, SHARED_DUMPS, shared_manifest
from dumpproc.pipeline import Options, run
from dumpproc.privacy import IpPolicy
from test_mutations import MUTATION, mutate

#: what a unit's entry may differ in between readers: who read it, and how long it took
_READER_FIELDS = ("parser", "parser_fallback", "seconds")


def output(out: Path) -> tuple[dict, list[dict]]:
    """Every part's rows by its path under OUT, and the units' entries without the reader's fields."""
    rows = {str(path.relative_to(out)): pq.read_table(path).to_pylist() for path in sorted(out.rglob("*.parquet"))}
    manifest = json.loads((out / "_manifest.json").read_text())
    units = [{k: v for k, v in unit.items() if k not in _READER_FIELDS} for unit in manifest["units"]]
    return rows, units


def both(inputs: list[Path], folder: Path, parser: str = "fast", **options) -> list[dict]:
    """Run ``inputs`` with lxml and with ``parser``; assert the same output; the second run's units."""
    options = {"workers": 1, "snapshot": "2026-01", **options}  # the default tables: read as columns
    seen = []
    for name in ("lxml", parser):
        out = folder / name
        run([str(p) for p in inputs], Options(out=str(out), parser=name, **options))
        seen.append(output(out))
    (lxml_rows, lxml_units), (rows, units) = seen
    assert rows.keys() == lxml_rows.keys()
    for part in rows:
        assert rows[part] == lxml_rows[part], part
    assert units == lxml_units
    return json.loads((folder / parser / "_manifest.json").read_text())["units"]


SHAPES = {
    "plain": {},
    "deleted-and-ips": {"deleted_rate": 0.3, "ip_rate": 0.4, "ip_mentions": 0.5},
    "accounts": {"account_names": True, "revert_rate": 0.3},
    "long-pages": {"pages": 3, "revisions": (150, 300), "text_size": 600},
}


@pytest.mark.parametrize("schema", ["0.4", "0.6", "0.10", "0.11"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_dumps_are_read_by_the_fast_reader_as_by_lxml(generate, tmp_path, schema, shape, seed):
    dump = generate(**{"pages": 12, "revisions": (1, 25), "text_size": 1_500, **SHAPES[shape]},
                    schema=schema, seed=seed)
    units = both([dump], tmp_path)
    assert [unit["parser"] for unit in units] == ["fast"] and units[0]["status"] == "committed"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_table_with_content_is_the_same(generate, tmp_path, shape):
    """With the content table the fast reader's pages are read as records, not columns."""
    dump = generate(**{"pages": 12, "revisions": (1, 25), "text_size": 1_500, **SHAPES[shape]}, seed=3)
    units = both([dump], tmp_path, tables=("revisions", "diffs", "pages", "users", "content"))
    assert [unit["parser"] for unit in units] == ["fast"]


def test_huge_revisions_and_split_units_are_read_the_same(generate, tmp_path):
    """A text past libxml2's 10 MB limit, a file split into units at arbitrary bytes."""
    dump = generate(pages=6, revisions=(2, 6), text_size=800, seed=5, huge=2, huge_size=11 << 20)
    units = both([dump], tmp_path / "huge")
    assert units[0]["parser"] == "fast"
    split = both([SAMPLE], tmp_path / "split", split_size=40_000)
    assert len(split) > 1 and {unit["parser"] for unit in split} == {"fast"}


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_ips_hashed_and_dropped_the_same(generate, tmp_path, mode):
    dump = generate(pages=8, revisions=(1, 12), seed=9, ip_rate=0.5, ip_mentions=0.8)
    both([dump], tmp_path, ips=IpPolicy(mode, b"k" * 32 if mode == "hash" else None))


def _shared_files() -> list[str]:
    return [row["path"] for row in shared_manifest()]


@pytest.mark.skipif(not SHARED_DUMPS.is_dir(), reason=f"the real dumps folder {SHARED_DUMPS} is absent")
@pytest.mark.parametrize("relative", _shared_files())
def test_every_shared_dump_gives_the_same_output(relative, tmp_path):
    path = SHARED_DUMPS / relative
    if not path.is_file():
        pytest.skip(f"{relative} is listed but absent")
    units = both([path], tmp_path, parser="auto")
    for unit in units:  # the fast reader read it, or lxml did after a fallback that says why (or the
        # file is not a dump: nothing read it)
        if "parser" not in unit:
            assert unit["status"] == "failed" and unit["pages"] == 0, unit
        else:
            assert unit["parser"] == "fast" or ("parser_fallback" in unit and unit["parser"] == "lxml"), unit


@pytest.fixture(scope="module")
def small_dump(tmp_path_factory) -> bytes:
    import gen_dump

    path = tmp_path_factory.mktemp("small") / "d.xml"
    gen_dump.generate(str(path), gen_dump.Options(pages=3, revisions=(1, 4), text_size=200, seed=4,
                                                  ip_rate=0.3, deleted_rate=0.2))
    return path.read_bytes()


def test_mutated_dumps_get_lxmls_output_under_auto(small_dump):
    """Whatever the damage, ``auto`` ends as lxml does: the same rows kept, the same error, placed alike."""

    @settings(max_examples=60, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(MUTATION, min_size=1, max_size=3))
    def mutated(mutations):
        folder = Path(tempfile.mkdtemp())
        try:
            path = folder / "mutwiki-20260101-pages-meta-history.xml"
            path.write_bytes(mutate(small_dump, mutations))
            both([path], folder, parser="auto")
        finally:
            shutil.rmtree(folder)

    mutated()


def _with_sha1(revision_xml: bytes, sha1: str | None) -> bytes:
    return revision_xml if sha1 is None else revision_xml.replace(b"    </revision>", b"      <sha1>%s</sha1>\n    </revision>" % sha1.encode())


@pytest.mark.parametrize("radius", [0, 2])
@pytest.mark.parametrize("sha1s", ["given", "computed", "hexadecimal"])
def test_short_pages_made_rows_together_are_each_their_own(tmp_path, radius, sha1s):
    """Whole pages of one block are made rows together (``grouped.PageGroup``): a text that comes
    back on the next page is no revert there, a page's counters start again, a page whose dump
    goes back in time keeps mediawiki_history's seconds, and a page of hexadecimal sha1s takes the
    Python rules, all as lxml's reading gives them page by page."""
    from test_parse_errors import FOOTER, HEADER, page, revision
    from dumpproc.records import sha1_base36

    def rev(rev_id, text, stamp):
        sha1 = {"given": sha1_base36(text), "computed": None,
                "hexadecimal": __import__("hashlib").sha1(text).hexdigest()}[sha1s]
        return _with_sha1(revision(rev_id, text, timestamp=stamp), sha1)

    texts = [b"A", b"B", b"A", b"C"]
    pages = [page(p, [rev(p * 10 + i, texts[(i + p) % 4], b"2020-01-0%dT00:00:%02dZ" % (1 + i % 3, p))
                      for i in range(1 + p % 5)]) for p in range(1, 30)]
    pages.append(page(40, [rev(400, b"A", b"2020-02-02T00:00:00Z"), rev(401, b"B", b"2020-01-01T00:00:00Z"),
                           rev(402, b"A", b"2020-01-03T00:00:00Z")]))  # back in time
    dump = tmp_path / "groupwiki-20260101-pages-meta-history.xml"
    dump.write_bytes(HEADER + b"".join(pages) + FOOTER)
    units = both([dump], tmp_path, revert_radius=radius)
    assert [unit["parser"] for unit in units] == ["fast"]
    rows = pq.read_table(next((tmp_path / "fast").rglob("revisions/**/*.parquet"))).to_pylist()
    assert any(r["revision_is_identity_revert"] for r in rows)
    first_of_page = [r for r in rows if r["page_revision_count"] == 1]
    assert len(first_of_page) == 30 and not any(r["revision_is_identity_revert"] for r in first_of_page)


def test_a_fault_after_pages_held_together_keeps_them(generate, tmp_path):
    """``--parser fast`` on a zstd dump cut short: the unit fails, and the whole pages read before the
    fault, made rows together or not yet (``grouped.PageGroup``), are committed with every table's
    rows as lxml gives them for those pages, and counted in the manifest."""
    import zstandard

    dump = generate(pages=400, revisions=(1, 30), text_size=1_500, seed=5)
    data = zstandard.ZstdCompressor(level=1).compress(dump.read_bytes())
    cut = tmp_path / "cut" / "cutwiki-20260101-pages-meta-history.xml.zst"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) * 7 // 10])
    options = {"workers": 1, "snapshot": "2026-01"}
    run([str(dump)], Options(out=str(tmp_path / "whole"), parser="lxml", **options))
    run([str(cut)], Options(out=str(tmp_path / "fast"), parser="fast", **options))
    (unit,) = json.loads((tmp_path / "fast" / "_manifest.json").read_text())["units"]
    assert unit["status"] == "failed" and unit["parser"] == "fast" and unit["pages"] > 100
    partial = {page["page_id"]: page["revisions"] for page in unit["partial_pages"]}  # the page the cut is in
    for table in ("revisions", "diffs", "pages"):
        (part,) = (tmp_path / "fast").rglob(f"{table}/**/*.parquet")
        rows = pq.read_table(part).to_pylist()
        kept = {row["page_id"] for row in rows}
        assert len(kept) == unit["pages"] if table != "diffs" else len(kept) <= unit["pages"]
        (whole,) = (tmp_path / "whole").rglob(f"{table}/**/*.parquet")
        expected = [row for row in pq.read_table(whole).to_pylist() if row["page_id"] in kept.difference(partial)]
        assert [row for row in rows if row["page_id"] not in partial] == expected, table
        if table == "revisions":
            for page_id, count in partial.items():
                assert sum(row["page_id"] == page_id for row in rows) == count
