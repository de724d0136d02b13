"""Analysts' overrides set beside the machine decision in every table that shows a decision (never replacing it)."""

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
