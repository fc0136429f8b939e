"""Where units run: worker processes on this machine, or Spark tasks on a cluster.

Both engines run the same ``pipeline.run_unit`` on the same units and so write
the same files; the merge steps (the users reduce, the manifest) run after,
on the driver. With Spark, ``OUT`` and the inputs must be paths that every
executor and the driver see alike (a shared mount); see ``docs/spark.md``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Callable, Iterator

from . import interrupts
from .errors import MissingDependency, install_hint

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Options
    from .units import Unit

ENGINES = ("local", "spark")


_PROGRESS = None  # a worker's queue to the parent's progress display

#: Seconds the workers get, once told to stop, to abandon their units and clean up before they are killed.
STOP_GRACE = 20.0


def _init_worker(queue) -> None:
    global _PROGRESS
    _PROGRESS = queue
    interrupts.install_worker()


def _local_task(unit: "Unit", options: "Options", threads: int) -> dict:
    from .pipeline import run_unit

    return run_unit(unit, options, threads, _PROGRESS)


class _Direct:
    """A queue stand-in for units run in this process: updates go straight to the display."""

    def __init__(self, on_progress):
        self.on_progress = on_progress

    def put_nowait(self, update) -> None:
        self.on_progress(*update)


def _signal_workers(pool: ProcessPoolExecutor, signum: int) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            os.kill(process.pid, signum)
        except (ProcessLookupError, AttributeError, TypeError):
            pass


def _stop(pool: ProcessPoolExecutor, running: set) -> Iterator[dict]:
    """After a signal: tell the workers, take the entries of the units they finish or abandon,
    then end the pool; workers that do not stop within ``STOP_GRACE`` are killed."""
    _signal_workers(pool, signal.SIGTERM)  # a signal sent to this process alone reaches them too
    finished, late = wait(running, timeout=STOP_GRACE)
    for future in finished:
        if not future.cancelled() and future.exception() is None:
            yield future.result()
    if late:
        _signal_workers(pool, signal.SIGKILL)


def run_local(units: list["Unit"], options: "Options", on_progress: Callable | None = None) -> Iterator[dict]:
    """Units in worker processes (``options.workers`` at most), or in this process for one;
    yields each unit's manifest entry as it finishes. At most one unit per worker is in flight
    beyond those running, so memory does not grow with the number of units.

    After SIGINT or SIGTERM (``interrupts``), no new unit starts, the running ones are
    abandoned at their next revision (or finish committing), their entries are yielded,
    and ``Interrupted`` is raised; no worker outlives the call.
    """
    from .pipeline import run_unit

    workers = min(options.workers, len(units)) or 1
    threads = max(1, options.workers // workers)  # decompression threads per unit
    if workers == 1:
        direct = _Direct(on_progress) if on_progress else None
        for unit in units:
            interrupts.check()
            yield run_unit(unit, options, threads, direct)
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
    pending = iter(units)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(queue,))
    stopped = False  # the workers are idle or gone: the pool may end without killing them
    try:
        running = set()
        for unit in pending:
            running.add(pool.submit(_local_task, unit, options, threads))
            if len(running) >= 2 * workers:
                break
        while running:
            if interrupts.requested():
                yield from _stop(pool, running)
                stopped = True
                raise interrupts.Interrupted()
            finished, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
                unit = None if interrupts.requested() else next(pending, None)
                if unit is not None:
                    running.add(pool.submit(_local_task, unit, options, threads))
        stopped = True
        interrupts.check()
    finally:
        if not stopped:  # a second signal, or a unit raised: nothing may go on writing
            _signal_workers(pool, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)
        if queue is not None:
            queue.put(None)
            listener.join(timeout=5)


def _spark_task(unit: "Unit", options: "Options") -> dict:
    from .diff import warm_up
    from .pipeline import run_unit

    warm_up()  # each Python worker compiles or loads the kernels once (numba's disk cache)
    return run_unit(unit, options, 1)


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


def run_spark(units: list["Unit"], options: "Options") -> list[dict]:
    """Each unit as one Spark task; the manifest entries come back to the driver."""
    if not units:
        return []
    context = spark_session().sparkContext
    work = context.parallelize([(unit, options) for unit in units], numSlices=len(units))
    return work.map(lambda item: _spark_task(*item)).collect()


def run_units(units: list["Unit"], options: "Options", on_progress: Callable | None = None) -> Iterator[dict]:
    """Each unit's manifest entry, as units finish (with Spark, once the job is done)."""
    if options.engine == "spark":
        yield from run_spark(units, options)
    else:
        yield from run_local(units, options, on_progress)
