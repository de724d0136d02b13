"""Training the scorecard the way every split and the final model do it: settings chosen by nested time splits,
the direction policy, then the fit.

The scorecard's settings (bins cut on values or on within-year percentiles, the penalty C, the number of bins)
are not fixed by hand and never chosen on a test year: :func:`select_settings` tries each of ``CANDIDATES`` on the
training cohorts alone — each of the last ``INNER_COHORTS`` training cohorts V is scored by a scorecard trained
(direction policy included) on the cohorts before V — and keeps the one with the best mean ROC AUC over those
inner cohorts. All labels of the training cohorts are known when the model is trained, so the inner splits need
no gap. Inside an out-of-time split this is nested: the outer test cohort is never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tiering.errors import PanelUnusable
from tiering.growth.directions import Declarations, DirectionCheck, check_directions, kept_directions
from tiering.growth.scorecard import Scorecard

FOLDS = 3
"""Consecutive blocks of the training cohorts in which directions and Missing-bin effects must hold."""
INNER_COHORTS = 3
"""How many of the latest training cohorts validate the candidate settings."""
MIN_INNER_ROWS = 100
"""Fewest labelled rows before an inner validation cohort for it to be used."""


@dataclass(frozen=True)
class Settings:
    """One candidate setting of the scorecard."""

    relative: bool
    C: float
    n_bins: int

    def describe(self) -> str:
        """Short Chinese wording, for cards and tables."""
        return f"{'同年百分位' if self.relative else '原值'}分箱，{self.n_bins}箱，C={self.C:g}"

    def to_dict(self) -> dict[str, object]:
        """Plain values, for the model card."""
        return {"relative": self.relative, "C": self.C, "n_bins": self.n_bins}


CANDIDATES: tuple[Settings, ...] = tuple(
    Settings(relative, C, n_bins) for relative in (False, True) for C in (1.0, 0.1) for n_bins in (5, 3))
"""Fixed before any test result was seen; the first is used when the training cohorts allow no inner split."""


@dataclass(frozen=True)
class Selection:
    """The settings chosen, and the inner-split ROC AUC of every candidate (one per inner cohort)."""

    chosen: Settings
    inner_years: tuple[int, ...]
    auc: dict[Settings, tuple[float, ...]]

    def to_dict(self) -> dict[str, object]:
        """Plain values for the model card."""
        return {
            "protocol": f"嵌套时间切分：训练年份中最近 {INNER_COHORTS} 个年度逐一作验证，各用更早年度训练"
                        "（含方向政策），取平均 ROC AUC 最高的设置；检验年度从不参与",
            "inner_years": list(self.inner_years),
            "chosen": {**self.chosen.to_dict(), "description": self.chosen.describe()},
            "candidates": [{**s.to_dict(), "inner_auc": [round(a, 4) for a in aucs],
                            "mean_auc": round(float(np.mean(aucs)), 4) if aucs else None}
                           for s, aucs in self.auc.items()],
        }


@dataclass(frozen=True)
class Trained:
    """A fitted scorecard, the direction policy's verdict on every candidate feature and the settings chosen."""

    model: Scorecard
    checks: list[DirectionCheck]
    selection: Selection

    @property
    def dropped(self) -> dict[str, str]:
        """{feature: why} of the candidate features the direction policy left out."""
        return {c.feature: c.why for c in self.checks if c.status != "kept"}


def _fit(train: pd.DataFrame, features: list[str], declarations: Declarations, settings: Settings,
         folds: int) -> tuple[Scorecard, list[DirectionCheck]]:
    checks = check_directions(train, features, declarations, folds=folds)
    kept = kept_directions(checks)
    if not kept:
        raise PanelUnusable("没有任何特征在训练数据中符合其声明方向；无法训练评分卡（见 models/directions.yaml）")
    model = Scorecard(features=list(kept), directions=kept, missing_folds=folds, relative=settings.relative,
                      C=settings.C, n_bins=settings.n_bins)
    model.fit(train[["uscc", "year", *kept]], train["label"])
    return model, checks


def _both_classes(rows: pd.DataFrame) -> bool:
    return rows["label"].nunique() == 2


def select_settings(train: pd.DataFrame, features: list[str], declarations: Declarations,
                    candidates: tuple[Settings, ...] = CANDIDATES, folds: int = FOLDS) -> Selection:
    """Choose the candidate with the best mean ROC AUC on the inner time splits of ``train`` (module docstring)."""
    years = sorted(int(y) for y in train["year"].unique())
    inner = [v for v in years[-INNER_COHORTS:]
             if (train["year"] < v).sum() >= MIN_INNER_ROWS and _both_classes(train[train["year"] < v])
             and _both_classes(train[train["year"] == v])]
    auc: dict[Settings, list[float]] = {s: [] for s in candidates}
    used = []
    for v in inner:
        before, cohort = train[train["year"] < v], train[train["year"] == v]
        try:
            scores = {s: _fit(before, features, declarations, s, folds)[0].score(cohort) for s in candidates}
        except ValueError:
            continue  # no feature keeps its direction on so few cohorts: this inner split cannot judge
        used.append(v)
        for s, score in scores.items():
            auc[s].append(float(roc_auc_score(cohort["label"], score)))
    # max keeps the first of equal means, so without inner splits the first candidate is chosen
    chosen = max(candidates, key=lambda s: float(np.mean(auc[s])) if auc[s] else -np.inf)
    return Selection(chosen, tuple(used), {s: tuple(a) for s, a in auc.items()})


def train_scorecard(train: pd.DataFrame, features: list[str], declarations: Declarations,
                    folds: int = FOLDS, candidates: tuple[Settings, ...] = CANDIDATES) -> Trained:
    """Choose the settings by nested time splits, keep the features whose declared direction holds on ``train``
    (uscc, year, features, label) and fit on them.

    Raises ValueError when no feature survives the policy.
    """
    selection = select_settings(train, features, declarations, candidates, folds)
    model, checks = _fit(train, features, declarations, selection.chosen, folds)
    for check in checks:
        if check.feature in model.bins_:
            model.bins_[check.feature].rationale = check.reason
    return Trained(model, checks, selection)
