"""Where units run: worker processes on this machine, or Spark tasks on a cluster.

Both engines run the same job (``pipeline.run_unit``, handed in by the run, so that this
module never imports the pipeline) on the same units and so write
the same files; the merge steps (the users reduce, the manifest) run after,
on the driver. With Spark, ``OUT`` and the inputs must be paths that every
executor and the driver see alike (a shared mount); see ``docs/spark.md``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from . import interrupts
from .errors import MissingDependency, OutputError, install_hint
from .pool import Pool, TaskError, WorkerLost

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Options
    from .units import Unit

ENGINES = ("local", "spark")


_PROGRESS = None  # a worker's queue to the parent's progress display

#: Seconds the workers get, once told to stop, to abandon their units before they are killed.
STOP_GRACE = 20.0


class _KeepOpen(logging.Handler):
    """Hands records to a handler that someone else owns, and leaves it open when closed."""

    def __init__(self, handler: logging.Handler):
        super().__init__()
        self.handler = handler

    def emit(self, record: logging.LogRecord) -> None:
        self.handler.handle(record)


@contextmanager
def worker_records():
    """While a pool runs, its workers' log records reach this process's handlers.

    multiprocessing_logging wraps each handler of the root logger in one fed by a queue (a pipe
    and a thread each) before the workers fork. The wrappers come off again when the pool is
    done, once the records still queued are handled, and the handlers they wrapped stay open: so
    a run can be called again in one process (the tests, a notebook) without each call keeping
    its pipes and thread. Units run in this process need none of it, and a small run is spared
    the wait for the thread to end (up to 0.2 s: it polls its queue).
    """
    import multiprocessing_logging

    root = logging.getLogger()
    before = list(root.handlers)
    multiprocessing_logging.install_mp_handler(root)
    try:
        yield
    finally:
        for wrapper in [h for h in root.handlers if h not in before]:
            wrapped = wrapper.sub_handler
            root.removeHandler(wrapper)
            root.addHandler(wrapped)
            wrapper.sub_handler = _KeepOpen(wrapped)  # close() drains the queue into it, then closes it
            wrapper.close()


def _init_worker(queue) -> None:
    global _PROGRESS
    _PROGRESS = queue


def _local_task(job: Callable, unit: "Unit", options: "Options", threads: int) -> dict:
    return job(unit, options, threads, _PROGRESS)


class _Direct:
    """A queue stand-in for units run in this process: updates go straight to the display."""

    def __init__(self, on_progress):
        self.on_progress = on_progress

    def put_nowait(self, update) -> None:
        self.on_progress(*update)


def _lost_entry(unit: "Unit", lost: WorkerLost) -> dict:
    """The manifest entry of a unit whose worker died: failed, the signal named, nothing published."""
    status = "interrupted" if interrupts.requested() else "failed"
    return {**unit.describe(), "status": status, "pages": 0, "revisions": 0, "seconds": 0.0,
            "error": None if status == "interrupted" else f"{unit.path}: {lost}", "error_type": "WorkerLost",
            "lost_worker_pid": lost.pid}


class _Stopper:
    """Called while the pool waits: after a signal, tells the workers once, then kills the late ones."""

    def __init__(self, pool: Pool, clock=time.monotonic):
        self.pool, self.clock = pool, clock
        self.told: float | None = None

    def __call__(self) -> None:
        if interrupts.requested() is None:
            return
        if self.told is None:
            self.told = self.clock()
            self.pool.signal(signal.SIGTERM)  # a signal sent to this process alone reaches them too
        elif self.clock() - self.told > STOP_GRACE:
            self.pool.signal(signal.SIGKILL)


def run_local(job: Callable, units: list["Unit"], options: "Options",
              on_progress: Callable | None = None) -> Iterator[dict]:
    """Units in worker processes (``options.workers`` at most), or in this process for one;
    yields each unit's manifest entry as it finishes (its parts written, not yet published:
    the run publishes them, see ``pipeline``).

    A worker that dies fails its unit only (``pool``). After SIGINT or SIGTERM
    (``interrupts``), no new unit starts, the running ones are abandoned at their next
    revision, their entries are yielded, and ``Interrupted`` is raised; an output fault
    (``OutputError``) stops the others the same way and is raised. No worker outlives the call.
    """
    workers = min(options.workers, len(units)) or 1
    threads = max(1, options.workers // workers)  # decompression threads per unit
    if workers == 1:
        direct = _Direct(on_progress) if on_progress else None
        for unit in units:
            interrupts.check()
            yield job(unit, options, threads, direct)
        interrupts.check()
        return
    context = multiprocessing.get_context("fork")
    queue = context.Queue() if on_progress else None
    listener = None
    if queue is not None:
        def listen():
            while True:
                update = queue.get()
                if update is None:
                    return
                on_progress(*update)

        listener = threading.Thread(target=listen, name="dumpproc-progress", daemon=True)
        listener.start()
    by_id = {unit.id: unit for unit in units}
    fault = None
    try:
        with worker_records(), Pool(workers, _init_worker, (queue,)) as pool:
            tasks = ((unit.id, _local_task, (job, unit, options, threads)) for unit in units)
            stopper = _Stopper(pool)
            try:
                for unit_id, outcome in pool.run(tasks, tick=stopper):
                    if isinstance(outcome, WorkerLost):
                        yield _lost_entry(by_id[unit_id], outcome)
                    elif isinstance(outcome, interrupts.Interrupted):
                        yield {**by_id[unit_id].describe(), "status": "interrupted"}
                    else:
                        yield outcome
            except TaskError as exc:
                if not isinstance(exc.error, OutputError):
                    raise
                # the output cannot be written: stop the others as after a signal, then say so
                fault = exc.error
                interrupts.request(signal.SIGTERM)
                while pool.busy():
                    try:
                        for unit_id, outcome in pool.run(iter(()), tick=stopper):
                            if isinstance(outcome, dict):
                                yield outcome
                    except TaskError as more:  # the others meet the full disk too: the first one is said
                        if not isinstance(more.error, OutputError):
                            raise
    finally:
        if queue is not None:
            queue.put(None)
            listener.join(timeout=5)
    if fault is not None:
        raise fault
    interrupts.check()


def _spark_task(job: Callable, unit: "Unit", options: "Options") -> dict:
    from .diff import warm_up

    warm_up()  # each Python worker compiles or loads the kernels once (numba's disk cache)
    return job(unit, options, 1)


def spark_session():
    """The active Spark session, or a new one (local[*] when nothing else is configured)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependency(
            f"--engine spark needs PySpark: {install_hint('spark')}, and Java 17"
        ) from exc
    # In local mode Spark starts Python workers with PYSPARK_PYTHON, else 'python3' from PATH,
    # which may not have dumpproc: use this interpreter unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return SparkSession.builder.appName("dumpproc").getOrCreate()


def run_spark(job: Callable, units: list["Unit"], options: "Options") -> list[dict]:
    """Each unit as one Spark task; the manifest entries come back to the driver."""
    if not units:
        return []
    context = spark_session().sparkContext
    work = context.parallelize([(job, unit, options) for unit in units], numSlices=len(units))
    return work.map(lambda item: _spark_task(*item)).collect()


def run_units(job: Callable, units: list["Unit"], options: "Options",
              on_progress: Callable | None = None) -> Iterator[dict]:
    """Each unit's manifest entry, as units finish (with Spark, once the job is done)."""
    if options.engine == "spark":
        yield from run_spark(job, units, options)
    else:
        yield from run_local(job, units, options, on_progress)
