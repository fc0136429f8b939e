"""dumpproc: MediaWiki XML history dumps to analysis-ready Parquet."""

__version__ = "0.1.0"
