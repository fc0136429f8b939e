"""Issue 16's memory aims: peak memory per process as the input grows, and above a dump's usual with one huge
revision, each against a run of dumpproc on a smaller or plainer input in the same run.

- ``wiki-growth``: dumpproc (``-j 2``, every default table) over the first file
  of the generated wiki (280 MB of XML), then over all 4 (1.1 GB, four times as
  much). Aims: the 4-file peak per process within **10%** of the 1-file peak, and
  under **300 MiB**.
- ``huge-revision``: a generated dump of 40 pages in which one revision's text is
  ``HUGE_MIB`` MiB (256 MiB: a large real revision, and large enough that a few
  copies of it stand out from the ~250 MiB every run holds), and its baseline,
  the same options without the huge revision (``conftest.huge_revision_dumps``:
  the generator then draws the other texts from another random sequence, so the
  two differ a little besides). Aim: the huge dump's peak per process less than
  **2 x 256 MiB** above the baseline's.

The figure is the peak RSS of the largest single process of the run (the
parent or a worker; ``measure``'s ``process_peak_bytes``: exact, from the
kernel), beside the whole tree's peak. Each input runs once: peaks do not
suffer a noisy neighbour as times do. The quick stand-ins are the small
generated wiki and a 16 MiB revision.
"""

from __future__ import annotations

import pytest

from conftest import generated_wiki, huge_revision_dumps
from runs import QUICK, WORKERS, flat, run_dumpproc, summary, xml_bytes

HUGE_MIB = 16 if QUICK else 256


@pytest.mark.parametrize("input_id", ["wiki-growth"])  # an id, for -k and run_benchmarks.py --cases
def test_wiki_growth(benchmark, input_id):
    files = generated_wiki("zst", quick=QUICK)
    (small, small_revisions), (large, large_revisions) = run_dumpproc(files[:1]), run_dumpproc(files)
    assert large_revisions > small_revisions
    benchmark.extra_info.update(
        aim="memory-growth", id=input_id, quick=QUICK, workers=WORKERS,
        title=f"{'small ' if QUICK else ''}generated wiki, its first zstd file against all 4",
        one_file_xml_bytes=xml_bytes(files[0]), all_files_xml_bytes=sum(map(xml_bytes, files)),
        one_file_revisions=small_revisions, all_files_revisions=large_revisions,
        **flat({"one_file": summary([small]), "all_files": summary([large])}))
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\nwiki-growth: peak per process {small.process_peak_mib:.0f} MiB on 1 file, "
          f"{large.process_peak_mib:.0f} MiB on 4 ({large.process_peak_mib / small.process_peak_mib:.2f}x)")


@pytest.mark.parametrize("input_id", ["huge-revision"])
def test_huge_revision(benchmark, input_id):
    huge, plain = huge_revision_dumps(HUGE_MIB)
    (with_huge, _), (without, _) = run_dumpproc([huge]), run_dumpproc([plain])
    benchmark.extra_info.update(
        aim="huge-revision", id=input_id, quick=QUICK, workers=WORKERS, huge_mib=HUGE_MIB,
        title=f"generated dump of 40 pages with one revision of {HUGE_MIB} MiB, against the same without it",
        huge_xml_bytes=xml_bytes(huge), plain_xml_bytes=xml_bytes(plain),
        **flat({"huge": summary([with_huge]), "plain": summary([without])}))
    benchmark.pedantic(lambda: None, rounds=1)
    above = with_huge.process_peak_mib - without.process_peak_mib
    print(f"\nhuge-revision: peak per process {with_huge.process_peak_mib:.0f} MiB with a {HUGE_MIB} MiB revision, "
          f"{without.process_peak_mib:.0f} MiB without ({above:.0f} MiB above, {above / HUGE_MIB:.2f} N)")
