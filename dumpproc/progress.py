"""Progress of a run: bytes read of the total, pages, revisions, rate and ETA.

Workers send small ``(unit id, bytes read, pages, revisions)`` updates through
a queue, at most every ``REPORT_EVERY`` seconds and inside long pages too (a
unit reports as revisions go by, not only as pages end); ``Progress`` adds them
up in the parent. The bytes are those of the files as stored, so the line says
"compressed" when the inputs are. On a terminal the line is redrawn at least
every second (rate and ETA move even while one huge revision is read);
elsewhere (logs, CI) a plain line comes at most every ``quiet_every`` seconds,
so logs stay readable. ``note`` prints a message above the line.
With no known total (an input read from a pipe has no size) it shows the bytes
read, without a share or an ETA.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from typing import Callable, TextIO

#: Seconds between a worker's updates.
REPORT_EVERY = 0.5
#: Seconds between redraws of the line on a terminal, updates or not.
REDRAW_EVERY = 1.0


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


_LIVE: "weakref.WeakSet[Progress]" = weakref.WeakSet()
_HELD: list = []


def _before_fork() -> None:
    # A worker forked while a display thread writes would inherit stderr's lock held: hold every
    # display's lock across the fork, so that no write is under way.
    _HELD[:] = list(_LIVE)
    for shown in _HELD:
        shown._lock.acquire()


def _after_fork_in_parent() -> None:
    for shown in _HELD:
        shown._lock.release()
    _HELD.clear()


def _after_fork_in_child() -> None:
    for shown in _HELD:
        shown._lock = threading.RLock()
        shown._closed.set()  # the child never draws the parent's line
    _HELD.clear()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)


class Progress:
    """What every unit has done so far, and the line that shows it."""

    def __init__(self, total_bytes: int | None, stream: TextIO | None = None, quiet_every: float = 30.0,
                 what: str = "compressed", clock: Callable[[], float] = time.monotonic):
        """``total_bytes`` of the inputs as stored (None when unknown: a pipe); ``what`` they are:
        "compressed", "XML" (plain inputs) or "stored" (a mix)."""
        self.total = max(1, total_bytes) if total_bytes is not None else None
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet_every = quiet_every
        self.clock = clock
        self.started = clock()
        self._units: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.RLock()
        # on a terminal the line shows at once; in a log the first line comes after quiet_every
        self._last_shown = None if self.tty else self.started
        self._shown = False
        self._closed = threading.Event()
        self._ticker = None
        _LIVE.add(self)
        if self.tty:
            self._ticker = threading.Thread(target=self._redraw, name="dumpproc-progress-line", daemon=True)
            self._ticker.start()

    def restart_clock(self) -> None:
        """Measure rates from now (after a pause that is not reading: compiling the kernels)."""
        with self._lock:
            self.started = self.clock()
            if not self.tty and self._last_shown is not None:
                self._last_shown = self.started

    def _redraw(self) -> None:
        while not self._closed.wait(REDRAW_EVERY):
            self.show(force=True)

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
        elapsed = max(1e-6, self.clock() - self.started)
        rate = done / elapsed
        counts = f"{pages:,} pages, {revisions:,} revisions"
        rates = f"{_size(rate)}/s, {revisions / elapsed:,.0f} revisions/s"
        if self.total is None:
            return f"{_size(done)} {self.what} read, {counts}, {rates}"
        eta = (self.total - done) / rate if rate > 0 and done < self.total else 0
        share = min(100.0, 100.0 * done / self.total)
        return f"{_size(done)} of {_size(self.total)} {self.what} ({share:.0f}%), {counts}, {rates}, ETA {_duration(eta)}"

    def show(self, force: bool = False) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            now = self.clock()
            every = 0.5 if self.tty else self.quiet_every
            if not force and self._last_shown is not None and now - self._last_shown < every:
                return
            self._last_shown = now
            if self.tty:
                self.stream.write("\r\x1b[K" + self.line())
            else:
                self.stream.write("dumpproc: " + self.line() + "\n")
            self.stream.flush()
            self._shown = True

    def note(self, text: str) -> None:
        """A message of its own line, above the progress line (which is redrawn under it)."""
        with self._lock:
            if self.tty and self._shown:
                self.stream.write("\r\x1b[K")
            self.stream.write(f"dumpproc: {text}\n")
            self.stream.flush()
            if self.tty and self._shown:
                self.stream.write(self.line())
                self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            if self._shown and self.tty:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
        if self._ticker is not None:
            self._ticker.join(timeout=2)


class Reporter:
    """A worker's side: sends its unit's progress to the parent's queue, at most every REPORT_EVERY s.

    The first report goes at once; ``position`` (when given) says how far into the file the
    unit has read, asked only when a report is due, so ``tick`` is cheap enough per revision.
    """

    def __init__(self, queue, unit_id: str, start: int = 0, position: Callable[[], int | None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.queue = queue
        self.unit_id = unit_id
        self.start = start
        self.position = position
        self.clock = clock
        self._last: float | None = None

    def __call__(self, position: int, pages: int, revisions: int, force: bool = False) -> None:
        if self.queue is None:
            return
        now = self.clock()
        if force or self._last is None or now - self._last >= REPORT_EVERY:
            self._send(now, position, pages, revisions)

    def tick(self, pages: int, revisions: int) -> None:
        """A revision was read: report if one is due, with the position read now."""
        if self.queue is None:
            return
        now = self.clock()
        if self._last is None or now - self._last >= REPORT_EVERY:
            self._send(now, (self.position() if self.position else None) or self.start, pages, revisions)

    def _send(self, now: float, position: int, pages: int, revisions: int) -> None:
        self._last = now
        try:
            self.queue.put_nowait((self.unit_id, max(0, position - self.start), pages, revisions))
        except Exception:  # noqa: BLE001 - progress must never fail a unit
            pass
