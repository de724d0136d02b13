"""One selection run: the pool, the component values, the ranking and each firm's standing, put together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tiering.errors import UsageError
from tiering.fields import BY_ID as FIELDS_BY_ID
from tiering.selection.policy import Policy
from tiering.selection.pool import CANDIDATE, firm_attributes, pool_status, unreadable_credit_fields
from tiering.selection.rank import rank_pool
from tiering.selection.signals import component_signals
from tiering.selection.standing import standing_frame

if TYPE_CHECKING:  # scikit-learn loads only when a growth model is used
    from tiering.growth.scorecard import Scorecard

RUNNERS_UP = 5
TOP_REASONS = 3
NOT_EVALUATED = "未评价"


@dataclass(frozen=True)
class Selection:
    """The outcome of one annual selection."""

    policy: Policy
    year: int
    n: int
    with_model: bool
    firms: pd.DataFrame
    """Every evaluated firm: uscc, name, district, industry, cluster, status, status_reason and standing."""
    ranked: pd.DataFrame
    """The candidates in final order: scores, percentiles, shown values, model reasons, selected, pick,
    missed_reason, standing."""
    warnings: list[str]

    @property
    def data_year(self) -> int:
        return self.year - 1

    @property
    def selected(self) -> pd.DataFrame:
        """The list, in pick order."""
        return self.ranked[self.ranked["selected"]].reset_index(drop=True)

    @property
    def runners_up(self) -> pd.DataFrame:
        """The next firms in order that are not on the list, with why they missed the cut."""
        return self.ranked[~self.ranked["selected"]].head(RUNNERS_UP).reset_index(drop=True)


def _top_contributions(table: pd.DataFrame, policy: Policy, with_model: bool) -> list[str]:
    """Per candidate, the components adding most to its combined score, e.g. ``近三年营收年均增长 105%（池内97%）``."""
    parts = [(g.weight * c.weight, c) for g in policy.ranking.groups for c in g.active(with_model)]
    out = []
    for _, row in table.iterrows():
        scored = sorted(((share * row[f"pct_{c.id}"], i, c) for i, (share, c) in enumerate(parts)),
                        key=lambda t: (-t[0], t[1]))
        out.append("；".join(f"{c.label} {row[f'value_{c.id}']}（池内{row[f'pct_{c.id}']:.0%}，+{100 * v:.1f}分）"
                            for v, _, c in scored[:TOP_REASONS] if v > 0))
    return out


def _not_evaluated(panel: pd.DataFrame, evaluated: pd.Index, data_year: int) -> pd.DataFrame:
    """Firms of the register without a row for the data year: listed so that no firm silently disappears."""
    others = panel[~panel["uscc"].isin(evaluated)].sort_values(["uscc", "year"]).drop_duplicates("uscc", keep="last")
    frame = pd.DataFrame({"uscc": others["uscc"].to_numpy(), "name": others["name"].to_numpy()})
    for col in ("district", "industry"):
        frame[col] = others[col].to_numpy() if col in others.columns else None
    frame["status"] = NOT_EVALUATED
    frame["status_reason"] = f"登记表无 {data_year} 年度数据"
    frame["highest_rung"] = ""
    return frame


class ListSizeRefused(UsageError, ValueError):
    """A cultivation list of more or fewer firms than its policy allows."""

    id = "list-size"


def select_firms(panel: pd.DataFrame, outcomes: pd.DataFrame, rungs: Mapping[str, int], policy: Policy,
                 year: int, n: int, model: Scorecard | None = None,
                 cultivated: Mapping[str, int | None] | None = None,
                 lacks: pd.DataFrame | None = None) -> Selection:
    """Choose ``n`` firms for cultivation in application ``year`` (data of fiscal year ``year - 1``).

    ``outcomes`` are the per firm × program outcomes of the rule sets in force (``outcome_frame``);
    ``rungs`` maps programs to their ladder rung; ``lacks`` (uscc, program, lacks) comes from the tier ladder when
    available. The model, when given, only orders the eligible firms.
    """
    if not policy.count.min <= n <= policy.count.max:
        raise ListSizeRefused(f"名单人数 {n} 不在政策 {policy.id} 允许的 {policy.count.min}–{policy.count.max} 家之内")
    data_year = year - 1
    firms = pd.Index(sorted(outcomes["uscc"].unique()), name="uscc")
    attributes = firm_attributes(panel, firms.to_numpy(), data_year, policy)
    status = pool_status(attributes, outcomes, panel, policy, data_year, dict(cultivated or {}), year)
    standing = standing_frame(outcomes, rungs, lacks, policy.goal)
    status = status.merge(standing, on="uscc", how="left", validate="one_to_one")
    status = pd.concat([status, _not_evaluated(panel, firms, data_year)], ignore_index=True)
    warnings = [f"登记表没有 {FIELDS_BY_ID[f].label}（{f}）列，未据此排除任何企业"
                for f in unreadable_credit_fields(panel, policy)]
    pool = status[status["status"] == CANDIDATE]
    signals = component_signals(panel, outcomes, policy, pd.Index(pool["uscc"]), data_year, model)
    warnings += signals.notes
    ranked = rank_pool(pool[["uscc", "name", "district", "industry", "cluster"]], signals.values, policy, n,
                       model is not None)
    warnings += ranked.warnings
    table = ranked.table
    shown = signals.shown.add_prefix("value_").reindex(table["uscc"]).reset_index(drop=True)
    raw = signals.values.add_prefix("raw_").reindex(table["uscc"]).reset_index(drop=True)
    extra = status.set_index("uscc").drop(columns=["name", "district", "industry", "cluster", "status",
                                                   "status_reason"]).reindex(table["uscc"]).reset_index(drop=True)
    table = pd.concat([table, shown, raw, extra], axis=1)
    table["model_reasons"] = signals.model_reasons.reindex(table["uscc"]).fillna("").to_numpy()
    table["model_notes"] = signals.model_notes.reindex(table["uscc"]).fillna("").to_numpy()
    table["model_deductions"] = signals.model_deductions.reindex(table["uscc"]).fillna("").to_numpy()
    table["reasons"] = _top_contributions(table, policy, model is not None)
    return Selection(policy, year, n, model is not None, status, table, warnings)
