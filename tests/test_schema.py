"""The output schemas are the spec's, column for column."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from conftest import ROOT
from dumpproc.schema import CONTENT, REVISIONS

SPEC = ROOT.parent / "shared" / "SPEC.md"
_TYPES = {
    "int64": pa.int64(), "int32": pa.int32(), "string": pa.string(), "bool": pa.bool_(),
    "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
}


def spec_table(name: str) -> list[tuple[str, pa.DataType, bool]]:
    """(column, type, nullable) of one ``## Table `name` `` section of SPEC.md."""
    text = SPEC.read_text(encoding="utf-8")
    section = re.search(rf"^## Table `{name}`.*?(?=^## |\Z)", text, re.S | re.M).group(0)
    columns = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"[a-z_0-9]+", cells[0]) and cells[0] != "column":
            kind = cells[1]
            nullable = kind.endswith(", null")
            columns.append((cells[0], _TYPES[kind.removesuffix(", null")], nullable))
    return columns


def test_revisions_columns_and_types():
    assert REVISIONS.names[:5] == ["page_id", "page_namespace", "page_title", "page_redirect_title", "revision_id"]
    assert len(REVISIONS) == 32
    assert REVISIONS.field("revision_dt").type == pa.timestamp("us", tz="UTC")
    for field in REVISIONS:
        assert not pa.types.is_unsigned_integer(field.type)
        assert "wiki_db" != field.name != "snapshot"


def test_revisions_schema_is_the_specs():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is absent")
    expected = spec_table("revisions")
    assert [(f.name, f.type) for f in REVISIONS] == [(name, kind) for name, kind, _ in expected]
    for name, _, nullable in expected:
        if nullable:
            assert REVISIONS.field(name).nullable, name


def test_content_schema_is_the_specs():
    assert [(f.name, f.type) for f in CONTENT] == [
        ("page_id", pa.int64()), ("revision_id", pa.int64()), ("revision_text", pa.string())]
