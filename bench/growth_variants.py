"""What else was tried for the growth scorecard on a panel, each variant measured out of time exactly as
``tiering model evaluate`` does (train on cohorts ≤ T − 3, test on cohort T; settings, directions and Missing bins
chosen on each split's own training cohorts); run on demand (never in CI).

    python bench/growth_variants.py                                   # the listed panel, test cohorts 2005–2010
    python bench/growth_variants.py --panel datasets/generated/panel_s42.csv --mapping register --test-from 2018

Variants (each one row: mean ROC AUC, average precision, precision@10/15 over the test cohorts, then per year):

* ``shipped``: the scorecard as ``model evaluate`` trains it (the first row of its table);
* ``fixed:<setting>``: one setting only instead of the nested choice among eight, to show how much the choice moves;
* ``top<K>``: only the K kept features with the largest |ρ| on the training cohorts (fewer, stronger features);
* ``industry gap (add)`` / ``industry gap (replace)``: every feature but size and age also given, or replaced by,
  its gap to the median of the firms of the same industry and year (margins and growth differ by industry);
* ``+ <feature>``: one more feature the panel allows, declared with a direction and a reason (``EXTRA``): the
  current ratio, asset growth beyond revenue growth, private ownership;
* ``unconstrained LR``: logistic regression on every feature's within-year percentile, with no declared
  direction, no direction policy and no binning: a ceiling for an additive model on these features that the
  scorecard may not use (it would reward features against their declared direction).

The load average before and after is printed: on the shared machine CPU time, not wall time, is comparable.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from tiering.growth.directions import Declaration, Declarations, check_directions, kept_directions, load_declarations
from tiering.growth.features import build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.mapping import load_mapping, read_panel
from tiering.growth.scorecard import within_year
from tiering.growth.training import CANDIDATES, Settings, train_scorecard
from tiering.growth.validation import ranking_metrics

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "cn_machinery_listed_2000_2013.csv"
GAP = "_vs_industry"
UNRELATIVE = ("log_revenue", "log_revenue_mean3", "log_assets", "log_employees", "age", "years_observed",
              "year_share")
"""Size and age are kept as they are: 'smaller than the industry's median firm' adds little to 'small'."""

EXTRA: dict[str, tuple[str, str]] = {
    "current_ratio": ("increasing", "流动比率高说明短期偿债能力强"),
    "asset_minus_revenue_growth": ("increasing", "资产增长快于收入说明在为扩张投资"),
    "private_owned": ("increasing", "民营企业机制灵活"),
}

Scorer = Callable[[pd.DataFrame, pd.DataFrame, list[str], Declarations], np.ndarray]


def labelled(path: Path, mapping: str) -> tuple[pd.DataFrame, list[str], pd.Series, pd.DataFrame]:
    """Features and label of every firm-year (label NaN where unknown), the feature ids, each row's industry and
    the ``EXTRA`` features the panel allows."""
    panel = read_panel(path, load_mapping(mapping)).reset_index(drop=True)
    built = build_features(panel)
    data = built.frame.assign(label=growth_label(panel, LabelSpec())["label"].to_numpy())
    industry = panel["industry"] if "industry" in panel.columns else pd.Series(None, index=panel.index)
    extra = pd.DataFrame(index=panel.index)
    if {"current_assets", "current_liabilities"} <= set(panel.columns):
        extra["current_ratio"] = panel["current_assets"] / panel["current_liabilities"].where(
            panel["current_liabilities"] > 0)
    if {"asset_growth_1y", "revenue_growth_1y"} <= set(data.columns):
        extra["asset_minus_revenue_growth"] = data["asset_growth_1y"] - data["revenue_growth_1y"]
    if "ownership" in panel.columns:
        extra["private_owned"] = panel["ownership"].str.contains("民营", na=False).astype("float64")
    return data, list(built.used), industry, extra


def industry_gaps(data: pd.DataFrame, features: list[str], industry: pd.Series) -> pd.DataFrame:
    """Each feature (size and age aside) minus the median of the same industry and year, as ``<id>_vs_industry``.

    The medians are taken over every firm of the year, labelled or not, as a scoring year would have them."""
    gapped = [f for f in features if f not in UNRELATIVE]
    medians = data[gapped].groupby([industry.to_numpy(), data["year"].to_numpy()]).transform("median")
    return (data[gapped] - medians).add_suffix(GAP)


def gap_declarations(base: Declarations, features: list[str]) -> Declarations:
    """The declaration of each feature, repeated for its industry gap (same direction, same reason)."""
    extra = []
    for feature in features:
        found = base.find(feature)
        if found is not None and feature not in UNRELATIVE:
            extra.append(Declaration(match=f"{feature}{GAP}", direction=found.direction,
                                     reason=f"{found.reason}（与同行业同年中位数比）"))
    return Declarations((*base.entries, *extra), base.source)


def scorecard(candidates: tuple[Settings, ...] = CANDIDATES, top: int | None = None) -> Scorer:
    """The project's training (nested settings, direction and Missing policies), optionally on the top features."""
    def score(train: pd.DataFrame, test: pd.DataFrame, features: list[str], declarations: Declarations) -> np.ndarray:
        if top is not None:
            checks = [c for c in check_directions(train, features, declarations) if c.status == "kept"]
            strongest = sorted(checks, key=lambda c: -abs(c.rho))[:top]
            features = list(kept_directions(strongest))
        trained = train_scorecard(train, features, declarations, candidates=candidates)
        return trained.model.score(test).to_numpy("float64")
    return score


def unconstrained(train: pd.DataFrame, test: pd.DataFrame, features: list[str],
                  declarations: Declarations) -> np.ndarray:
    """Logistic regression on within-year percentiles, missing at the median, no direction kept (a ceiling)."""
    both = pd.concat([train, test], ignore_index=True)
    ranked = within_year(both[features], both["year"]).fillna(0.5)
    model = LogisticRegression(C=0.1, max_iter=5000).fit(ranked.iloc[: len(train)], train["label"])
    return model.predict_proba(ranked.iloc[len(train):])[:, 1]


def measure(data: pd.DataFrame, features: list[str], declarations: Declarations, scorer: Scorer,
            years: list[int]) -> dict[str, object]:
    """Mean and per-year figures of one variant over the test cohorts, with the CPU seconds it took."""
    start = time.process_time()
    rows = []
    for year in years:
        train, test = data[data["year"] <= year - 3], data[data["year"] == year]
        score = scorer(train, test, features, declarations)
        rows.append(ranking_metrics(test["label"].to_numpy("float64"), score, test["uscc"].astype(str).to_numpy()))
    table = pd.DataFrame(rows)
    return {**{k: float(table[k].mean()) for k in ("roc_auc", "average_precision", "precision_at_10",
                                                   "precision_at_15")},
            "by_year": " ".join(f"{a:.3f}" for a in table["roc_auc"]), "cpu_s": time.process_time() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", type=Path, default=REAL)
    parser.add_argument("--mapping", default="cn_machinery_listed")
    parser.add_argument("--test-from", type=int, default=2005)
    parser.add_argument("--test-to", type=int, default=None, help="last test cohort (default: the last labelled)")
    args = parser.parse_args()
    if not args.panel.is_file():
        raise SystemExit(f"no panel at {args.panel} (the listed panel lives in ../shared/data/)")
    print(f"load average before: {os.getloadavg()}")
    data, features, industry, extra = labelled(args.panel, args.mapping)
    last = args.test_to if args.test_to is not None else int(data.loc[data["label"].notna(), "year"].max())
    years = [y for y in range(args.test_from, last + 1) if data.loc[data["year"] == y, "label"].notna().any()]
    base = load_declarations()
    gaps = industry_gaps(data, features, industry) if industry.notna().any() else None
    known = data["label"].notna().to_numpy()
    data, extra = data[known].reset_index(drop=True), extra[known].reset_index(drop=True)
    variants: list[tuple[str, pd.DataFrame, list[str], Declarations, Scorer]] = [
        ("shipped", data, features, base, scorecard()),
        *[(f"fixed: {s.describe()}", data, features, base, scorecard((s,)))
          for s in (Settings(True, 0.1, 5), Settings(True, 0.1, 3), Settings(False, 0.1, 5))],
        *[(f"top{k}", data, features, base, scorecard(top=k)) for k in (5, 10, 20)],
    ]
    if gaps is not None:
        gaps = gaps[known].reset_index(drop=True)
        declared = gap_declarations(base, features)
        added = pd.concat([data, gaps], axis=1)
        replaced = data.assign(**{c.removesuffix(GAP): gaps[c] for c in gaps.columns})
        variants += [("industry gap (add)", added, [*features, *gaps.columns], declared, scorecard()),
                     ("industry gap (replace)", replaced, features, base, scorecard())]
    for feature in extra.columns:
        direction, reason = EXTRA[feature]
        declared = Declarations((*base.entries, Declaration(match=feature, direction=direction, reason=reason)),
                                base.source)
        variants.append((f"+ {feature}", data.assign(**{feature: extra[feature]}), [*features, feature], declared,
                         scorecard()))
    variants.append(("unconstrained LR (ceiling)", data,
                     [f for f in features if base.find(f) is None or base.find(f).direction != "excluded"],
                     base, unconstrained))
    print(f"{args.panel.name}: test cohorts {years[0]}–{years[-1]}, {len(features)} candidate features")
    print(f"{'variant':<32} {'ROC AUC':>7} {'AP':>6} {'p@10':>6} {'p@15':>6} {'CPU s':>6}  ROC AUC by test year")
    for name, frame, names, declarations, scorer in variants:
        m = measure(frame, names, declarations, scorer, years)
        print(f"{name:<32} {m['roc_auc']:7.3f} {m['average_precision']:6.3f} {m['precision_at_10']:6.3f} "
              f"{m['precision_at_15']:6.3f} {m['cpu_s']:6.0f}  {m['by_year']}", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
