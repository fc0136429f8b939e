"""A full or read-only output folder: a clear error, and no half-written file under a final name.

Each case runs in a private mount namespace (``unshare -rm``, which needs no
privileges where user namespaces are enabled) with a small or read-only tmpfs
as OUT, and inspects OUT there before the mount goes away.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT

INPUTS = [FIXTURES / "samplewiki-20260101-pages-meta-history.xml.bz2",
          FIXTURES / "samplewiki-20260101-deleted-0.11.xml"]

# After the runs: every Parquet file under a final name must read whole; list what is there.
_CHECK = """
import json, pathlib, sys
import pyarrow.parquet as pq
out = pathlib.Path(sys.argv[1])
files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
for p in out.rglob("*.parquet"):
    if not p.name.startswith("."):
        pq.read_table(p)
manifest = json.loads((out / "_manifest.json").read_text()) if (out / "_manifest.json").exists() else None
print(json.dumps({"files": files, "manifest": manifest}))
"""


def in_private_mount(tmp_path, script: str, inputs=INPUTS) -> subprocess.CompletedProcess:
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare and user namespaces to mount a private tmpfs")
    out = tmp_path / "out"
    out.mkdir()
    run = f'"$PY" -m dumpproc process {" ".join(map(str, inputs))} -o "$OUT" -j 2'
    body = script.format(run=run, check='"$PY" -c "$CHECK" "$OUT"')
    return subprocess.run(["unshare", "-rm", "sh", "-c", "set -u\n" + body], capture_output=True, text=True,
                          cwd=ROOT, env={"PY": sys.executable, "OUT": str(out), "CHECK": _CHECK, "PATH": "/usr/bin:/bin"},
                          timeout=300)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", ["40k", "120k", "200k"])
def test_a_full_disk_fails_clearly_and_leaves_only_whole_files(tmp_path, size):
    done = in_private_mount(tmp_path, f"""
mount -t tmpfs -o size={size} tmpfs "$OUT"
{{run}}
echo "exit=$?"
{{check}}
""")
    assert "exit=1" in done.stdout, done.stdout + done.stderr
    assert "cannot write output: the output disk is full" in done.stderr and "Traceback" not in done.stderr
    assert str(tmp_path / "out") in done.stderr  # the message names the file it could not write
    seen = last_json(done.stdout)
    assert not [f for f in seen["files"] if ".tmp-" in f] and "_SUCCESS" not in seen["files"]
    if seen["manifest"] is not None:  # a unit claims only files that are there
        for unit in seen["manifest"]["units"]:
            assert set(unit.get("files", [])) <= set(seen["files"])


def test_a_read_only_output_fails_clearly_and_changes_nothing(tmp_path):
    done = in_private_mount(tmp_path, """
mount -t tmpfs tmpfs "$OUT"
{run} >/dev/null 2>&1 || exit 97
before=$(cd "$OUT" && find . -type f -exec md5sum {{}} + | sort)
mount -o remount,ro "$OUT"
{run} --resume
echo "exit=$?"
{run}
echo "exit=$?"
after=$(cd "$OUT" && find . -type f -exec md5sum {{}} + | sort)
[ "$before" = "$after" ] && echo unchanged
{check}
""")
    assert done.stdout.count("exit=1") == 2, done.stdout + done.stderr
    assert "unchanged" in done.stdout
    assert "cannot write output: the output folder is read-only" in done.stderr
    assert "_SUCCESS" in last_json(done.stdout)["files"]  # the earlier run's output still stands


def test_an_empty_read_only_output(tmp_path):
    done = in_private_mount(tmp_path, """
mount -t tmpfs -o ro tmpfs "$OUT"
{run}
echo "exit=$?"
""")
    assert "exit=1" in done.stdout and "the output folder is read-only" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_full_disk_stops_the_run_at_the_first_fault(tmp_path, generate):
    """The other units are not all read and parsed only to fail one by one: one line, the run stops."""
    inputs = [generate(f"fullwiki-20260101-pages-meta-history{n}.xml.bz2", pages=30, revisions=(5, 30),
                       text_size=4000, seed=n, compression="bz2", start_page_id=1000 * n,
                       start_revision_id=100_000 * n) for n in range(1, 9)]
    done = in_private_mount(tmp_path, """
mount -t tmpfs -o size=150k tmpfs "$OUT"
{run}
echo "exit=$?"
{check}
""", inputs)
    assert "exit=1" in done.stdout, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write output: the output disk is full" in lines[0], done.stderr
    seen = last_json(done.stdout)
    assert not [f for f in seen["files"] if ".tmp-" in f] and "_SUCCESS" not in seen["files"]
    if seen["manifest"] is not None:
        statuses = [unit["status"] for unit in seen["manifest"]["units"]]
        assert statuses.count("pending") >= 4, statuses  # never started: the run stopped
        assert "failed" not in statuses  # an output fault is no unit's fault
