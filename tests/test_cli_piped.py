"""The command reading a dump piped in: ``-``, ``/dev/stdin`` and FIFOs, end to end, as a shell pipeline runs it.

Standard input is always a real pipe from another process (``cat``, ``bzcat``,
``7zz e -so``), never a file redirected to it; FIFOs are fed by a writer thread.
Every run names ``--snapshot``, so that no result depends on the month the test
runs in (a stream has no dump date in a file name).
"""

from __future__ import annotations

import bz2
import json
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager

import pyarrow.parquet as pq
import pytest
import zstandard

from conftest import FIXTURES, SAMPLE, run_cli

OTHER = FIXTURES / "samplewiki-20260101-deleted-0.11.xml"  # another dump file of the same wiki
SNAPSHOT = ("--snapshot", "2026-01")


@contextmanager
def piped(*argv):
    """The standard output of ``argv``, a real pipe, to hand to the command as its standard input."""
    producer = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        yield producer.stdout
    finally:
        producer.stdout.close()  # a producer the command stopped reading ends on SIGPIPE
        producer.wait()


@contextmanager
def fifo_fed(path, payload: bytes):
    """A FIFO at ``path`` that a thread writes ``payload`` into once a reader opens it."""
    os.mkfifo(path)

    def write():
        try:
            with open(path, "wb") as fh:  # waits for the command to open it
                fh.write(payload)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, name="fifo-writer", daemon=True)
    writer.start()
    try:
        yield path
    finally:
        if writer.is_alive():  # the command never opened it, or left early: free the writer
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join()


def _table(out, name="revisions"):
    """A table of OUT read as the Hive-partitioned dataset, in a stable row order."""
    table = pq.read_table(out / name)
    return table.sort_by([(key, "ascending") for key in ("page_id", "revision_id") if key in table.column_names])


def _units(out) -> list[dict]:
    return json.loads((out / "_manifest.json").read_text())["units"]


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    """The sample read from its file, and the sample with another file at -j 2: what every pipe must equal."""
    one = tmp_path_factory.mktemp("direct") / "out"
    run_cli("process", SAMPLE, "-o", one, *SNAPSHOT, check=True)
    two = tmp_path_factory.mktemp("direct-two") / "out"
    run_cli("process", SAMPLE, OTHER, "-o", two, "-j", "2", *SNAPSHOT, check=True)
    return {"one": _table(one), "pages": _table(one, "pages"), "two": _table(two)}


def _zstd_sample(folder):
    path = folder / "sample.xml.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(bz2.decompress(SAMPLE.read_bytes())))
    return path


# what is piped in -> the command that writes it (given a folder for a variant of the sample), bz2 backend
PRODUCERS = {
    "plain-from-bzcat": (lambda folder: ["bzcat", SAMPLE], None),
    "plain-from-7zz": (lambda folder: ["7zz", "e", "-so", FIXTURES / "codecs" / "sample.xml.7z"], None),
    "bz2-as-is-lbzip2": (lambda folder: ["cat", SAMPLE], "lbzip2"),
    "bz2-as-is-in-process": (lambda folder: ["cat", SAMPLE], "indexed_bzip2"),
    "zstd-as-is": (lambda folder: ["cat", _zstd_sample(folder)], None),
}


@pytest.mark.parametrize("what", sorted(PRODUCERS))
def test_a_dump_piped_in_gives_the_same_tables_as_its_file(what, direct, tmp_path):
    make, bz2_backend = PRODUCERS[what]
    argv = make(tmp_path)
    for program in (str(argv[0]), bz2_backend):
        if program in ("7zz", "lbzip2") and not shutil.which(program):
            pytest.skip(f"{program} is not installed here (.ci/run installs it)")
    env = {"DUMPPROC_BZ2_BACKENDS": bz2_backend} if bz2_backend else None
    out = tmp_path / "out"
    with piped(*argv) as pipe:
        done = run_cli("process", "-", "-o", out, *SNAPSHOT, stdin=pipe, env=env)
    assert done.returncode == 0, done.stderr
    assert "40 pages, 564 revisions" in done.stdout
    assert _table(out).equals(direct["one"]) and _table(out, "pages").equals(direct["pages"])
    unit, = _units(out)
    assert (unit["id"], unit["path"], unit["end"], unit["stream"]) == ("stdin", "-", None, True)
    # the wiki comes from the siteinfo: a stream has no file name
    assert (out / "revisions" / "wiki_db=samplewiki" / "snapshot=2026-01" / "part-stdin.parquet").is_file()


def test_standard_input_beside_a_file_at_two_workers(direct, tmp_path):
    """Forked workers lose sys.stdin: the unit reading standard input still gets every byte."""
    out = tmp_path / "out"
    with piped("cat", SAMPLE) as pipe:
        done = run_cli("process", OTHER, "-", "-o", out, "-j", "2", *SNAPSHOT, stdin=pipe)
    assert done.returncode == 0, done.stderr
    assert _table(out).equals(direct["two"])
    assert sorted(u["id"] for u in _units(out)) == ["samplewiki-20260101-deleted-0.11", "stdin"]


def test_a_fifo_is_read_like_standard_input(direct, tmp_path):
    out = tmp_path / "out"
    with fifo_fed(tmp_path / "history", SAMPLE.read_bytes()) as fifo:
        done = run_cli("process", fifo, "-o", out, *SNAPSHOT)
    assert done.returncode == 0, done.stderr
    assert _table(out).equals(direct["one"])
    unit, = _units(out)
    assert (unit["id"], unit["path"], unit["end"], unit["stream"]) == ("history", str(fifo), None, True)


def test_dev_stdin_is_standard_input(direct, tmp_path):
    out = tmp_path / "out"
    with piped("cat", SAMPLE) as pipe:
        done = run_cli("process", "/dev/stdin", "-o", out, *SNAPSHOT, stdin=pipe)
    assert done.returncode == 0, done.stderr
    assert _table(out).equals(direct["one"])
    assert _units(out)[0]["path"] == "-"


def test_without_snapshot_a_stream_s_partition_is_said_to_be_the_run_s_month(tmp_path):
    with piped("cat", SAMPLE) as pipe:
        done = run_cli("process", "-", "-o", tmp_path / "out", stdin=pipe, check=True)
    unit, = _units(tmp_path / "out")
    assert f"went to snapshot={unit['snapshot']} (this run's month" in done.stderr and "--snapshot" in done.stderr


@pytest.mark.parametrize("inputs", [["-", "-"], ["-", "/dev/stdin"]])
def test_standard_input_only_once(inputs, tmp_path):
    with piped("cat", SAMPLE) as pipe:
        done = run_cli("process", *inputs, "-o", tmp_path / "out", stdin=pipe)
    assert done.returncode == 2 and "standard input is given twice" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_checksums_cannot_be_verified_for_a_stream(tmp_path):
    with piped("cat", SAMPLE) as pipe:
        done = run_cli("process", "-", "--verify-checksums", "-o", tmp_path / "out", stdin=pipe)
    assert done.returncode == 2 and "--verify-checksums" in done.stderr and "standard input" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_piped_7z_is_refused_in_one_line(tmp_path):
    with piped("cat", FIXTURES / "codecs" / "sample.xml.7z") as pipe:
        done = run_cli("process", "-", "-o", tmp_path / "out", stdin=pipe)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line, = done.stderr.strip().splitlines()
    assert "7z" in line and "7zz e -so x.7z | dumpproc process -" in line
    assert not (tmp_path / "out").exists()


def test_resume_reads_a_stream_again(tmp_path):
    """What comes down a pipe may differ from run to run: a committed stream unit is never skipped."""
    out = tmp_path / "out"
    for resume in ((), ("--resume",)):
        with piped("cat", SAMPLE) as pipe:
            run_cli("process", "-", "-o", out, *SNAPSHOT, *resume, stdin=pipe, check=True)
    unit, = _units(out)
    assert unit["status"] == "committed" and not unit.get("resumed") and unit["revisions"] == 564


def test_resume_of_a_finished_run_with_a_stream_beside_a_file(tmp_path, generate):
    """The file's unit is done and its staging totals are gone; the stream is read again: the
    users table must still count both (the file's unit is done again for its totals)."""
    other = generate("otherwiki-20260101-pages-meta-history.xml.bz2", pages=5, compression="bz2",
                     dbname="samplewiki", start_page_id=90_000, start_revision_id=9_000_000)
    out = tmp_path / "out"
    users = []
    for resume in ((), ("--resume",)):
        with piped("cat", SAMPLE) as pipe:
            run_cli("process", "-", other, "-o", out, "-j", "2", *SNAPSHOT, *resume, stdin=pipe, check=True)
        users.append(pq.read_table(out / "users").sort_by("user_text"))
    assert users[0].equals(users[1]) and not (out / "_staging").exists()


def test_inspect_standard_input(tmp_path):
    expected = json.loads(run_cli("inspect", SAMPLE, "--json", check=True).stdout)
    with piped("cat", SAMPLE) as pipe:
        summary = json.loads(run_cli("inspect", "-", "--json", stdin=pipe, check=True).stdout)
    assert summary.pop("path") == "-" and summary.pop("piped") is True
    expected.pop("path"), expected.pop("piped")
    assert summary == expected  # compressed_bytes too: what came down the pipe is the file's size
    with piped("bzcat", SAMPLE) as pipe:
        text = run_cli("inspect", "-", stdin=pipe, check=True).stdout
    assert "xml (1,824,316 bytes read from the pipe" in text and "revisions       564" in text


def test_a_terminal_on_standard_input_is_refused_not_waited_on(tmp_path):
    import pty

    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "rb", closefd=False) as terminal:
            done = run_cli("process", "-", "-o", tmp_path / "out", stdin=terminal)
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2 and "standard input is a terminal" in done.stderr
