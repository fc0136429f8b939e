"""Peak memory of the processing process stays flat however large the dump.

The bound, 400 MB of peak RSS for one worker writing every default table, is
made of: the interpreter with lxml, pyarrow and numba's compiled diff kernels
loaded (about 210 MB, measured: ``python -c "from dumpproc.diff import
warm_up; warm_up()"``); the largest revision (12 MB here) held a few times at
once (libxml2's buffer, the Python string, up to 4 bytes a character when it
holds an emoji, its UTF-8 bytes, its lines, the decoded hunk for the diffs
table: about 100 MB); and the buffered row groups (16 M characters of diff text
at most, one page's revision metadata). What must not happen is growth with
the input: a dump four times larger may add at most 25 MB (allocator noise),
where keeping parsed elements, rows or per-page state would add hundreds.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import gen_dump

PEAK_BOUND_MB = 400
GROWTH_BOUND_MB = 25
_MEASURE = """
import resource, subprocess, sys
out, workers, *paths = sys.argv[1:]
done = subprocess.run([sys.executable, "-m", "dumpproc", "process", *paths, "-o", out, "-j", workers],
                      capture_output=True, text=True)
sys.stderr.write(done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mb(paths, out, workers: int = 1) -> float:
    """The largest peak RSS of the run's processes: the parent, or its biggest worker."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(out), str(workers), *map(str, paths)],
                          capture_output=True, text=True)
    code, kilobytes = done.stdout.split()
    assert code == "0", done.stderr
    return int(kilobytes) / 1024


def make(path, megabytes: int) -> int:
    stats = gen_dump.generate(str(path), gen_dump.Options(
        target_bytes=megabytes * 1_000_000, revisions=(5, 60), text_size=8000, huge=1,
        huge_size=12_000_000, seed=500, pages=1))
    return stats.xml_bytes


@pytest.mark.slow
def test_peak_memory_is_flat_from_125_to_500_mb(tmp_path):
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    assert make(small, 125) >= 125_000_000
    assert make(large, 500) >= 500_000_000
    small_peak = peak_rss_mb([small], tmp_path / "out-small")
    small.unlink()
    large_peak = peak_rss_mb([large], tmp_path / "out-large")
    print(f"peak RSS: {small_peak:.0f} MB for 125 MB of XML, {large_peak:.0f} MB for 500 MB")
    assert large_peak < PEAK_BOUND_MB
    assert large_peak - small_peak < GROWTH_BOUND_MB


@pytest.mark.slow
def test_peak_memory_per_worker_is_flat_with_two_workers(tmp_path):
    """The same with -j 2 over two files: every worker process stays under the bound as inputs grow 4x."""
    def pair(name, megabytes):
        paths = [tmp_path / f"{name}{n}.xml" for n in (1, 2)]
        for n, path in enumerate(paths):
            gen_dump.generate(str(path), gen_dump.Options(
                target_bytes=megabytes * 500_000, revisions=(5, 60), text_size=8000, huge=1, huge_size=12_000_000,
                seed=600 + n, pages=1, start_page_id=1 + n * 1_000_000, start_revision_id=1 + n * 100_000_000))
        return paths

    small = pair("small", 125)
    small_peak = peak_rss_mb(small, tmp_path / "out-small", workers=2)
    for path in small:
        path.unlink()
    large = pair("large", 500)
    large_peak = peak_rss_mb(large, tmp_path / "out-large", workers=2)
    print(f"peak RSS per process, -j 2: {small_peak:.0f} MB for 2 x 62 MB of XML, {large_peak:.0f} MB for 2 x 250 MB")
    assert large_peak < PEAK_BOUND_MB
    assert large_peak - small_peak < GROWTH_BOUND_MB


#: A revision is held a few times over while it passes through: libxml2's text node and the
#: UTF-8 bytes it serialises (about 3x, the serialising buffer grows by doubling), the previous
#: text it is diffed against, and the Arrow array, Parquet page and zstd buffer of its diff text
#: (about 3x). So memory grows with the largest revision (~7 bytes a byte), never with the input.
HUGE_REVISION_MB = 50
HUGE_BOUND_MB = 650


@pytest.mark.slow
def test_a_50_mb_revision_stays_within_its_bound(tmp_path):
    """Two 50 MB revisions in a row in one page, every default table: the peak stays under the bound."""
    import pyarrow.parquet as pq

    path = tmp_path / "huge.xml"
    stats = gen_dump.generate(str(path), gen_dump.Options(
        pages=3, revisions=(4, 4), huge=2, huge_size=HUGE_REVISION_MB * 1_000_000, seed=7))
    assert len(stats.huge) == 2
    peak = peak_rss_mb([path], tmp_path / "out")
    print(f"peak RSS with two {HUGE_REVISION_MB} MB revisions: {peak:.0f} MB")
    assert peak < HUGE_BOUND_MB
    revisions = pq.read_table(tmp_path / "out" / "revisions").to_pylist()
    huge = [r for r in revisions if r["revision_id"] in stats.huge]
    assert len(huge) == 2 and all(r["revision_text_bytes"] >= HUGE_REVISION_MB * 1_000_000 for r in huge)
