"""Per-firm tier summary: the highest rung reached on the ladder and every programme qualified, in one sortable column.

The ladder is the rung order the rule sets declare (``rung:`` in rules/*.yaml): 1 科技型中小企业 → 2 雏鹰 → 3 瞪羚 →
4 科技小巨人 → 5 科技领军培育 → 6 科技领军. Programmes without a rung are side programmes — 高新技术企业, the 专精特新
family, the seeds' 科技型 notion and the comparison definitions of 瞪羚 and high growth: they are listed among the
programmes qualified but never count as a rung, because they are not steps of the Tianjin ladder (a 高企 may be
anywhere on it). A programme whose rule set is provisional carries "（暂定）" wherever it is named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiering.engine.evaluate import Evaluation, RuleSetResult
from tiering.ladder.rungs import NO_RUNG, NO_RUNG_TEXT, highest_rung, rungs_of
from tiering.patterns import distinct_rows
from tiering.rules.nodes import PASS, UNKNOWN, ClassesNode

SEP = "、"


def _order(evaluation: Evaluation) -> list[RuleSetResult]:
    """Ladder programmes by rung, then side programmes by programme id: the order programmes are listed in."""
    def key(r: RuleSetResult) -> tuple[int, int, str]:
        rung = r.ruleset.meta.rung
        return (0, rung, r.ruleset.program) if rung is not None else (1, 0, r.ruleset.program)
    return sorted(evaluation.results, key=key)


def _class_labels(result: RuleSetResult) -> np.ndarray:
    """Each firm's sub-class in this rule set (e.g. 3–10亿元), '' when the rule set has no classes node."""
    labels = np.full(len(result.outcome), "", dtype=object)
    for node in result.ruleset.root.walk():
        if isinstance(node, ClassesNode):
            band = result.nodes[node.id].band
            for b in np.unique(band[band >= 0]).tolist():  # a label per class, not per firm
                labels[band == b] = node.label_of(b) or ""
            break
    return labels


def _firm_by_programme(order: list[RuleSetResult], outcome: int, n: int) -> np.ndarray:
    """Whether each firm (row) has ``outcome`` in each programme (column, in ``order``)."""
    if not order:
        return np.zeros((n, 0), dtype=bool)
    return np.stack([r.outcome == outcome for r in order], axis=1)


def _listed(chosen: np.ndarray, titles: list[str], empty: str) -> np.ndarray:
    """Per firm (row of ``chosen``, firm × programme), the titles of its programmes joined, ``empty`` for none;
    each text made once per distinct row (tiering.patterns)."""
    patterns, inverse = distinct_rows(chosen)
    texts = [SEP.join(t for t, on in zip(titles, row, strict=True) if on) or empty for row in patterns.tolist()]
    return np.array(texts, dtype=object)[inverse]


def tier_summary(evaluation: Evaluation, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per firm: uscc, name, rung (0–6, :func:`tiering.ladder.rungs.highest_rung` of the run's
    ``outcomes``), highest (that rung's programme, e.g. "科技小巨人（暂定）（1–3亿元）", or "未入梯队"; the rung
    number is the rung column's), programs (every programme qualified, ladder first), pending (programmes
    undetermined for missing data) and tier — "rung highest｜programs", the one text column to sort by."""
    rung = highest_rung(outcomes, rungs_of([r.ruleset for r in evaluation.results]))
    rung = rung.reindex(evaluation.firms, fill_value=NO_RUNG).to_numpy(dtype=np.int64)
    n = len(evaluation.firms)
    highest = np.full(n, NO_RUNG_TEXT, dtype=object)
    named = rung == NO_RUNG
    order = _order(evaluation)
    for result in order:
        if result.ruleset.meta.rung is None:
            continue
        firms = np.flatnonzero((result.outcome == PASS) & (rung == result.ruleset.meta.rung) & ~named)
        classes = _class_labels(result)[firms]
        for label in dict.fromkeys(classes.tolist()):
            highest[firms[classes == label]] = result.ruleset.shown_title + (f"（{label}）" if label else "")
        named[firms] = True
    titles = [r.ruleset.shown_title for r in order]
    listed = _listed(_firm_by_programme(order, PASS, n), titles, "—")
    pending = _listed(_firm_by_programme(order, UNKNOWN, n), titles, "")
    return pd.DataFrame({
        "uscc": evaluation.firms,
        "name": evaluation.names,
        "rung": rung,
        "highest": highest,
        "programs": listed,
        "pending": pending.tolist(),
        "tier": [f"{r} {h}｜{p}" for r, h, p in zip(rung.tolist(), highest.tolist(), listed.tolist(), strict=True)],
    })
