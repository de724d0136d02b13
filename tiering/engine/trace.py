"""The full per-criterion trace of an evaluation as one columnar table (firm × rule set × criterion).

Built straight from the evaluator's arrays: strings (ids, labels, sources, band labels) are dictionary-encoded,
so a million firms cost index arrays, not millions of Python strings.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tiering.engine.evaluate import Evaluation
from tiering.rules.bands import MISSING, OUT_OF_DOMAIN
from tiering.rules.nodes import NO_BAND, STATUS_TEXT, BestOfNode, GroupNode, Node, PointsNode, TestNode

_STATUS_CODES = sorted(STATUS_TEXT)
_STATUS_DICT = pa.array([STATUS_TEXT[c] for c in _STATUS_CODES])


def band_labels(node: Node) -> dict[int, str]:
    """Labels of the band indices a node can report (points bands, chosen option, qualifying path)."""
    labels: dict[int, str] = {NO_BAND: ""}
    if isinstance(node, PointsNode) and node.table is not None:
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
    parts: dict[str, list] = {k: [] for k in ("firm", "rs", "crit", "value", "threshold", "status", "pmin", "pmax",
                                              "band")}
    rs_ids, crit_keys, crit_meta, band_dict = [], [], [], [""]
    band_pos = {"": 0}
    for r in evaluation.results:
        rs_code = len(rs_ids)
        rs_ids.append(r.ruleset.id)
        for node in r.ruleset.root.walk():
            v = r.nodes[node.id]
            code = len(crit_keys)
            crit_keys.append(node.id)
            crit_meta.append((node.label, node.kind, node.source.document, node.source.clause,
                              "是" if node.provisional else "否"))
            labels = band_labels(node)
            lut = {}
            for idx, text in labels.items():
                if text not in band_pos:
                    band_pos[text] = len(band_dict)
                    band_dict.append(text)
                lut[idx] = band_pos[text]
            keys = np.array(sorted(lut), dtype=np.int16)
            vals = np.array([lut[k] for k in keys], dtype=np.int32)
            band_codes = vals[np.searchsorted(keys, v.band)]
            parts["firm"].append(firm_idx)
            parts["rs"].append(np.full(n, rs_code, dtype=np.int32))
            parts["crit"].append(np.full(n, code, dtype=np.int32))
            parts["value"].append(v.value)
            parts["threshold"].append(v.threshold)
            parts["status"].append(np.searchsorted(_STATUS_CODES, v.status).astype(np.int32))
            parts["pmin"].append(v.pmin)
            parts["pmax"].append(v.pmax)
            parts["band"].append(band_codes)
    cat = {k: np.concatenate(v) if v else np.array([]) for k, v in parts.items()}
    crit = cat["crit"]

    def meta_column(i: int) -> pa.DictionaryArray:
        return _dictionary(crit, [m[i] for m in crit_meta])

    return pa.table({
        "uscc": _dictionary(cat["firm"], list(evaluation.firms.astype(str))),
        "name": _dictionary(cat["firm"], list(evaluation.names.astype(str))),
        "ruleset_id": _dictionary(cat["rs"], rs_ids),
        "criterion_id": _dictionary(crit, crit_keys),
        "criterion": meta_column(0),
        "kind": meta_column(1),
        "value": pa.array(cat["value"], pa.float64(), from_pandas=True),
        "threshold": pa.array(cat["threshold"], pa.float64(), from_pandas=True),
        "status": pa.DictionaryArray.from_arrays(pa.array(cat["status"], pa.int32()), _STATUS_DICT),
        "points_min": pa.array(cat["pmin"], pa.float64(), from_pandas=True),
        "points_max": pa.array(cat["pmax"], pa.float64(), from_pandas=True),
        "band": _dictionary(cat["band"], band_dict),
        "document": meta_column(2),
        "clause": meta_column(3),
        "provisional": meta_column(4),
    })


def _dictionary(codes: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """A dictionary column whose row i shows ``values[codes[i]]``, with each distinct text stored once."""
    uniq, inverse = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return pa.DictionaryArray.from_arrays(pa.array(inverse.reshape(-1)[codes], pa.int32()), pa.array(uniq))
