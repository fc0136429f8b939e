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


@pytest.fixture(scope="session")
def history_100mb() -> Path:
    """About 100 MB of XML: 8 KB pages edited 5-60 times, schema 0.10, plain."""
    return cached_dump("bench-100mb.xml", target_bytes=100_000_000, revisions=(5, 60), text_size=8000, seed=100,
                       pages=1)
