"""The progress line: redrawn on a terminal, a plain line now and then in a log; workers' reports throttled.

Every clock here is a fake one the test moves, so nothing depends on the machine's uptime,
wall clock or load.
"""

from __future__ import annotations

import io
import shutil
import threading

import pytest

from dumpproc import progress
from dumpproc.pipeline import Options, run_unit
from dumpproc.progress import Progress, Reporter
from dumpproc.units import plan_units


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """A clock that reads what the test sets: near zero, as on a machine booted a minute ago."""

    def __init__(self, now: float = 12.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_terminal_gets_one_redrawn_line_with_bytes_pages_revisions_rate_and_eta():
    out, clock = Terminal(), Clock()
    shown = Progress(4_000_000, out, clock=clock)
    shown.update("a", 1_000_000, 10, 200)
    shown.update("b", 1_000_000, 5, 100)  # within 0.5 s: not redrawn
    clock.now += 2
    shown.show(force=True)
    text = out.getvalue()
    assert text.startswith("\r\x1b[K") and "\n" not in text
    last = text.rsplit("\r\x1b[K", 1)[1]
    assert last == ("2.0 MB of 4.0 MB compressed (50%), 15 pages, 300 revisions, 1.0 MB/s, 150 revisions/s, "
                    "ETA 0:02")
    shown.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_the_bytes_say_what_they_are_and_an_unknown_total_has_no_eta():
    clock = Clock()
    plain = Progress(100, io.StringIO(), what="XML", clock=clock)
    plain.update("a", 50, 1, 2)
    clock.now += 1
    assert plain.line().startswith("50 B of 100 B XML (50%), 1 pages, 2 revisions")
    piped = Progress(None, io.StringIO(), clock=clock)
    piped.update("a", 5_000, 1, 2)
    assert piped.line().startswith("5.0 KB compressed read, 1 pages, 2 revisions") and "ETA" not in piped.line()


def test_a_log_gets_plain_lines_only_every_so_often():
    out, clock = io.StringIO(), Clock()
    quiet = Progress(100, out, quiet_every=30, clock=clock)
    quiet.update("a", 50, 1, 2)
    clock.now += 29
    quiet.update("a", 60, 1, 2)
    quiet.close()
    assert out.getvalue() == ""  # a short run says nothing but its summary
    out = io.StringIO()
    every = Progress(100, out, quiet_every=30, clock=clock)
    clock.now += 30
    every.update("a", 50, 1, 2)
    clock.now += 30
    every.update("a", 100, 3, 4)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("dumpproc: ") for line in lines)
    assert "100 B of 100 B compressed (100%), 3 pages, 4 revisions" in lines[1]


def test_rates_are_measured_from_a_restart_of_the_clock():
    clock = Clock()
    shown = Progress(1_000_000, io.StringIO(), clock=clock)
    clock.now += 30  # compiling the kernels
    shown.restart_clock()
    clock.now += 1
    shown.update("a", 500_000, 1, 10)
    assert "500.0 KB/s, 10 revisions/s, ETA 0:01" in shown.line()


def test_a_note_goes_above_the_line_which_is_drawn_again():
    out = Terminal()
    shown = Progress(100, out, clock=Clock())
    shown.update("a", 50, 1, 2)
    shown.note("compiling kernels, first run only (about 30 s)")
    text = out.getvalue()
    assert "\r\x1b[Kdumpproc: compiling kernels, first run only (about 30 s)\n50 B of 100 B" in text
    shown.close()


def test_a_terminal_line_is_redrawn_without_updates(monkeypatch):
    """One huge revision sends no update for a while: the line (rate, ETA) still moves."""
    monkeypatch.setattr(progress, "REDRAW_EVERY", 0.01)
    drawn = threading.Event()

    class Watched(Terminal):
        def write(self, text):
            if self.getvalue().count("\r\x1b[K") >= 3:
                drawn.set()
            return super().write(text)

    out = Watched()
    shown = Progress(100, out)
    shown.update("a", 10, 0, 1)  # one update only
    assert drawn.wait(60), "the line was not redrawn by the display's own thread"
    shown.close()


class Queue:
    def __init__(self):
        self.items = []

    def put_nowait(self, item):
        self.items.append(item)


@pytest.mark.parametrize("uptime", [5.0, 100_000.0])
def test_workers_report_at_once_then_at_most_every_so_often_and_always_at_the_end(uptime):
    """The first report goes at once whatever the clock reads (a machine booted seconds ago too)."""
    queue, clock = Queue(), Clock(uptime)
    report = Reporter(queue, "u1", start=1000, clock=clock)
    for n in range(100):
        report(1000 + n, n, n * 10)
        clock.now += 0.001
    report(1500, 100, 1000, force=True)
    assert queue.items == [("u1", 0, 0, 0), ("u1", 500, 100, 1000)]
    clock.now += progress.REPORT_EVERY
    report(1600, 101, 1001)
    assert queue.items[-1] == ("u1", 600, 101, 1001)
    Reporter(None, "u2")(5, 1, 1)  # no queue (Spark tasks): nothing, no error


def test_tick_asks_the_position_only_when_a_report_is_due():
    queue, clock, asked = Queue(), Clock(), []

    def position():
        asked.append(1)
        return 2000

    report = Reporter(queue, "u1", start=1000, position=position, clock=clock)
    for n in range(50):
        report.tick(0, n)
    assert queue.items == [("u1", 1000, 0, 0)] and len(asked) == 1


@pytest.fixture(scope="module")
def one_page(tmp_path_factory):
    """A one-page history of 700 revisions, 2 MB as bzip2: more than lbzip2 reads ahead (about 1 MB)."""
    import gen_dump

    path = tmp_path_factory.mktemp("onepage") / "onepage-20260101-pages-meta-history.xml"
    gen_dump.generate(str(path), gen_dump.Options(pages=1, revisions=(700, 700), text_size=20_000, seed=3))
    return path


@pytest.mark.parametrize("parser", ["lxml", "auto"])
@pytest.mark.parametrize("compression,backend", [("bz2", "lbzip2"), ("bz2", "indexed_bzip2"), ("zst", None),
                                                 ("none", None)])
def test_progress_moves_inside_one_page(one_page, tmp_path, monkeypatch, compression, backend, parser):
    """A one-page history (as the Anarchism dump is) reports revisions and bytes as it goes,
    not only when its page ends; zstandard's bytes move too. lxml reports after every revision;
    the fast reader after every run of revisions it hands over as columns, a block of 4 MiB of
    XML (this page is 14 MB)."""
    import bz2

    import zstandard

    if backend == "lbzip2" and not shutil.which("lbzip2"):
        pytest.skip("lbzip2 is not installed here (.ci/run installs it)")
    if backend:
        monkeypatch.setenv("DUMPPROC_BZ2_BACKENDS", backend)
    monkeypatch.setattr(progress, "REPORT_EVERY", 0)  # every due report is sent
    path = tmp_path / f"{one_page.name}.{compression}"
    compress = {"bz2": bz2.compress, "zst": zstandard.ZstdCompressor().compress, "none": lambda data: data}
    path.write_bytes(compress[compression](one_page.read_bytes()))
    [unit] = plan_units([str(path)])
    queue = Queue()
    entry = run_unit(unit, Options(out=str(tmp_path / "out"), workers=1, parser=parser), progress=queue)
    assert entry["status"] == "committed" and entry["pages"] == 1 and entry["revisions"] == 700
    inside = [item for item in queue.items if item[2] == 0]  # sent before the page ended
    revisions = [item[3] for item in inside]
    assert len(inside) >= (600 if parser == "lxml" else 3)
    assert revisions == sorted(revisions) and revisions[-1] == 700 and len(set(revisions)) == len(revisions)
    moved = sorted({item[1] for item in inside})
    assert len(moved) >= 2 and moved[0] < unit.end, f"bytes did not move inside the page: {moved}"
    assert queue.items[-1] == (unit.id, unit.end, 1, 700)


def test_without_a_total_it_shows_the_bytes_read_and_no_share_or_eta():
    """An input read from a pipe has no size: the run's total is unknown."""
    out = Terminal()
    shown = Progress(None, out)
    shown.update("stdin", 3_000_000, 7, 90)
    shown.show(force=True)
    last = out.getvalue().rsplit("\r\x1b[K", 1)[1]
    assert last.startswith("3.0 MB compressed read, 7 pages, 90 revisions, ")
    assert " of " not in last and "%" not in last and "ETA" not in last
