"""Shared test helpers: the real dumps beside the repository, the generator, running the command."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED_DUMPS = Path(os.environ.get("DUMPPROC_SHARED_DUMPS", ROOT.parent / "shared" / "dumps"))
SAMPLE = FIXTURES / "samplewiki-20260101-pages-meta-history.xml.bz2"

sys.path.insert(0, str(ROOT / "scripts"))


def shared_dump(relative: str) -> Path:
    """A file of ../shared/dumps, or a clean skip when the folder is absent."""
    if not SHARED_DUMPS.is_dir():
        pytest.skip(f"the real dumps folder {SHARED_DUMPS} is absent")
    path = SHARED_DUMPS / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in {SHARED_DUMPS}")
    return path


def shared_manifest() -> list[dict]:
    """The rows of ../shared/dumps/MANIFEST.tsv, or [] when the folder is absent."""
    manifest = SHARED_DUMPS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def run_cli(*args: str, check: bool = False, env: dict | None = None, stdin=None) -> subprocess.CompletedProcess:
    """Run ``python -m dumpproc ARGS`` in a subprocess, as a user would (``stdin``: a file object for fd 0)."""
    completed = subprocess.run(
        [sys.executable, "-m", "dumpproc", *map(str, args)],
        stdin=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"exit {completed.returncode}\nstdout:\n{completed.stdout}\nstderr:\n{completed.stderr}")
    return completed


@pytest.fixture
def generate(tmp_path):
    """Write a generated dump into tmp_path: ``generate(name, **gen_dump.Options fields)``."""
    import gen_dump

    def make(name: str = "synthwiki-20260101-pages-meta-history.xml", **options) -> Path:
        path = tmp_path / name
        gen_dump.generate(str(path), gen_dump.Options(**options))
        return path

    return make
