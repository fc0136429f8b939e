"""docs/schema.md is what scripts/make_schema_doc.py writes from dumpproc.schema."""

from __future__ import annotations

import make_schema_doc

from conftest import ROOT
from dumpproc.schema import TABLES


def test_schema_doc_is_in_step_with_the_code():
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == make_schema_doc.render(), "run: python scripts/make_schema_doc.py"


def test_every_column_is_documented():
    for name, schema in TABLES.items():
        for field in schema:
            assert (field.metadata or {}).get(b"doc"), f"{name}.{field.name} has no meaning"
