"""dumpproc: MediaWiki XML history dumps to analysis-ready Parquet."""

__version__ = "0.1.0"

from . import kernels as _kernels  # noqa: E402 - before any module that defines a numba kernel

_kernels.configure()
