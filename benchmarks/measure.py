"""Wall time, CPU time and peak memory of a command together with every process it starts, for the benchmarks.

Time is the wall clock from starting the command to reaping it (the main thread
blocks in ``wait4``, so the figure is not rounded to a polling interval).

CPU time is user + system seconds of the whole process tree, from the
``rusage`` that ``os.wait4`` returns for the command: Linux fills it with the
process's own time plus that of every descendant it (or they, in turn) waited
for, threads included (a command's time starts at zero when it is started, unlike
its ``ru_maxrss``, below), which is every worker and decompressor process of a run
that ends cleanly. Nothing is sampled, so nothing is missed between samples.
(``psutil`` is not a dependency, and would only sum what it sees while the
processes live.)

Memory is harder, because dumpproc is a tree (the parent, forked workers, an
``lbzip2`` per worker) and the kernel keeps no peak for a tree:
``RUSAGE_CHILDREN``'s ``ru_maxrss`` (and so ``/usr/bin/time -f %M``) is the
largest *single* descendant, not what the processes held together. So a thread
walks the tree every 20 ms (``/proc/<pid>/task/*/children``) and sums each
process's PSS (``/proc/<pid>/smaps_rollup``): the proportional set size splits
a page shared by n processes (the copy-on-write memory of forked workers,
libraries) n ways, so the sum counts every page once, which summing RSS does
not. The peak reported is the larger of

- the highest such sum seen, and
- the highest ``VmHWM`` of any one process: the kernel's exact peak RSS of that
  process, which catches a single process's spike between two samples.

It is therefore a close lower bound of the tree's true peak. ``process_peak_bytes``
is the peak of the largest single process, its highest sampled ``VmHWM`` (the
kernel's own peak RSS of the process, so only growth in a process's last 20 ms
before it exits goes unseen). ``wait4``'s ``ru_maxrss`` would be exact but is
not used: Linux carries the peak RSS of the address space a process replaces at
``exec`` into it, and ``subprocess`` starts the command from a (v)fork of this
process, so ``ru_maxrss`` is never below the benchmark process's own peak (which
generating a dump with a huge revision makes hundreds of MB). ``hwm_sum_bytes``,
the sum of every process's ``VmHWM``, is an upper bound (as if every process
peaked at once, shared pages counted in each). For a one-process command
(the naive pipeline, ``7zz``, ``lbzip2`` and ``zstd``, which use threads) both
reduce to that process's own peak RSS, what ``/usr/bin/time`` reports.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

INTERVAL = 0.02


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    peak_bytes: int
    hwm_sum_bytes: int
    stdout: str = ""
    cpu_seconds: float = 0.0  # user + system, the whole tree
    process_peak_bytes: int = 0  # the largest single process's peak RSS

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 1e6

    @property
    def process_peak_mib(self) -> float:
        return self.process_peak_bytes / 2**20


def _field_kb(path: str, name: str) -> int:
    """A ``Name:  123 kB`` line of a /proc file, in bytes; 0 when the process is gone."""
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _tree(root: int) -> list[int]:
    """The pid and every live descendant of ``root``."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        for children in glob.glob(f"/proc/{pid}/task/*/children"):
            try:
                with open(children) as fh:
                    todo.extend(int(child) for child in fh.read().split())
            except (FileNotFoundError, ProcessLookupError):
                pass
    return pids


class _Sampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.peak_sum = 0
        self.hwm: dict[int, int] = {}

    def sample(self) -> None:
        total = 0
        for pid in _tree(self.root):
            total += _field_kb(f"/proc/{pid}/smaps_rollup", b"Pss:") or _field_kb(f"/proc/{pid}/status", b"VmRSS:")
            self.hwm[pid] = max(self.hwm.get(pid, 0), _field_kb(f"/proc/{pid}/status", b"VmHWM:"))
        self.peak_sum = max(self.peak_sum, total)

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(INTERVAL)


def measure(argv: list[str], *, capture: bool = False, cwd=None, env=None) -> Measurement:
    """Run ``argv`` to the end; its stdout goes to /dev/null unless ``capture``. A failure raises
    ``RuntimeError`` with the command's stderr."""
    # output to files, not pipes: the main thread waits in wait4 (the tree's rusage) and reads nothing meanwhile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out if capture else subprocess.DEVNULL, stderr=err, cwd=cwd, env=env)
        sampler = _Sampler(child.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        finally:
            seconds = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {child.returncode}:\n{stderr.decode(errors='replace')}")
    largest = max(sampler.hwm.values(), default=0)
    return Measurement(seconds, max(sampler.peak_sum, largest), sum(sampler.hwm.values()),
                       stdout.decode(errors="replace"), usage.ru_utime + usage.ru_stime, largest)


def measure_each(argvs: list[list[str]]) -> Measurement:
    """Commands run one after another (a decompressor over several files): times add up, peaks do not."""
    runs = [measure(argv) for argv in argvs]
    return Measurement(sum(r.seconds for r in runs), max(r.peak_bytes for r in runs),
                       max(r.hwm_sum_bytes for r in runs), cpu_seconds=sum(r.cpu_seconds for r in runs),
                       process_peak_bytes=max(r.process_peak_bytes for r in runs))
