"""Where the compiled kernels are cached, and the one line a first run prints while they compile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE
from dumpproc import kernels


def test_the_cache_folder_is_per_user_and_can_be_set(monkeypatch, tmp_path):
    monkeypatch.delenv("DUMPPROC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert kernels.cache_root() == str(tmp_path / "home" / ".cache" / "dumpproc")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernels.cache_root() == str(tmp_path / "xdg" / "dumpproc")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative paths are invalid
    assert kernels.cache_root() == str(tmp_path / "home" / ".cache" / "dumpproc")
    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(tmp_path / "mine"))
    assert kernels.cache_root() == str(tmp_path / "mine")
    assert kernels.kernel_cache_dir() == str(tmp_path / "mine" / "kernels" / kernels.sources_digest())
    assert oct(os.stat(tmp_path / "mine" / "kernels").st_mode & 0o777) == "0o700"


def test_the_cache_folder_changes_with_any_kernel_source(tmp_path):
    """numba keys a cached kernel on its own file only, so a kernel calling into a changed file
    (diff.pairs into diff.lines) would load stale: the folder is one per version of the sources."""
    import shutil

    package = tmp_path / "dumpproc"
    shutil.copytree(ROOT / "dumpproc", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernels.sources_digest(str(package))
    assert before == kernels.sources_digest(str(ROOT / "dumpproc")) == kernels.sources_digest(str(package))
    (package / "cli.py").write_text("# not a kernel\n")
    (package / "diff" / "__init__.py").write_text("# Python only, no kernel\n")
    assert kernels.sources_digest(str(package)) == before
    for name in ["diff/pairs.py", "diff/lines.py", "diff/tokens.py", "fastxml/scan.py", "sources/bz2blocks.py"]:
        path = package / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert kernels.sources_digest(str(package)) != before, name
        path.write_bytes(original)
    assert kernels.sources_digest(str(package)) == before


def test_an_unwritable_cache_folder_falls_back_to_a_private_temporary_one(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(blocker / "below-a-file"))
    folder = kernels.kernel_cache_dir()
    assert folder.endswith(os.path.join(f"dumpproc-{os.getuid()}", "kernels", kernels.sources_digest()))
    assert os.path.isdir(folder)


def _run(env: dict, out: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "dumpproc", "process", str(SAMPLE), "-o", str(out), "-j", "2"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_a_first_run_says_it_compiles_the_kernels_and_caches_them_outside_the_package(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["DUMPPROC_CACHE_DIR"] = str(tmp_path / "cache")
    first = _run(env, tmp_path / "out1")
    assert first.stderr.count("dumpproc: compiling kernels, first run only") == 1, first.stderr
    cached = list((tmp_path / "cache" / "kernels").rglob("*.nbi"))
    assert cached, "nothing was cached"
    second = _run(env, tmp_path / "out2")
    assert "compiling" not in second.stderr, second.stderr
    package = ROOT / "dumpproc"
    assert not [p for p in package.rglob("*") if p.suffix in (".nbi", ".nbc")]
    # a cache folder the user chose for numba itself is respected
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    _run(env, tmp_path / "out3")
    assert list((tmp_path / "numba").rglob("*.nbi"))
