"""Where units run: worker processes on this machine, or Spark tasks on a cluster.

Both engines run the same ``pipeline.run_unit`` on the same units and so write
the same files; the merge steps (the users reduce, the manifest) run after,
on the driver. With Spark, ``OUT`` and the inputs must be paths that every
executor and the driver see alike (a shared mount); see ``docs/spark.md``.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from .errors import MissingDependency

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Options, Unit

ENGINES = ("local", "spark")


def run_local(units: list["Unit"], options: "Options") -> list[dict]:
    """Units in worker processes (``options.workers`` at most), or in this process for one."""
    from .pipeline import run_unit

    workers = min(options.workers, len(units)) or 1
    threads = max(1, options.workers // workers)  # decompression threads per unit
    if workers == 1:
        return [run_unit(unit, options, threads) for unit in units]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_unit, units, [options] * len(units), [threads] * len(units)))


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
            "--engine spark needs PySpark: pip install 'dumpproc[spark]' (and Java 17)"
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


def run_units(units: list["Unit"], options: "Options") -> list[dict]:
    if options.engine == "spark":
        return run_spark(units, options)
    return run_local(units, options)
