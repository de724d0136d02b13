"""Training the scorecard the way every split and the final model do it: direction policy, then the fit."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tiering.growth.directions import Declarations, DirectionCheck, check_directions, kept_directions
from tiering.growth.scorecard import Scorecard

FOLDS = 3
"""Consecutive blocks of the training cohorts in which directions and Missing-bin effects must hold."""


@dataclass(frozen=True)
class Trained:
    """A fitted scorecard and the direction policy's verdict on every candidate feature."""

    model: Scorecard
    checks: list[DirectionCheck]

    @property
    def dropped(self) -> dict[str, str]:
        """{feature: why} of the candidate features the direction policy left out."""
        return {c.feature: c.why for c in self.checks if c.status != "kept"}


def train_scorecard(train: pd.DataFrame, features: list[str], declarations: Declarations,
                    folds: int = FOLDS) -> Trained:
    """Keep the features whose declared direction holds on ``train`` (uscc, year, features, label), fit on them.

    Raises ValueError when no feature survives the policy.
    """
    checks = check_directions(train, features, declarations, folds=folds)
    kept = kept_directions(checks)
    if not kept:
        raise ValueError("没有任何特征在训练数据中符合其声明方向；无法训练评分卡（见 models/directions.yaml）")
    model = Scorecard(features=list(kept), directions=kept, missing_folds=folds)
    model.fit(train[["uscc", "year", *kept]], train["label"])
    for check in checks:
        if check.feature in model.bins_:
            model.bins_[check.feature].rationale = check.reason
    return Trained(model, checks)
