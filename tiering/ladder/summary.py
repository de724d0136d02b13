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
            for i in np.flatnonzero(band >= 0):
                labels[i] = node.label_of(int(band[i])) or ""
            break
    return labels


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
    programs: list[list[str]] = [[] for _ in range(n)]
    pending: list[list[str]] = [[] for _ in range(n)]
    for result in _order(evaluation):
        title = result.ruleset.shown_title
        qualified = result.outcome == PASS
        for i in np.flatnonzero(qualified):
            programs[i].append(title)
        for i in np.flatnonzero(result.outcome == UNKNOWN):
            pending[i].append(title)
        if result.ruleset.meta.rung is None:
            continue
        classes = _class_labels(result)
        for i in np.flatnonzero(qualified & (rung == result.ruleset.meta.rung) & ~named):
            highest[i] = title + (f"（{classes[i]}）" if classes[i] else "")
            named[i] = True
    listed = np.array([SEP.join(p) if p else "—" for p in programs], dtype=object)
    return pd.DataFrame({
        "uscc": evaluation.firms,
        "name": evaluation.names,
        "rung": rung,
        "highest": highest,
        "programs": listed,
        "pending": [SEP.join(p) for p in pending],
        "tier": [f"{r} {h}｜{p}" for r, h, p in zip(rung, highest, listed, strict=True)],
    })
