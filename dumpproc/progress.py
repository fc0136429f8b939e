"""Progress of a run: bytes read of the total, pages, revisions, rate and ETA.

Workers send small ``(unit id, compressed bytes, pages, revisions)`` updates
through a queue; ``Progress`` adds them up in the parent. On a terminal it
redraws one line at most twice a second; elsewhere (logs, CI) it writes a
plain line at most every ``quiet_every`` seconds, so logs stay readable.
With no known total (an input read from a pipe has no size) it shows the bytes
read, without a share or an ETA.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

#: Seconds between a worker's updates.
REPORT_EVERY = 0.5


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"  # pragma: no cover


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """What every unit has done so far, and the line that shows it."""

    def __init__(self, total_bytes: int | None, stream: TextIO | None = None, quiet_every: float = 30.0):
        self.total = None if total_bytes is None else max(1, total_bytes)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet_every = quiet_every
        self.started = time.monotonic()
        self._units: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.Lock()
        # on a terminal the line shows at once; in a log the first line comes after quiet_every
        self._last_shown = 0.0 if self.tty else self.started
        self._shown = False

    def update(self, unit_id: str, done_bytes: int, pages: int, revisions: int) -> None:
        with self._lock:
            self._units[unit_id] = (done_bytes, pages, revisions)
        self.show()

    def totals(self) -> tuple[int, int, int]:
        with self._lock:
            values = list(self._units.values())
        return tuple(sum(v[i] for v in values) for i in range(3))  # type: ignore[return-value]

    def line(self) -> str:
        done, pages, revisions = self.totals()
        elapsed = max(1e-6, time.monotonic() - self.started)
        rate = done / elapsed
        if self.total is None:
            return (f"{_size(done)} read, {pages:,} pages, {revisions:,} revisions, "
                    f"{_size(rate)}/s, {revisions / elapsed:,.0f} revisions/s")
        eta = (self.total - done) / rate if rate > 0 and done < self.total else 0
        share = min(100.0, 100.0 * done / self.total)
        return (f"{_size(done)} of {_size(self.total)} ({share:.0f}%), {pages:,} pages, {revisions:,} revisions, "
                f"{_size(rate)}/s, {revisions / elapsed:,.0f} revisions/s, ETA {_duration(eta)}")

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        every = 0.5 if self.tty else self.quiet_every
        if not force and now - self._last_shown < every:
            return
        self._last_shown = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line())
        else:
            self.stream.write("dumpproc: " + self.line() + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class Reporter:
    """A worker's side: sends its unit's progress to the parent's queue, at most every REPORT_EVERY s."""

    def __init__(self, queue, unit_id: str, start: int = 0):
        self.queue = queue
        self.unit_id = unit_id
        self.start = start
        self._last = 0.0

    def __call__(self, position: int, pages: int, revisions: int, force: bool = False) -> None:
        if self.queue is None:
            return
        now = time.monotonic()
        if force or now - self._last >= REPORT_EVERY:
            self._last = now
            try:
                self.queue.put_nowait((self.unit_id, max(0, position - self.start), pages, revisions))
            except Exception:  # noqa: BLE001 - progress must never fail a unit
                pass
