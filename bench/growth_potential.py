"""What a generated register shows of each firm's hidden growth potential; run on demand, never in CI.

    python bench/growth_potential.py [--register datasets/generated/panel_s42.csv] [--big-firms 3000]

`tiering model evaluate --latent` puts the scorecard 0.033 ROC AUC below ``oracle_no_transient`` (potential, age and
persistent revenue level known) and 0.002 below ``oracle_no_potential`` (age and level only): what is missing is
the firm's growth potential, a trait the generator keeps out of the register. This script measures, on the same
out-of-time splits (each test cohort T scored by a model trained on cohorts ≤ T − 3):

1. candidate estimates of the potential from what the register shows — the firm's own growth history (mean yearly
   log growth of assets, staff or revenue over all its years so far, less the mean of firms of the same year and
   age group, shrunk toward 0 by years observed, an empirical-Bayes mean with prior weight 3 years), equity
   financing received, competition awards, strategic products, the firm's mean R&D intensity: each one's Spearman
   ρ with the hidden potential, and the mean ROC AUC of a logistic regression on size, age and the register's
   technology measures with and without it (with its standardised coefficient in the last split);
2. the scorecard trained exactly as `model evaluate` trains it, plus the TRUE hidden potential as a feature: the
   most that estimating the potential could give;
3. the scorecard trained on an independent generated panel ``--big-firms`` strong (ten times the firms by default)
   and tested on the register's cohorts: whether more training data would help.

The hidden potential is read only to measure; no model here is shipped.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from tiering.datasets.generate import generate_panel
from tiering.growth.directions import Declaration, Declarations, load_declarations
from tiering.growth.features import build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.mapping import load_mapping, read_panel
from tiering.growth.training import train_scorecard
from tiering.growth.validation import out_of_time

ROOT = Path(__file__).resolve().parents[1]
TEST_YEARS = range(2018, 2023)
GAP = 3
PRIOR_YEARS = 3.0
BASE = ["log_revenue_mean3", "log_employees", "log_assets", "age", "year_share", "rd_intensity", "tech_staff_share",
        "rd_staff_share", "hightech_revenue_to_revenue", "leverage", "employee_growth_1y", "asset_growth_1y"]


def _by_firm(panel: pd.DataFrame, values: np.ndarray, how: str) -> np.ndarray:
    """Per row, ``how`` of ``values`` over the firm's rows up to this year, NaN skipped: "max", "mean", or "shrunk"
    (the sum over the years seen plus ``PRIOR_YEARS`` years at 0)."""
    order = np.lexsort((panel["year"].to_numpy(), panel["uscc"].to_numpy()))
    ordered = pd.Series(values[order])
    firms = panel["uscc"].to_numpy()[order]
    if how == "max":
        running = ordered.fillna(0.0).groupby(firms).cummax().to_numpy()
    else:
        total = ordered.fillna(0.0).groupby(firms).cumsum().to_numpy()
        seen = ordered.notna().astype(float).groupby(firms).cumsum().to_numpy()
        running = np.where(seen > 0, total / (seen + (PRIOR_YEARS if how == "shrunk" else 0.0)), np.nan)
    out = np.empty(len(values))
    out[order] = running
    return out


def _growth_history(panel: pd.DataFrame, age: np.ndarray, field: str) -> np.ndarray:
    """Empirical-Bayes mean of the firm's yearly log growth of ``field``, relative to firms of its year and age."""
    keys = panel[["uscc", "year"]]
    logged = np.log(panel[field].where(panel[field] > 0).astype("float64")).to_numpy()
    before = keys.merge(keys.assign(year=keys["year"] + 1, value=logged), on=["uscc", "year"], how="left")["value"]
    growth = logged - before.to_numpy()
    growth[age <= 1] = np.nan  # growth out of the registration year starts from a part year
    group = np.select([age <= 2, age <= 3, age <= 5, age <= 9], [2, 3, 4, 5], 6)
    relative = growth - pd.Series(growth).groupby([panel["year"].to_numpy(), group]).transform("mean").to_numpy()
    return _by_firm(panel, relative, "shrunk")


def _logistic_auc(data: pd.DataFrame, features: list[str]) -> tuple[float, float]:
    """Mean out-of-time ROC AUC of a standardised logistic regression; the last feature's coefficient (last split)."""
    aucs, coefficient = [], np.nan
    labelled = data[data["label"].notna()]
    for year in TEST_YEARS:
        train, test = labelled[labelled["year"] <= year - GAP], labelled[labelled["year"] == year]
        mean, sd = train[features].mean(), train[features].std()
        model = LogisticRegression().fit(((train[features] - mean) / sd).fillna(0.0), train["label"])
        aucs.append(roc_auc_score(test["label"], model.decision_function(((test[features] - mean) / sd).fillna(0.0))))
        coefficient = float(model.coef_[0][-1])
    return float(np.mean(aucs)), coefficient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--register", default=str(ROOT / "datasets" / "generated" / "panel_s42.csv"))
    parser.add_argument("--big-firms", type=int, default=3000)
    args = parser.parse_args()
    start = time.process_time()
    spec = LabelSpec()
    panel = read_panel(args.register, load_mapping("register")).reset_index(drop=True)
    built = build_features(panel)
    data = built.frame.assign(label=growth_label(panel, spec)["label"].to_numpy())
    latent = pd.read_csv(Path(args.register).with_suffix(".latent.csv"), dtype={"uscc": str})
    potential = panel["uscc"].astype(str).map(latent.set_index("uscc")["growth_potential"]).to_numpy()
    raw = pd.read_csv(args.register, dtype={"统一社会信用代码": str}).set_index(["统一社会信用代码", "年度"])
    rows = list(zip(panel["uscc"].astype(str), panel["year"], strict=True))
    yes = {c: (raw.loc[rows, c].to_numpy() == "是").astype(float)
           for c in ("创新创业大赛获奖", "主导产品属于战略性新兴产业")}
    equity = (raw.loc[rows, "新增股权融资(万元)"].to_numpy() > 0).astype(float)
    age = data["age"].to_numpy()
    estimates = {
        "assets growth history": _growth_history(panel, age, "total_assets"),
        "staff growth history": _growth_history(panel, age, "employees"),
        "revenue growth history": _growth_history(panel, age, "revenue"),
        "equity financing ever": _by_firm(panel, equity, "max"),
        "competition award (创新创业大赛获奖)": yes["创新创业大赛获奖"],
        "strategic products (战略性新兴产业)": yes["主导产品属于战略性新兴产业"],
        "mean R&D intensity so far": _by_firm(panel, np.log(data["rd_intensity"].where(data["rd_intensity"] > 0))
                                              .to_numpy(), "mean"),
        "TRUE hidden potential": potential,
    }
    base_auc, _ = _logistic_auc(data, BASE)
    print(f"1. estimates of the potential (logistic regression on {len(BASE)} scorecard features: "
          f"mean out-of-time ROC AUC {base_auc:.3f} without any)")
    print(f"   {'estimate':38s} {'ρ with potential':>16s} {'AUC with it':>12s} {'coefficient':>12s}")
    for name, values in estimates.items():
        rho = pd.Series(values).corr(pd.Series(potential), method="spearman")
        auc, coefficient = _logistic_auc(data.assign(estimate=values), [*BASE, "estimate"])
        print(f"   {name:38s} {rho:+16.3f} {auc:12.3f} {coefficient:+12.2f}")

    declarations = load_declarations()
    with_potential = Declarations((Declaration(match="hidden_potential", direction="increasing",
                                               reason="隐藏增长潜力（仅用于测量）"), *declarations.entries), "bench")
    for title, frame, features, chosen in (
            ("the scorecard as shipped", data, list(built.used), declarations),
            ("the scorecard + TRUE hidden potential", data.assign(hidden_potential=potential),
             [*built.used, "hidden_potential"], with_potential)):
        summary = out_of_time(frame, features, test_years=list(TEST_YEARS), gap=GAP, rankers={},
                              declarations=chosen).summary.set_index("model").loc["scorecard"]
        print(f"2. {title:40s} ROC AUC {summary['roc_auc']:.3f}  precision@15 {summary['precision_at_15']:.3f}  "
              f"lift@15 {summary['lift_at_15']:.2f}")

    big = generate_panel(args.big_firms, (2015, 2025), 7).panel.reset_index(drop=True)
    big = big[[c for c in panel.columns if c in big.columns]]
    trained = build_features(big).frame.assign(label=growth_label(big, spec)["label"].to_numpy())
    trained = trained[trained["label"].notna()]
    labelled = data[data["label"].notna()]
    aucs = []
    for year in TEST_YEARS:
        test = labelled[labelled["year"] == year]
        model = train_scorecard(trained[trained["year"] <= year - GAP], list(built.used), declarations).model
        aucs.append(roc_auc_score(test["label"], model.score(test)))
    print(f"3. the scorecard trained on an independent panel of {args.big_firms} firms ({len(trained)} labelled "
          f"rows), tested on the register's cohorts: ROC AUC {np.mean(aucs):.3f} "
          f"({', '.join(f'{a:.3f}' for a in aucs)})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CPU {time.process_time() - start:.1f} s, peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
