"""Benchmark inputs, generated on demand and cached outside the repository.

Each benchmark compares dumpproc with a baseline measured in the same run and
reports the ratio, which holds on a noisy shared machine where absolute times
do not. Run with:  .venv/bin/python -m pytest benchmarks --benchmark-only
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
CACHE = Path(os.environ.get("DUMPPROC_BENCH_CACHE", Path.home() / ".cache" / "dumpproc-bench"))


def cached_dump(name: str, **options) -> Path:
    """A generated dump under the cache folder, made once."""
    import gen_dump

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / name
    if not path.exists():
        tmp = path.with_suffix(".partial")
        gen_dump.generate(str(tmp), gen_dump.Options(**options))
        tmp.rename(path)
    return path


def generated_wiki(compression: str, quick: bool = False) -> list[Path]:
    """A generated wiki-wide history in 4 files (cached): 1.1 GB of XML in 5,200+ pages, or with
    ``quick`` 22 MB in 120 pages. The same seeds give the same XML whatever the compression."""
    target, pages, prefix = (0, 30, "quick-") if quick else (280_000_000, 1300, "")
    return [cached_dump(f"{prefix}bench-wiki-20260101-pages-meta-history{n}.xml.{compression}", target_bytes=target,
                        pages=pages, revisions=(5, 40), text_size=6000, seed=1000 + n, compression=compression,
                        dbname="benchwiki", start_page_id=1 + n * 1_000_000, start_revision_id=1 + n * 100_000_000)
            for n in range(4)]


@pytest.fixture(scope="session")
def wiki_4_files() -> list[Path]:
    """The generated wiki as 4 bz2 files."""
    if not __import__("shutil").which("lbzip2"):
        pytest.skip("lbzip2 is the baseline: apt install lbzip2")
    return generated_wiki("bz2")


@pytest.fixture(scope="session")
def history_100mb() -> Path:
    """About 100 MB of XML: 8 KB pages edited 5-60 times, schema 0.10, plain."""
    return cached_dump("bench-100mb.xml", target_bytes=100_000_000, revisions=(5, 60), text_size=8000, seed=100,
                       pages=1)


SHARED_DUMPS = Path(os.environ.get("DUMPPROC_SHARED_DUMPS", ROOT.parent / "shared" / "dumps"))
ANARCHISM_7Z = SHARED_DUMPS / "maribelacosta__wikiwho" / "enwiki-Anarchism-pages-meta-history.xml.7z"


@pytest.fixture(scope="session")
def anarchism_7z() -> Path:
    """The Anarchism history as published: 15,180 revisions, 1.05 GB of XML, 7z."""
    if not ANARCHISM_7Z.is_file():
        pytest.skip(f"{ANARCHISM_7Z} is absent")
    return ANARCHISM_7Z


def recompressed(source: Path, name: str, compress: list[str]) -> Path:
    """The XML of a 7z file (``7zz e -so``) piped through ``compress`` (stdin to stdout), cached as ``name``."""
    import shutil
    import subprocess

    path = CACHE / name
    if not path.exists():
        seven = shutil.which("7zz") or shutil.which("7z")
        if not seven or not shutil.which(compress[0]):
            pytest.skip(f"recompressing needs 7zz and {compress[0]} (apt install 7zip {compress[0]})")
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        with open(tmp, "wb") as out:
            unpack = subprocess.Popen([seven, "e", "-so", str(source)], stdout=subprocess.PIPE)
            subprocess.run(compress, stdin=unpack.stdout, stdout=out, check=True)
            unpack.stdout.close()
            assert unpack.wait() == 0
        tmp.rename(path)
    return path


@pytest.fixture(scope="session")
def anarchism_bz2(anarchism_7z) -> Path:
    """The Anarchism history recompressed to bz2 by lbzip2 (cached)."""
    return recompressed(anarchism_7z, "anarchism.xml.bz2", ["lbzip2", "-n2"])


@pytest.fixture(scope="session")
def anarchism_zst(anarchism_7z) -> Path:
    """The Anarchism history recompressed to zstandard (level 3, one frame; cached)."""
    return recompressed(anarchism_7z, "anarchism.xml.zst", ["zstd", "-q", "-T2", "-c"])


def quick_history(suffix: str) -> Path:
    """A generated one-page history (about 12 MB of XML) as 7z, bz2 or zst: Anarchism's quick stand-in."""
    import shutil
    import subprocess

    xml = cached_dump("quick-history.xml", pages=1, revisions=(400, 400), text_size=30_000, seed=7)
    path = CACHE / f"quick-history.xml.{suffix}"
    if not path.exists():
        tmp = CACHE / f"quick-history.partial.{suffix}"
        tmp.unlink(missing_ok=True)
        if suffix == "7z":
            seven = shutil.which("7zz") or shutil.which("7z") or "7zz"
            subprocess.run([seven, "a", "-bso0", "-bsp0", str(tmp), str(xml)], check=True)
        else:
            with open(xml, "rb") as source, open(tmp, "wb") as out:
                compress = ["lbzip2", "-n2", "-c"] if suffix == "bz2" else ["zstd", "-q", "-c"]
                subprocess.run(compress, stdin=source, stdout=out, check=True)
        tmp.rename(path)
    return path


def huge_revision_dumps(megabytes: int) -> tuple[Path, Path]:
    """Two generated zstd dumps of 40 pages (cached): one with a single revision of ``megabytes`` MiB of text,
    and the same options without it, its baseline."""
    options = dict(pages=40, revisions=(5, 30), text_size=6000, seed=1600, compression="zst", dbname="hugewiki")
    return (cached_dump(f"huge-{megabytes}mib-20260101-pages-meta-history.xml.zst", huge=1,
                        huge_size=megabytes * 2**20, **options),
            cached_dump("huge-none-20260101-pages-meta-history.xml.zst", **options))


def time_command(argv: list[str]) -> float:
    """Wall seconds of a command whose output goes to /dev/null."""
    import subprocess
    import time

    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def pytest_benchmark_update_machine_info(config, machine_info):
    """The machine in the JSON, for the report: cores, memory, CPU model, dumpproc's version."""
    import dumpproc

    def proc_field(path: str, name: str) -> str:
        try:
            with open(path) as fh:
                return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(name)), "")
        except OSError:
            return ""

    memory = proc_field("/proc/meminfo", "MemTotal")  # "24591436 kB"
    machine_info.update(cores=os.cpu_count(), mem_total_bytes=int(memory.split()[0]) * 1024 if memory else None,
                        cpu_model=proc_field("/proc/cpuinfo", "model name"), dumpproc_version=dumpproc.__version__,
                        load_average=os.getloadavg())
