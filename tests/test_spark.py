"""A real local Spark session reads the output as is, and --engine spark writes what --engine local does."""

from __future__ import annotations

import json
import os
import sys

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SAMPLE, shared_dump
from dumpproc.pipeline import Options, run
from dumpproc.schema import TABLES

pyspark = pytest.importorskip("pyspark", reason="PySpark is in the test extras: pip install -e '.[test]'")
SPARK_TYPES = {"int64": "bigint", "int32": "int", "string": "string", "bool": "boolean",
               "timestamp[us, tz=UTC]": "timestamp"}


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("dumpproc-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def aawiki_out(tmp_path_factory):
    path = shared_dump("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z")
    out = tmp_path_factory.mktemp("aawiki") / "out"
    tables = ("revisions", "diffs", "pages", "users", "content")
    assert run([str(path)], Options(out=str(out), workers=1, tables=tables)).ok
    return out


def test_spark_reads_every_table_as_the_spec_says(spark, aawiki_out):
    manifest = json.loads((aawiki_out / "_manifest.json").read_text())
    unit, = manifest["units"]
    for name, schema in TABLES.items():
        frame = spark.read.parquet(str(aawiki_out / name))
        types = dict(frame.dtypes)
        assert frame.columns == schema.names + ["wiki_db", "snapshot"], name  # partitions from the path
        for field in schema:
            expected = SPARK_TYPES.get(str(field.type))
            if expected:
                assert types[field.name] == expected, (name, field.name)
        assert {tuple(r) for r in frame.select("wiki_db", "snapshot").distinct().collect()} == {("aawiki", "2026-01")}
        expected_rows = manifest["users"]["aawiki/2026-01"]["rows"] if name == "users" else unit["rows"][name]
        assert frame.count() == expected_rows, name
    assert unit["rows"]["revisions"] == 1307
    ops = dict(spark.read.parquet(str(aawiki_out / "diffs")).dtypes)["ops"]
    assert ops == "array<struct<a_start:int,a_end:int,b_start:int,b_end:int,text:string>>"


def test_spark_sql_joins_revisions_and_pages(spark, aawiki_out):
    spark.read.parquet(str(aawiki_out / "revisions")).createOrReplaceTempView("revisions")
    spark.read.parquet(str(aawiki_out / "pages")).createOrReplaceTempView("pages")
    rows = spark.sql("""
        select p.page_title, p.revision_count, count(*) as n, max(r.revision_dt) = max(p.last_revision_dt) as last_ok
        from revisions r join pages p on r.wiki_db = p.wiki_db and r.page_id = p.page_id
        group by p.page_title, p.revision_count order by n desc limit 5""").collect()
    assert rows[0]["page_title"] == "Main Page"
    assert all(r["n"] == r["revision_count"] and r["last_ok"] for r in rows)


def _tables(out):
    keys = {"revisions": "revision_id", "diffs": "revision_id", "pages": "page_id", "users": "user_text"}
    return {name: pq.read_table(out / name).sort_by(key) for name, key in keys.items()}


def test_spark_engine_writes_what_the_local_engine_writes(spark, tmp_path):
    inputs = [str(SAMPLE), str(FIXTURES / "samplewiki-20260101-deleted-0.11.xml"),
              str(FIXTURES / "codecs" / "sample.xml.7z")]
    local = run(inputs, Options(out=str(tmp_path / "local"), workers=2))
    spark_run = run(inputs, Options(out=str(tmp_path / "spark"), workers=2, engine="spark"))
    assert local.ok and spark_run.ok
    ours, theirs = _tables(tmp_path / "local"), _tables(tmp_path / "spark")
    for name in ours:
        assert ours[name].equals(theirs[name]), name
    assert sorted(p.name for p in (tmp_path / "spark").rglob("*.parquet")) == sorted(
        p.name for p in (tmp_path / "local").rglob("*.parquet"))
    assert json.loads((tmp_path / "spark" / "_manifest.json").read_text())["options"]["engine"] == "spark"
