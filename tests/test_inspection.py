"""inspect_dump agrees with what the run writes."""

from __future__ import annotations

import pyarrow.compute as pc
import pyarrow.parquet as pq

from conftest import SAMPLE
from dumpproc.inspection import inspect_dump
from dumpproc.pipeline import Options, run


def test_inspection_matches_the_revisions_table(tmp_path):
    summary = inspect_dump(str(SAMPLE))
    run([str(SAMPLE)], Options(out=str(tmp_path), workers=1))
    table = pq.read_table(tmp_path / "revisions")
    assert summary.pages == len(pc.unique(table.column("page_id")))
    assert summary.revisions == table.num_rows
    assert summary.largest_revision["bytes"] == pc.max(table.column("revision_text_bytes")).as_py()
    first = pc.min(table.column("revision_dt")).as_py().strftime("%Y-%m-%dT%H:%M:%SZ")
    last = pc.max(table.column("revision_dt")).as_py().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (summary.first_timestamp, summary.last_timestamp) == (first, last)
    assert summary.xml_bytes > summary.compressed_bytes > 0
    assert "revisions       564" in summary.as_text()
