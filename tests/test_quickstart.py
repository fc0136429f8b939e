"""The README's two Quick start commands, one after the other, in either order, leave a working command.

The first installs the package (not editable) and runs it; the second installs it editable. numba
used to cache its kernels inside the installed package, in ``site-packages/dumpproc/diff/__pycache__``,
which the editable install then left behind, shadowing the package (``ImportError: cannot import name
'__version__'``). The kernels now live in a per-user cache folder (``dumpproc.kernels``).

Each install is real (pip, a fresh virtual environment in a copy of the checkout, the package built
from its sources); only its dependencies come from this environment, so the test needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SAMPLE = "fixtures/samplewiki-20260101-pages-meta-history.xml.bz2"


def _copy_checkout(dest: Path) -> Path:
    """The checkout's files as a fresh clone has them (no virtual environment, caches or outputs)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


class Checkout:
    def __init__(self, root: Path, cache: Path):
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
        self.env["DUMPPROC_CACHE_DIR"] = str(cache)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
        self.python = root / ".venv" / "bin" / "python"
        self.site = Path(subprocess.run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                         "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
        # the dependencies, from this environment: after the venv's own folder, so its dumpproc wins
        (self.site / "zz-dependencies.pth").write_text(
            subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout)

    def install(self, *how: str) -> None:
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(self.python), "install", "-q",
                               "--no-deps", "--no-build-isolation", *how], cwd=self.root, env=self.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def dumpproc(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(self.root / ".venv" / "bin" / "dumpproc"), *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    def works(self, out: str) -> None:
        shutil.rmtree(self.root / out, ignore_errors=True)
        done = self.dumpproc("process", SAMPLE, "-o", out)
        assert "40 pages, 564 revisions" in done.stdout
        self.dumpproc("report", out, "-o", f"{out}.html")
        assert (self.root / f"{out}.html").stat().st_size > 10_000
        # nothing compiled went into the package, where an install could leave it behind
        for folder in (self.site / "dumpproc", self.root / "dumpproc"):
            compiled = [p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")]
            assert not compiled, compiled


@pytest.mark.slow
def test_the_two_quick_start_installs_in_either_order(tmp_path):
    cache = tmp_path / "cache"
    checkout = Checkout(_copy_checkout(tmp_path / "checkout"), cache)
    checkout.install(".")  # the first command
    first = checkout.dumpproc("process", SAMPLE, "-o", "out")
    assert "compiling kernels, first run only" in first.stderr  # said once, on the first run
    checkout.works("out")
    checkout.install("-e", ".")  # the second command, over the first
    checkout.works("out2")
    checkout.install(".")  # and the first again, over the second
    checkout.works("out3")
    assert list((cache / "kernels").rglob("*.nbi")), "the kernels were not cached in the user's cache folder"
