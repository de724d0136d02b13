"""The challenger: gradient-boosted trees with the same monotone directions as the scorecard.

It is never the model staff see; it is scored beside the scorecard out of time and may be promoted only
if it wins by a clear margin. It keeps no state that must be saved: the card records its metrics only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from tiering.growth.features import AUTO, DIRECTIONS, ID_COLUMNS, INCREASING


def _resolve(x: pd.Series, y: np.ndarray, declared: str) -> int:
    if declared != AUTO:
        return 1 if declared == INCREASING else -1
    present = x.notna().to_numpy()
    ranks = x[present].rank().to_numpy()
    if ranks.size < 2 or np.std(ranks) == 0 or np.std(y[present]) == 0:
        return 1
    return -1 if np.corrcoef(ranks, y[present])[0, 1] < 0 else 1


class GrowthChallenger(ClassifierMixin, BaseEstimator):
    """HistGradientBoostingClassifier constrained to the declared (or training-resolved) directions.

    ``directions`` works as in :class:`tiering.growth.scorecard.Scorecard`; the boosting parameters are
    passed through. Early stopping is off so that a fit is fully deterministic. Features with no value
    in the training rows are left out (``dropped_``).
    """

    def __init__(self, features: list[str] | None = None, directions: dict[str, str] | None = None,
                 max_iter: int = 150, learning_rate: float = 0.05, max_leaf_nodes: int = 8,
                 min_samples_leaf: int = 40, l2_regularization: float = 1.0, random_state: int = 0) -> None:
        self.features = features
        self.directions = directions
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: object) -> GrowthChallenger:
        """Resolve the directions, then fit the constrained boosted trees."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame of feature columns; got {type(X).__name__}")
        bad = {k: v for k, v in (self.directions or {}).items() if v not in DIRECTIONS}
        if bad:
            raise ValueError(f"directions must be one of {DIRECTIONS}; got {bad}")
        requested = list(self.features) if self.features is not None else [c for c in X.columns
                                                                             if c not in ID_COLUMNS]
        # A column with no value in the training rows carries no information (and breaks the binner).
        columns = [c for c in requested if X[c].notna().any()]
        self.dropped_ = [c for c in requested if c not in columns]
        if not columns:
            raise ValueError(f"every feature is empty in the training rows: {requested}")
        target = np.asarray(y).astype("float64")
        cst = [_resolve(X[c].astype("float64"), target,
                        (self.directions or {}).get(c, AUTO))
               for c in columns]
        self.feature_names_ = columns
        self.monotonic_cst_ = dict(zip(columns, cst, strict=True))
        # One thread: the data are small, and OpenMP threads on a shared 2-core machine only fight each other.
        with threadpool_limits(limits=1):
            self.model_ = HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
                monotonic_cst=cst, early_stopping=False, random_state=self.random_state,
            ).fit(X[columns].astype("float64"), target)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Relative probabilities [P(class 0), P(class 1)]."""
        check_is_fitted(self, "model_")
        with threadpool_limits(limits=1):
            return self.model_.predict_proba(X[self.feature_names_].astype("float64"))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more likely class of each row."""
        check_is_fitted(self, "model_")
        with threadpool_limits(limits=1):
            return self.model_.predict(X[self.feature_names_].astype("float64"))
