"""The parts of a partitioned run's dataset read back in a whole run's row order, a block at a time.

A whole run orders its 结果 rows by rule set (in the run's order), then by firm code, and its 层级 rows by firm
code; each part is in that order over its own firms, and the partitions split the firms by a hash, so the whole
order is a k-way merge of the parts. It is done in blocks: a block of rows is read from each part, every row up to
the smallest of the blocks' last keys is taken (no row still unread can come before it), sorted and given out, the
rest kept for the next round. Memory: about :data:`HELD_ROWS` rows in all (a twelfth of one default
partition's 结果 rows), whatever the register's size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HELD_ROWS = 65_536
"""Rows held at a time across all the parts: each part's block is this divided by the number of parts ..."""
LEAST_BLOCK = 1_024
"""... but at least this many, so that a run of many small partitions does not merge in countless tiny rounds."""


class _Part:
    """One part's rows not yet given out, read a block at a time, with their keys: (rule set's place in the run,
    firm code), the place 0 for a table of firms."""

    def __init__(self, path: Path, order: pa.Array | None, block_rows: int) -> None:
        self._batches = pq.ParquetFile(path).iter_batches(batch_size=block_rows)
        self._order = order
        self.rows = pd.DataFrame()
        self.place = self.code = np.empty(0)
        self.done = False

    def fill(self) -> None:
        """Read the next block when every row read has been given out."""
        while self.rows.empty and not self.done:
            batch = next(self._batches, None)
            if batch is None:
                self.done = True
                continue
            self.rows = batch.to_pandas()
            self.code = batch.column("uscc").to_numpy(zero_copy_only=False).astype(str)
            self.place = (np.zeros(len(self.code), dtype=np.int64) if self._order is None else
                          pc.index_in(batch.column("ruleset_id"), value_set=self._order).to_numpy().astype(np.int64))

    def take(self, count: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The first ``count`` rows held and their keys, no longer held."""
        out = self.rows.iloc[:count], self.place[:count], self.code[:count]
        self.rows, self.place, self.code = self.rows.iloc[count:], self.place[count:], self.code[count:]
        return out


def merged_parts(paths: Sequence[Path], ruleset_order: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """The rows of the parts at ``paths`` in a whole run's order, in blocks: by ``ruleset_order`` (the run's
    rule set ids) then firm code for 结果 parts, by firm code when it is None (层级 parts)."""
    order = None if ruleset_order is None else pa.array(list(ruleset_order), type=pa.string())
    block = max(LEAST_BLOCK, HELD_ROWS // max(1, len(paths)))
    parts = [_Part(path, order, block) for path in paths]
    while True:
        for part in parts:
            part.fill()
        held = [p for p in parts if not p.rows.empty]
        if not held:
            return
        # the smallest last key of the parts that may still hold more rows: nothing unread comes before it
        waiting = [(int(p.place[-1]), str(p.code[-1])) for p in held if not p.done]
        edge = min(waiting) if waiting else None
        taken = []
        for part in held:
            upto = (len(part.code) if edge is None else  # a prefix: the part's rows are in order
                    int(np.count_nonzero((part.place < edge[0]) | ((part.place == edge[0]) & (part.code <= edge[1])))))
            taken.append(part.take(upto))
        block_rows = pd.concat([t[0] for t in taken], ignore_index=True)
        order_of = np.lexsort((np.concatenate([t[2] for t in taken]), np.concatenate([t[1] for t in taken])))
        yield block_rows.iloc[order_of].reset_index(drop=True)
