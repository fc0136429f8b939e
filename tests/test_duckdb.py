"""DuckDB reads the output as is, with hive_partitioning."""

from __future__ import annotations

import json

import pytest

from conftest import shared_dump
from dumpproc.pipeline import Options, run
from dumpproc.schema import TABLES

duckdb = pytest.importorskip("duckdb", reason="DuckDB is in the test extras: pip install -e '.[test]'")
DUCK_TYPES = {"int64": "BIGINT", "int32": "INTEGER", "string": "VARCHAR", "bool": "BOOLEAN",
              "timestamp[us, tz=UTC]": "TIMESTAMP WITH TIME ZONE"}


@pytest.fixture(scope="module")
def aawiki_out(tmp_path_factory):
    path = shared_dump("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z")
    out = tmp_path_factory.mktemp("aawiki") / "out"
    assert run([str(path)], Options(out=str(out), workers=1,
                                    tables=("revisions", "diffs", "pages", "users", "content"))).ok
    return out


def test_duckdb_reads_every_table(aawiki_out):
    manifest = json.loads((aawiki_out / "_manifest.json").read_text())
    unit, = manifest["units"]
    con = duckdb.connect()
    for name, schema in TABLES.items():
        source = f"read_parquet('{aawiki_out / name}/*/*/*.parquet', hive_partitioning = true)"
        described = {row[0]: row[1] for row in con.execute(f"describe select * from {source}").fetchall()}
        columns = list(described)
        assert columns[:len(schema)] == schema.names, name
        assert set(columns[len(schema):]) == {"wiki_db", "snapshot"}, name  # partitions from the path
        for field in schema:
            if str(field.type) in DUCK_TYPES:
                assert described[field.name] == DUCK_TYPES[str(field.type)], (name, field.name)
        count = con.execute(f"select count(*) from {source}").fetchone()[0]
        expected = manifest["users"]["aawiki/2026-01"]["rows"] if name == "users" else unit["rows"][name]
        assert count == expected, name
        assert con.execute(f"select distinct wiki_db, snapshot from {source}").fetchall() == [("aawiki", "2026-01")]


def test_duckdb_join_and_list_unnest(aawiki_out):
    con = duckdb.connect()
    revisions = f"read_parquet('{aawiki_out}/revisions/*/*/*.parquet', hive_partitioning = true)"
    pages = f"read_parquet('{aawiki_out}/pages/*/*/*.parquet', hive_partitioning = true)"
    diffs = f"read_parquet('{aawiki_out}/diffs/*/*/*.parquet', hive_partitioning = true)"
    top = con.execute(f"""select p.page_title, count(*) n, any_value(p.revision_count) rc
                          from {revisions} r join {pages} p using (wiki_db, page_id)
                          group by 1 order by n desc limit 3""").fetchall()
    assert top[0][0] == "Main Page" and all(n == rc for _, n, rc in top)
    added = con.execute(f"select sum(op.b_end - op.b_start) from (select unnest(ops) op from {diffs})").fetchone()[0]
    assert added == con.execute(f"select sum(diff_lines_added) from {revisions}").fetchone()[0]
