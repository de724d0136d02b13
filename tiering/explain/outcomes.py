"""Per firm × rule set outcomes, with the unmet and undetermined criteria in plain Chinese.

The reason texts depend only on which criteria passed, failed or lacked data, so they are built once per
distinct status pattern and shared by every firm with that pattern — fast on a million firms.
"""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pandas as pd

from tiering.engine.evaluate import Evaluation, RuleSetResult
from tiering.outcome import OUTCOME_TEXT, OUTCOME_ZH
from tiering.patterns import distinct_rows
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import (
    FAIL,
    UNKNOWN,
    BestOfNode,
    GroupNode,
    Node,
    PointsNode,
    RequiresNode,
    ScoreNode,
    TestNode,
)

_LEAVES = (TestNode, ScoreNode, RequiresNode)


def _reasons(node: Node, status: dict[str, int], want: int) -> list[str]:
    """Texts of the criteria with status ``want`` that make ``node`` fail (or stay undetermined)."""
    if status[node.id] != want:
        return []
    if isinstance(node, _LEAVES):
        return [node.label]
    if isinstance(node, GroupNode) and node.how in ("any", "paths"):
        out: list[str] = []
        collapsed = False
        for child in node.children:
            if isinstance(child, _LEAVES):
                collapsed = collapsed or status[child.id] == want
            else:
                out += _reasons(child, status, want)
        return ([f"{node.label}：均不满足" if want == FAIL else f"{node.label}：缺数据"] if collapsed else []) + out
    return [text for child in node.children for text in _reasons(child, status, want)]


def reason_texts(ruleset: CompiledRuleSet, result: RuleSetResult) -> tuple[np.ndarray, np.ndarray]:
    """For every firm: the unmet criteria and the criteria lacking data, each joined with '；'.

    Two sibling criteria that test one condition in two ways (e.g. 119号 by 行业代码 and by 行业名称) share a label
    and are named once, so the reason does not depend on which columns the register holds."""
    nodes = [n for n in ruleset.root.walk() if not isinstance(n, PointsNode | BestOfNode)]
    matrix = np.vstack([result.nodes[n.id].status for n in nodes]).T
    patterns, inverse = distinct_rows(matrix)
    failed, missing = [], []
    for pattern in patterns:
        status = {n.id: int(s) for n, s in zip(nodes, pattern, strict=True)}
        failed.append("；".join(text for text, _ in groupby(_reasons(ruleset.root, status, FAIL))))
        missing.append("；".join(text for text, _ in groupby(_reasons(ruleset.root, status, UNKNOWN))))
    return np.array(failed, dtype=object)[inverse], np.array(missing, dtype=object)[inverse]


def outcome_frame(evaluation: Evaluation) -> pd.DataFrame:
    """One row per firm × rule set: outcome, score (a range while data is missing), path and reasons."""
    frames = []
    for r in evaluation.results:
        rs = r.ruleset
        score = rs.score_node()
        paths = rs.paths_node()
        failed, missing = reason_texts(rs, r)
        outcome = r.outcome
        path = np.full(len(outcome), "", dtype=object)
        if paths is not None:
            band = r.nodes[paths.id].band
            labels = np.array([c.label for c in paths.children] + [""], dtype=object)
            path = labels[np.where((band >= 0) & (outcome == 1), band, len(paths.children))]
        frames.append(pd.DataFrame({
            "uscc": evaluation.firms,
            "name": evaluation.names,
            "program": rs.program,
            "program_title": rs.meta.program_title,
            "ruleset_id": rs.id,
            "version": rs.version,
            "ruleset_status": rs.meta.status.value,
            "provisional": "是" if rs.provisional else "否",
            "outcome": pd.Categorical.from_codes(outcome + 1, [OUTCOME_TEXT[c] for c in (-1, 0, 1)]),
            "outcome_zh": pd.Categorical.from_codes(outcome + 1, [OUTCOME_ZH[c] for c in (-1, 0, 1)]),
            "score_min": r.nodes[score.id].pmin if score is not None else np.nan,
            "score_max": r.nodes[score.id].pmax if score is not None else np.nan,
            "path": path,
            "failed": failed,
            "missing": missing,
        }))
    return pd.concat(frames, ignore_index=True)


def summary_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Counts per outcome per rule set (the table classify ends with)."""
    table = (outcomes.groupby(["ruleset_id", "program_title", "outcome"], observed=False, sort=False).size()
             .unstack("outcome", fill_value=0).reset_index())
    for col in ("qualified", "not_qualified", "undetermined"):
        if col not in table:
            table[col] = 0
    table["total"] = table[["qualified", "not_qualified", "undetermined"]].sum(axis=1)
    return table[["ruleset_id", "program_title", "qualified", "not_qualified", "undetermined", "total"]]
