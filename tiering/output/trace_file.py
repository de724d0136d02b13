"""The trace on disk: a folder of Parquet parts, each part a run of whole firms in 统一社会信用代码 order.

Arrow encodes a Parquet file on one thread, and encoding is most of the cost of a large trace; so a trace of more
than ``ROWS_PER_PART`` rows is cut into two parts (the machine's two cores) written at once. Read the folder as
one table: ``pandas.read_parquet("out/trace")``, ``pyarrow.parquet.read_table("out/trace")``, or in DuckDB
``read_parquet('out/trace/*.parquet')``. Part files are named ``part-0.parquet``, ``part-1.parquet``; reading
them in name order gives the rows in order. Each row group is one batch of whole firms, and only ``uscc``
carries min/max statistics: that is what lets a reader (``audit show``) find one firm without reading the rest.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tiering.engine.evaluate import Evaluation
from tiering.engine.trace import TRACE_SCHEMA, TraceBuilder

TRACE_DIR = "trace"
"""Name of the trace folder in an output directory."""
ROWS_PER_PART = 1 << 21
"""Traces larger than this are written as two parts at once."""
WRITE_BATCH_ROWS = 1 << 16
"""Values Arrow's Parquet writer takes per column at a time (its default is 1,024): a trace's few columns of many
rows are encoded about 8 % cheaper in larger steps, with the same pages and the same bytes on disk."""

_DICTIONARY_COLUMNS = [f.name for f in TRACE_SCHEMA if pa.types.is_dictionary(f.type)]


def write_trace(evaluation: Evaluation, folder: Path) -> int:
    """Write the trace of ``evaluation`` as the Parquet parts of ``folder`` (replacing any); return its rows."""
    builder = TraceBuilder(evaluation)
    parts = 2 if builder.rows > ROWS_PER_PART else 1
    cuts = [builder.n * k // parts for k in range(parts + 1)]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)

    def write_part(k: int) -> None:
        _write(builder, folder / f"part-{k}.parquet", cuts[k], cuts[k + 1])

    # Arrow encodes without holding the GIL, so each part's thread keeps a core busy
    with ThreadPoolExecutor(max_workers=parts) as pool:
        list(pool.map(write_part, range(parts)))
    return builder.rows


def write_trace_part(evaluation: Evaluation, path: Path) -> int:
    """Write the trace of ``evaluation`` as the one Parquet file ``path`` (a part of a partitioned run's trace
    folder, laid out as any part); return its rows."""
    builder = TraceBuilder(evaluation)
    _write(builder, path, 0, builder.n)
    return builder.rows


def _write(builder: TraceBuilder, path: Path, first: int, last: int) -> None:
    with pq.ParquetWriter(path, TRACE_SCHEMA, compression="zstd", compression_level=1,
                          use_dictionary=_DICTIONARY_COLUMNS, write_statistics=["uscc"],
                          write_batch_size=WRITE_BATCH_ROWS) as writer:
        for batch in builder.batches(first, last):
            writer.write_batch(batch, row_group_size=batch.num_rows)


def trace_parts(path: Path) -> list[Path]:
    """The Parquet files of a trace in row order: the parts of a trace folder, or ``path`` itself if it is a file
    (traces recorded before traces became folders)."""
    if path.is_file():
        return [path]
    return sorted(path.glob("part-*.parquet"), key=lambda p: int(p.stem.split("-")[1]))
