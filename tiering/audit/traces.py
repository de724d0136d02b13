"""Trace files of the audit store: the engine's trace plus what it takes to rebuild each criterion's record.

The engine's trace (:func:`tiering.engine.trace.trace_table`) shows band labels and has no text values; the
explanation needs the band index and the text a text criterion saw (e.g. the firm's 行业). Both are added here as
``band_index`` and ``text``, in the trace's own row order, so ``audit show`` can rebuild the exact per-criterion
records and explain them years later without evaluating anything again.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tiering.engine.evaluate import Evaluation
from tiering.rules.nodes import STATUS_TEXT, One

_STATUS_CODE = {text: code for code, text in STATUS_TEXT.items()}
EXTRA_COLUMNS = ("band_index", "text")


class TraceMismatch(ValueError):
    """The trace handed to the store is not the trace of the evaluation handed with it."""


def with_extras(trace: pa.Table, evaluation: Evaluation) -> pa.Table:
    """``trace`` with ``band_index`` and ``text`` columns taken from ``evaluation`` in the trace's row order."""
    n = len(evaluation.firms)
    bands: list[np.ndarray] = []
    texts: list[pa.Array] = []
    expected = 0
    criterion = trace.column("criterion_id")
    for r in evaluation.results:
        for node in r.ruleset.root.walk():
            if n and str(criterion[expected * n]) != node.id:
                raise TraceMismatch(f"trace row {expected * n} is criterion {criterion[expected * n]}, expected "
                                    f"{node.id} of {r.ruleset.id}; pass trace_table(run.evaluation)")
            expected += 1
            v = r.nodes[node.id]
            bands.append(np.asarray(v.band, dtype=np.int16))
            if v.text is None:
                texts.append(pa.nulls(n, pa.string()))
            else:
                texts.append(pa.array([_text(x) for x in v.text], pa.string()))
    if expected * n != trace.num_rows:
        raise TraceMismatch(f"trace has {trace.num_rows} rows; the evaluation has {expected} criteria × {n} firms")
    band = pa.array(np.concatenate(bands) if bands else np.array([], np.int16), pa.int16())
    text = pa.chunked_array(texts, pa.string()).combine_chunks().dictionary_encode() if texts else pa.array([])
    return trace.append_column("band_index", band).append_column("text", text)


def _text(x: object) -> str | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return str(x)


ROW_GROUP = 1 << 16
"""Rows per Parquet row group: small enough that reading one firm touches one group, large enough to compress."""


def firm_major(table: pa.Table, firms: int) -> pa.Table:
    """Reorder a trace (rule set × criterion × firm) so that each firm's rows are contiguous.

    Firms come in register order, i.e. sorted by 统一社会信用代码, so the file ends up sorted by ``uscc`` and the
    row-group statistics let ``audit show`` read one row group instead of the whole trace.
    """
    if firms == 0:
        return table
    segments = table.num_rows // firms
    order = (np.arange(firms, dtype=np.int64)[:, None] + np.arange(segments, dtype=np.int64)[None, :] * firms)
    return table.take(pa.array(order.ravel()))


def write_trace(table: pa.Table, path: Path) -> None:
    """Write a trace as Parquet (zstd) and flush it to disk.

    ``uscc`` and ``name`` are written as plain strings: as dictionaries, every row group would repeat the whole
    dictionary of firms; sorted plain strings compress to almost nothing and keep per-group statistics exact.
    """
    for name in ("uscc", "name"):
        table = table.set_column(table.schema.get_field_index(name), name, table.column(name).cast(pa.string()))
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP)
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def firm_trace(path: Path, uscc: str) -> pa.Table:
    """The trace rows of one firm (every rule set, every criterion), reading only the row groups that can hold it.

    Traces are written sorted by firm (:func:`firm_major`); the min/max statistics of each row group's ``uscc``
    say where the firm can be, so one firm of a multi-million-row trace costs one row group.
    """
    file = pq.ParquetFile(path)
    column = file.schema_arrow.get_field_index("uscc")
    groups = []
    for g in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(g).column(column).statistics
        if stats is None or not stats.has_min_max or stats.min <= uscc <= stats.max:
            groups.append(g)
    table = file.read_row_groups(groups)
    return table.filter(pc.equal(pc.cast(table.column("uscc"), pa.string()), uscc))


def firm_records(table: pa.Table) -> dict[str, dict[str, One]]:
    """One firm's trace rows as the per-criterion records the explainer reads: rule-set id → criterion id → One."""
    out: dict[str, dict[str, One]] = {}
    cols = {name: table.column(name).to_pylist() for name in
            ("ruleset_id", "criterion_id", "value", "threshold", "status", "points_min", "points_max",
             "band_index", "text")}
    for i in range(table.num_rows):
        out.setdefault(cols["ruleset_id"][i], {})[cols["criterion_id"][i]] = One(
            _num(cols["value"][i]), _num(cols["threshold"][i]), _STATUS_CODE[cols["status"][i]],
            _num(cols["points_min"][i]), _num(cols["points_max"][i]), int(cols["band_index"][i]), cols["text"][i])
    return out


def _num(x: float | None) -> float:
    return math.nan if x is None else float(x)


def firms_of(table: pa.Table, usccs: list[str]) -> pa.Table:
    """The rows of several firms (used by replay to compare old and new traces of the firms that differ)."""
    return table.filter(pc.is_in(pc.cast(table.column("uscc"), pa.string()), pa.array(usccs, pa.string())))
