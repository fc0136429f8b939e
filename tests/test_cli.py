"""The command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from conftest import ROOT, SAMPLE, run_cli, shared_dump
from dumpproc.schema import REVISIONS


def test_process_sample_prints_where_output_went(tmp_path):
    out = tmp_path / "out"
    done = run_cli("process", SAMPLE, "-o", out, check=True)
    assert "40 pages, 564 revisions" in done.stdout
    assert str(out / "revisions") in done.stdout and "_manifest.json" in done.stdout
    assert pq.read_table(out / "revisions").num_rows == 564


def test_process_real_aawiki_current(tmp_path):
    path = shared_dump("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-current.xml.bz2")
    out = tmp_path / "out"
    run_cli("process", path, "-o", out, check=True)
    part = out / "revisions" / "wiki_db=aawiki" / "snapshot=2026-01" / "part-aawiki-20260101-pages-meta-current.parquet"
    table = pq.read_table(part)
    assert table.schema == REVISIONS and table.num_rows == 507
    assert pq.read_table(out / "revisions").num_rows == 507  # read back as a Hive-partitioned dataset too


def test_inspect_text_and_json():
    done = run_cli("inspect", SAMPLE, check=True)
    assert "bz2" in done.stdout and "samplewiki" in done.stdout and "564" in done.stdout
    summary = json.loads(run_cli("inspect", SAMPLE, "--json", check=True).stdout)
    assert summary["codec"] == "bz2" and summary["schema_version"] == "0.10" and summary["wiki"] == "samplewiki"
    assert summary["pages"] == 40 and summary["revisions"] == 564
    assert summary["first_timestamp"] < summary["last_timestamp"]
    assert summary["largest_revision"]["bytes"] > 0 and summary["namespaces"]["1"] == "Talk"


def test_missing_input_is_a_usage_error(tmp_path):
    done = run_cli("process", tmp_path / "nope.xml.bz2", "-o", tmp_path / "out")
    assert done.returncode == 2 and "nope.xml.bz2" in done.stderr and "Traceback" not in done.stderr
    assert run_cli("inspect", tmp_path / "nope.xml").returncode == 2


def test_unreadable_input_fails_its_unit_and_exits_1(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml at all")
    done = run_cli("process", bad, SAMPLE, "-o", tmp_path / "out")
    assert done.returncode == 1 and "bad.xml" in done.stderr and "Traceback" not in done.stderr
    assert pq.read_table(tmp_path / "out" / "revisions").num_rows == 564
    assert run_cli("inspect", bad).returncode == 2


def test_bad_usage_exits_2(tmp_path):
    assert run_cli("process", SAMPLE).returncode == 2  # no -o
    assert run_cli("process", SAMPLE, "-o", tmp_path, "--tables", "nope").returncode == 2
    assert run_cli("process", SAMPLE, "-o", tmp_path, "--snapshot", "2026").returncode == 2
    done = run_cli("process", SAMPLE, "-o", tmp_path, "--ips", "hash", env={"DUMPPROC_IP_KEY": ""})
    assert done.returncode == 2 and "key" in done.stderr


def test_ips_hash_with_key_file(tmp_path):
    key = tmp_path / "key"
    key.write_text("s3cret")
    run_cli("process", SAMPLE, "-o", tmp_path / "out", "--ips", "hash", "--ip-key-file", key, check=True)
    rows = pq.read_table(tmp_path / "out" / "revisions").to_pylist()
    assert all(len(r["user_text"]) == 64 for r in rows if r["user_is_anonymous"])
    assert b"s3cret" not in b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_console_script_and_module_agree():
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = shutil.which("dumpproc", path=str(Path(sys.executable).parent))
    assert script, "the dumpproc console command is installed beside the interpreter"
    version = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("dumpproc ")
    assert run_cli("--version").stdout == version.stdout


# --- the first hour of a new user: options, help, and a closing summary that agrees with the manifest --

def _manifest(out):
    return json.loads((out / "_manifest.json").read_text())


def test_verbose_is_taken_before_and_after_the_subcommand(tmp_path):
    for n, args in enumerate((["-v", "process"], ["process", "-v"])):
        out = tmp_path / f"out{n}"
        done = run_cli(*args, SAMPLE, "-o", out, "-j", "2", check=True)
        assert "unit samplewiki-20260101-pages-meta-history committed" in done.stderr
    quiet = run_cli("process", SAMPLE, "-o", tmp_path / "quiet", check=True)
    assert "INFO" not in quiet.stderr
    assert run_cli("inspect", "-v", SAMPLE).returncode == 0


def test_help_shows_every_default_and_the_exit_codes():
    text = " ".join(run_cli("process", "--help", check=True).stdout.split())
    for default in ("(default: keep)", "(default: fail-unit)", "(default: 0, unlimited)", "(default: 256M)",
                    "(default: local)", "(default: revisions,diffs,pages,users)", "else the month the run began",
                    "--wiki-db NAME", "else 'unknown'", "pip install -e '.[spark]'"):
        assert default in text, default
    for code in ("0 every unit committed", "1 at least one unit failed", "2 bad usage", "130 interrupted"):
        assert code in text, code
    inspect = " ".join(run_cli("inspect", "--help", check=True).stdout.split())
    assert "INPUT is one dump file" in inspect and "recognised by its first bytes" in inspect


def _broken(tmp_path, name="zhwiki-20260101-pages-meta-history-broken.xml", pages=2):
    """A dump whose page after the first ``pages`` is cut short by garbage."""
    import gen_dump

    whole = tmp_path / "whole.xml"
    gen_dump.generate(str(whole), gen_dump.Options(pages=pages + 1, revisions=(2, 3), seed=5, dbname="zhwiki"))
    text = whole.read_bytes()
    starts = [n for n in range(len(text)) if text.startswith(b"<page>", n)]
    cut = starts[pages]
    path = tmp_path / name
    path.write_bytes(text[:cut] + b"<page><title>X</title><ns>0</ns><id>999</id><revision><<<\n")
    return path


def test_the_closing_summary_counts_what_was_committed_failed_units_kept_pages_included(tmp_path):
    out = tmp_path / "out"
    done = run_cli("process", _broken(tmp_path), "-o", out)
    assert done.returncode == 1
    manifest = _manifest(out)
    [unit] = manifest["units"]
    assert unit["status"] == "failed" and unit["pages"] == 2
    revisions = pq.read_table(out / "revisions").num_rows
    assert revisions == unit["revisions"] > 0
    assert f"2 pages, {revisions} revisions" in done.stdout and "0 of 1 unit committed, 1 failed" in done.stdout
    assert "(its first 2 pages were kept)" in done.stderr
    assert "compressed byte" not in done.stderr  # plain XML: the XML byte is the file's byte


def test_a_failed_unit_with_no_whole_page_is_worded_for_it(tmp_path):
    out = tmp_path / "out"
    done = run_cli("process", _broken(tmp_path, pages=0), "-o", out)
    assert done.returncode == 1 and "its first 0 pages" not in done.stderr
    assert "no page of it was whole, so none was kept" in done.stderr
    assert "0 pages, 0 revisions" in done.stdout


def test_a_checksum_failure_lists_no_table(tmp_path):
    import hashlib
    import shutil

    dump = tmp_path / "dumps" / "samplewiki" / "20260101"
    dump.mkdir(parents=True)
    shutil.copy(SAMPLE, dump / SAMPLE.name)
    (dump / "samplewiki-20260101-md5sums.txt").write_text(f"{hashlib.md5(b'other').hexdigest()}  {SAMPLE.name}\n")
    out = tmp_path / "out"
    done = run_cli("process", "--wiki", "samplewiki", "--date", "20260101", "--dumps-root", tmp_path / "dumps",
                   "-o", out, "--verify-checksums", "--allow-incomplete")
    assert done.returncode == 1, done.stderr
    assert "wrote no table; 0 of 1 unit committed, 1 failed" in done.stdout
    for table in ("revisions", "diffs", "pages", "users"):
        assert f"  {table} " not in done.stdout and not (out / table).exists()
    assert "nothing of it was written" in done.stderr and "md5" in done.stderr


def test_every_input_partition_is_printed_and_a_fallback_is_a_warning(tmp_path, generate):
    named = generate("frwiki-20251201-pages-meta-history1.xml", pages=2, dbname="")
    bare = generate("export.xml", pages=2, dbname="")  # no dbname, no date: guessed wiki, the run's month
    out = tmp_path / "out"
    done = run_cli("process", named, bare, "-o", out, "-j", "1", check=True)
    units = {u["path"]: u for u in _manifest(out)["units"]}
    month = units[str(bare)]["snapshot"]
    assert units[str(bare)]["snapshot_from"] == "run month" and units[str(bare)]["wiki_db_from"] == "siteinfo base URL"
    assert "  wiki_db=frwiki snapshot=2025-12: 1 input" in done.stdout
    wiki = units[str(bare)]["wiki_db"]
    assert f"  wiki_db={wiki} snapshot={month}: 1 input" in done.stdout
    assert f"warning: export.xml went to snapshot={month} (this run's month" in done.stderr
    assert "set it with --snapshot YYYY-MM" in done.stderr
    assert f"warning: export.xml went to wiki_db={wiki} (guessed from the siteinfo's base URL" in done.stderr
    assert "frwiki-20251201" not in done.stderr  # its partition comes from its name: no warning
    # the options that set them
    out2 = tmp_path / "out2"
    done = run_cli("process", bare, "-o", out2, "--wiki-db", "mywiki", "--snapshot", "2024-02", check=True)
    assert "  wiki_db=mywiki snapshot=2024-02: 1 input" in done.stdout and "warning" not in done.stderr
    assert (out2 / "revisions" / "wiki_db=mywiki" / "snapshot=2024-02").is_dir()
    assert run_cli("process", bare, "-o", out2, "--wiki-db", "../etc").returncode == 2


def test_a_run_leaves_no_staging_and_resume_on_a_finished_run_has_nothing_to_do(tmp_path):
    out = tmp_path / "out"
    run_cli("process", SAMPLE, "-o", out, check=True)
    assert not (out / "_staging").exists()
    users = pq.read_table(out / "users").num_rows
    again = run_cli("process", SAMPLE, "-o", out, "--resume", check=True)
    assert again.stdout.startswith("dumpproc: nothing to do (--resume): an earlier run committed all 1 unit, "
                                   "40 pages, 564 revisions")
    assert pq.read_table(out / "users").num_rows == users and (out / "_SUCCESS").exists()
    assert _manifest(out)["units"][0]["resumed"] is True


def test_a_plain_rerun_removes_a_dead_runs_temporaries(tmp_path):
    out = tmp_path / "out"
    run_cli("process", SAMPLE, "-o", out, check=True)
    folder = out / "revisions" / "wiki_db=samplewiki" / "snapshot=2026-01"
    dead = [folder / ".part-samplewiki-20260101-pages-meta-history.parquet.tmp-999999", out / ".x.tmp-999999",
            out / "_staging" / "users" / "wiki_db=samplewiki" / "snapshot=2026-01" / "part-gone.parquet"]
    for path in dead:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    run_cli("process", SAMPLE, "-o", out, check=True)
    assert not [p for p in dead if p.exists()] and not (out / "_staging").exists()


def test_inspect_into_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run(f"'{sys.executable}' -m dumpproc inspect --json '{SAMPLE}' | head -c 1", shell=True,
                          cwd=ROOT, capture_output=True, text=True)
    assert done.stdout == "{" and done.stderr == "", done.stderr


# -- account kinds through the command -------------------------------------------------------------
#: (contributor element, anonymous, temporary, bot by name): the forms of 2025's dumps and look-alikes
ACCOUNTS = [
    ("<ip>192.0.2.7</ip>", True, False, False),
    ("<username>~2025-12345-67</username><id>901</id>", False, True, False),
    ("<username>~2026-00001-01</username><id>902</id>", False, True, False),
    ("<username>~25-12345-67</username><id>903</id>", False, False, False),
    ("<username>~Tilde</username><id>904</id>", False, False, False),
    ("<username>*42</username><id>905</id>", False, False, False),
    ("<username>ClueBot NG</username><id>906</id>", False, False, True),
    ("<username>easyBot3WithEnd</username><id>907</id>", False, False, True),
    ("<username>nonBotnameeither</username><id>908</id>", False, False, False),
    ("<username>2001:db8::b07</username><id>0</id>", True, False, False),
    ("<username>~2025-12345-67</username><id>901</id>", False, True, False),
]


def _accounts_dump(tmp_path):
    revisions = "".join(
        f"<revision><id>{n}</id><timestamp>2025-07-{n:02d}T00:00:00Z</timestamp><contributor>{who}</contributor>"
        f'<text xml:space="preserve">text {n}</text></revision>' for n, (who, *_) in enumerate(ACCOUNTS, 1))
    path = tmp_path / "acctwiki-20260101-pages-meta-history.xml"
    path.write_text('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">'
                    "<siteinfo><dbname>acctwiki</dbname></siteinfo>"
                    f"<page><title>Sandbox</title><ns>0</ns><id>1</id>{revisions}</page></mediawiki>",
                    encoding="utf-8")
    return path


def test_temporary_accounts_and_name_bots_through_the_command(tmp_path):
    dump = _accounts_dump(tmp_path)
    out = tmp_path / "out"
    run_cli("process", dump, "-o", out, "-j", "1", check=True)
    rows = pq.read_table(out / "revisions").to_pylist()
    assert [(r["user_is_anonymous"], r["user_is_temporary"], r["user_is_bot_by_name"]) for r in rows] == [
        tuple(kind) for _, *kind in ACCOUNTS]
    assert all(r["user_id"] is not None for r in rows if r["user_is_temporary"])  # accounts, with an id
    users = {r["user_text"]: r for r in pq.read_table(out / "users").to_pylist()}
    assert len(users) == len(ACCOUNTS) - 1  # the first temporary account edited twice
    assert users["~2025-12345-67"]["revision_count"] == 2 and users["~2025-12345-67"]["user_is_temporary"]
    assert sorted(t for t, r in users.items() if r["user_is_temporary"]) == ["~2025-12345-67", "~2026-00001-01"]
    assert sorted(t for t, r in users.items() if r["user_is_bot_by_name"]) == ["ClueBot NG", "easyBot3WithEnd"]
    assert sorted(t for t, r in users.items() if r["user_is_anonymous"]) == ["192.0.2.7", "2001:db8::b07"]
    assert _manifest(out)["options"]["temp_user_pattern"] == "^~[0-9]{4}-"

    other = tmp_path / "other"
    run_cli("process", dump, "-o", other, "-j", "1", "--temp-user-pattern", r"^\*[0-9]+$", check=True)
    users = {r["user_text"]: r for r in pq.read_table(other / "users").to_pylist()}
    assert [t for t, r in users.items() if r["user_is_temporary"]] == ["*42"]
    assert _manifest(other)["options"]["temp_user_pattern"] == r"^\*[0-9]+$"


def test_an_invalid_temp_user_pattern_is_a_usage_error_of_one_line(tmp_path):
    out = tmp_path / "out"
    done = run_cli("process", _accounts_dump(tmp_path), "-o", out, "--temp-user-pattern", "~[0-9")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "--temp-user-pattern '~[0-9'" in done.stderr
    assert "not a regular expression" in done.stderr
    assert not out.exists()  # refused before any work


def test_help_names_the_temp_user_pattern_and_its_default():
    text = " ".join(run_cli("process", "--help", check=True).stdout.split())
    assert "--temp-user-pattern REGEX" in text and "(default: ^~[0-9]{4}-," in text


def test_resume_refuses_another_temp_user_pattern(tmp_path):
    dump = _accounts_dump(tmp_path)
    out = tmp_path / "out"
    run_cli("process", dump, "-o", out, "-j", "1", check=True)
    part = next((out / "revisions").rglob("part-*.parquet"))
    before = part.stat().st_mtime_ns, part.read_bytes()
    done = run_cli("process", dump, "-o", out, "-j", "1", "--resume", "--temp-user-pattern", "^~")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--temp-user-pattern: '^~[0-9]{4}-' then, '^~' now" in done.stderr
    assert (part.stat().st_mtime_ns, part.read_bytes()) == before
    assert run_cli("process", dump, "-o", out, "-j", "1", "--resume", "--temp-user-pattern", "^~[0-9]{4}-",
                   check=True).stdout.startswith("dumpproc: nothing to do (--resume)")


def test_importing_the_command_loads_neither_numba_nor_pyarrow():
    """``dumpproc --help`` and ``inspect`` do without them (issue 16: start-up); a run loads them
    when it starts (the fast reader and the diff are compiled)."""
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, dumpproc.cli; print('numba' in sys.modules, "
                             "'pyarrow' in sys.modules)"], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False False"


def test_a_small_run_imports_none_of_the_slow_modules_it_does_without(tmp_path):
    """A small run's start-up (issue 16): pyarrow.compute and the dataset layer (a tenth of a second
    each to import), numpy.ma (which ``pa.array`` of an ndarray imports) and ``regex`` (the kernels'
    class table is read from the cache after the first run) are not loaded, and the tables are
    the same as when they are (``--parser lxml`` takes the record path)."""
    import subprocess
    import sys

    slow = ["pyarrow.compute", "pyarrow.dataset", "numpy.ma", "regex", "numba"]
    probe = f"print([m for m in {slow!r} if m in sys.modules])"
    for out in ("first", "second"):  # the first may build the class table; the second must read it
        args = ["process", str(SAMPLE), "-o", str(tmp_path / out), "-j", "1", "--parser", "fast"]
        done = subprocess.run([sys.executable, "-c", f"import sys; from dumpproc import cli; cli.main({args!r}); {probe}"],
                              cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
    assert run_cli("process", SAMPLE, "-o", tmp_path / "lxml", "-j", "1", "--parser", "lxml").returncode == 0
    for table in ("revisions", "diffs", "pages", "users"):
        assert (pq.read_table(tmp_path / "second" / table).to_pylist()
                == pq.read_table(tmp_path / "lxml" / table).to_pylist()), table


def test_one_unit_runs_in_this_process_with_no_pool_and_no_log_forwarding(tmp_path, monkeypatch):
    """-j 2 on one small file: no worker to fork, so neither the pool nor the log wrappers start
    (closing those waits for a polling thread); the manifest still records the -j asked for."""
    import logging

    import multiprocessing_logging

    from dumpproc import engines
    from dumpproc.cli import main

    def not_here(*args, **kwargs):
        raise AssertionError("started for a single unit")

    monkeypatch.setattr(engines, "Pool", not_here)
    monkeypatch.setattr(multiprocessing_logging, "install_mp_handler", not_here)
    handlers = list(logging.getLogger().handlers)
    out = tmp_path / "out"
    assert main(["process", str(_accounts_dump(tmp_path)), "-o", str(out), "-j", "2"]) == 0
    assert logging.getLogger().handlers == handlers
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["options"]["workers"] == 2
    assert [u["status"] for u in manifest["units"]] == ["committed"]


def test_main_again_in_one_process_leaves_no_pipes_and_still_hears_its_workers(tmp_path, caplog):
    """Each ``process`` wraps the log handlers so that workers' records reach them; the wrappers (a
    pipe and a thread each) come off when it returns, so a test session or a notebook calling main
    many times does not run out of file descriptors."""
    import logging
    import os

    from dumpproc.cli import main

    caplog.set_level(logging.INFO)
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml at all")
    dump = _accounts_dump(tmp_path)
    root = logging.getLogger()
    handlers = list(root.handlers)
    open_files = []
    for n in range(3):
        assert main(["process", str(bad), str(dump), "-o", str(tmp_path / f"out{n}"), "-j", "2"]) == 1
        open_files.append(len(os.listdir("/proc/self/fd")))
        assert root.handlers == handlers  # the handlers the call found, unwrapped
    assert open_files[2] == open_files[1], open_files
    heard = [r for r in caplog.records if "unit bad failed" in r.getMessage() and r.processName != "MainProcess"]
    assert len(heard) == 3  # the worker's own record, once per run
