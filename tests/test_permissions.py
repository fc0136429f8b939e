"""The output tree is owner-only (0600/0700) unless --group-readable (0640/0750)."""

from __future__ import annotations

import os
import stat

import pytest

from conftest import SAMPLE, run_cli


@pytest.mark.parametrize("flag, file_mode, dir_mode", [([], 0o600, 0o700), (["--group-readable"], 0o640, 0o750)])
def test_every_output_file_and_folder(tmp_path, flag, file_mode, dir_mode):
    out = tmp_path / "out"
    run_cli("process", SAMPLE, "-o", out, "--tables", "revisions,diffs,pages,users,content", *flag, check=True)
    seen = 0
    for root, folders, files in os.walk(out):
        assert stat.S_IMODE(os.stat(root).st_mode) == dir_mode, root
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == file_mode, name
            seen += 1
    assert seen == 8  # five tables, manifest, _SUCCESS, the run's lock (the staging files are gone)
