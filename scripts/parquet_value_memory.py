#!/usr/bin/env python3
"""How much memory pyarrow's Parquet writer takes to write one large string value.

    .venv/bin/python scripts/parquet_value_memory.py [MiB] [--compression zstd|none|snappy]

Writes a table of one row whose one string is MiB of text (default 256) and prints the rise of
the process's resident memory during ``ParquetWriter.write_table``, as a multiple of the value's
size. Issue 16's aim for one huge revision (below twice its size above the baseline, for the
whole job) is measured against this: the writer alone holds about twice the value while it
encodes and compresses the page (the plain-encoded page and its compressed copy), whatever the
compression, before anything else of the job (the decoded block the text is read into, the diff's
op text) is counted.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def resident_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mib", nargs="?", type=int, default=256)
    parser.add_argument("--compression", default="zstd")
    args = parser.parse_args()
    words = [b"alpha ", b"beta ", b"gamma ", b"delta\n", b"zeta "]
    picks = np.random.default_rng(1).integers(0, len(words), (args.mib << 20) // 4)
    text = b"".join(words[i] for i in picks.tolist())[: args.mib << 20]
    table = pa.table({"text": pa.array([text.decode("ascii")], pa.string())})
    size = len(text) / 2**20
    del text
    with tempfile.TemporaryDirectory() as folder:
        before = resident_mib()
        writer = pq.ParquetWriter(os.path.join(folder, "one.parquet"), table.schema, compression=args.compression,
                                  use_dictionary=False, write_statistics=False)
        writer.write_table(table)
        writer.close()
        rise = resident_mib() - before
    print(f"pyarrow {pa.__version__}, {args.compression}: one value of {size:,.0f} MiB; "
          f"resident memory rose {rise:,.0f} MiB while writing it ({rise / size:.2f}x the value)")


if __name__ == "__main__":
    main()
