"""inspect_dump agrees with what the run writes."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
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


def test_first_and_last_edits_are_compared_as_instants(tmp_path):
    from test_parse_errors import FOOTER, HEADER
    from test_values import page, revision

    path = tmp_path / "fractions.xml"
    path.write_bytes(HEADER + page(revision(b"1", timestamp=b"2020-01-01T00:00:00Z"),
                                   revision(b"2", timestamp=b"2020-01-01T00:00:00.5Z"),
                                   revision(b"3", timestamp=b"2019-12-31T23:59:59.75+00:00")) + FOOTER)
    summary = inspect_dump(str(path))
    assert (summary.first_timestamp, summary.last_timestamp) == ("2019-12-31T23:59:59.750000Z",
                                                                 "2020-01-01T00:00:00.500000Z")


def _bad_inputs() -> dict[str, bytes]:
    """Every kind of bad input the other tests make: malformed XML, bad values, IP-bearing faults, damaged codecs."""
    from test_bad_input import _bad_values, _ip_bearing_bad_pages
    from test_codecs import DAMAGED
    from test_parse_errors import BAD_PAGES, dump_with

    inputs = {f"malformed: {name}": dump_with(bad) for name, (bad, _) in BAD_PAGES.items()}
    inputs.update({f"value: {name}": data for name, (data, _, _) in _bad_values().items()})
    inputs.update({f"private: {name}": data for name, data in _ip_bearing_bad_pages().items()})
    inputs.update({f"codec: {name}": make() for name, (_, make, _) in DAMAGED.items()})
    return inputs


BAD_INPUTS = _bad_inputs()


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_inspect_gives_one_line_and_exit_2_on_bad_input(name, tmp_path):
    from conftest import run_cli

    path = tmp_path / "bad.dump"
    path.write_bytes(BAD_INPUTS[name])
    done = run_cli("inspect", path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"dumpproc: {path}"), done.stderr
    assert "Traceback" not in done.stderr
