"""The full per-criterion trace of an evaluation as one columnar table (firm × rule set × criterion).

Built straight from the evaluator's arrays: strings (ids, labels, sources, band labels) are dictionary-encoded,
so a million firms cost index arrays, not millions of Python strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from tiering.engine.evaluate import Evaluation
from tiering.rules.bands import MISSING, OUT_OF_DOMAIN
from tiering.rules.nodes import NO_BAND, STATUS_TEXT, BestOfNode, ClassesNode, GroupNode, Node, PointsNode, TestNode

_STATUS_CODES = sorted(STATUS_TEXT)
_STATUS_DICT = pa.array([STATUS_TEXT[c] for c in _STATUS_CODES])


def band_labels(node: Node) -> dict[int, str]:
    """Labels of the band indices a node can report (points bands, chosen option, qualifying path)."""
    labels: dict[int, str] = {NO_BAND: ""}
    if isinstance(node, PointsNode | ClassesNode) and node.table is not None:
        for i, b in enumerate(node.table.bands):
            labels[i] = b.label or f"{b.min}–{b.max}"
        labels[MISSING] = "缺失数据"
        labels[OUT_OF_DOMAIN] = "超出取值范围"
    elif isinstance(node, TestNode) and node.threshold.table is not None:
        for i, b in enumerate(node.threshold.table.bands):
            labels[i] = b.label or f"{b.min}–{b.max}"
        labels[MISSING] = "缺失数据"
        labels[OUT_OF_DOMAIN] = "超出取值范围"
    elif isinstance(node, BestOfNode) or (isinstance(node, GroupNode) and node.how == "paths"):
        for i, child in enumerate(node.children):
            labels[i] = child.id
    return labels


def trace_table(evaluation: Evaluation) -> pa.Table:
    """One row per firm × rule set × criterion: value, threshold, status, points range, band and source."""
    n = len(evaluation.firms)
    firm_idx = np.arange(n, dtype=np.int32)
    name_codes, name_values = pd.factorize(pd.Series(evaluation.names, dtype=object).astype(str))
    name_codes = name_codes.astype(np.int32)
    texts = _Texts()
    nodes = [(r, node) for r in evaluation.results for node in r.ruleset.root.walk()]
    total = n * len(nodes)
    # one array per column, filled slice by slice: no per-node temporaries, no final concatenation
    joined = {k: np.empty(total, dtype=np.int32) for k in (
        "firm", "name", "ruleset_id", "criterion_id", "criterion", "kind", "status", "band", "document", "clause",
        "provisional")}
    joined.update({k: np.empty(total, dtype=float) for k in ("value", "threshold", "points_min", "points_max")})
    status_lut = np.full(4, -1, dtype=np.int32)
    for i, code in enumerate(_STATUS_CODES):
        status_lut[code + 1] = i
    for k, (r, node) in enumerate(nodes):
        v = r.nodes[node.id]
        rows = slice(k * n, (k + 1) * n)
        constant = {"ruleset_id": r.ruleset.id, "criterion_id": node.id, "criterion": node.label,
                    "kind": node.kind, "document": node.source.document, "clause": node.source.clause,
                    "provisional": "是" if node.provisional else "否"}
        for key, text in constant.items():
            joined[key][rows] = texts.code(key, text)
        labels = band_labels(node)
        top = max(max(labels), int(v.band.max(initial=NO_BAND)))
        lut = np.zeros(top + 4, dtype=np.int32)  # band indices start at OUT_OF_DOMAIN = -3
        for idx in range(top + 1):
            labels.setdefault(idx, str(idx))
        for idx, text in labels.items():
            lut[idx + 3] = texts.code("band", text)
        joined["firm"][rows] = firm_idx
        joined["name"][rows] = name_codes
        joined["value"][rows] = v.value
        joined["threshold"][rows] = v.threshold
        joined["status"][rows] = status_lut[v.status + 1]
        joined["points_min"][rows] = v.pmin
        joined["points_max"][rows] = v.pmax
        joined["band"][rows] = lut[v.band.astype(np.int32) + 3]
    out: dict[str, pa.Array] = {
        "uscc": pa.DictionaryArray.from_arrays(joined["firm"], pa.array(evaluation.firms.astype(str))),
        "name": pa.DictionaryArray.from_arrays(joined["name"], pa.array(np.asarray(name_values, dtype=str))),
    }
    for key in ("ruleset_id", "criterion_id", "criterion", "kind"):
        out[key] = texts.column(key, joined[key])
    for key in ("value", "threshold"):
        out[key] = pa.array(joined[key], pa.float64(), from_pandas=True)
    out["status"] = pa.DictionaryArray.from_arrays(joined["status"], _STATUS_DICT)
    for key in ("points_min", "points_max"):
        out[key] = pa.array(joined[key], pa.float64(), from_pandas=True)
    for key in ("band", "document", "clause", "provisional"):
        out[key] = texts.column(key, joined[key])
    return pa.table(out)


class _Texts:
    """Distinct texts per column, numbered as they are first met (dictionary-encoded columns)."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, int]] = {}

    def code(self, column: str, text: str) -> int:
        seen = self.values.setdefault(column, {})
        return seen.setdefault(text, len(seen))

    def column(self, column: str, codes: np.ndarray) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(codes, pa.array(list(self.values.get(column, {})), pa.string()))
