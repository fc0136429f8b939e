"""The progress line: redrawn on a terminal, a plain line now and then in a log; workers' reports throttled."""

from __future__ import annotations

import io

from dumpproc import progress
from dumpproc.progress import Progress, Reporter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_redrawn_line_with_bytes_pages_revisions_rate_and_eta():
    out = Terminal()
    shown = Progress(4_000_000, out)
    shown.update("a", 1_000_000, 10, 200)
    shown.update("b", 1_000_000, 5, 100)  # within 0.5 s: not redrawn
    shown.show(force=True)
    text = out.getvalue()
    assert text.startswith("\r\x1b[K") and "\n" not in text
    last = text.rsplit("\r\x1b[K", 1)[1]
    assert last.startswith("2.0 MB of 4.0 MB (50%), 15 pages, 300 revisions, ") and "ETA " in last
    shown.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_a_log_gets_plain_lines_only_every_so_often():
    out = io.StringIO()
    quiet = Progress(100, out, quiet_every=3600)
    quiet.update("a", 50, 1, 2)
    quiet.close()
    assert out.getvalue() == ""  # a short run says nothing but its summary
    out = io.StringIO()
    every = Progress(100, out, quiet_every=0)
    every.update("a", 50, 1, 2)
    every.update("a", 100, 3, 4)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("dumpproc: ") for line in lines)
    assert "100 B of 100 B (100%), 3 pages, 4 revisions" in lines[1]


class Queue:
    def __init__(self):
        self.items = []

    def put_nowait(self, item):
        self.items.append(item)


def test_workers_report_at_most_every_so_often_and_always_at_the_end(monkeypatch):
    monkeypatch.setattr(progress, "REPORT_EVERY", 3600)
    queue = Queue()
    report = Reporter(queue, "u1", start=1000)
    for n in range(100):
        report(1000 + n, n, n * 10)
    report(1500, 100, 1000, force=True)
    assert queue.items == [("u1", 0, 0, 0), ("u1", 500, 100, 1000)]
    Reporter(None, "u2")(5, 1, 1)  # no queue (Spark tasks): nothing, no error


def test_without_a_total_it_shows_the_bytes_read_and_no_share_or_eta():
    """An input read from a pipe has no size: the run's total is unknown."""
    out = Terminal()
    shown = Progress(None, out)
    shown.update("stdin", 3_000_000, 7, 90)
    shown.show(force=True)
    last = out.getvalue().rsplit("\r\x1b[K", 1)[1]
    assert last.startswith("3.0 MB read, 7 pages, 90 revisions, ")
    assert " of " not in last and "%" not in last and "ETA" not in last
