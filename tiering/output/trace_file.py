"""The trace as a Parquet file: built batch by batch and written while the next batch is being built.

One row group per batch of whole firms; only ``uscc`` carries min/max statistics, which is what lets a reader
(``audit show``) find one firm's row groups without reading the rest.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tiering.engine.evaluate import Evaluation
from tiering.engine.trace import TRACE_SCHEMA, trace_batches

_DICTIONARY_COLUMNS = [f.name for f in TRACE_SCHEMA if pa.types.is_dictionary(f.type)]


def write_trace(evaluation: Evaluation, path: Path) -> int:
    """Write the trace of ``evaluation`` to ``path`` as Parquet; return its row count.

    Arrow encodes a row group without holding the GIL, so building batch i+1 (NumPy) overlaps with writing
    batch i on the machine's other core.
    """
    rows = 0
    with (pq.ParquetWriter(path, TRACE_SCHEMA, compression="zstd", compression_level=1,
                           use_dictionary=_DICTIONARY_COLUMNS, write_statistics=["uscc"]) as writer,
          ThreadPoolExecutor(max_workers=1) as pool):
        pending: Future[None] | None = None
        for batch in trace_batches(evaluation):
            if pending is not None:
                pending.result()
            pending = pool.submit(writer.write_batch, batch, row_group_size=batch.num_rows)
            rows += batch.num_rows
        if pending is not None:
            pending.result()
    return rows
