"""The benchmark machinery, without benchmarking: the report writer, the naive pipeline, the tree measurement."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pyarrow.parquet as pq

import run_benchmarks
from conftest import ROOT, SAMPLE
from dumpproc.parse import Dump
from dumpproc.sources import open_dump


def _benchmarks_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case(case, dumpproc_s, raw_s, naive_s, raw_command="lbzip2 -dc -n2", xml_bytes=1_000_000_000):
    figures = {f"{tool}_{key}": value for tool, s in (("dumpproc", dumpproc_s), ("raw", raw_s), ("naive", naive_s))
               for key, value in (("s", s), ("peak_mb", 100.0), ("hwm_sum_mb", 150.0))}
    return {"fullname": f"benchmarks/test_cases.py::test_case[{case}]", "stats": {"median": 1e-6, "rounds": 1},
            "extra_info": {"case": case, "title": f"the {case} input", "quick": False, "rounds": 3, "workers": 2,
                           "inputs": [f"{case}.xml.bz2"], "compressed_bytes": 50_000_000, "xml_bytes": xml_bytes,
                           "revisions": 15_180, "raw_command": raw_command, **figures}}


RUN = {
    "datetime": "2026-01-02T03:04:05.000000+00:00",
    "machine_info": {"cores": 2, "mem_total_bytes": 8 * 2**30, "cpu_model": "Test CPU 9000", "python_version": "3.11.7",
                     "dumpproc_version": "0.1.0", "load_average": [0.5, 0.4, 0.3]},
    "benchmarks": [
        _case("anarchism-7z", 8.0, 1.0, 80.0, raw_command="7zz e -so"),
        _case("anarchism-bz2", 12.0, 10.0, 90.0),
        _case("wiki-bz2", 20.0, 10.0, 300.0, xml_bytes=1_100_000_000),
        {"fullname": "benchmarks/test_pipeline_speed.py::test_wiki_in_4_files", "stats": {"median": 1e-6, "rounds": 1},
         "extra_info": {"j1_s": 30.0, "j2_s": 16.0, "lbzip2_s": 14.0}},
        {"fullname": "benchmarks/test_parse_speed.py::test_mwxml", "stats": {"median": 4.5, "rounds": 3},
         "extra_info": {}},
    ],
}


def test_report_has_the_ratios_the_aims_and_a_chart(tmp_path):
    report, png = run_benchmarks.write_report(RUN, tmp_path / "benchmarks.md")
    text = report.read_text()
    assert png.read_bytes().startswith(b"\x89PNG") and "](benchmarks.png)" in text
    assert "| 2 | 8.0 GiB | Test CPU 9000 | 3.11.7 | 0.1.0 | 2026-01-02 03:04 UTC |" in text
    assert "`anarchism-7z`: **met**, 10.0 times" in text
    assert "`anarchism-bz2`: **met**, 1.20 times" in text
    assert "`wiki-bz2`: **not met**, 2.00 times" in text
    # case, MB of XML, seconds, dumpproc/raw, naive/dumpproc, dumpproc MB/s, peaks
    assert "| wiki-bz2 | 1,100 | 20.0 | 10.0 | 300 | 2.00 | 15.0 | 55.0 | 100, 100, 100 |" in text
    assert "| `7zz e -so` | 1.00 | 1,000 | 0.12 | 100 | 150 |" in text  # seconds, MB/s, time / dumpproc's, peaks
    assert "j1_over_j2 1.88" in text and "j2_over_lbzip2 1.14" in text
    assert "test_mwxml` | median 4.50 s of 3 rounds" in text
    assert "Quick run" not in text


def test_a_quick_report_says_so(tmp_path):
    case = RUN["benchmarks"][0]
    quick = {**RUN, "benchmarks": [dict(case, extra_info={**case["extra_info"], "quick": True})]}
    assert "**Quick run" in run_benchmarks.render(quick, "x.png")


def test_the_naive_pipeline_writes_a_row_per_revision(tmp_path):
    out = tmp_path / "revisions.parquet"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "naive.py"), str(SAMPLE), "-o", str(out)],
                          capture_output=True, text=True, check=True)
    with open_dump(str(SAMPLE)) as stream:
        ids = [revision.id for page in Dump(stream).pages() for revision in page]
    table = pq.read_table(out)
    assert int(done.stdout) == table.num_rows == len(ids)
    assert table.column("revision_id").to_pylist() == ids
    assert any(table.column("is_revert").to_pylist())  # the sample has identity reverts


def test_tree_peak_is_what_the_processes_held_together():
    """Two children holding 150 and 100 MB at once: the tree's peak is their sum, not the larger one."""
    measure = _benchmarks_module("measure")
    hold = "import sys, time; x = bytearray(int(sys.argv[1])); x[::4096] = b'1' * len(x[::4096]); time.sleep(1)"
    script = (f"import subprocess, sys; ps = [subprocess.Popen([sys.executable, '-c', {hold!r}, n]) "
              f"for n in ('150000000', '100000000')]; [p.wait() for p in ps]")
    run = measure.measure([sys.executable, "-c", script])
    assert 250e6 <= run.peak_bytes < 400e6
    assert run.hwm_sum_bytes >= run.peak_bytes
    assert run.seconds >= 1
