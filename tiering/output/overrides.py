"""Analysts' overrides and the committee's list decisions set beside the machine decision in every table that shows
a decision (never replacing it)."""

from __future__ import annotations

import pandas as pd

OVERRIDE_COLUMNS = ["override", "override_reason", "override_by", "override_at"]


def beside_decisions(decisions: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """``decisions`` (one row per firm × rule set, with ``uscc`` and ``ruleset_id``) with the override columns
    inserted right after the machine outcome; rows without an override keep them empty. Unchanged when
    ``overrides`` is empty."""
    if overrides.empty:
        return decisions
    merged = decisions.merge(overrides, on=["uscc", "ruleset_id"], how="left", validate="many_to_one")
    anchor = "outcome_zh" if "outcome_zh" in decisions.columns else "outcome"
    order = [c for c in decisions.columns]
    at = order.index(anchor) + 1 if anchor in order else len(order)
    return merged[order[:at] + OVERRIDE_COLUMNS + order[at:]]


def beside_list(picks: pd.DataFrame, decided: pd.DataFrame) -> pd.DataFrame:
    """``picks`` (firms of the machine's list or its runners-up, with ``uscc``) with the committee's list columns
    (:data:`tiering.selection.decisions.LIST_COLUMNS`, from :func:`tiering.selection.decisions.list_table`)
    right after the first column (the machine's place); firms the committee did not touch read 未调整. Unchanged
    when ``decided`` is empty."""
    if decided.empty:
        return picks
    columns = [c for c in decided.columns if c != "uscc"]
    merged = picks.merge(decided, on="uscc", how="left", validate="many_to_one")
    merged[columns[0]] = merged[columns[0]].fillna("未调整")
    merged[columns[1:]] = merged[columns[1:]].fillna("")
    order = list(picks.columns)
    return merged[order[:1] + columns + order[1:]].set_index(picks.index)
