"""One selection run: the pool, the component values, the ranking and each firm's standing, put together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tiering.errors import UsageError
from tiering.fields import BY_ID as FIELDS_BY_ID
from tiering.growth.features import build_features
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
    # the register's columns, with their types: the evaluated firms' rows have them too, whichever part lists them
    frame = others[["uscc", "name"]].reset_index(drop=True)
    for col in ("district", "industry"):
        frame[col] = others[col].reset_index(drop=True) if col in others.columns else None
    frame["status"] = NOT_EVALUATED
    frame["status_reason"] = f"登记表无 {data_year} 年度数据"
    frame["highest_rung"] = ""
    return frame


class ListSizeRefused(UsageError, ValueError):
    """A cultivation list of more or fewer firms than its policy allows."""

    id = "list-size"


@dataclass(frozen=True)
class SelectionPart:
    """What some firms give the list before any ranking: each firm's status and standing, and the raw and shown
    component values of its candidates. A firm's part reads only that firm's rows and outcomes, so the parts of a
    register cut into partitions of whole firms together hold what the whole register gives
    (:func:`select_from_parts` ranks them as one pool)."""

    firms: pd.DataFrame
    """Every evaluated firm (uscc, name, district, industry, cluster, status, status_reason and standing), then
    the firms without a data-year row."""
    values: pd.DataFrame
    shown: pd.DataFrame
    model_reasons: pd.Series
    model_notes: pd.Series
    model_deductions: pd.Series
    warnings: list[str]
    """Credit flags the policy names that these rows have no column for."""
    notes: list[str]
    """Components that could not be computed from these rows (see :class:`tiering.selection.signals.Signals`)."""
    features: frozenset[str] = frozenset()
    """With a growth model: the growth features these rows supply (a model card is checked against all parts')."""
    dropped: dict[str, str] = field(default_factory=dict)
    """With a growth model: why each feature these rows do not supply is absent."""


def select_part(panel: pd.DataFrame, outcomes: pd.DataFrame, rungs: Mapping[str, int], policy: Policy, year: int,
                model: Scorecard | None = None, cultivated: Mapping[str, int | None] | None = None,
                lacks: pd.DataFrame | None = None) -> SelectionPart:
    """The :class:`SelectionPart` of the firms in ``outcomes`` (and of the firms of ``panel`` without a data-year
    row): see :func:`select_firms` for the arguments."""
    data_year = year - 1
    firms = pd.Index(sorted(outcomes["uscc"].unique()), name="uscc")
    attributes = firm_attributes(panel, firms.to_numpy(), data_year, policy)
    status = pool_status(attributes, outcomes, panel, policy, data_year, dict(cultivated or {}), year)
    standing = standing_frame(outcomes, rungs, lacks, policy.goal)
    status = status.merge(standing, on="uscc", how="left", validate="one_to_one")
    status = pd.concat([status, _not_evaluated(panel, firms, data_year)], ignore_index=True)
    warnings = [f"登记表没有 {FIELDS_BY_ID[f].label}（{f}）列，未据此排除任何企业"
                for f in unreadable_credit_fields(panel, policy)]
    pool = pd.Index(status.loc[status["status"] == CANDIDATE, "uscc"])
    signals = component_signals(panel, outcomes, policy, pool, data_year, model)
    built = build_features(panel) if model is not None else None
    return SelectionPart(status, signals.values, signals.shown, signals.model_reasons, signals.model_notes,
                         signals.model_deductions, warnings, signals.notes,
                         frozenset(built.used) if built else frozenset(), dict(built.dropped) if built else {})


def _in_every(parts: list[list[str]]) -> list[str]:
    """The texts every part gives, in the first part's order: a component is missing from the whole register
    only when it is missing from each part of it."""
    return [t for t in dict.fromkeys(parts[0] if parts else []) if all(t in p for p in parts[1:])]


def select_from_parts(parts: list[SelectionPart], policy: Policy, year: int, n: int,
                      with_model: bool) -> Selection:
    """Rank the candidates of every part as one pool — percentiles, combined scores, order, quotas and the pick
    over all of them — and choose ``n`` firms: the list :func:`select_firms` makes of the same firms at once."""
    if not policy.count.min <= n <= policy.count.max:
        raise ListSizeRefused(f"名单人数 {n} 不在政策 {policy.id} 允许的 {policy.count.min}–{policy.count.max} 家之内")
    status = pd.concat([p.firms for p in parts], ignore_index=True)
    # as one part lists them: the evaluated firms by 统一社会信用代码, then those without a data-year row
    later = (status["status"] == NOT_EVALUATED).to_numpy()
    status = status.iloc[np.lexsort((status["uscc"].to_numpy(dtype=str), later))].reset_index(drop=True)
    warnings = list(dict.fromkeys(w for p in parts for w in p.warnings))
    warnings += _in_every([p.notes for p in parts])
    pool = status[status["status"] == CANDIDATE]
    values = pd.concat([p.values for p in parts]).reindex(pool["uscc"])
    shown = pd.concat([p.shown for p in parts])
    ranked = rank_pool(pool[["uscc", "name", "district", "industry", "cluster"]], values, policy, n, with_model)
    warnings += ranked.warnings
    table = ranked.table
    shown = shown.add_prefix("value_").reindex(table["uscc"]).reset_index(drop=True)
    raw = values.add_prefix("raw_").reindex(table["uscc"]).reset_index(drop=True)
    extra = status.set_index("uscc").drop(columns=["name", "district", "industry", "cluster", "status",
                                                   "status_reason"]).reindex(table["uscc"]).reset_index(drop=True)
    table = pd.concat([table, shown, raw, extra], axis=1)
    for column in ("model_reasons", "model_notes", "model_deductions"):
        texts = pd.concat([getattr(p, column) for p in parts])
        table[column] = texts.reindex(table["uscc"]).fillna("").to_numpy()
    table["reasons"] = _top_contributions(table, policy, with_model)
    return Selection(policy, year, n, with_model, status, table, warnings)


def select_firms(panel: pd.DataFrame, outcomes: pd.DataFrame, rungs: Mapping[str, int], policy: Policy,
                 year: int, n: int, model: Scorecard | None = None,
                 cultivated: Mapping[str, int | None] | None = None,
                 lacks: pd.DataFrame | None = None) -> Selection:
    """Choose ``n`` firms for cultivation in application ``year`` (data of fiscal year ``year - 1``).

    ``outcomes`` are the per firm × program outcomes of the rule sets in force (``outcome_frame``);
    ``rungs`` maps programs to their ladder rung; ``lacks`` (uscc, program, lacks) comes from the tier ladder when
    available. The model, when given, only orders the eligible firms.
    """
    part = select_part(panel, outcomes, rungs, policy, year, model, cultivated, lacks)
    return select_from_parts([part], policy, year, n, model is not None)
