"""The raw value of every ranking component for every firm: program scores, panel features, model points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tiering.growth.features import BY_ID as FEATURES_BY_ID
from tiering.growth.features import build_features
from tiering.selection.policy import Component, Policy
from tiering.selection.pool import SelectionInputError

if TYPE_CHECKING:  # scikit-learn loads only when a growth model is used
    from tiering.growth.scorecard import Scorecard


@dataclass(frozen=True)
class Signals:
    """Component values (index uscc, one column per component id), their display texts, and model reasons."""

    values: pd.DataFrame
    shown: pd.DataFrame
    model_reasons: pd.Series
    model_notes: pd.Series
    """Per firm, the Missing bins that gave it points (e.g. ``无往年数据（新上市/新成立）：+6分（上年营收增长）``)."""
    model_deductions: pd.Series
    """Per firm, the model features that lowered its score most (e.g. ``企业年龄 4年（-6分）``)."""
    notes: list[str]


def _shown(component: Component, values: pd.Series) -> pd.Series:
    if component.feature is not None:
        definition = FEATURES_BY_ID[component.feature]
        return values.map(definition.format_value)
    if component.program_score is not None:
        return values.map(lambda v: "缺失" if pd.isna(v) else f"{v:g}分")
    return values.map(lambda v: "缺失" if pd.isna(v) else f"{int(v)}点")


def component_signals(panel: pd.DataFrame, outcomes: pd.DataFrame, policy: Policy, firms: pd.Index,
                      data_year: int, model: Scorecard | None) -> Signals:
    """Values of the components in use (with a model when ``model`` is given) for ``firms`` in ``data_year``.

    Program scores are the lower bound of the rule set's score (what the firm surely reaches while data is
    missing); features follow :mod:`tiering.growth.features`; model values are scorecard points.
    """
    components = [c for g in policy.ranking.groups for c in g.active(model is not None)]
    notes: list[str] = []
    features = tuple(sorted({c.feature for c in components if c.feature is not None}))
    built = build_features(panel, only=features) if features else None
    cohort = (built.frame[built.frame["year"] == data_year].drop_duplicates("uscc").set_index("uscc")
              if built is not None else pd.DataFrame())
    if built is not None:
        for feature, why in sorted(built.dropped.items()):
            notes.append(f"指标 {FEATURES_BY_ID[feature].label}（{feature}）无法计算：{why}；按缺数据处理")
    values = pd.DataFrame(index=firms)
    reasons = pd.Series("", index=firms, dtype=object, name="model_reasons")
    missing_notes = pd.Series("", index=firms, dtype=object, name="model_notes")
    deductions = pd.Series("", index=firms, dtype=object, name="model_deductions")
    for c in components:
        if c.program_score is not None:
            rows = outcomes[outcomes["program"] == c.program_score]
            if rows.empty:
                raise SelectionInputError(f"指标 {c.id} 读取项目 {c.program_score} 的得分，但该项目未评价")
            values[c.id] = rows.set_index("uscc")["score_min"].astype("float64").reindex(firms).to_numpy()
        elif c.feature is not None:
            column = cohort[c.feature] if c.feature in cohort.columns else pd.Series(dtype="float64")
            values[c.id] = column.astype("float64").reindex(firms).to_numpy()
        else:
            points, reasons, missing_notes, deductions = _model_points(panel, model, firms, data_year)
            values[c.id] = points
    shown = pd.DataFrame({c.id: _shown(c, values[c.id]) for c in components}, index=firms)
    return Signals(values, shown, reasons, missing_notes, deductions, notes)


def _model_points(panel: pd.DataFrame, model: Scorecard | None, firms: pd.Index,
                  data_year: int) -> tuple[np.ndarray, pd.Series, pd.Series, pd.Series]:
    """Scorecard points, creditable top reasons, Missing-bin notes and top deductions of each firm's data-year row.

    Firms without a data-year row get NaN and empty texts.
    """
    if model is None:
        raise SelectionInputError("政策的模型指标需要 --model 模型卡")
    built = build_features(panel, only=tuple(model.feature_names_))
    cohort = built.frame[built.frame["year"] == data_year].drop_duplicates("uscc").reset_index(drop=True)
    scored = pd.DataFrame({"uscc": cohort["uscc"], "points": model.score(cohort).to_numpy(dtype="float64"),
                           "why": model.top_reasons(cohort).to_numpy(),
                           "missing": model.missing_notes(cohort).to_numpy(),
                           "against": model.top_deductions(cohort).to_numpy()}).set_index("uscc")
    return (scored["points"].reindex(firms).to_numpy(),
            scored["why"].reindex(firms).fillna("").rename("model_reasons"),
            scored["missing"].reindex(firms).fillna("").rename("model_notes"),
            scored["against"].reindex(firms).fillna("").rename("model_deductions"))
