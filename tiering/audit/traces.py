"""Reading the audit store's trace files: one firm's rows, and the per-criterion records they rebuild.

A stored trace is the engine's trace file as the run wrote it (:mod:`tiering.output.trace_file`). Its
``band_index`` and ``text`` columns carry what the explanation needs beyond the readable columns, so
``audit show`` rebuilds the exact per-criterion records years later without evaluating anything again.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tiering.engine.trace import TRACE_SCHEMA
from tiering.output.trace_file import trace_parts
from tiering.rules.nodes import STATUS_TEXT, One

_STATUS_CODE = {text: code for code, text in STATUS_TEXT.items()}


def firm_trace(path: Path, uscc: str) -> pa.Table:
    """The trace rows of one firm (every rule set, every criterion), reading only the row groups that can hold it.

    Traces are sorted by firm (see :mod:`tiering.engine.trace`); the min/max statistics of each row group's
    ``uscc`` say where the firm can be, so one firm of a multi-million-row trace costs one row group.
    """
    pieces = []
    for part in trace_parts(path):
        file = pq.ParquetFile(part)
        column = file.schema_arrow.get_field_index("uscc")
        groups = []
        for g in range(file.metadata.num_row_groups):
            stats = file.metadata.row_group(g).column(column).statistics
            if stats is None or not stats.has_min_max or stats.min <= uscc <= stats.max:
                groups.append(g)
        if groups:
            table = file.read_row_groups(groups)
            pieces.append(table.filter(pc.equal(pc.cast(table.column("uscc"), pa.string()), uscc)))
    return pa.concat_tables(pieces) if pieces else TRACE_SCHEMA.empty_table()


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
