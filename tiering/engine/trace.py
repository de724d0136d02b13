"""The full per-criterion trace of an evaluation as one columnar table (firm × rule set × criterion).

Rows are firm-major — every criterion of every rule set for one firm, then the next firm — and firms come in
the evaluation's order (sorted by 统一社会信用代码, whatever the register's row order), so one firm's trace is one
contiguous run of rows. The trace is built in batches of whole firms straight from the evaluator's arrays; every
string is dictionary-encoded, and a batch's firm dictionary holds only that batch's firms, so a Parquet row group
never repeats the whole register.

Beyond what a reader wants (band labels, statuses in words) each row keeps ``band_index`` and ``text`` — the band
number and the text a text criterion saw (e.g. 行业), or the derivation note of a value read under a declared
equivalent (销售收入由 营业收入 …) — so the stored trace alone rebuilds every record that
``explain`` prints (the audit store relies on this).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce

import numpy as np
import pandas as pd
import pyarrow as pa

from tiering.engine.evaluate import Evaluation
from tiering.rules.bands import MISSING, OUT_OF_DOMAIN
from tiering.rules.nodes import (
    GIVEN_TEXT,
    NO_BAND,
    STATUS_TEXT,
    BestOfNode,
    ClassesNode,
    GroupNode,
    Node,
    PointsNode,
    ScoreNode,
    TestNode,
    Vec,
)

ROWS_PER_BATCH = 1 << 18
"""About this many rows per batch (and per Parquet row group): whole firms, at least one."""

_TEXT = pa.dictionary(pa.int32(), pa.string())
_NULLABLE = ("value", "threshold", "points_min", "points_max", "text")
TRACE_SCHEMA = pa.schema([
    pa.field(name, kind, nullable=name in _NULLABLE) for name, kind in (
        ("uscc", _TEXT), ("name", _TEXT), ("ruleset_id", _TEXT), ("criterion_id", _TEXT), ("criterion", _TEXT),
        ("kind", _TEXT), ("value", pa.float64()), ("threshold", pa.float64()), ("status", _TEXT),
        ("points_min", pa.float64()), ("points_max", pa.float64()), ("band", _TEXT), ("document", _TEXT),
        ("clause", _TEXT), ("provisional", _TEXT), ("band_index", pa.int16()), ("text", _TEXT),
    )
])
"""Columns of every trace, in order; text columns are dictionary-encoded strings. Only a value, threshold,
points range or text can be missing (null); declaring the rest non-null spares Parquet a definition level
per cell."""
READABLE_COLUMNS = [f.name for f in TRACE_SCHEMA if f.name != "band_index"]
"""The columns a person reads (the 追溯 sheets); ``band_index`` is the band label's number, for the audit store."""

_CONSTANT = ("ruleset_id", "criterion_id", "criterion", "kind", "document", "clause", "provisional")
_STATUS_CODES = sorted(STATUS_TEXT)
_STATUS_DICT = pa.array([STATUS_TEXT[c] for c in _STATUS_CODES], pa.string())
_BAND_OFFSET = -OUT_OF_DOMAIN  # band indices start at OUT_OF_DOMAIN = -3


def band_labels(node: Node) -> dict[int, str]:
    """Labels of the band indices a node can report (points bands, chosen option, qualifying path)."""
    labels: dict[int, str] = {NO_BAND: ""}
    table = None
    if isinstance(node, PointsNode | ClassesNode):
        table = node.table
    elif isinstance(node, TestNode):
        table = node.threshold.table
    if table is not None:
        for i, b in enumerate(table.bands):
            labels[i] = b.label or f"{b.min}–{b.max}"
        labels[MISSING] = "缺失数据"
        labels[OUT_OF_DOMAIN] = "超出取值范围"
    elif isinstance(node, ScoreNode) and node.override is not None:
        labels.update(GIVEN_TEXT)
    elif isinstance(node, BestOfNode) or (isinstance(node, GroupNode) and node.how == "paths"):
        for i, child in enumerate(node.children):
            labels[i] = child.id
    return labels


@dataclass
class _Node:
    """One criterion's result over all firms, with its band and text numbers already mapped to the dictionaries."""

    result: Vec
    band_code: np.ndarray
    text_code: np.ndarray | None


class _Criteria:
    """One number of every criterion (its value, threshold, status …), laid out firm-major for a batch of firms:
    each firm's criteria side by side.

    Most criteria have one number for every firm (a fixed threshold, no points, no band): those come from one row
    of them tiled once per batch size, and only the others are copied firm by firm — the copy that turns the
    criteria's arrays into rows costs about 2.5 ns a cell, and most cells of a threshold, a points range or a band
    are such constants."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays
        self.varying = [j for j, a in enumerate(arrays) if not _constant(a)]
        dtype = reduce(np.promote_types, (a.dtype for a in arrays), np.dtype(np.int8))  # as np.stack would
        self.row = np.array([a[0] if len(a) else 0 for a in arrays], dtype=dtype)
        self._tiles: dict[int, np.ndarray] = {}

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Firms ``start``..``stop - 1``, firm-major, as one flat array (a new one each time)."""
        m = stop - start
        if m not in self._tiles:
            self._tiles[m] = np.tile(self.row, (m, 1))
        out = self._tiles[m].copy()
        for j in self.varying:
            out[:, j] = self.arrays[j][start:stop]
        return out.ravel()


def _constant(a: np.ndarray) -> bool:
    """Whether every element of ``a`` has the first one's bits (so NaN and −0.0 are kept as they are)."""
    bits = a.view(f"u{a.itemsize}")
    return len(a) == 0 or bool((bits[:64] == bits[0]).all() and (bits == bits[0]).all())


class _Dictionary:
    """Distinct texts of one column, numbered as first met."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def array(self) -> pa.Array:
        return pa.array(list(self.codes), pa.string())


class TraceBuilder:
    """Everything per criterion that trace batches are cut from; cut batches of any range of firms."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.n = len(evaluation.firms)
        # straight from the object arrays of str: a NumPy unicode array would become a ChunkedArray (slow slices)
        self.firms = pa.array(np.asarray(evaluation.firms, dtype=object), pa.string())
        self.names = pa.array(np.asarray(evaluation.names, dtype=object), pa.string(), from_pandas=True)
        constants = {key: _Dictionary() for key in _CONSTANT}
        bands, texts = _Dictionary(), _Dictionary()
        codes: dict[str, list[int]] = {key: [] for key in _CONSTANT}
        self.nodes: list[_Node] = []
        for r in evaluation.results:
            for node in r.ruleset.root.walk():
                v = r.nodes[node.id]
                fixed = {"ruleset_id": r.ruleset.id, "criterion_id": node.id, "criterion": node.label,
                         "kind": node.kind, "document": node.source.document, "clause": node.source.clause,
                         "provisional": "是" if node.provisional else "否"}
                for key, text in fixed.items():
                    codes[key].append(constants[key].code(text))
                self.nodes.append(_Node(v, _band_codes(node, v.band, bands), _text_codes(v.text, texts)))
        self.constant = {key: (np.asarray(codes[key], dtype=np.int32), constants[key].array()) for key in _CONSTANT}
        self.criteria = {attr: _Criteria([getattr(node.result, attr) for node in self.nodes])
                         for attr in ("value", "threshold", "pmin", "pmax", "status", "band")}
        self.band_codes = _Criteria([node.band_code for node in self.nodes])
        no_text = np.broadcast_to(np.int32(-1), self.n)
        self.text_codes = _Criteria([no_text if node.text_code is None else node.text_code for node in self.nodes])
        self.band_dictionary, self.text_dictionary = bands.array(), texts.array()
        self._shared: dict[int, tuple[np.ndarray, dict[str, pa.Array]]] = {}
        self.status_lut = np.full(4, -1, dtype=np.int32)
        for i, code in enumerate(_STATUS_CODES):
            self.status_lut[code + 1] = i

    @property
    def rows(self) -> int:
        """Rows of the whole trace: firms × criteria."""
        return self.n * len(self.nodes)

    def batches(self, start: int = 0, stop: int | None = None,
                rows_per_batch: int = ROWS_PER_BATCH) -> Iterator[pa.RecordBatch]:
        """Firms ``start``..``stop - 1`` in batches of whole firms (about ``rows_per_batch`` rows each)."""
        stop = self.n if stop is None else stop
        step = max(1, rows_per_batch // max(1, len(self.nodes)))
        for first in range(start, stop, step):
            yield self.batch(first, min(stop, first + step))

    def batch(self, start: int, stop: int) -> pa.RecordBatch:
        """Rows of firms ``start``..``stop - 1``, firm-major."""
        m, k = stop - start, len(self.nodes)

        def stacked(attr: str) -> np.ndarray:
            """One of the results' arrays, firm-major: each firm's criteria side by side."""
            return self.criteria[attr].rows(start, stop)

        firm, constant = self._same_for(m)
        columns: dict[str, pa.Array] = {
            "uscc": _coded(firm, self.firms.slice(start, m)),
            "name": _coded(firm, self.names.slice(start, m)),
            **constant,
        }
        for key, attr in (("value", "value"), ("threshold", "threshold"), ("points_min", "pmin"),
                          ("points_max", "pmax")):
            numbers = stacked(attr)
            columns[key] = _with_nulls(pa.float64(), numbers, np.isnan(numbers))
        columns["status"] = _coded(self.status_lut[stacked("status") + 1], _STATUS_DICT)
        columns["band"] = _coded(self.band_codes.rows(start, stop), self.band_dictionary)
        columns["band_index"] = pa.array(stacked("band").astype(np.int16, copy=False), pa.int16())
        columns["text"] = self._text(start, stop, m * k)
        return pa.RecordBatch.from_arrays([columns[f.name] for f in TRACE_SCHEMA], schema=TRACE_SCHEMA)

    def _same_for(self, m: int) -> tuple[np.ndarray, dict[str, pa.Array]]:
        """What every batch of ``m`` firms shares: the firm index of each row and the criterion columns (all
        batches but the last have the same size, so these are built once)."""
        if m not in self._shared:
            k = len(self.nodes)
            self._shared[m] = (np.repeat(np.arange(m, dtype=np.int32), k), {
                key: _coded(np.tile(node_codes, m), dictionary)
                for key, (node_codes, dictionary) in self.constant.items()
            })
        return self._shared[m]

    def _text(self, start: int, stop: int, rows: int) -> pa.Array:
        if all(node.text_code is None for node in self.nodes):
            return _coded(pa.nulls(rows, pa.int32()), self.text_dictionary)
        codes = self.text_codes.rows(start, stop)
        return _coded(_with_nulls(pa.int32(), codes, codes < 0), self.text_dictionary)


def _coded(codes: np.ndarray | pa.Array, dictionary: pa.Array) -> pa.DictionaryArray:
    # every code was made against this very dictionary, so arrow's bounds check (a full pass) is skipped
    return pa.DictionaryArray.from_arrays(codes, dictionary, safe=False)


def _with_nulls(kind: pa.DataType, values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """``values`` as an arrow array, null where ``missing``; ~15x faster than ``pa.array(..., mask=...)``."""
    valid = np.packbits(~missing, bitorder="little")
    return pa.Array.from_buffers(kind, len(values), [pa.py_buffer(valid), pa.py_buffer(values)])


def _band_codes(node: Node, band: np.ndarray, dictionary: _Dictionary) -> np.ndarray:
    labels = band_labels(node)
    top = max(max(labels), int(band.max(initial=NO_BAND)))
    for idx in range(top + 1):
        labels.setdefault(idx, str(idx))
    lut = np.zeros(top + 1 + _BAND_OFFSET, dtype=np.int32)
    for idx, text in labels.items():
        lut[idx + _BAND_OFFSET] = dictionary.code(text)
    return lut[band.astype(np.int64) + _BAND_OFFSET]


def _text_codes(text: np.ndarray | None, dictionary: _Dictionary) -> np.ndarray | None:
    if text is None:
        return None
    local, distinct = pd.factorize(pd.Series(text, dtype=object))  # None and NaN (no text) get code -1
    lut = np.array([dictionary.code(str(t)) for t in distinct] + [-1], dtype=np.int32)
    return lut[local]


def trace_batches(evaluation: Evaluation, rows_per_batch: int = ROWS_PER_BATCH) -> Iterator[pa.RecordBatch]:
    """The trace in batches of whole firms (about ``rows_per_batch`` rows each), in firm-major order."""
    return TraceBuilder(evaluation).batches(rows_per_batch=rows_per_batch)


def trace_table(evaluation: Evaluation) -> pa.Table:
    """One row per firm × rule set × criterion: value, threshold, status, points range, band and source."""
    return pa.Table.from_batches(list(trace_batches(evaluation)), schema=TRACE_SCHEMA)
