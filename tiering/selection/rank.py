"""Combined ranking of the candidate pool, quotas, and why each firm below the cut missed it.

Every component becomes a within-pool percentile (ties averaged; a missing value ranks lowest or at the
median, as the policy says); percentiles are weighted into group scores and a combined score out of 100.
The order is the combined score, then the policy's tie-break keys, then the 统一社会信用代码, so the same
inputs always give the same list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiering.selection.policy import Policy, Quota

DECIMALS = 6
"""Scores are rounded before ordering so that float noise never decides a tie."""
QUOTA_KEY_ZH = {"district": "所在区", "industry": "行业", "cluster": "产业集群"}


@dataclass(frozen=True)
class Ranked:
    """The pool in final order with scores, the pick, and why each other firm missed the cut."""

    table: pd.DataFrame
    """One row per candidate, ordered: uscc, name, district, industry, cluster, pct_<component>,
    <group> scores, combined, order (1 = best), selected, pick (1..k for selected firms), missed_reason."""
    warnings: list[str]


def percentiles(values: pd.DataFrame, policy: Policy, with_model: bool) -> pd.DataFrame:
    """Within-pool percentile (0–1) of each active component; 1 is best in the pool."""
    fill = 0.0 if policy.ranking.missing == "lowest" else 0.5
    out = pd.DataFrame(index=values.index)
    for group in policy.ranking.groups:
        for c in group.active(with_model):
            column = values[c.id].astype("float64")
            ranked = column.rank(pct=True, method="average", ascending=c.direction == "higher")
            out[f"pct_{c.id}"] = ranked.fillna(fill)
    return out


def group_scores(pct: pd.DataFrame, policy: Policy, with_model: bool) -> pd.DataFrame:
    """Score per group (0–100) and the combined score (0–100), rounded to ``DECIMALS``."""
    out = pd.DataFrame(index=pct.index)
    combined = pd.Series(0.0, index=pct.index)
    for group in policy.ranking.groups:
        score = sum(c.weight * pct[f"pct_{c.id}"] for c in group.active(with_model)) * 100.0
        out[group.id] = score.round(DECIMALS)
        combined = combined + group.weight * score
    out["combined"] = combined.round(DECIMALS)
    return out


def order(pool: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The pool sorted by combined score (high first), then the tie-break keys, then uscc."""
    keys = ["combined"] + [k for k in policy.tie_break if k != "uscc"] + ["uscc"]
    ascending = [False] + [k in ("uscc", "name") for k in keys[1:]]
    ordered = pool.sort_values(keys, ascending=ascending, kind="mergesort", na_position="last")
    return ordered.reset_index(drop=True).assign(order=lambda f: np.arange(1, len(f) + 1))


def _min_targets(pool: pd.DataFrame, quotas: list[Quota], n: int) -> tuple[dict[tuple[int, str], int], list[str]]:
    """Minimums per (quota, value), capped by the candidates available, with warnings for the shortfalls."""
    targets: dict[tuple[int, str], int] = {}
    warnings = []
    for qi, quota in enumerate(quotas):
        for value, limit in sorted(quota.limits.items()):
            if limit.min == 0:
                continue
            available = int((pool[quota.by] == value).sum())
            if available < limit.min:
                warnings.append(f"配额下限无法满足：{QUOTA_KEY_ZH[quota.by]} {value} 要求至少 {limit.min} 家，"
                                f"候选池只有 {available} 家")
            targets[(qi, value)] = min(limit.min, available)
    if sum(targets.values()) > n:
        warnings.append(f"各配额下限合计 {sum(targets.values())} 家，超过名单人数 {n}；下限按排名先后尽量满足")
    return targets, warnings


def pick(ordered: pd.DataFrame, n: int, quotas: list[Quota]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Walk the order and take firms until ``n``, skipping a firm that would break a quota.

    A firm is skipped when its value is at a quota's maximum, or when taking it would leave too few places
    for the minimums still unmet. Returns (selected mask, reason for each skipped firm, warnings).
    """
    targets, warnings = _min_targets(ordered, quotas, n)
    counts: list[Counter[str]] = [Counter() for _ in quotas]
    selected = np.zeros(len(ordered), dtype=bool)
    reasons = np.full(len(ordered), "", dtype=object)
    taken = 0
    for i, row in enumerate(ordered.itertuples(index=False)):
        if taken == n:
            break
        keys = [getattr(row, q.by) for q in quotas]
        full = [(q, k) for q, k, c in zip(quotas, keys, counts, strict=True)
                if q.bounds(k)[1] is not None and c[k] >= q.bounds(k)[1]]
        if full:
            reasons[i] = "；".join(f"配额已满：{QUOTA_KEY_ZH[q.by]} {k} 已选 {q.bounds(k)[1]} 家（上限）"
                                  for q, k in full)
            continue
        still = sum(max(0, t - counts[qi][v] - (keys[qi] == v)) for (qi, v), t in targets.items())
        if still > n - taken - 1:
            unmet = "、".join(f"{QUOTA_KEY_ZH[quotas[qi].by]} {v}" for (qi, v), t in sorted(targets.items())
                             if counts[qi][v] < t)
            reasons[i] = f"名额保留给配额下限：{unmet}"
            continue
        selected[i] = True
        taken += 1
        for c, k in zip(counts, keys, strict=True):
            c[k] += 1
    for (qi, v), t in sorted(targets.items()):
        if counts[qi][v] < t:
            warnings.append(f"配额下限未满足：{QUOTA_KEY_ZH[quotas[qi].by]} {v} 入选 {counts[qi][v]} 家，要求 {t} 家")
    return selected, reasons, warnings


def rank_pool(pool: pd.DataFrame, values: pd.DataFrame, policy: Policy, n: int, with_model: bool) -> Ranked:
    """Score, order and pick the candidates in ``pool`` (uscc, name, district, industry, cluster).

    ``values`` holds each active component's raw value, indexed by uscc.
    """
    warnings = []
    pool = pool.set_index("uscc", drop=False)
    pct = percentiles(values.reindex(pool.index), policy, with_model)
    scores = group_scores(pct, policy, with_model)
    table = order(pd.concat([pool, pct, scores], axis=1).reset_index(drop=True), policy)
    selected, reasons, quota_warnings = pick(table, n, policy.quotas)
    warnings += quota_warnings
    table["selected"] = selected
    table["pick"] = np.where(selected, np.cumsum(selected), 0)
    if selected.sum() < n:
        warnings.append(f"候选池 {len(table)} 家，只选出 {int(selected.sum())} 家，少于要求的 {n} 家")
    table["missed_reason"] = _missed(table, reasons, policy)
    return Ranked(table, warnings)


def _missed(table: pd.DataFrame, reasons: np.ndarray, policy: Policy) -> np.ndarray:
    """Why each unselected candidate is not on the list: the quota it hit, or how many points it lacks."""
    out = reasons.copy()
    chosen = table[table["selected"]]
    if chosen.empty:
        return out
    last = chosen.iloc[-1]
    tie = "、".join(policy.tie_break)
    for i, row in enumerate(table.itertuples(index=False)):
        if row.selected or out[i]:
            continue
        short = last["combined"] - row.combined
        if short > 0:
            out[i] = (f"综合得分 {row.combined:.2f}，比末位入选者（第{int(last['pick'])}名，{last['combined']:.2f}）"
                      f"低 {short:.2f} 分")
        else:
            out[i] = f"与末位入选者同分 {row.combined:.2f}，按并列规则（{tie}）排在其后"
    return out
