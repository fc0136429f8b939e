"""What ``--ips hash`` and ``--ips drop`` cost against ``--ips keep``, on the same input in the same run.

Inputs: a generated history of about 200 MB of XML in 2 plain files (cached), with
``ip_mentions=0.05``: IP talk pages, revert and block comments naming IPs, signatures
in texts, IPv6 in several forms, as real dumps have them; and the Anarchism history
as published (7z), when ``../shared/dumps`` has it: real wikitext and real edit
summaries. Each: ``dumpproc process -j CORES`` with the default tables, ``--ips keep``,
``hash`` and ``drop`` one after the other for ``DUMPPROC_BENCH_ROUNDS`` rounds (3), so
that a noisy neighbour hits all alike; the figures are the ratios of the medians to
keep's, of wall time and of CPU time (the run's processes' user and system seconds,
which a shared machine's load disturbs less). Beside them, the replacement alone:
``IpPolicy.replace_utf8`` over every text of the first input, in MB/s. The aim: hash
within 1.15 times keep's CPU time.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


from conftest import CACHE, ROOT, cached_dump

ROUNDS = int(os.environ.get("DUMPPROC_BENCH_ROUNDS", "3"))
MODES = ("keep", "hash", "drop")


def _ip_history() -> list:
    return [cached_dump(f"bench-ips-20260101-pages-meta-history{n}.xml", target_bytes=100_000_000, pages=300,
                        revisions=(5, 40), text_size=6000, seed=1400 + n, ip_mentions=0.05, dbname="ipbench",
                        start_page_id=1 + n * 1_000_000, start_revision_id=1 + n * 100_000_000) for n in range(2)]


def _cpu_seconds() -> float:
    """User and system seconds of the children waited for (a run's workers are its children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(paths, mode: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    with tempfile.TemporaryDirectory(dir=CACHE) as out:
        cpu, started = _cpu_seconds(), time.perf_counter()
        subprocess.run([sys.executable, "-m", "dumpproc", "process", *map(str, paths), "-o", out, "--ips", mode,
                        "-j", str(os.cpu_count() or 1)], check=True, cwd=ROOT, capture_output=True,
                       env={**os.environ, "DUMPPROC_IP_KEY": "benchmark key"})
        return time.perf_counter() - started, _cpu_seconds() - cpu


def _replacement_mb_per_s(path) -> float:
    from dumpproc.parse import Dump
    from dumpproc.privacy import IpPolicy
    from dumpproc.sources import open_dump

    policy = IpPolicy("hash", b"benchmark key")
    with open_dump(str(path), 1) as stream:
        texts = [revision.text_utf8 for page in Dump(stream).pages() for revision in page if revision.text_utf8]
    started = time.perf_counter()
    for text in texts:
        policy.replace_utf8(text)
    return sum(map(len, texts)) / 1e6 / (time.perf_counter() - started)


def _compare(benchmark, name: str, paths) -> None:
    runs = {mode: [] for mode in MODES}
    for _ in range(ROUNDS):
        for mode in MODES:
            runs[mode].append(_run(paths, mode))
    wall = {mode: statistics.median(w for w, _ in values) for mode, values in runs.items()}
    cpu = {mode: statistics.median(c for _, c in values) for mode, values in runs.items()}
    info = benchmark.extra_info
    for mode in MODES:
        info[f"{mode}_s"], info[f"{mode}_cpu_s"] = wall[mode], cpu[mode]
    for mode in ("hash", "drop"):
        info[f"{mode}_over_keep"], info[f"{mode}_over_keep_cpu"] = wall[mode] / wall["keep"], cpu[mode] / cpu["keep"]
    if name == "generated":
        info["replacement_mb_per_s"] = _replacement_mb_per_s(paths[0])
    benchmark.pedantic(lambda: None, rounds=1)
    print(f"\n{name}: wall keep {wall['keep']:.1f} s, hash {info['hash_over_keep']:.2f}x, drop "
          f"{info['drop_over_keep']:.2f}x; CPU keep {cpu['keep']:.1f} s, hash {info['hash_over_keep_cpu']:.2f}x, "
          f"drop {info['drop_over_keep_cpu']:.2f}x"
          + (f"; replacement alone {info['replacement_mb_per_s']:.0f} MB/s" if name == "generated" else ""))


def test_ips_on_a_generated_history(benchmark):
    _compare(benchmark, "generated", _ip_history())


def test_ips_on_anarchism(benchmark, anarchism_7z):
    _compare(benchmark, "Anarchism", [anarchism_7z])
