"""An additive, monotone points scorecard that staff can read and defend.

Each feature is cut into quantile bins, plus a bin of its own for missing values. Adjacent bins whose
event rates break the feature's declared direction are pooled until the rates are monotone. Bins are
encoded by weight of evidence (WoE) and a logistic regression with non-negative feature weights turns
them into log-odds; because WoE is monotone across bins and every weight is ≥ 0, the points are monotone
too. Points are scaled "points to double the odds" (PDO) style, rounded to integers, and centred so that a
feature's average training firm scores 0: ``+18分`` means better than the average firm on that feature. A
Missing bin scores 0 unless its effect is stable across blocks of the training cohorts (``missing_folds``).

With ``relative=True`` each feature is first turned into the firm's percentile within its own year (the
``year`` column of the data): growth rates, margins and sizes all drift with the business cycle and with
prices, so a bin cut on one year's values means something else in another year, while "top 20 % of its
year" keeps its meaning. Bins are then cut on percentiles and labelled so (``同年百分位 ≥ 80%``), and every reason
still shows the firm's own value.

The total score is ``base_points_ + Σ points``; everything needed to compute it (bin edges, points, base)
is in :meth:`Scorecard.to_spec`, from which :meth:`Scorecard.from_spec` rebuilds the same scorecard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from tiering.errors import TieringError
from tiering.growth.directions import time_folds
from tiering.growth.features import AUTO, BY_ID, DECREASING, DIRECTIONS, ID_COLUMNS, INCREASING, format_number

MISSING_LABEL = "缺失"
NEUTRAL, LEARNED = "neutral", "learned"
NO_PAST_DATA = "无往年数据（新上市/新成立）"
MIN_MISSING_PER_FOLD = 10


class FeatureMismatchError(TieringError, ValueError, error_id="model-features"):
    """The data to score does not carry the features the scorecard was trained on."""


@dataclass
class FeatureBins:
    """The fitted bins of one feature. The last entry of every list is the Missing bin."""

    feature: str
    direction: str
    edges: list[float]
    labels: list[str]
    count: list[int]
    events: list[int]
    woe: list[float]
    points: list[int]
    missing_policy: str = NEUTRAL
    """``neutral`` (a missing value scores 0 points, as the average firm) or ``learned`` (stable in every fold)."""
    missing_why: str = ""
    rationale: str = ""
    """The declared one-line reason for the direction (models/directions.yaml), shown beside each reason."""

    @property
    def typical(self) -> int | None:
        """The bin that most training firms share: the one holding more than half of the rows with a value, or None.

        Quantile bins hold about equal shares, so none of them is typical and each firm's bin distinguishes it; a
        value nearly every firm has (a whole year operated, no new IP) fills one bin and is typical."""
        present = self.count[:-1]
        largest = int(np.argmax(present))
        return largest if 2 * present[largest] > sum(present) else None

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """The bin of each value: ``x < edges[0]`` is bin 0, ``edges[i-1] ≤ x < edges[i]`` bin i; NaN → Missing."""
        index = np.searchsorted(np.asarray(self.edges, dtype="float64"), values, side="right")
        return np.where(np.isnan(values), len(self.edges) + 1, index)


def _format_edge(feature: str, value: float) -> str:
    definition = BY_ID.get(feature)
    if definition is None:
        return format_number(value)
    if definition.percent:
        return f"{value:.1%}"
    return definition.format_value(value)


def _bin_labels(feature: str, edges: list[float], relative: bool = False) -> list[str]:
    if not edges:
        return ["全部", MISSING_LABEL]
    if relative:
        text = [f"{e:.0%}" for e in edges]
        inner = [f"同年百分位 {lo}–{hi}" for lo, hi in zip(text[:-1], text[1:], strict=True)]
        return [f"同年百分位 < {text[0]}", *inner, f"同年百分位 ≥ {text[-1]}", MISSING_LABEL]
    text = [_format_edge(feature, e) for e in edges]
    inner = [f"[{lo}, {hi})" for lo, hi in zip(text[:-1], text[1:], strict=True)]
    return [f"< {text[0]}", *inner, f"≥ {text[-1]}", MISSING_LABEL]


def _counts(index: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    count = np.bincount(index, minlength=n_bins)
    events = np.bincount(index, weights=y, minlength=n_bins)
    return count, events


def _resolve_direction(x: np.ndarray, y: np.ndarray, declared: str) -> str:
    if declared != AUTO:
        return declared
    if x.size < 2:
        return INCREASING
    # The sign of the rank correlation with the label decides; no signal defaults to increasing.
    ranks = pd.Series(x).rank().to_numpy()
    if np.std(ranks) == 0 or np.std(y) == 0:
        return INCREASING
    return DECREASING if np.corrcoef(ranks, y)[0, 1] < 0 else INCREASING


def _fit_edges(x: np.ndarray, y: np.ndarray, direction: str, n_bins: int, min_count: int) -> list[float]:
    """Quantile edges, then small bins merged, then adjacent violators of ``direction`` pooled."""
    if x.size == 0:
        return []
    # "higher" puts every edge on an observed value, so bin labels show values firms really have.
    quantiles = np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1], method="higher")
    edges = [float(e) for e in np.unique(quantiles) if e > x.min()]

    def stats(current: list[float]) -> tuple[np.ndarray, np.ndarray]:
        index = np.searchsorted(np.asarray(current), x, side="right")
        return _counts(index, y, len(current) + 1)

    while edges:
        count, _ = stats(edges)
        smallest = int(np.argmin(count))
        if count[smallest] >= min_count:
            break
        # Merge the small bin into its smaller neighbour by removing the edge between them.
        if smallest == 0:
            edges.pop(0)
        elif smallest == len(edges) or count[smallest - 1] <= count[smallest + 1]:
            edges.pop(smallest - 1)
        else:
            edges.pop(smallest)
    sign = 1.0 if direction == INCREASING else -1.0
    while edges:
        count, events = stats(edges)
        rate = sign * events / count
        violations = np.flatnonzero(rate[:-1] > rate[1:] + 1e-12)
        if violations.size == 0:
            break
        edges.pop(int(violations[0]))
    return edges


def _woe(count: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Log odds of each bin relative to all firms, with ½ added to every cell so empty cells stay finite."""
    total_events, total_non = events.sum(), (count - events).sum()
    woe = np.log((events + 0.5) / (total_events + 0.5)) - np.log((count - events + 0.5) / (total_non + 0.5))
    return np.where(count > 0, woe, 0.0)


def within_year(frame: pd.DataFrame, years: pd.Series) -> pd.DataFrame:
    """Each column as the row's percentile within its year, in (0, 1] (ties share the mean rank; NaN stays)."""
    return frame.groupby(years.to_numpy(), sort=False).rank(pct=True).astype("float64")


def _missing_policy(missing: np.ndarray, y: np.ndarray, fold: np.ndarray | None) -> tuple[str, str]:
    """Whether the Missing bin may keep its own points: only if its effect has one sign in every time fold.

    Missing data must not act as a bonus (or a penalty) by accident: without folds (no ``year`` column), with
    fewer than ``MIN_MISSING_PER_FOLD`` missing rows in a fold, or with the sign changing, it stays neutral.
    """
    if not missing.any():
        return NEUTRAL, "训练数据无缺失"
    if fold is None:
        return NEUTRAL, "无年份可分段检验，缺失按平均水平（0分）"
    signs, woes = [], []
    for b in range(int(fold.max()) + 1):
        inside = fold == b
        count = np.array([int((inside & ~missing).sum()), int((inside & missing).sum())])
        if count[1] < MIN_MISSING_PER_FOLD:
            return NEUTRAL, f"第{b + 1}时段缺失仅 {count[1]} 行，不足以检验，缺失按平均水平（0分）"
        events = np.array([y[inside & ~missing].sum(), y[inside & missing].sum()])
        woe = float(_woe(count, events)[1])
        woes.append(woe)
        signs.append(np.sign(woe))
    shown = "，".join(f"{w:+.2f}" for w in woes)
    if len(set(signs)) == 1 and signs[0] != 0:
        return LEARNED, f"各时段缺失组的证据权重同号（{shown}），保留其分值"
    return NEUTRAL, f"各时段缺失组的证据权重不同号（{shown}），缺失按平均水平（0分）"


def _fit_logistic(design: np.ndarray, y: np.ndarray, C: float) -> tuple[float, np.ndarray]:
    """L2-penalised logistic regression with every feature weight ≥ 0 (the intercept is free)."""
    n, p = design.shape
    augmented = np.column_stack([np.ones(n), design])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = augmented @ theta
        value = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 / C * np.sum(theta[1:] ** 2)
        gradient = augmented.T @ (1.0 / (1.0 + np.exp(-z)) - y)
        gradient[1:] += theta[1:] / C
        return float(value), gradient

    start = np.zeros(p + 1)
    rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    start[0] = np.log(rate / (1 - rate))
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(None, None)] + [(0.0, None)] * p,
                      options={"maxiter": 1000, "gtol": 1e-9})
    return float(result.x[0]), result.x[1:]


class Scorecard(ClassifierMixin, BaseEstimator):
    """Monotone points scorecard for a binary growth label.

    Parameters
    ----------
    features : list of column names to use, or None for every column except ``uscc`` and ``year``.
    directions : {feature: "increasing" | "decreasing" | "auto"}; features not named are "auto", which follows
        the sign of the feature's rank correlation with the label in the training data. ``tiering model train``
        passes the declared directions that survived the direction policy (:mod:`tiering.growth.training`).
    n_bins : number of quantile bins before pooling (the Missing bin comes on top).
    min_bin_share : smallest share of training rows a bin may hold; smaller bins merge into a neighbour.
    missing_folds : the training cohorts (``year`` column of X) are cut into this many consecutive blocks; a
        Missing bin keeps points of its own only if its effect has the same sign in every block, otherwise
        (and always when X has no ``year``) a missing value scores 0 points, as the average firm.
    C : inverse L2 penalty strength of the logistic regression.
    relative : bin each feature's percentile within its year (X needs a ``year`` column) instead of its value.
    pdo, base_points, base_odds : points scale — ``base_points`` at odds ``base_odds``, ``pdo`` more points
        for each doubling of the odds.

    ``score`` departs from scikit-learn on purpose: it returns each row's total points (a Series), not
    accuracy. Use ``scoring="roc_auc"`` in model-selection tools.
    """

    def __init__(self, features: list[str] | None = None, directions: dict[str, str] | None = None,
                 n_bins: int = 5, min_bin_share: float = 0.05, C: float = 1.0, pdo: float = 20.0,
                 base_points: float = 500.0, base_odds: float = 1.0, missing_folds: int = 3,
                 relative: bool = False) -> None:
        self.features = features
        self.directions = directions
        self.n_bins = n_bins
        self.min_bin_share = min_bin_share
        self.C = C
        self.pdo = pdo
        self.base_points = base_points
        self.base_odds = base_odds
        self.missing_folds = missing_folds
        self.relative = relative

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN is a value with its own bin, not an error
        tags.classifier_tags.multi_class = False
        return tags

    # --- fitting --------------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if not isinstance(self.n_bins, int | np.integer) or self.n_bins < 1:
            raise ValueError(f"n_bins must be an integer ≥ 1; got {self.n_bins!r}")
        if not 0.0 <= self.min_bin_share < 0.5:
            raise ValueError(f"min_bin_share must be in [0, 0.5); got {self.min_bin_share!r}")
        for name in ("C", "pdo", "base_odds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        bad = {k: v for k, v in (self.directions or {}).items() if v not in DIRECTIONS}
        if bad:
            raise ValueError(f"directions must be one of {DIRECTIONS}; got {bad}")

    def _feature_frame(self, X: object, reset: bool) -> pd.DataFrame:
        """The feature columns of X as float64, checked against the training features when not ``reset``."""
        if isinstance(X, pd.DataFrame):
            if reset:
                columns = list(self.features) if self.features is not None else [
                    c for c in X.columns if c not in ID_COLUMNS]
            else:
                columns = list(self.feature_names_)
            absent = [c for c in columns if c not in X.columns]
            if absent:
                raise FeatureMismatchError(
                    f"数据缺少评分卡所需的特征 {absent}；评分卡使用 {list(columns)}")
            values = validate_data(self, X[columns], reset=reset, ensure_all_finite="allow-nan",
                                   dtype="float64", ensure_min_features=1)
            return pd.DataFrame(values, columns=columns, index=X.index)
        values = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype="float64")
        columns = [f"x{i}" for i in range(values.shape[1])] if reset else list(self.feature_names_)
        return pd.DataFrame(values, columns=columns)

    def _binned(self, X: object, frame: pd.DataFrame) -> pd.DataFrame:
        """What the bins cut: the features themselves, or with ``relative`` their percentiles within each year."""
        if not self.relative:
            return frame
        if not isinstance(X, pd.DataFrame) or "year" not in X.columns:
            raise FeatureMismatchError("评分卡按同年百分位评分，数据须有 year（年度）列")
        return within_year(frame, X["year"])

    def fit(self, X: pd.DataFrame, y: object) -> Scorecard:
        """Bin every feature, pool bins to the declared direction, fit weights and build the points table."""
        self._validate_params()
        if y is None:
            raise ValueError("Scorecard requires y to be passed, but the target y is None")
        frame = self._feature_frame(X, reset=True)
        target = column_or_1d(y, warn=True)
        if len(target) != len(frame):
            raise ValueError(f"y must be one label per row of X ({len(frame)} rows); got {len(target)} labels")
        check_classification_targets(target)
        kind = type_of_target(target, input_name="y", raise_unknown=True)
        if kind != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {kind}; "
                             "y must be 0 = not high-growth, 1 = high-growth")
        classes = np.unique(target)
        if classes.size != 2:
            raise ValueError(f"y holds 1 class only ({classes.tolist()}); the training cohorts need both "
                             "high-growth and other firms")
        self.classes_ = classes
        yb = (target == classes[1]).astype("float64")
        self.feature_names_ = list(frame.columns)
        frame = self._binned(X, frame)
        fold = (time_folds(X["year"].reset_index(drop=True), self.missing_folds)
                if isinstance(X, pd.DataFrame) and "year" in X.columns else None)
        min_count = max(1, int(np.ceil(self.min_bin_share * len(frame))))

        self.bins_: dict[str, FeatureBins] = {}
        design = np.zeros((len(frame), len(frame.columns)))
        for j, feature in enumerate(frame.columns):
            x = frame[feature].to_numpy()
            present = ~np.isnan(x)
            declared = (self.directions or {}).get(feature, AUTO)
            direction = _resolve_direction(x[present], yb[present], declared)
            edges = _fit_edges(x[present], yb[present], direction, self.n_bins, min_count)
            bins = FeatureBins(feature, direction, edges, _bin_labels(feature, edges, self.relative), [], [], [], [])
            index = bins.bin_index(x)
            count, events = _counts(index, yb, len(edges) + 2)
            woe = _woe(count, events)
            bins.missing_policy, bins.missing_why = _missing_policy(~present, yb, fold)
            if bins.missing_policy == LEARNED and count[-1] < min_count:
                bins.missing_policy = NEUTRAL
                bins.missing_why = f"缺失仅 {count[-1]} 行，少于最小分箱，缺失按平均水平（0分）"
            if bins.missing_policy == NEUTRAL:
                woe[-1] = 0.0
            bins.count, bins.events, bins.woe = count.astype(int).tolist(), events.astype(int).tolist(), woe.tolist()
            self.bins_[feature] = bins
            design[:, j] = woe[index]

        self.intercept_, self.coef_ = _fit_logistic(design, yb, self.C)
        factor = self.pdo / np.log(2.0)
        offset = self.base_points - factor * np.log(self.base_odds)
        base = offset + factor * self.intercept_
        for j, bins in enumerate(self.bins_.values()):
            raw = factor * self.coef_[j] * np.asarray(bins.woe)
            centre = float(np.dot(raw, bins.count) / max(sum(bins.count), 1))
            bins.points = [int(v) for v in np.round(raw - centre)]
            if bins.missing_policy == NEUTRAL:
                bins.points[-1] = 0
            base += centre
        self.base_points_ = int(np.round(base))
        return self

    # --- scoring --------------------------------------------------------------------------------------
    def _points(self, X: object) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        check_is_fitted(self, "bins_")
        frame = self._feature_frame(X, reset=False)
        binned = self._binned(X, frame)
        points, labels = {}, {}
        for feature, bins in self.bins_.items():
            index = bins.bin_index(binned[feature].to_numpy())
            points[feature] = np.asarray(bins.points)[index]
            labels[feature] = np.asarray(bins.labels, dtype=object)[index]
        return frame, pd.DataFrame(points, index=frame.index), pd.DataFrame(labels, index=frame.index)

    def score(self, X: pd.DataFrame, y: None = None) -> pd.Series:
        """Total integer points of each row (``base_points_`` + points per feature); higher = more likely to grow.

        ``y`` must stay None: unlike scikit-learn's ``score`` this is not an accuracy.
        """
        if y is not None:
            raise TypeError("Scorecard.score gives each firm's points, not accuracy; call it without y and "
                            "use sklearn.metrics (e.g. roc_auc_score) to evaluate")
        _, points, _ = self._points(X)
        return (points.sum(axis=1) + self.base_points_).astype("int64").rename("score")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds implied by the integer score (so the points table alone reproduces it)."""
        factor = self.pdo / np.log(2.0)
        offset = self.base_points - factor * np.log(self.base_odds)
        return (self.score(X).to_numpy() - offset) / factor

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Relative probabilities [P(class 0), P(class 1)]: calibrated on training cohorts only."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more likely class of each row."""
        check_is_fitted(self, "bins_")
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    # --- reading --------------------------------------------------------------------------------------
    def points_table(self) -> pd.DataFrame:
        """One row per feature and bin: bin label, edges, training count and event rate, WoE, points."""
        check_is_fitted(self, "bins_")
        rows = []
        for feature, bins in self.bins_.items():
            lows = [-np.inf, *bins.edges, np.nan]
            highs = [*bins.edges, np.inf, np.nan]
            for k, label in enumerate(bins.labels):
                rows.append({
                    "feature": feature, "label": BY_ID[feature].label if feature in BY_ID else feature,
                    "direction": bins.direction, "bin": label, "lower": lows[k], "upper": highs[k],
                    "count": bins.count[k], "event_rate": bins.events[k] / bins.count[k] if bins.count[k] else np.nan,
                    "woe": bins.woe[k], "points": bins.points[k],
                })
        return pd.DataFrame(rows)

    def _explained(self, frame: pd.DataFrame) -> pd.DataFrame:
        values, points, labels = self._points(frame)
        ids = frame["uscc"].to_numpy() if "uscc" in frame.columns else frame.index.to_numpy()
        parts = []
        for order, (feature, bins) in enumerate(self.bins_.items()):
            definition = BY_ID.get(feature)
            name = definition.label if definition is not None else feature
            value = values[feature].to_numpy()
            part = pd.DataFrame({
                "row": np.arange(len(values)), "order": order, "uscc": ids,
                "feature": feature, "value": value, "bin": labels[feature].to_numpy(),
                "points": points[feature].to_numpy().astype("int64"), "missing": np.isnan(value),
            })
            if "year" in frame.columns:
                part.insert(3, "year", frame["year"].to_numpy())
            shown = [definition.format_value(v) if definition is not None else format_number(v) for v in value]
            past = definition is not None and definition.past
            part["reason"] = [
                (f"{NO_PAST_DATA if past else '数据缺失'}：{p:+d}分（{name}）" if m
                 else f"{name} {v}（{b}，{p:+d}分）" if self.relative else f"{name} {v}（{p:+d}分）")
                for v, b, p, m in zip(shown, part["bin"], part["points"], part["missing"], strict=True)]
            negative_rate = (bins.direction == INCREASING and definition is not None and definition.percent
                             and np.nan_to_num(value, nan=0.0) < 0)
            # A firm in the feature's most common bin shares it with most firms: it is no reason for or against it.
            part["typical"] = (labels[feature].to_numpy() == bins.labels[bins.typical]
                               if bins.typical is not None else np.zeros(len(value), dtype=bool))
            part["creditable"] = (part["points"] > 0) & ~part["missing"] & ~negative_rate & ~part["typical"]
            parts.append(part)
        out = pd.concat(parts, ignore_index=True).sort_values(["row", "points", "order"],
                                                             ascending=[True, False, True], kind="stable")
        out["rank"] = out.groupby("row").cumcount() + 1
        return out.drop(columns=["order"]).reset_index(drop=True)

    def explain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points per firm and feature with a Chinese reason, e.g. ``近三年营收年均增长 35%（+18分）``.

        Columns: uscc (and year when ``frame`` has it), feature, value, bin, points, reason, missing, typical,
        creditable, rank — rank 1 is the feature that adds the most points to that firm's score. ``missing`` marks a
        value in the Missing bin; its reason reads ``无往年数据（新上市/新成立）：+N分（上年营收增长）`` for features
        that need an earlier year. ``typical`` marks a value in the bin that most training firms share
        (:attr:`FeatureBins.typical`): what most firms share does not distinguish this one, so it is never a reason
        nor a deduction (its points still count in the score). ``creditable`` marks a reason a committee can give
        for choosing the firm: it raised the score, the value is present and not typical, and it is not a negative
        rate of a higher-is-better feature (a firm is never chosen "because" it lost money or shrank, even when
        others lost more).
        """
        return self._explained(frame).drop(columns=["row"])

    def top_reasons(self, frame: pd.DataFrame, n: int = 3) -> pd.Series:
        """Up to ``n`` creditable reasons per row (most points first), joined with "；" (index of ``frame``).

        Only features that raised the firm's score with a value it really has are reasons (see :meth:`explain`);
        a firm with none gets an empty text. Each reason carries the declared rationale of its direction when the
        scorecard has one, e.g. ``研发投入强度 42%（+10分）：研发投入是未来增长的来源``.
        """
        explained = self._explained(frame)
        kept = explained[explained["creditable"]]
        why = kept["feature"].map({f: b.rationale for f, b in self.bins_.items()})
        kept = kept.assign(reason=[f"{r}：{w}" if w else r for r, w in zip(kept["reason"], why, strict=True)])
        return self._joined(kept, frame, n)

    def top_deductions(self, frame: pd.DataFrame, n: int = 2) -> pd.Series:
        """Up to ``n`` present-valued features that lowered each row's score most, e.g. ``企业年龄 4年（-6分）``.

        The counterpart of :meth:`top_reasons`, so that a brief shows what counted against the firm as well; a value
        in the feature's most common bin is left out (see :meth:`explain`).
        """
        explained = self._explained(frame)
        kept = explained[(explained["points"] < 0) & ~explained["missing"] & ~explained["typical"]].sort_values(
            ["row", "points"], kind="stable")
        return self._joined(kept, frame, n)

    def missing_notes(self, frame: pd.DataFrame) -> pd.Series:
        """Per row, the points its Missing bins gave it (positive or negative): one note for the features that
        need an earlier year and one for the others, each with its total and, when several, each feature's share,
        e.g. ``无往年数据（新上市/新成立）：+51分（上年营收增长 +42分、上年资产增长 +9分）``; joined with "；".

        A newly observed firm lacks every past-year feature for one reason, so the brief gives that reason once
        with what it is worth in all. Empty unless a Missing bin passed the stability test in training
        (otherwise missing scores 0).
        """
        explained = self._explained(frame)
        kept = explained[explained["missing"] & (explained["points"] != 0)]
        past = kept["feature"].map(lambda f: f in BY_ID and BY_ID[f].past).to_numpy(dtype=bool)
        named = kept.assign(kind=np.where(past, NO_PAST_DATA, "数据缺失"),
                            name=kept["feature"].map(lambda f: BY_ID[f].label if f in BY_ID else f))
        notes = []
        for (row, kind), part in named.groupby(["row", "kind"], sort=False):
            shares = "、".join(f"{n} {p:+d}分" for n, p in zip(part["name"], part["points"], strict=True))
            detail = part["name"].iloc[0] if len(part) == 1 else shares
            notes.append({"row": row, "order": part.index.min(),
                          "reason": f"{kind}：{int(part['points'].sum()):+d}分（{detail}）"})
        grouped = pd.DataFrame(notes, columns=["row", "order", "reason"]).sort_values(["row", "order"])
        return self._joined(grouped, frame, None)

    @staticmethod
    def _joined(kept: pd.DataFrame, frame: pd.DataFrame, n: int | None) -> pd.Series:
        if n is not None:
            kept = kept.groupby("row", sort=False).head(n)
        text = kept.groupby("row", sort=True)["reason"].agg("；".join)
        text = text.reindex(np.arange(len(frame))).astype(object).fillna("")
        return pd.Series(text.to_numpy(), index=frame.index, name="reasons")

    # --- persistence ----------------------------------------------------------------------------------
    def to_spec(self) -> dict[str, object]:
        """Everything the score depends on, as plain JSON/YAML-safe values."""
        check_is_fitted(self, "bins_")
        return {
            "params": self.get_params(),
            "classes": [v.item() if hasattr(v, "item") else v for v in self.classes_],
            "base_points": self.base_points_,
            "intercept": self.intercept_,
            "coefficients": {f: float(c) for f, c in zip(self.bins_, self.coef_, strict=True)},
            "bins": [asdict(b) for b in self.bins_.values()],
        }

    @classmethod
    def from_spec(cls, spec: dict[str, object]) -> Scorecard:
        """Rebuild a fitted scorecard from :meth:`to_spec` output, without the training data."""
        model = cls(**spec["params"])
        bins = [FeatureBins(**b) for b in spec["bins"]]
        model.bins_ = {b.feature: b for b in bins}
        model.feature_names_ = [b.feature for b in bins]
        model.n_features_in_ = len(bins)
        model.feature_names_in_ = np.asarray(model.feature_names_, dtype=object)
        model.classes_ = np.asarray(spec["classes"])
        model.base_points_ = int(spec["base_points"])
        model.intercept_ = float(spec["intercept"])
        model.coef_ = np.asarray([spec["coefficients"][b.feature] for b in bins], dtype="float64")
        return model
