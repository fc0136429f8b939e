"""Shared test helpers: the real dumps beside the repository, the generator, running the command."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
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


class Feeder(threading.Thread):
    """Writes ``data`` into a FIFO input: the first ``hold`` bytes (all with None), then, once released,
    closes it. A run reading that FIFO cannot end before the test releases it, however fast it is."""

    def __init__(self, fifo, data: bytes, hold: int | None):
        super().__init__(daemon=True)
        self.fifo, self.data, self.hold = fifo, data, hold
        self.release = threading.Event()

    def run(self):
        try:
            with open(self.fifo, "wb") as fh:  # blocks until the run opens it
                fh.write(self.data[: self.hold])
                fh.flush()
                if self.hold is not None:
                    self.release.wait()
                    return  # the reader is gone: close without the rest
        except BrokenPipeError:
            pass

    def stop(self) -> None:
        """End the feeding, whatever became of the reader (a run killed before it opened the FIFO)."""
        self.release.set()
        while self.is_alive():
            # a reader that comes and goes frees a writer waiting in open() (it then meets a broken pipe)
            reader = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            os.close(reader)
            self.join(timeout=0.1)
