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
