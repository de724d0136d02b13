"""Tests of the growth-propensity score: labels, features, scorecard, challenger, validation, card, CLI."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tiering.cli.model_cmd  # noqa: F401  (registers the ``model`` group on ``main``)
from tiering.cli import main
from tiering.errors import PanelUnusable, Where
from tiering.growth.card import ModelCardError, build_card, card_path, data_hash, load_card, save_card
from tiering.growth.challenger import GrowthChallenger
from tiering.growth.features import build_features
from tiering.growth.labels import LabelSpec, growth_label, year_share
from tiering.growth.mapping import MappingError, load_mapping, read_panel
from tiering.growth.scorecard import FeatureMismatchError, Scorecard
from tiering.growth.validation import OUT_OF_TIME, out_of_time, precision_at_k, ranking_metrics
from tiering.uscc import make as make_uscc

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cn_machinery_listed_2000_2013.csv"


# --- a small synthetic panel with a known latent growth potential ------------------------------------------

def synthetic_panel(firms: int = 300, years: range = range(2010, 2022), seed: int = 0
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firms whose revenue growth follows a latent potential that R&D, staff and patents partly reveal.

    About 5 % of firm-years are removed to make gaps. Returns (panel, latent).
    """
    rng = np.random.default_rng(seed)
    potential = rng.normal(size=firms)
    rows = []
    for i in range(firms):
        uscc = make_uscc(f"91120000{i:09d}")
        founded = int(rng.integers(1995, years[0]))
        revenue = float(np.exp(rng.normal(8.0, 1.0)))
        ip1, ip2 = int(rng.poisson(2)), int(rng.poisson(5))
        for year in years:
            revenue *= float(np.exp(0.05 + 0.10 * potential[i] + 0.12 * rng.normal()))
            ip1 += int(rng.poisson(np.exp(0.6 * potential[i])))
            ip2 += int(rng.poisson(2 * np.exp(0.3 * potential[i])))
            employees = max(1.0, round(revenue ** 0.6 * np.exp(0.3 * rng.normal())))
            rows.append({
                "uscc": uscc, "name": f"企业{i:03d}", "year": year,
                "registration_date": pd.Timestamp(founded, 1 + i % 12, 1),
                "revenue": revenue, "employees": float(employees),
                "tech_staff": float(round(employees / (1 + np.exp(-(potential[i] + rng.normal() - 1))))),
                "rd_expense": revenue * float(np.clip(0.04 + 0.02 * potential[i] + 0.02 * rng.normal(), 0, None)),
                "ip_class1": float(ip1), "ip_class2": float(ip2),
                "total_assets": revenue * float(rng.uniform(0.8, 1.6)),
                "net_profit": revenue * float(rng.normal(0.06, 0.05)),
            })
    panel = pd.DataFrame(rows)
    panel["total_liabilities"] = panel["total_assets"] * rng.uniform(0.2, 0.8, len(panel))
    panel = panel[rng.uniform(size=len(panel)) > 0.05].reset_index(drop=True)
    panel["registration_date"] = panel["registration_date"].astype("datetime64[ns]")
    latent = pd.DataFrame({"uscc": [make_uscc(f"91120000{i:09d}") for i in range(firms)],
                           "latent_potential": potential})
    return panel, latent


@pytest.fixture(scope="module")
def generated() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_panel()


@pytest.fixture(scope="module")
def labelled(generated: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    panel, _ = generated
    built = build_features(panel)
    label = growth_label(panel, LabelSpec())
    data = built.frame.assign(label=label["label"].to_numpy())
    return data[data["label"].notna()].reset_index(drop=True), built.used


# --- labels -----------------------------------------------------------------------------------------------

def _frame(rows: list[tuple[str, int, float, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["uscc", "year", "revenue", "employees"]).astype(
        {"year": "int64", "revenue": "float64", "employees": "float64"})


def test_label_gap_in_years_gives_missing_not_a_wrong_label() -> None:
    # A has no 2021: 2018's label needs 2021 and must be missing, not bridged to 2022.
    panel = _frame([("A", 2018, 100, 20), ("A", 2019, 100, 20), ("A", 2020, 160, 20),
                    ("A", 2022, 300, 20), ("A", 2023, 200, 20)])
    out = growth_label(panel, LabelSpec("revenue", 0.20, 3))
    assert out["year"].tolist() == [2018, 2019, 2020, 2022, 2023]
    assert out["label"].tolist() == pytest.approx([np.nan, 1.0, 0.0, np.nan, np.nan], nan_ok=True)
    assert out["cagr"].iloc[1] == pytest.approx(3 ** (1 / 3) - 1)
    assert out["cagr"].iloc[2] == pytest.approx((200 / 160) ** (1 / 3) - 1)


def test_label_annualises_the_revenue_of_the_registration_year() -> None:
    # registered 1 Oct 2021: 92 of 365 days operated, revenue 92 is a year's 365; 365 → 630.72 is exactly 20 % a year
    panel = _frame([("A", 2021, 92, 10), ("A", 2022, 500, 10), ("A", 2024, 630.72, 10), ("A", 2025, 600, 10)])
    panel["registration_date"] = pd.Timestamp("2021-10-01")
    out = growth_label(panel, LabelSpec()).set_index("year")
    assert year_share(panel).tolist() == pytest.approx([92 / 365, 1.0, 1.0, 1.0])
    assert out.loc[2021, "base"] == pytest.approx(365.0)
    assert out.loc[2021, "cagr"] == pytest.approx(0.2)
    assert out.loc[2021, "label"] == 1.0
    assert growth_label(panel, LabelSpec(strict=True)).set_index("year").loc[2021, "label"] == 0.0
    assert out.loc[2022, "base"] == 500.0  # a whole year is taken as reported
    assert out.loc[2022, "cagr"] == pytest.approx((600 / 500) ** (1 / 3) - 1)
    # employees are a stock, not summed over the year: never annualised
    staff = growth_label(panel, LabelSpec("employees")).set_index("year")
    assert staff.loc[2021, "base"] == 10.0
    # without a registration date the label is as before
    plain = growth_label(panel.drop(columns="registration_date"), LabelSpec()).set_index("year")
    assert plain.loc[2021, "base"] == 92.0
    assert plain.loc[2021, "cagr"] == pytest.approx((630.72 / 92) ** (1 / 3) - 1)
    assert LabelSpec().describe() == "未来3年销售收入年均复合增长率 ≥ 20%（注册当年的基期值按经营天数折成全年）"


def test_label_exact_threshold_strict_and_not() -> None:
    panel = _frame([("A", 2020, 100, 10), ("A", 2023, 172.8, 10)])  # exactly 20 % a year
    assert growth_label(panel, LabelSpec(threshold=0.20))["label"].iloc[0] == 1.0
    assert growth_label(panel, LabelSpec(threshold=0.20, strict=True))["label"].iloc[0] == 0.0


def test_label_base_zero_negative_and_end_zero() -> None:
    panel = _frame([("A", 2020, 0, 10), ("A", 2023, 50, 10), ("B", 2020, -5, 10), ("B", 2023, 50, 10),
                    ("C", 2020, 50, 10), ("C", 2023, 0, 10), ("D", 2020, np.nan, 10), ("D", 2023, 50, 10)])
    out = growth_label(panel, LabelSpec()).set_index(["uscc", "year"])
    assert math.isnan(out.loc[("A", 2020), "label"])
    assert math.isnan(out.loc[("B", 2020), "label"])
    assert out.loc[("C", 2020), "label"] == 0.0
    assert out.loc[("C", 2020), "cagr"] == -1.0
    assert math.isnan(out.loc[("D", 2020), "label"])


def test_label_oecd_employment_floor_of_ten() -> None:
    # OECD: employees grow > 20 % a year over three years, with ≥ 10 employees at the start.
    panel = _frame([("A", 2020, 1, 9), ("A", 2023, 1, 30), ("B", 2020, 1, 10), ("B", 2023, 1, 30),
                    ("C", 2020, 1, 10), ("C", 2023, 1, 17), ("D", 2020, 1, np.nan), ("D", 2023, 1, 30),
                    ("E", 2020, 1, 10), ("E", 2023, 1, 17.28)])
    oecd = LabelSpec("employees", 0.20, 3, strict=True, size_floor=10)
    out = growth_label(panel, oecd).set_index(["uscc", "year"])["label"]
    assert [out[(u, 2020)] for u in "ABCDE"] == pytest.approx([np.nan, 1.0, 0.0, np.nan, 0.0], nan_ok=True)
    eurostat = LabelSpec("employees", 0.10, 3, strict=False, size_floor=10)
    out = growth_label(panel, eurostat).set_index(["uscc", "year"])["label"]
    assert [out[(u, 2020)] for u in "ABCDE"] == pytest.approx([np.nan, 1.0, 1.0, np.nan, 1.0], nan_ok=True)
    assert oecd.describe() == "未来3年职工总数年均复合增长率 > 20%，且基期职工总数 ≥ 10"


def test_label_revenue_floor_of_the_torch_centre_gazelle_route() -> None:
    # 火炬中心/长城 瞪羚: three-year revenue CAGR ≥ 20 % with base-year revenue above 1000万元 (criteria.md §5).
    panel = _frame([("A", 2020, 999, 5), ("A", 2023, 3000, 5), ("B", 2020, 1000, 5), ("B", 2023, 1728, 5),
                    ("C", 2020, 5000, 5), ("C", 2023, 6000, 5)])
    spec = LabelSpec("revenue", 0.20, 3, size_floor=1000, size_field="revenue")
    out = growth_label(panel, spec).set_index(["uscc", "year"])["label"]
    assert [out[(u, 2020)] for u in "ABC"] == pytest.approx([np.nan, 1.0, 0.0], nan_ok=True)
    assert spec.describe() == ("未来3年销售收入年均复合增长率 ≥ 20%（注册当年的基期值按经营天数折成全年），"
                               "且基期销售收入 ≥ 1000")


def test_label_refuses_duplicates_and_missing_columns() -> None:
    panel = _frame([("A", 2020, 1, 9), ("A", 2020, 2, 9)])
    with pytest.raises(PanelUnusable, match=r"面板有 1 行重复的（企业，年度），如 A 2020 年") as duplicated:
        growth_label(panel)
    assert duplicated.value.id == "panel-unusable" and duplicated.value.exit_code == 3
    assert duplicated.value.hint == "每家企业每年只保留一行"
    with pytest.raises(PanelUnusable, match=r"无法计算成长标签：面板缺少列 \['tech_staff'\]"):
        growth_label(panel.drop_duplicates("year"), LabelSpec(size_floor=5, size_field="tech_staff"))
    with pytest.raises(ValueError, match="horizon must be a whole number of years ≥ 1; got 0"):
        LabelSpec(horizon=0)


@pytest.fixture(scope="module")
def grunfeld() -> pd.DataFrame:
    datasets = pytest.importorskip("statsmodels.datasets")
    data = datasets.grunfeld.load_pandas().data
    return pd.DataFrame({"uscc": data["firm"].astype(str), "year": data["year"].astype("int64"),
                         "value": data["value"].astype("float64"), "invest": data["invest"].astype("float64"),
                         "capital": data["capital"].astype("float64")})


def test_label_on_grunfeld_real_panel(grunfeld: pd.DataFrame) -> None:
    # Grunfeld (1958): 11 US firms, 1935–1954. Firm value growing ≥ 20 % a year over three years.
    out = growth_label(grunfeld, LabelSpec("value", 0.20, 3))
    positives = sorted(map(tuple, out.loc[out["label"] == 1, ["uscc", "year"]].to_numpy().tolist()))
    assert positives == [("American Steel", 1935), ("American Steel", 1936), ("Chrysler", 1942),
                         ("General Electric", 1935), ("Goodyear", 1942), ("Goodyear", 1950),
                         ("Westinghouse", 1935), ("Westinghouse", 1950)]
    assert out["label"].notna().sum() == 11 * 17  # 1952–1954 have no year + 3
    ge = out.set_index(["uscc", "year"]).loc[("General Electric", 1935)]
    assert ge["cagr"] == pytest.approx((2039.7 / 1170.6) ** (1 / 3) - 1)


def test_label_on_grunfeld_with_a_gap_and_a_size_floor(grunfeld: pd.DataFrame) -> None:
    gapped = grunfeld[~((grunfeld["uscc"] == "General Electric") & (grunfeld["year"] == 1938))]
    out = growth_label(gapped, LabelSpec("value", 0.20, 3)).set_index(["uscc", "year"])["label"]
    assert math.isnan(out[("General Electric", 1935)])
    assert out[("General Electric", 1936)] == 0.0
    # Investment growth > 20 % with capital stock ≥ 10 at the start (the floor on a real size column).
    floor = LabelSpec("invest", 0.20, 3, strict=True, size_floor=10, size_field="capital")
    gm = growth_label(grunfeld, floor).set_index(["uscc", "year"])["label"].loc["General Motors"]
    assert gm.loc[1935:1940].tolist() == pytest.approx([np.nan, 0.0, 0.0, 1.0, 0.0, 0.0], nan_ok=True)


# --- features ---------------------------------------------------------------------------------------------

def test_features_exact_values_gaps_and_dropped() -> None:
    panel = pd.DataFrame({
        "uscc": ["A"] * 4, "year": [2019, 2020, 2022, 2023],
        "registration_date": pd.to_datetime(["2015-06-01"] * 4).astype("datetime64[ns]"),
        "revenue": [100.0, 110.0, 150.0, 172.8], "total_assets": [200.0, 200.0, 300.0, 400.0],
        "total_liabilities": [50.0, 100.0, 150.0, 100.0], "rd_expense": [5.0, 11.0, np.nan, 17.28],
    })
    built = build_features(panel)
    f = built.frame.set_index("year")
    assert f.loc[2023, "revenue_growth_1y"] == pytest.approx(0.152)
    assert math.isnan(f.loc[2022, "revenue_growth_1y"])  # 2021 is missing: no growth across the gap
    assert f.loc[2022, "revenue_growth_3y"] == pytest.approx((150 / 100) ** (1 / 3) - 1)
    assert f.loc[2023, "revenue_growth_3y"] == pytest.approx((172.8 / 110) ** (1 / 3) - 1)
    assert math.isnan(f.loc[2020, "revenue_growth_3y"])  # no 2017
    assert f["age"].tolist() == [4.0, 5.0, 7.0, 8.0]
    assert f["leverage"].tolist() == [0.25, 0.5, 0.5, 0.25]
    assert f.loc[2023, "rd_intensity"] == pytest.approx(0.1)
    assert f.loc[2023, "log_revenue"] == pytest.approx(math.log(172.8))
    # every amount present gives its ratio to assets, to revenue and its one-year change
    assert f.loc[2023, "asset_turnover"] == pytest.approx(172.8 / 400)
    assert f.loc[2023, "total_liabilities_to_revenue"] == pytest.approx(100 / 172.8)
    assert f.loc[2023, "asset_growth_1y"] == pytest.approx(400 / 300 - 1)
    assert f.loc[2023, "total_liabilities_growth_1y"] == pytest.approx(100 / 150 - 1)
    assert f.loc[2023, "rd_expense_to_assets"] == pytest.approx(17.28 / 400)
    assert f["years_observed"].tolist() == [1.0, 2.0, 3.0, 4.0]
    # size on the mean revenue of t−2 … t, years absent from the panel (2021) left out
    assert f.loc[2023, "log_revenue_mean3"] == pytest.approx(math.log((172.8 + 150) / 2))
    assert f.loc[2022, "log_revenue_mean3"] == pytest.approx(math.log((150 + 110) / 2))
    assert f["year_share"].tolist() == [1.0, 1.0, 1.0, 1.0]
    # amounts the panel lacks entirely (net profit, costs) are not listed; half-supplied features are
    assert built.dropped == {
        "log_employees": "数据无字段 employees", "employee_growth_1y": "数据无字段 employees",
        "tech_staff_share": "数据无字段 tech_staff, employees", "rd_staff_share": "数据无字段 rd_staff, employees",
        "ip_class1_stock": "数据无字段 ip_class1",
        "ip_stock": "数据无字段 ip_class1, ip_class2", "ip_flow": "数据无字段 ip_class1, ip_class2",
        "gross_margin": "数据无字段 operating_cost", "main_gross_margin": "数据无字段 main_revenue, main_cost",
    }
    assert "roa" not in built.used and "net_margin" not in built.used
    empty = build_features(panel.assign(rd_expense=np.nan))
    assert empty.dropped["rd_intensity"] == "字段全部缺失"


# --- scorecard --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fitted(labelled: tuple[pd.DataFrame, tuple[str, ...]]) -> tuple[Scorecard, pd.DataFrame]:
    data, used = labelled
    train = data[data["year"] <= 2015]
    declared = {"rd_intensity": "increasing", "age": "decreasing"}
    return (Scorecard(features=list(used), directions=declared).fit(train, train["label"]),
            data[data["year"] == 2018])


def test_scorecard_points_are_monotone_integers_in_declared_direction(
        fitted: tuple[Scorecard, pd.DataFrame]) -> None:
    model, _ = fitted
    table = model.points_table()
    assert table["points"].map(type).eq(int).all()
    for feature, rows in table.groupby("feature"):
        ordered = rows[rows["bin"] != "缺失"]["points"].to_numpy()
        step = np.diff(ordered)
        direction = model.bins_[feature].direction
        assert (step >= 0).all() if direction == "increasing" else (step <= 0).all(), feature
        assert rows["bin"].iloc[-1] == "缺失"
    # Declared directions are kept; "auto" ones are resolved from the data.
    assert model.bins_["rd_intensity"].direction == "increasing"
    assert model.bins_["age"].direction == "decreasing"
    assert model.bins_["revenue_growth_3y"].direction == "increasing"


def test_scorecard_pools_bins_that_break_the_direction() -> None:
    x = np.repeat([1.0, 2.0, 3.0, 4.0], 50)
    # Event rates 0.2, 0.6, 0.4, 0.8 by value: bins 2 and 3 break "increasing" and must be pooled.
    y = np.concatenate([np.r_[np.ones(k), np.zeros(50 - k)] for k in (10, 30, 20, 40)])
    model = Scorecard(n_bins=4, min_bin_share=0.0).fit(pd.DataFrame({"x": x}), y)
    bins = model.bins_["x"]
    assert bins.edges == [2.0, 4.0]
    assert bins.count == [50, 100, 50, 0]
    assert bins.events == [10, 50, 40, 0]
    assert bins.labels == ["< 2", "[2, 4)", "≥ 4", "缺失"]
    down = Scorecard(n_bins=4, min_bin_share=0.0, directions={"x": "decreasing"}).fit(pd.DataFrame({"x": x}), y)
    assert down.bins_["x"].edges == []  # nothing decreasing: everything pooled into one bin
    assert down.points_table()["points"].tolist() == [0, 0]


def test_score_is_base_plus_points_and_explain_matches(fitted: tuple[Scorecard, pd.DataFrame]) -> None:
    model, test = fitted
    sample = test.head(5)
    explained = model.explain(sample)
    totals = explained.groupby("uscc", sort=False)["points"].sum() + model.base_points_
    assert model.score(sample).tolist() == totals.loc[sample["uscc"]].tolist()
    assert list(explained.columns) == ["uscc", "year", "feature", "value", "bin", "points", "missing", "reason",
                                       "typical", "creditable", "rank"]
    row = explained[(explained["uscc"] == sample["uscc"].iloc[0])
                    & (explained["feature"] == "revenue_growth_3y")].iloc[0]
    value = sample["revenue_growth_3y"].iloc[0]
    expected = (f"无往年数据（新上市/新成立）：{row['points']:+d}分（近三年营收年均增长）" if math.isnan(value)
                else f"近三年营收年均增长 {value:.0%}（{row['points']:+d}分）")
    assert row["reason"] == expected
    first = explained[explained["uscc"] == sample["uscc"].iloc[0]]
    assert first["rank"].tolist() == list(range(1, len(model.bins_) + 1))
    assert first["points"].is_monotonic_decreasing
    # reasons are only the features that raised the score with a present, non-negative-rate value
    creditable = explained["creditable"]
    assert (explained.loc[creditable, "points"] > 0).all() and not explained.loc[creditable, "missing"].any()
    reasons = model.top_reasons(sample, n=2)
    for k in range(len(sample)):
        mine = explained[(explained["uscc"] == sample["uscc"].iloc[k]) & explained["creditable"]]
        assert reasons.iloc[k] == "；".join(mine["reason"].head(2))


def test_scorecard_is_deterministic_and_rebuilds_from_spec(labelled: tuple[pd.DataFrame, tuple[str, ...]],
                                                          fitted: tuple[Scorecard, pd.DataFrame]) -> None:
    data, used = labelled
    model, test = fitted
    train = data[data["year"] <= 2015]
    again = Scorecard(features=list(used), directions=model.directions).fit(train, train["label"])
    assert again.to_spec() == model.to_spec()
    rebuilt = Scorecard.from_spec(yaml.safe_load(yaml.safe_dump(model.to_spec(), allow_unicode=True)))
    pd.testing.assert_series_equal(rebuilt.score(test), model.score(test))
    np.testing.assert_allclose(rebuilt.predict_proba(test), model.predict_proba(test))


def test_scorecard_refuses_data_without_its_features(fitted: tuple[Scorecard, pd.DataFrame]) -> None:
    model, test = fitted
    with pytest.raises(FeatureMismatchError, match=r"数据缺少评分卡所需的特征 \['rd_intensity'\]"):
        model.score(test.drop(columns="rd_intensity"))
    with pytest.raises(TypeError, match="gives each firm's points, not accuracy"):
        model.score(test, test["label"])


def test_scorecard_sklearn_conventions(labelled: tuple[pd.DataFrame, tuple[str, ...]]) -> None:
    data, used = labelled
    model = Scorecard(n_bins=4, directions={"age": "decreasing"})
    with pytest.raises(NotFittedError):
        model.score(data)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.set_params(n_bins=6) is copy and copy.n_bins == 6 and model.n_bins == 4
    assert model.fit(data[list(used)], data["label"]) is model
    assert not hasattr(clone(model), "bins_")
    with pytest.raises(ValueError, match=r"n_bins must be an integer ≥ 1; got 0"):
        Scorecard(n_bins=0).fit(data[list(used)], data["label"])
    with pytest.raises(ValueError, match=r"directions must be one of .*got \{'age': 'up'\}"):
        Scorecard(directions={"age": "up"}).fit(data[list(used)], data["label"])
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        Scorecard().fit(data[list(used)], np.arange(len(data)) % 3)


# ``score`` returns points instead of accuracy, on purpose (the issue asks for score(frame) -> Series); these
# three checks call score(X, y) and expect a float, so they cannot apply. Everything else must pass.
_SCORE_CHECKS = {"check_fit_score_takes_y", "check_n_features_in_after_fitting", "check_pipeline_consistency"}


def test_scorecard_passes_sklearn_check_estimator_except_score_semantics() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(Scorecard(), on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == _SCORE_CHECKS
    assert sum(r["status"] == "passed" for r in results) >= 45


# --- challenger -------------------------------------------------------------------------------------------

def test_challenger_respects_monotone_constraints(labelled: tuple[pd.DataFrame, tuple[str, ...]]) -> None:
    data, used = labelled
    declared = {"rd_intensity": "increasing", "age": "decreasing"}
    model = GrowthChallenger(features=list(used), directions=declared, max_iter=40).fit(data, data["label"])
    assert model.monotonic_cst_["rd_intensity"] == 1 and model.monotonic_cst_["age"] == -1
    grid = pd.concat([data.iloc[[0]]] * 30, ignore_index=True)
    grid["rd_intensity"] = np.linspace(0, 0.2, 30)
    assert (np.diff(model.predict_proba(grid)[:, 1]) >= -1e-12).all()
    assert clone(model).get_params() == model.get_params()
    again = GrowthChallenger(features=list(used), directions=declared, max_iter=40).fit(data, data["label"])
    np.testing.assert_array_equal(again.predict_proba(data), model.predict_proba(data))


# --- validation -------------------------------------------------------------------------------------------

def test_precision_at_k_and_lift_exact() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0], dtype=float)
    score = np.array([9, 8, 7, np.nan, 5, 5, 1, 0, 3, 2], dtype=float)
    ids = np.array(list("abcdefghij"))
    assert precision_at_k(y, score, 3, ids) == pytest.approx(2 / 3)
    assert precision_at_k(y, score, 20, ids) == pytest.approx(0.3)
    metrics = ranking_metrics(y, score, ids, ks=(2,))
    assert metrics["precision_at_2"] == 0.5
    assert metrics["lift_at_2"] == pytest.approx(0.5 / 0.3)
    assert metrics["base_rate"] == pytest.approx(0.3)


def test_out_of_time_never_trains_on_unmatured_cohorts(labelled: tuple[pd.DataFrame, tuple[str, ...]]) -> None:
    data, used = labelled
    seen: dict[int, int] = {}

    def spy(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> np.ndarray:
        seen[int(test["year"].iloc[0])] = int(train["year"].max())
        return test["revenue_growth_1y"].to_numpy()

    heard: list[tuple[str, int, int]] = []
    result = out_of_time(data, used, test_years=[2016, 2017, 2018], rankers={"spy": spy},
                         progress=lambda *said: heard.append(said))
    assert seen == {2016: 2013, 2017: 2014, 2018: 2015}
    assert heard == [(OUT_OF_TIME, done, 3) for done in range(4)]
    assert result.by_year["test_year"].tolist() == [2016, 2016, 2017, 2017, 2018, 2018]
    assert result.by_year["model"].tolist() == ["scorecard", "spy"] * 3


def test_out_of_time_on_generated_panel_beats_past_growth(generated: tuple[pd.DataFrame, pd.DataFrame],
                                                          labelled: tuple[pd.DataFrame, tuple[str, ...]]) -> None:
    _, latent = generated
    data, used = labelled
    result = out_of_time(data, used, test_years=[2016, 2017, 2018],
                         oracles=latent.rename(columns={"latent_potential": "oracle"}))
    summary = result.summary.set_index("model")
    assert list(summary.index) == ["scorecard", "challenger", "past_growth_3y", "past_growth_1y", "oracle"]
    assert summary.loc["oracle", "roc_auc"] > summary.loc["scorecard", "roc_auc"]
    assert summary.loc["scorecard", "roc_auc"] > summary.loc["past_growth_3y", "roc_auc"] + 0.03
    assert summary.loc["scorecard", "roc_auc"] > 0.7
    assert (result.by_year["lift_at_10"] == result.by_year["precision_at_10"] / result.by_year["base_rate"]).all()


def test_out_of_time_with_the_shared_panel_generator_when_it_exists() -> None:
    datasets = pytest.importorskip("tiering.datasets")
    if not hasattr(datasets, "generate_panel"):
        pytest.skip("tiering.datasets.generate_panel is not written yet")
    generated = datasets.generate_panel(200, range(2012, 2024), 3)
    built = build_features(generated.panel)
    data = built.frame.assign(label=growth_label(generated.panel.reset_index(drop=True))["label"].to_numpy())
    oracles = generated.latent[["uscc", "growth_potential"]].rename(columns={"growth_potential": "potential_only"})
    result = out_of_time(data, built.used, test_years=[2018, 2019, 2020], oracles=oracles)
    summary = result.summary.set_index("model")
    assert summary.loc["potential_only", "roc_auc"] > summary.loc["past_growth_1y", "roc_auc"]
    assert summary.loc["scorecard", "roc_auc"] > 0.5


def test_out_of_time_names_an_oracle_frame_without_a_ranking(labelled: tuple[pd.DataFrame, tuple[str, ...]]
                                                             ) -> None:
    data, used = labelled
    with pytest.raises(PanelUnusable, match=r"隐藏真值排序须有 uscc 列（及 year 列）和至少一列排序（oracles）；"
                                            r"现有列：\['uscc', 'year'\]"):
        out_of_time(data, used, oracles=pd.DataFrame({"uscc": ["a"], "year": [2016]}))


# --- model card -------------------------------------------------------------------------------------------

def test_card_round_trip_is_yaml_and_rebuilds_the_same_scores(tmp_path: Path,
                                                              labelled: tuple[pd.DataFrame, tuple[str, ...]],
                                                              fitted: tuple[Scorecard, pd.DataFrame],
                                                              generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, used = labelled
    model, test = fitted
    train = data[data["year"] <= 2015][["uscc", "year", *used, "label"]]
    card = build_card("demo", model, LabelSpec(), train, {"x": "数据无字段 x"}, "synthetic", {"auc": 0.7})
    path = save_card(card, tmp_path / "models" / "demo")
    assert path == tmp_path / "models" / "demo.card.yaml" == card_path(tmp_path / "models" / "demo")
    text = path.read_text(encoding="utf-8")
    assert "!!python" not in text and "近三年营收年均增长" in text
    loaded = load_card(path)
    assert loaded.data["training"]["cohorts"] == list(range(2010, 2016))
    assert loaded.data["training"]["data_hash"] == data_hash(train)
    assert loaded.data["dropped_features"] == {"x": "数据无字段 x"}
    assert loaded.features == list(used)
    assert loaded.label_spec == LabelSpec()
    pd.testing.assert_series_equal(loaded.scorecard().score(test), model.score(test))
    loaded.check_features(generated[0])  # same columns: accepted


def test_card_refuses_panel_with_missing_or_extra_features(tmp_path: Path,
                                                           labelled: tuple[pd.DataFrame, tuple[str, ...]],
                                                           generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, used = labelled
    panel, _ = generated
    narrow = [f for f in used if f not in ("ip_stock", "ip_flow", "ip_class1_stock")]
    model = Scorecard(features=narrow).fit(data, data["label"])
    card = build_card("narrow", model, LabelSpec(), data[["uscc", "year", *narrow, "label"]], {}, "synthetic")
    with pytest.raises(FeatureMismatchError) as error:
        card.check_features(panel.drop(columns=["rd_expense"]))
    assert str(error.value) == (
        "模型卡 narrow 与数据不匹配：数据缺少模型所需的特征 "
        "['rd_expense_to_assets', 'rd_intensity', 'rd_expense_growth_1y']："
        "rd_expense_to_assets（研发费用占总资产比，数据无字段 rd_expense）；"
        "rd_intensity（研发投入强度，数据无字段 rd_expense）；"
        "rd_expense_growth_1y（上年研发费用增长，数据无字段 rd_expense）；"
        "数据含有模型未使用的特征 ['ip_class1_stock', 'ip_stock', 'ip_flow']（训练数据没有它们）。"
        "请用这份数据重新训练（tiering model train），或换用与数据匹配的模型卡。")


def test_load_card_refuses_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "bad.card.yaml"
    path.write_text("card_version: 9\nname: x\nlabel: {}\ntraining: {}\nfeatures: []\nscorecard: {}\n",
                    encoding="utf-8")
    with pytest.raises(ModelCardError, match="card_version 9 不受支持"):
        load_card(path)


# --- command line -----------------------------------------------------------------------------------------

def test_cli_train_score_and_mismatch(tmp_path: Path, generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    panel, _ = generated
    register = tmp_path / "register.csv"
    panel.to_csv(register, index=False)  # money columns without a unit in the header: given by --unit
    runner = CliRunner()
    out = tmp_path / "models" / "synthetic"
    result = runner.invoke(main, ["model", "train", "--register", str(register), "--unit", "万元",
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "out-of-time mean over test years" in result.output
    assert re.search(r"^\s+scorecard\s+\d+", result.output, re.MULTILINE)
    assert f"saved {out}.card.yaml" in result.output
    # the amounts a register has no column for are named once, in the output and the card, with why
    absent = load_card(f"{out}.card.yaml").data["amounts_absent"]
    assert absent["why"].startswith("数据中没有这些金额") and absent["amounts"]["operating_cost"] == "营业成本"
    assert "revenue" not in absent["amounts"] and "net_profit" not in absent["amounts"]
    assert re.search(r"^amounts the data lacks, .* 数据无此金额: .*营业成本", result.output, re.MULTILINE)
    scored = runner.invoke(main, ["model", "score", "--model", f"{out}.card.yaml", "--register", str(register),
                                  "--unit", "万元", "--top", "3"])
    assert scored.exit_code == 0, scored.output
    assert len(scored.output.strip().splitlines()) == 4
    assert "分）" in scored.output
    narrow = tmp_path / "narrow.csv"
    panel.drop(columns=["ip_class1", "ip_class2"]).to_csv(narrow, index=False)
    refused = runner.invoke(main, ["model", "score", "--model", f"{out}.card.yaml", "--register", str(narrow),
                                   "--unit", "万元"])
    assert refused.exit_code == 3
    assert ("数据缺少模型所需的特征 ['ip_class1_stock', 'ip_stock', 'ip_flow']：ip_class1_stock（Ⅰ类知识产权存量，"
            "字段全部缺失）") in refused.output


def test_cli_evaluate_needs_a_data_set() -> None:
    result = CliRunner().invoke(main, ["model", "evaluate"])
    assert result.exit_code == 2
    assert "give --register PATH, --panel PATH --mapping YAML and/or --real-data PATH" in result.output


# --- real data (read from ../shared/data, never copied into the repository) --------------------------------

@pytest.mark.skipif(not REAL_DATA.is_file(), reason=f"real panel {REAL_DATA} is not present")
def test_real_panel_out_of_time_scorecard_beats_past_growth_and_the_raw_boosted_reference() -> None:
    panel = read_panel(REAL_DATA, load_mapping("cn_machinery_listed"))
    assert len(panel) == 3473
    assert panel["revenue"].iloc[0] == pytest.approx(102721874.0 / 1e4)
    built = build_features(panel)
    assert "log_employees" in built.dropped and "rd_intensity" not in built.used
    assert {"gross_margin", "asset_turnover", "roa", "leverage", "operating_cash_flow_to_assets"} <= set(built.used)
    raw = {f"raw:{f}": panel[f] for f in load_mapping("cn_machinery_listed").amounts}
    data = built.frame.assign(label=growth_label(panel)["label"].to_numpy(), **raw)
    result = out_of_time(data, built.used, test_years=range(2005, 2011))
    summary = result.summary.set_index("model")
    assert summary.loc["scorecard", "roc_auc"] >= 0.64
    assert summary.loc["scorecard", "roc_auc"] > summary.loc["boosted_raw", "roc_auc"]
    assert summary.loc["scorecard", "roc_auc"] > summary.loc["past_growth_3y", "roc_auc"]
    assert summary.loc["scorecard", "roc_auc"] > summary.loc["past_growth_1y", "roc_auc"]
    assert result.calibration["n"].sum() == summary.loc["scorecard", "n_test"] * 6


def test_a_mapping_reads_amounts_kept_in_thousands_hundred_millions_and_yuan_as_wan(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("mapping_version: 1\nid: units\ntitle: 各种单位\nreader: csv\nkey: {column: Code}\n"
                       "year: {column: FY}\namounts:\n  revenue: {column: Sales, unit: 千元}\n"
                       "  total_assets: {column: Assets, unit: 亿元}\n  net_profit: {column: NI, unit: 元}\n"
                       "  total_liabilities: {column: Debt, unit: 百万元}\n", encoding="utf-8")
    panel = tmp_path / "p.csv"
    panel.write_text("Code,FY,Sales,Assets,NI,Debt\nA,2020,12345,1.5,-30000,2\n", encoding="utf-8")
    read = read_panel(panel, load_mapping(mapping))
    assert read[["revenue", "total_assets", "net_profit", "total_liabilities"]].iloc[0].tolist() == \
        pytest.approx([1234.5, 15000.0, -3.0, 200.0])


def test_columns_a_mapping_does_not_name_are_said_to_be_unread(tmp_path: Path) -> None:
    """A column the mapping leaves out is not read, and the model commands say so (before: dropped unnoticed)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("mapping_version: 1\nid: some\ntitle: 部分列\nreader: csv\nkey: {column: Code}\n"
                       "year: {column: FY}\namounts:\n  revenue: {column: Sales, unit: 万元}\n", encoding="utf-8")
    panel = tmp_path / "p.csv"
    panel.write_text("Code,FY,Sales,员工人数,Mystery\nA,2020,10,5,x\nA,2021,12,6,y\n", encoding="utf-8")
    assert read_panel(panel, load_mapping(mapping)).attrs["unread"] == ["员工人数", "Mystery"]
    result = CliRunner().invoke(main, ["model", "evaluate", "--panel", str(panel), "--mapping", str(mapping)])
    assert f"{panel}: 列映射 some 未列出的列未读入（not read）：员工人数、Mystery" in result.stderr


def test_a_csv_in_another_encoding_or_not_a_csv_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Before: pandas' English error without the file (a GBK file, an .xlsx), or a traceback (an unknown
    encoding in the mapping)."""
    text = "mapping_version: 1\nid: enc\ntitle: 编码\nreader: csv\nkey: {column: 企业}\nyear: {column: 年度}\n"
    utf8 = _write_text(tmp_path / "m.yaml", text)
    gbk = tmp_path / "p.csv"
    gbk.write_bytes("企业,年度\n甲,2020\n".encode("gbk"))
    with pytest.raises(MappingError) as caught:
        read_panel(gbk, load_mapping(utf8))
    assert caught.value.where == Where(file=str(gbk))
    assert caught.value.message == "无法按列映射的编码 utf-8 读取（第 0 字节起无法解码）"
    assert caught.value.hint == "在列映射中写明文件的编码，如 encoding: gbk（Excel 另存的 CSV 常为 GBK）"
    assert read_panel(gbk, load_mapping(_write_text(tmp_path / "g.yaml", text + "encoding: gbk\n")))[
        "uscc"].tolist() == ["甲"]
    with pytest.raises(MappingError) as caught:
        read_panel(Path(__file__).resolve().parents[1] / "datasets" / "sample_register.xlsx", load_mapping(utf8))
    assert caught.value.hint.startswith("reader: csv 只读 CSV 文件：Excel 登记表用 reader: register 的列映射")
    with pytest.raises(MappingError) as caught:
        load_mapping(_write_text(tmp_path / "x.yaml", text + "encoding: gbkk\n"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (7, "encoding")
    assert problem.message == "未知编码“gbkk”；常用：utf-8、utf-8-sig、gbk、gb18030"


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_text_in_a_numeric_column_is_refused_at_its_row_and_thousands_separators_are_read(tmp_path: Path) -> None:
    """Before: any cell pandas could not read as a number became missing without a word ("1,234" included)."""
    mapping = _write_text(tmp_path / "m.yaml", "mapping_version: 1\nid: num\ntitle: 数字\nreader: csv\n"
                          "key: {column: 企业}\nyear: {column: 年度}\nfounded: {column: 成立, format: year}\n"
                          "amounts:\n  revenue: {column: 收入, unit: 元}\n")
    good = tmp_path / "good.csv"
    good.write_text('企业,年度,成立,收入\n甲,2020,2015,"12,345,000"\n乙,2020,,\n', encoding="utf-8")
    panel = read_panel(good, load_mapping(mapping)).set_index("uscc")
    assert panel.loc["甲", "revenue"] == pytest.approx(1234.5) and np.isnan(panel.loc["乙", "revenue"])
    assert panel["registration_date"].isna().to_dict() == {"甲": False, "乙": True}
    for cell, column, field, kind in [("一千万", "收入", "revenue", "数字"), ("--", "收入", "revenue", "数字"),
                                      ("2015年", "成立", "registration_date", "年份")]:
        bad = tmp_path / "bad.csv"
        row = ["甲", "2020", "2015", "100"]
        row[{"收入": 3, "成立": 2}[column]] = cell
        bad.write_text("企业,年度,成立,收入\n乙,2020,2016,5\n" + ",".join(row) + "\n", encoding="utf-8")
        with pytest.raises(MappingError) as caught:
            read_panel(bad, load_mapping(mapping))
        assert caught.value.where == Where(file=str(bad), row=3, column=column, field=field)
        assert caught.value.message == f"1 个单元格不是{kind}，如“{cell}”；空白单元格表示缺失"
