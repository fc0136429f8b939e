#!/usr/bin/env python3
"""The dumpproc command as a file spark-submit can run (see docs/spark.md).

    spark-submit --master yarn ... scripts/spark_entry.py process --engine spark ...
"""

import sys

from dumpproc.cli import main

if __name__ == "__main__":
    sys.exit(main())
