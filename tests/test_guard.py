"""The guard every ``run_cli`` with ``-o`` runs under: it sees what changed beside OUT, and only that."""

from __future__ import annotations

import subprocess

import pytest

from conftest import _outside


def test_the_guard_sees_a_file_beside_out_changed_removed_or_added(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    (tmp_path / "gone.txt").write_text("x")
    guard = _outside(["process", "in.xml", "-o", tmp_path / "out"], {})
    assert guard is not None
    before = guard.snapshot()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part.parquet").write_bytes(b"inside OUT: not compared")
    guard.assert_same(before, subprocess.CompletedProcess([], 0, "", ""))
    for change in (lambda: victim.write_text("changed!"), lambda: (tmp_path / "gone.txt").unlink(),
                   lambda: (tmp_path / "new.txt").write_text("x"), lambda: victim.chmod(0o777)):
        before = guard.snapshot()
        change()
        with pytest.raises(AssertionError, match="outside OUT"):
            guard.assert_same(before, subprocess.CompletedProcess([], 0, "", ""))


def test_no_guard_without_out_or_outside_a_temporary_folder():
    assert _outside(["inspect", "x.xml"], {}) is None
    assert _outside(["process", "x.xml", "-o", "/work/somewhere/out"], {}) is None
