"""Per firm × rule set outcomes, with the unmet and undetermined criteria in plain Chinese.

The reason texts depend only on which criteria passed, failed or lacked data, so they are built once per
distinct status pattern and shared by every firm with that pattern — fast on a million firms.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

import numpy as np
import pandas as pd

from tiering import strings
from tiering.engine.evaluate import Evaluation, RuleSetResult
from tiering.outcome import OUTCOME_TEXT, OUTCOME_ZH
from tiering.patterns import distinct_rows
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import (
    FAIL,
    NO_BAND,
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

SCORE_SOURCES = ("按各项计算", "按登记的得分", "")
"""Where a firm's score comes from (the 得分来源 column): summed from the parts, the register's score (a score's
``override``: an explicit override of the computed sum), or nothing (a rule set without a score)."""


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


def reason_patterns(ruleset: CompiledRuleSet, result: RuleSetResult) -> tuple[list[str], list[str], np.ndarray]:
    """The reason texts of every distinct status pattern — the unmet criteria and the criteria lacking data, each
    joined with '；' — and each firm's pattern number.

    Two sibling criteria that test one condition in two ways (e.g. 119号 by 行业代码 and by 行业名称) share a label
    and are named once, so the reason does not depend on which columns the register holds."""
    nodes = [n for n in ruleset.root.walk() if not isinstance(n, PointsNode | BestOfNode)]
    matrix = np.vstack([result.nodes[n.id].status for n in nodes]).T
    patterns, inverse = distinct_rows(matrix)
    ids = [n.id for n in nodes]
    failed, missing = [], []
    for pattern in patterns.tolist():
        status = dict(zip(ids, pattern, strict=True))
        failed.append("；".join(text for text, _ in groupby(_reasons(ruleset.root, status, FAIL))))
        missing.append("；".join(text for text, _ in groupby(_reasons(ruleset.root, status, UNKNOWN))))
    return failed, missing, inverse


def reason_texts(ruleset: CompiledRuleSet, result: RuleSetResult) -> tuple[np.ndarray, np.ndarray]:
    """For every firm: the unmet criteria and the criteria lacking data, each joined with '；' (see
    :func:`reason_patterns`)."""
    failed, missing, inverse = reason_patterns(ruleset, result)
    return np.array(failed, dtype=object)[inverse], np.array(missing, dtype=object)[inverse]


def outcome_frame(evaluation: Evaluation) -> pd.DataFrame:
    """One row per firm × rule set (rule set by rule set, firms in the evaluation's order): outcome, score (a range
    while data is missing) and where it comes from (:data:`SCORE_SOURCES`), path and reasons.

    Text columns are made from their distinct texts (:mod:`tiering.strings`): each firm's code and name once (every
    rule set's rows share those arrays), each rule set's constants once, each reason once per status pattern."""
    n = len(evaluation.firms)
    results = evaluation.results
    # texts with a number per row, numbered across rule sets: path labels, failed and missing reasons
    paths: list[str] = []
    failed_texts: list[str] = []
    missing_texts: list[str] = []
    path_codes, failed_codes, missing_codes, outcomes, score_min, score_max = [], [], [], [], [], []
    source_codes = []
    for r in results:
        rs = r.ruleset
        score = rs.score_node()
        chosen = rs.paths_node()
        failed, missing, inverse = reason_patterns(rs, r)
        failed_codes.append(inverse + len(failed_texts))
        missing_codes.append(inverse + len(missing_texts))
        failed_texts += failed
        missing_texts += missing
        outcome = r.outcome
        labels = [c.label for c in chosen.children] if chosen is not None else []
        if chosen is not None:
            band = r.nodes[chosen.id].band
            code = np.where((band >= 0) & (outcome == 1), band, len(labels))
        else:
            code = np.zeros(len(outcome), dtype=np.int64)
        path_codes.append(code + len(paths))
        paths += [*labels, ""]
        outcomes.append(outcome + 1)
        score_min.append(r.nodes[score.id].pmin if score is not None else np.full(n, np.nan))
        score_max.append(r.nodes[score.id].pmax if score is not None else np.full(n, np.nan))
        if score is None:
            source_codes.append(np.full(n, 2, dtype=np.int64))
        else:  # a score's band is set only where its override gave the score
            source_codes.append((r.nodes[score.id].band != NO_BAND).astype(np.int64))
    firms, names = strings.texts(evaluation.firms), strings.texts(evaluation.names)

    def per_ruleset(value: Callable[[CompiledRuleSet], str]) -> pd.api.extensions.ExtensionArray:
        return strings.blocks([value(r.ruleset) for r in results], n)

    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    codes = joined(outcomes, np.int8)
    return pd.DataFrame({
        "uscc": strings.tiled(firms, len(results)),
        "name": strings.tiled(names, len(results)),
        "program": per_ruleset(lambda rs: rs.program),
        "program_title": per_ruleset(lambda rs: rs.meta.program_title),
        "ruleset_id": per_ruleset(lambda rs: rs.id),
        "version": per_ruleset(lambda rs: rs.version),
        "ruleset_status": per_ruleset(lambda rs: rs.meta.status.value),
        "provisional": per_ruleset(lambda rs: "是" if rs.provisional else "否"),
        "outcome": pd.Categorical.from_codes(codes, [OUTCOME_TEXT[c] for c in (-1, 0, 1)]),
        "outcome_zh": pd.Categorical.from_codes(codes, [OUTCOME_ZH[c] for c in (-1, 0, 1)]),
        "score_min": joined(score_min, float),
        "score_max": joined(score_max, float),
        "score_source": strings.repeated(list(SCORE_SOURCES), joined(source_codes, np.int64)),
        "path": strings.repeated(paths, joined(path_codes, np.int64)),
        "failed": strings.repeated(failed_texts, joined(failed_codes, np.int64)),
        "missing": strings.repeated(missing_texts, joined(missing_codes, np.int64)),
    })


def summary_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Counts per outcome per rule set (the table classify ends with)."""
    table = (outcomes.groupby(["ruleset_id", "program_title", "outcome"], observed=False, sort=False).size()
             .unstack("outcome", fill_value=0).reset_index())
    for col in ("qualified", "not_qualified", "undetermined"):
        if col not in table:
            table[col] = 0
    table["total"] = table[["qualified", "not_qualified", "undetermined"]].sum(axis=1)
    return table[["ruleset_id", "program_title", "qualified", "not_qualified", "undetermined", "total"]]
