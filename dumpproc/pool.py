"""Worker processes that run units, one at a time each, where a lost worker fails only its unit.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one of its
workers dies (the kernel's OOM killer, say): every unit in flight fails and no
new one can start. Here each worker has its own pipe, so the pool knows which
unit a dead worker was running: that unit fails with the signal named, a fresh
worker takes its place, and the run goes on.

Workers are forked (they inherit the warmed-up kernels), ask the kernel to kill
them if the parent dies (``PR_SET_PDEATHSIG``: a run killed with SIGKILL leaves
no worker writing), and stop at the next safe point on SIGINT/SIGTERM
(``interrupts``). What a task raises is sent back and raised in the parent.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import traceback
from multiprocessing.connection import wait as wait_ready
from typing import Any, Callable, Iterator

from . import interrupts

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's end of the pipe still tells
        pass
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


class TaskError(Exception):
    """What a task raised in a worker, with the worker's traceback as text."""

    def __init__(self, error: BaseException, text: str):
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.text = text


def _serve(connection, parent: int, initializer: Callable | None, initargs: tuple) -> None:
    _die_with_parent(parent)
    interrupts.install_worker()
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError, interrupts.Interrupted):
            return
        if task is None:
            return
        function, args = task
        try:
            outcome = ("ok", function(*args))
        except interrupts.Interrupted:
            outcome = ("interrupted", None)
        except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
            outcome = ("error", (exc, traceback.format_exc()))
        try:
            connection.send(outcome)
        except (OSError, interrupts.Interrupted):
            return
        except Exception as exc:  # noqa: BLE001 - an outcome that does not pickle
            connection.send(("error", (RuntimeError(f"cannot send the result: {exc}"), "")))


class _Worker:
    def __init__(self, context, initializer, initargs):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, os.getpid(), initializer, initargs),
                                       daemon=True, name="dumpproc-worker")
        self.process.start()
        theirs.close()
        self.task: Any = None  # the key of the task it runs, or None when idle

    def stop(self, how: int | None = None) -> None:
        if how is not None and self.process.is_alive():
            try:
                os.kill(self.process.pid, how)
            except ProcessLookupError:
                pass


class WorkerLost(Exception):
    """A worker died while it ran a task (killed by a signal, or it exited)."""

    def __init__(self, exitcode: int | None, pid: int | None = None):
        self.pid = pid  # its temporary files carry it
        if exitcode is not None and exitcode < 0:
            name = signal.Signals(-exitcode).name
            why = " (the kernel's out-of-memory killer sends it)" if -exitcode == signal.SIGKILL else ""
            text = f"the worker running it was killed by {name}{why}"
        else:
            text = f"the worker running it exited with status {exitcode}"
        super().__init__(text)
        self.exitcode = exitcode


class Pool:
    """``size`` forked workers; ``run(tasks)`` yields ``(key, outcome)`` as each task ends.

    ``outcome`` is the function's result, or a ``WorkerLost`` when the worker died; a
    task that raised re-raises its error in the parent (as ``TaskError``), and a task
    abandoned after a signal yields ``interrupts.Interrupted``.
    """

    def __init__(self, size: int, initializer: Callable | None = None, initargs: tuple = ()):
        self.size = size
        self.context = multiprocessing.get_context("fork")
        self.initializer, self.initargs = initializer, initargs
        self.workers: list[_Worker] = []

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close(kill=exc[0] is not None)

    def _start_worker(self) -> _Worker:
        worker = _Worker(self.context, self.initializer, self.initargs)
        self.workers.append(worker)
        return worker

    def run(self, tasks: Iterator[tuple[Any, Callable, tuple]],
            tick: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
        """Run ``(key, function, args)`` tasks, at most ``size`` at once; yield ``(key, outcome)``.

        No task starts once a signal asked the run to stop; ``tick`` runs at least every 0.2 s.
        """
        tasks = iter(tasks)
        pending = True
        while True:
            if tick is not None:
                tick()
            while pending and sum(1 for w in self.workers if w.task is not None) < self.size:
                task = None if interrupts.requested() else next(tasks, None)
                if task is None:
                    pending = False
                    break
                key, function, args = task
                worker = next((w for w in self.workers if w.task is None), None) or self._start_worker()
                worker.connection.send((function, args))
                worker.task = key
            busy = [w for w in self.workers if w.task is not None]
            if not busy:
                return
            ready = wait_ready([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=0.2)
            for worker in busy:
                if worker.connection in ready:
                    try:
                        status, value = worker.connection.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=5)
                        yield self._lost(worker)
                        continue
                    key, worker.task = worker.task, None
                    if status == "error":
                        error, text = value
                        raise TaskError(error, text) from error
                    yield key, (interrupts.Interrupted() if status == "interrupted" else value)
                elif worker.process.sentinel in ready:
                    worker.process.join(timeout=5)
                    yield self._lost(worker)

    def _lost(self, worker: _Worker) -> tuple[Any, WorkerLost]:
        key = worker.task
        self.workers.remove(worker)
        worker.connection.close()
        return key, WorkerLost(worker.process.exitcode, worker.process.pid)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every worker (after SIGTERM they abandon their task at a safe point)."""
        for worker in self.workers:
            worker.stop(signum)

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.task is not None)

    def close(self, kill: bool = False) -> None:
        """Stop every worker: idle ones are told to exit; with ``kill``, or if they do not, killed."""
        for worker in self.workers:
            if kill:
                worker.stop(signal.SIGKILL)
            else:
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.stop(signal.SIGKILL)
                worker.process.join()
            worker.connection.close()
        self.workers = []
