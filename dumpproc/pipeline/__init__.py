"""The job of one unit, and the run that ties the units together (a package: ``options``,
``unit``, ``run``).

Units are planned in ``units`` (a file, or a run of its pieces). ``run_unit``
is the whole job for one unit: open, parse, diff and count each page
(``tables.PageAssembler``), write the unit's Parquet parts and commit them; it
is a plain function of picklable arguments so that a process pool, or a Spark
task, can run it. ``run`` plans the units, runs them (in worker processes when more
than one can run at once), merges the contributors' totals of every unit into
the ``users`` table (the reduce), and writes the manifest and ``_SUCCESS``.
"""

from __future__ import annotations

from .options import DEFAULT_SPLIT_SIZE, DEFAULT_TABLES, STAGING, Options
from .run import RunResult, publish, resume_conflicts, run
from .unit import run_unit

__all__ = ["DEFAULT_SPLIT_SIZE", "DEFAULT_TABLES", "STAGING", "Options", "RunResult", "publish",
           "resume_conflicts", "run", "run_unit"]
