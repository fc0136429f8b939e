"""Shared test helpers: the real dumps beside the repository, the generator, running the command."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
import tempfile
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


def run_cli(*args: str, check: bool = False, env: dict | None = None, stdin=None,
            outside_out_unchanged: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m dumpproc ARGS`` in a subprocess, as a user would (``stdin``: a file object for fd 0).

    With ``-o OUT`` in a temporary folder, it also asserts that the run changed nothing beside OUT
    (``outside_unchanged``): dumpproc writes nowhere but its output folder, whatever the input did.
    """
    environment = {**os.environ, **(env or {})}
    guard = _outside(args, environment) if outside_out_unchanged else None
    before = guard.snapshot() if guard is not None else None
    completed = subprocess.run(
        [sys.executable, "-m", "dumpproc", *map(str, args)],
        stdin=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    if guard is not None:
        guard.assert_same(before, completed)
    if check and completed.returncode != 0:
        raise AssertionError(f"exit {completed.returncode}\nstdout:\n{completed.stdout}\nstderr:\n{completed.stderr}")
    return completed


class Outside:
    """The files and folders beside OUT in a test's temporary folder: what a run must not change.

    Regular files by size, modification time and mode, symbolic links by target, folders by mode
    (their times move when OUT is made in them); FIFOs are fed by the test itself and not compared.
    Caches the run may fill (``DUMPPROC_CACHE_DIR``, ``XDG_CACHE_HOME``, a ``HOME`` given) are left out.
    """

    def __init__(self, root: Path, skip: list[Path]):
        self.root, self.skip = root, {os.path.abspath(p) for p in skip}

    def snapshot(self) -> dict[str, tuple]:
        seen = {}
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in self.skip]
            for name in dirs + files:
                path = os.path.join(folder, name)
                if path in self.skip:
                    continue
                try:
                    info = os.lstat(path)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    seen[path] = ("file", info.st_size, info.st_mtime_ns, info.st_mode)
                elif stat.S_ISLNK(info.st_mode):
                    seen[path] = ("link", os.readlink(path))
                elif stat.S_ISDIR(info.st_mode):
                    seen[path] = ("dir", info.st_mode)
        return seen

    def assert_same(self, before: dict, completed: subprocess.CompletedProcess) -> None:
        after = self.snapshot()
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        assert not changed, (f"the run changed files outside OUT: {changed[:5]}\n"
                             f"stderr:\n{completed.stderr}")


def beside(out) -> "Held":
    """A guard started now on what lies beside ``out``: ``.check()`` asserts none of it changed since.
    For runs a test starts itself (``subprocess.Popen``), as ``run_cli`` does for its own."""
    guard = _outside(["-o", str(out)], dict(os.environ))
    assert guard is not None, "OUT must be in a temporary folder"
    return Held(guard)


class Held:
    def __init__(self, guard: Outside):
        self.guard, self.before = guard, guard.snapshot()

    def check(self, stderr: str = "") -> None:
        self.guard.assert_same(self.before, subprocess.CompletedProcess([], 0, "", stderr))


def _outside(args, environment: dict) -> Outside | None:
    """The guard of a run's ``-o OUT``, when OUT is in a temporary folder (a test's tmp_path)."""
    words = [str(a) for a in args]
    out = None
    for i, word in enumerate(words):
        if word in ("-o", "--out") and i + 1 < len(words):
            out = words[i + 1]
        elif word.startswith("--out="):
            out = word[len("--out="):]
    if out is None or out == "-":
        return None
    out = os.path.abspath(out)
    root = os.path.dirname(out)
    if not os.path.realpath(root).startswith(os.path.realpath(tempfile.gettempdir()) + os.sep):
        return None
    skip = [out] + [environment[k] for k in ("DUMPPROC_CACHE_DIR", "XDG_CACHE_HOME", "HOME", "NUMBA_CACHE_DIR")
                    if environment.get(k)]
    return Outside(Path(root), skip)


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


def _registered_parsers() -> tuple[str, ...]:
    from dumpproc.parse.readers import names

    return names()


@pytest.fixture(params=_registered_parsers())
def parser(request) -> str:
    """Each registered reader's name: a test that reads a dump through ``open_reader(parser, …)``
    runs over every reader (CONVENTIONS, two readers one contract)."""
    return request.param
