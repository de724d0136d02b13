"""Out-of-time evaluation: train on cohorts ≤ T − gap, test on cohort T, for several T.

Random k-fold cross-validation mixes years and overstates the score of a growth model by 0.08–0.16 AUC
on data like ours, so it is not offered. Every test cohort is scored by the scorecard, the monotone
challenger, a plain boosted-tree reference on the raw amounts, the "past growth only" baselines and, on
generated data, the rankings its hidden truth allows (tiering.datasets.oracle).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from threadpoolctl import threadpool_limits

from tiering.errors import PanelUnusable
from tiering.growth.challenger import GrowthChallenger
from tiering.growth.directions import Declarations, load_declarations
from tiering.growth.training import train_scorecard

Ranker = Callable[[pd.DataFrame, pd.DataFrame, list[str]], np.ndarray]
"""(train, test, features) → one score per test row; higher = more likely to grow."""

METRICS = ("n_train", "n_test", "base_rate", "roc_auc", "average_precision", "precision_at_10",
           "precision_at_15", "lift_at_10", "lift_at_15")
MIN_TRAIN_ROWS = 30
ORACLE_PREFIX = "oracle:"
RAW_PREFIX = "raw:"
"""Columns of the evaluation frame that hold a panel's raw amounts, for the plain boosted-tree reference."""


def _challenger(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> np.ndarray:
    return GrowthChallenger(features=features).fit(train, train["label"]).predict_proba(test)[:, 1]


def _reference(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Plain HistGradientBoostingClassifier, default settings, on the raw amounts (no features, no constraints)."""
    # A column with no value in the training rows carries nothing (and breaks the binner).
    raw = [c for c in train.columns if c.startswith(RAW_PREFIX) and train[c].notna().any()]
    with threadpool_limits(limits=1):
        model = HistGradientBoostingClassifier(random_state=0).fit(train[raw], train["label"])
        return model.predict_proba(test[raw])[:, 1]


def _column(name: str) -> Ranker:
    def rank(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> np.ndarray:
        return test[name].to_numpy("float64")
    return rank


DEFAULT_RANKERS: dict[str, Ranker] = {
    "challenger": _challenger,
    "boosted_raw": _reference,
    "past_growth_3y": _column("revenue_growth_3y"),
    "past_growth_1y": _column("revenue_growth_1y"),
}


def precision_at_k(y: np.ndarray, score: np.ndarray, k: int, tiebreak: np.ndarray) -> float:
    """Share of high-growth firms among the ``k`` best scores; missing scores rank last, ties by ``tiebreak``."""
    filled = np.where(np.isnan(score), -np.inf, score)
    order = np.lexsort((tiebreak, -filled))
    top = order[: min(k, len(y))]
    return float(np.mean(y[top])) if top.size else np.nan


def ranking_metrics(y: np.ndarray, score: np.ndarray, tiebreak: np.ndarray,
                    ks: Sequence[int] = (10, 15)) -> dict[str, float]:
    """ROC AUC, average precision, precision@k and lift@k (precision@k / base rate) of one ranking."""
    y = np.asarray(y, dtype="float64")
    filled = np.where(np.isnan(score), np.nanmin(score, initial=0.0) - 1.0, score)
    base = float(y.mean())
    both = 0 < y.sum() < len(y)
    out = {"n_test": float(len(y)), "base_rate": base,
           "roc_auc": float(roc_auc_score(y, filled)) if both else np.nan,
           "average_precision": float(average_precision_score(y, filled)) if both else np.nan}
    for k in ks:
        p = precision_at_k(y, np.asarray(score, dtype="float64"), k, tiebreak)
        out[f"precision_at_{k}"] = p
        out[f"lift_at_{k}"] = p / base if base > 0 else np.nan
    return out


@dataclass(frozen=True)
class OutOfTime:
    """Per-cohort metrics (one row per test year and model), their means, the scorecard's calibration and settings.

    ``calibration`` pools the scorecard's out-of-time predictions of every test cohort and cuts them into
    deciles of predicted probability (1 = lowest): rows, mean predicted probability, observed rate.
    """

    by_year: pd.DataFrame
    summary: pd.DataFrame
    calibration: pd.DataFrame
    settings: pd.DataFrame
    """Per test year: the scorecard settings chosen on its training cohorts, the inner cohorts and their mean AUC."""
    left_out: dict[int, str] = field(default_factory=dict)
    """Test years that could not be tested, each with why (e.g. every firm of the cohort has the same label)."""


def calibration_table(predicted: np.ndarray, observed: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Deciles (or ``bins`` groups) of ``predicted``: rows, mean predicted probability and observed rate.

    Groups are cut on the rank of the prediction, so tied predictions stay together only as far as the
    group sizes allow; every group has about the same number of rows.
    """
    predicted = np.asarray(predicted, dtype="float64")
    observed = np.asarray(observed, dtype="float64")
    group = np.minimum((pd.Series(predicted).rank(method="first").to_numpy() - 1) * bins // len(predicted),
                       bins - 1).astype(int) + 1
    frame = pd.DataFrame({"decile": group, "predicted": predicted, "observed": observed})
    table = frame.groupby("decile").agg(n=("observed", "size"), predicted=("predicted", "mean"),
                                        observed=("observed", "mean")).reset_index()
    return table.assign(n=table["n"].astype(float))


OUT_OF_TIME = "样本外检验 out-of-time test cohorts"


def out_of_time(data: pd.DataFrame, features: Sequence[str], test_years: Sequence[int] | None = None,
                gap: int = 3, oracles: pd.DataFrame | None = None,
                rankers: dict[str, Ranker] | None = None,
                declarations: Declarations | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> OutOfTime:
    """Evaluate the scorecard and every ranker on each test cohort T, trained on labelled cohorts ≤ T − ``gap``.

    ``data`` has ``uscc``, ``year``, the feature columns and ``label`` (NaN rows are left out), and for the
    plain boosted-tree reference the raw amounts as columns named ``raw:<field>``. ``gap`` is the label horizon:
    a cohort's label is known only ``gap`` years later, so this is what a user in year T has. Each split trains
    the scorecard exactly as ``tiering model train`` does, direction and Missing-bin policies included, on its
    own training cohorts only (nested: the policies' time folds are blocks of those cohorts). Without
    ``test_years`` every labelled year with at least 30 training rows of both classes is tested. ``oracles``
    (generated data: uscc, optionally year, and one column per ranking the hidden truth gives, e.g. from
    :func:`tiering.datasets.oracle.best_ranking`) adds each of its columns as a ranking. ``progress``
    (:data:`tiering.app.Progress`) hears of every test cohort done.
    """
    absent = [c for c in ("uscc", "year", "label", *features) if c not in data.columns]
    if absent:
        raise PanelUnusable(f"跨期检验缺少列 {absent}（out-of-time evaluation needs these columns）")
    declarations = declarations if declarations is not None else load_declarations()
    rankers = dict(rankers if rankers is not None else DEFAULT_RANKERS)
    labelled = data[data["label"].notna()].reset_index(drop=True)
    if oracles is not None:
        keys = ["uscc", "year"] if "year" in oracles.columns else ["uscc"]
        scores = [c for c in oracles.columns if c not in keys]
        if "uscc" not in oracles.columns or not scores:
            raise PanelUnusable(f"隐藏真值排序须有 uscc 列（及 year 列）和至少一列排序（oracles）；"
                                f"现有列：{list(oracles.columns)}")
        truth = oracles.assign(uscc=oracles["uscc"].astype(str)).drop_duplicates(keys)
        labelled = labelled.merge(truth.rename(columns={c: f"{ORACLE_PREFIX}{c}" for c in scores}),
                                  on=keys, how="left", validate="many_to_one")
        rankers.update({c: _column(f"{ORACLE_PREFIX}{c}") for c in scores})
    for baseline in ("past_growth_3y", "past_growth_1y"):
        column = {"past_growth_3y": "revenue_growth_3y", "past_growth_1y": "revenue_growth_1y"}[baseline]
        if baseline in rankers and column not in labelled.columns:
            del rankers[baseline]
    if "boosted_raw" in rankers and not any(c.startswith(RAW_PREFIX) for c in labelled.columns):
        del rankers["boosted_raw"]

    def trainable(year: int) -> bool:
        train = labelled[labelled["year"] <= year - gap]
        return len(train) >= MIN_TRAIN_ROWS and train["label"].nunique() == 2

    years = sorted(labelled["year"].unique()) if test_years is None else list(test_years)
    years = [int(t) for t in years if trainable(int(t)) and (labelled["year"] == t).any()]
    # A cohort whose firms all grew, or none did, has no ranking to test: ROC AUC and average precision are not
    # defined there, and a mean over the other metrics alone would count it in some columns and not in others.
    left_out = {}
    for year in years:
        events = labelled.loc[labelled["year"] == year, "label"]
        if events.nunique() < 2:
            left_out[year] = (f"该年度 {len(events)} 家企业的标签全部为“{'高成长' if events.iloc[0] else '非高成长'}”，"
                              "无法检验排序（ROC AUC、平均精度无定义），不计入均值与校准表")
    years = [t for t in years if t not in left_out]
    if not years:
        raise PanelUnusable(f"没有可检验的年度：须有带标签的企业，且 {gap} 年以前有至少 {MIN_TRAIN_ROWS} "
                            "行两类标签都有的训练数据（no test cohort）", hint="面板需要更多年度")
    rows, predicted, observed, chosen = [], [], [], []
    if progress is not None:
        progress(OUT_OF_TIME, 0, len(years))
    for done, year in enumerate(years, start=1):
        train = labelled[labelled["year"] <= year - gap]
        test = labelled[labelled["year"] == year]
        y = test["label"].to_numpy("float64")
        tiebreak = test["uscc"].astype(str).to_numpy()
        trained = train_scorecard(train, list(features), declarations)
        model, selection = trained.model, trained.selection
        inner = selection.auc[selection.chosen]
        chosen.append({"test_year": year, "settings": selection.chosen.describe(),
                       "inner_years": ",".join(map(str, selection.inner_years)) or "-",
                       "inner_auc": f"{np.mean(inner):.3f}" if inner else "-"})
        rows.append({"test_year": year, "model": "scorecard", "n_train": float(len(train)),
                     **ranking_metrics(y, model.score(test).to_numpy("float64"), tiebreak)})
        predicted.append(model.predict_proba(test)[:, 1])
        observed.append(y)
        for name, ranker in rankers.items():
            score = np.asarray(ranker(train, test, list(features)), dtype="float64")
            rows.append({"test_year": year, "model": name, "n_train": float(len(train)),
                         **ranking_metrics(y, score, tiebreak)})
        if progress is not None:
            progress(OUT_OF_TIME, done, len(years))
    by_year = pd.DataFrame(rows)[["test_year", "model", *METRICS]]
    summary = (by_year.drop(columns="test_year").groupby("model", sort=False).mean()
               .reset_index().assign(years=len(years)))
    calibration = calibration_table(np.concatenate(predicted), np.concatenate(observed))
    return OutOfTime(by_year=by_year, summary=summary, calibration=calibration, settings=pd.DataFrame(chosen),
                     left_out=left_out)


def format_table(table: pd.DataFrame) -> str:
    """A fixed-width text table with three decimals, for the terminal and reports."""
    shown = table.copy()
    for column in ("n_train", "n_test", "n"):
        if column in shown.columns:
            shown[column] = shown[column].round().astype("int64")
    return shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")
