"""Growth model policies: column mappings, declared directions, Missing bins, creditable reasons, calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import tiering.cli.model_cmd  # noqa: F401  (registers the ``model`` group on ``main``)
from tiering.cli import main
from tiering.errors import Where
from tiering.growth.directions import Declaration, Declarations, check_directions, load_declarations, time_folds
from tiering.growth.features import FEATURES, build_features
from tiering.growth.mapping import MappingError, load_mapping, read_panel
from tiering.growth.scorecard import FeatureMismatchError, Scorecard
from tiering.growth.training import CANDIDATES, select_settings, train_scorecard
from tiering.growth.validation import calibration_table, format_table, out_of_time

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "datasets" / "generated" / "panel_s42.csv"


# --- column mappings ----------------------------------------------------------------------------------------

def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


MY_MAPPING = """\
mapping_version: 1
id: my_panel
title: 某区企业财务面板
reader: csv
key: {column: 企业编号}
year: {column: 年度}
founded: {column: 成立年份, format: year}
text: {name: 企业}
amounts:
  revenue:      {column: 收入（元）, unit: 元}
  total_assets: {column: 资产（万元）, unit: 万元}
  net_profit:   {column: 利润（元）, unit: 元}
counts:
  employees: {column: 人数, unit: 人}
"""


def test_a_documented_mapping_reads_any_panel_with_units(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path / "my.yaml", MY_MAPPING))
    data = _write(tmp_path / "panel.csv",
                  "企业编号,年度,成立年份,企业,收入（元）,资产（万元）,利润（元）,人数,备注\n"
                  "007,2020,2015,甲,1000000,200,50000,12,x\n"
                  "007,2021,2015,甲,1500000,250,-20000,15,y\n")
    panel = read_panel(data, mapping)
    assert list(panel.columns) == ["uscc", "year", "registration_date", "name", "revenue", "total_assets",
                                   "net_profit", "employees"]
    assert panel["uscc"].tolist() == ["007", "007"]  # the key stays text: leading zeros kept
    assert panel["revenue"].tolist() == [100.0, 150.0]  # 元 → 万元
    assert panel["total_assets"].tolist() == [200.0, 250.0]  # already 万元
    built = build_features(panel).frame.set_index("year")
    assert built.loc[2021, "roa"] == pytest.approx(-2.0 / 250)
    assert built.loc[2021, "revenue_growth_1y"] == pytest.approx(0.5)
    assert built.loc[2021, "net_profit_change_1y"] == pytest.approx((-2.0 - 5.0) / 200)
    assert built.loc[2021, "age"] == 6.0
    assert built.loc[2021, "years_observed"] == 2.0


def test_mapping_refusals_name_the_file_and_the_problem(tmp_path: Path) -> None:
    bad_field = _write(tmp_path / "f.yaml", MY_MAPPING.replace("net_profit:", "net_profits:"))
    with pytest.raises(MappingError, match=r"f\.yaml: 列映射有 1 处问题") as caught:
        load_mapping(bad_field)
    (problem,) = caught.value.problems
    assert problem.where == Where(file=str(bad_field), line=MY_MAPPING.split("\n").index("amounts:") + 4,
                                  field="amounts.net_profits")
    assert problem.message.startswith("未知金额字段“net_profits”；已知：")
    bad_unit = _write(tmp_path / "u.yaml", MY_MAPPING.replace("unit: 万元", "unit: 千克"))
    with pytest.raises(MappingError) as caught:
        load_mapping(bad_unit)
    assert caught.value.problems[0].message.startswith("未知金额单位“千克”；可用：万元、wan、元、yuan、千元")
    ok = _write(tmp_path / "ok.yaml", MY_MAPPING)
    mapping = load_mapping(ok)
    short = _write(tmp_path / "short.csv",
                   "企业编号,年度,成立年份,企业,收入（元）,资产（万元）,人数\n007,2020,2015,甲,1,2,3\n")
    with pytest.raises(MappingError, match=r"short\.csv 列 \"利润（元）\": 缺少列映射 my_panel 所需的列") as caught:
        read_panel(short, mapping)
    # the column the file lacks is also placed where the mapping names it
    line = next(i for i, t in enumerate(MY_MAPPING.split("\n"), start=1) if t.startswith("  net_profit:"))
    (problem,) = caught.value.problems
    assert problem.where == Where(file=str(ok), line=line, field="amounts.net_profit.column")
    assert problem.message == "数据文件中没有列“利润（元）”"
    bad_year = _write(tmp_path / "y.csv", "企业编号,年度,成立年份,企业,收入（元）,资产（万元）,人数,利润（元）\n"
                                          "007,2020,2015,甲,1,2,3,4\n007,二〇二一,2015,甲,1,2,3,4\n")
    with pytest.raises(MappingError) as caught:
        read_panel(bad_year, mapping)
    assert caught.value.where == Where(file=str(bad_year), row=3, column="年度", field="year")
    with pytest.raises(MappingError, match="找不到列映射文件"):
        load_mapping("no_such_mapping")


def test_shipped_mappings_load_and_the_register_headers_are_the_registers_own(tmp_path: Path) -> None:
    listed = load_mapping("cn_machinery_listed")
    assert listed.reader == "csv" and listed.key.column == "股票"
    assert {c.unit for c in listed.amounts.values()} == {"元"}
    assert listed.amounts["revenue"].column == "营业收入"
    register = load_mapping("register")
    assert register.reader == "register" and register.amounts["revenue"].column == "销售收入"
    wrong = (ROOT / "models" / "mappings" / "register.yaml").read_text(encoding="utf-8").replace(
        "{column: 负债总额,", "{column: 资产总额,")
    path = _write(tmp_path / "register.yaml", wrong)
    with pytest.raises(MappingError, match="1 个表头不是登记表中对应字段的表头") as caught:
        load_mapping(path)
    (problem,) = caught.value.problems
    line = wrong.split("\n").index(next(t for t in wrong.split("\n") if "{column: 资产总额," in t
                                         and "total_liabilities" in t)) + 1
    assert problem.where == Where(file=str(path), line=line, field="amounts.total_liabilities.column")
    assert problem.message == "表头“资产总额”不是登记表中字段 total_liabilities 的表头（见 tiering template）"


def test_register_mapping_reads_the_generated_register_and_the_model_uses_its_rd_staff_ip() -> None:
    panel = read_panel(GENERATED, load_mapping("register"))
    assert panel.attrs["refused"] == 0
    assert {"uscc", "year", "registration_date", "revenue", "rd_expense", "employees", "tech_staff",
            "ip_class1"} <= set(panel.columns)
    assert "hitech_cert" not in panel.columns  # only the fields the mapping lists
    used = build_features(panel).used
    assert {"rd_intensity", "tech_staff_share", "rd_staff_share", "ip_flow", "ip_class1_stock",
            "asset_turnover", "roa", "years_observed"} <= set(used)


def test_every_feature_has_a_declared_direction_with_a_reason() -> None:
    declarations = load_declarations()
    undeclared = [f.id for f in FEATURES if declarations.find(f.id) is None]
    assert undeclared == []
    assert declarations.find("roa").direction == "increasing"
    assert declarations.find("leverage").direction == "decreasing"
    assert declarations.find("development_cost_to_assets").reason.startswith("资本化研发")


def test_size_is_the_three_year_mean_so_a_bad_year_moves_it_little_and_a_first_year_counts_whole() -> None:
    # A: steady 100 then a bad year at 50. B: registered on 1 Oct 2021 (92 of 365 days), 23 in that year.
    panel = pd.DataFrame({
        "uscc": ["A", "A", "A", "B", "B", "B"], "year": [2021, 2022, 2023, 2020, 2021, 2022],
        "registration_date": pd.to_datetime(["2010-03-01"] * 3 + ["2021-10-01"] * 3).astype("datetime64[ns]"),
        "revenue": [100.0, 100.0, 50.0, np.nan, 23.0, 100.0]})
    f = build_features(panel).frame.set_index(["uscc", "year"])
    # this year's revenue halves; the size feature falls by a third of that
    assert f.loc[("A", 2023), "log_revenue"] - f.loc[("A", 2022), "log_revenue"] == pytest.approx(np.log(0.5))
    assert f.loc[("A", 2023), "log_revenue_mean3"] == pytest.approx(np.log(250 / 3))
    # B's registration year is scaled to a whole year: 23 × 365 / 92 = 91.25
    assert f.loc[("B", 2021), "year_share"] == pytest.approx(92 / 365)
    assert f.loc[("B", 2021), "log_revenue_mean3"] == pytest.approx(np.log(91.25))
    assert f.loc[("B", 2022), "log_revenue_mean3"] == pytest.approx(np.log((100 + 91.25) / 2))
    assert f.loc[("B", 2022), "year_share"] == 1.0
    assert np.isnan(f.loc[("B", 2020), "year_share"])  # before registration


def test_a_feature_declared_excluded_never_scores_and_the_shipped_file_excludes_this_years_revenue() -> None:
    train = _policy_panel()
    excluded = Declarations((Declaration(match="good", direction="excluded", reason="当年值含波动"),
                             *DECLARED.entries), "test")
    checks = {c.feature: c for c in check_directions(train, ["good", "noise"], excluded)}
    assert checks["good"].status == "dropped" and checks["good"].why == "声明不用于评分：当年值含波动"
    with pytest.raises(ValueError, match="没有任何特征在训练数据中符合其声明方向"):
        train_scorecard(train, ["good", "noise"], excluded)
    shipped = load_declarations()
    assert shipped.find("log_revenue").direction == "excluded"
    assert shipped.find("log_revenue_mean3").direction == "decreasing"
    assert shipped.find("year_share").direction == "decreasing"


# --- the direction policy -----------------------------------------------------------------------------------

def _policy_panel(seed: int = 1) -> pd.DataFrame:
    """Ten cohorts; ``good`` raises growth always, ``flip`` raises it in seven early cohorts, lowers it after."""
    rng = np.random.default_rng(seed)
    years = np.repeat(np.arange(2000, 2010), 200)
    good, flip, noise = rng.normal(size=(3, len(years)))
    sign = np.where(years < 2007, 1.0, -1.0)
    logit = 1.2 * good + 1.2 * sign * flip
    label = (rng.uniform(size=len(years)) < 1 / (1 + np.exp(-logit))).astype(float)
    return pd.DataFrame({"uscc": [f"F{i:05d}" for i in range(len(years))], "year": years, "good": good,
                         "against": good, "flip": flip, "noise": noise, "label": label})


DECLARED = Declarations((
    Declaration(match="good", direction="increasing", reason="越高越好"),
    Declaration(match="against", direction="decreasing", reason="声明与数据相反"),
    Declaration(match="flip", direction="increasing", reason="早期正、后期负"),
), "test")


def test_time_folds_are_consecutive_whole_cohorts() -> None:
    years = pd.Series([2000] * 5 + [2001] * 5 + [2002] * 5 + [2003] * 5 + [2004] * 5 + [2005] * 5)
    assert time_folds(years, 3).tolist() == [0] * 10 + [1] * 10 + [2] * 10
    assert time_folds(pd.Series([2000, 2000, 2001]), 3).tolist() == [0, 0, 1]


def test_direction_policy_keeps_declared_drops_contradicting_unstable_and_undeclared() -> None:
    train = _policy_panel()
    checks = {c.feature: c for c in check_directions(train, ["good", "against", "flip", "noise"], DECLARED)}
    assert checks["good"].status == "kept" and checks["good"].rho > 0.2
    assert all(r > 0.2 for r in checks["good"].rho_folds)
    assert checks["against"].status == "dropped"
    assert checks["against"].why.startswith("拟合方向与声明（越低越好）相反：全部训练年份 ρ = +")
    assert checks["flip"].status == "dropped"
    assert checks["flip"].why.startswith("各训练时段方向不稳定：分段 ρ = +")
    assert checks["noise"].why == "未声明方向（directions.yaml 无匹配条目）"
    trained = train_scorecard(train, ["good", "against", "flip", "noise"], DECLARED)
    assert trained.model.feature_names_ == ["good"]
    assert trained.model.bins_["good"].direction == "increasing"
    assert trained.model.bins_["good"].rationale == "越高越好"
    assert set(trained.dropped) == {"against", "flip", "noise"}


def _drifting_panel(seed: int = 2) -> pd.DataFrame:
    """Ten cohorts; growth follows ``good``'s rank within its year, but its values rise by 0.8 a year (prices)."""
    rng = np.random.default_rng(seed)
    years = np.repeat(np.arange(2000, 2010), 200)
    good = rng.normal(size=len(years))
    label = (rng.uniform(size=len(years)) < 1 / (1 + np.exp(-1.5 * good))).astype(float)
    return pd.DataFrame({"uscc": [f"F{i:05d}" for i in range(len(years))], "year": years,
                         "good": good + 0.8 * (years - 2000), "label": label})


def test_relative_scorecard_bins_percentiles_within_each_year() -> None:
    train = _drifting_panel()
    model = Scorecard(features=["good"], directions={"good": "increasing"}, relative=True).fit(
        train[["uscc", "year", "good"]], train["label"])
    cohort = train[train["year"] == 2009].reset_index(drop=True)
    # A firm is scored by its place in its own year: the same cohort in other units scores the same.
    rescaled = cohort.assign(good=cohort["good"] * 3 + 100)
    pd.testing.assert_series_equal(model.score(cohort), model.score(rescaled))
    assert model.bins_["good"].labels[0].startswith("同年百分位 < ")
    assert model.bins_["good"].labels[-2].startswith("同年百分位 ≥ ")
    best = int(cohort["good"].idxmax())
    explained = model.explain(cohort)
    reason = explained[(explained["uscc"] == cohort["uscc"][best])]["reason"].iloc[0]
    points = model.bins_["good"].points[-2]
    assert reason == f"good {cohort['good'][best]:.3g}（{model.bins_['good'].labels[-2]}，+{points}分）"
    with pytest.raises(FeatureMismatchError, match="评分卡按同年百分位评分，数据须有 year（年度）列"):
        model.score(cohort[["uscc", "good"]])


def test_settings_are_chosen_on_inner_time_splits_of_the_training_cohorts_only() -> None:
    train = _drifting_panel()
    declared = Declarations((Declaration(match="good", direction="increasing", reason="越高越好"),), "test")
    selection = select_settings(train, ["good"], declared)
    # the last three training cohorts, each validated by a scorecard trained on the cohorts before it
    assert selection.inner_years == (2007, 2008, 2009)
    assert all(len(aucs) == 3 for aucs in selection.auc.values())
    # values that drift with the years mislead bins cut on values; percentiles within the year do not
    assert selection.chosen.relative
    best_raw = max(np.mean(a) for s, a in selection.auc.items() if not s.relative)
    assert np.mean(selection.auc[selection.chosen]) > best_raw + 0.05
    trained = train_scorecard(train[train["year"] <= 2006], ["good"], declared)
    assert trained.selection.inner_years == (2004, 2005, 2006) and trained.model.relative
    # one cohort allows no inner split: the first candidate, fixed beforehand, is used
    alone = select_settings(train[train["year"] == 2000], ["good"], declared)
    assert alone.inner_years == () and alone.chosen == CANDIDATES[0]
    assert select_settings(train, ["good"], declared).to_dict()["chosen"]["description"].startswith("同年百分位分箱")


def test_card_of_the_generated_sample_says_which_features_were_dropped_and_why() -> None:
    from tiering.growth.card import load_card

    card = load_card(ROOT / "models" / "panel_s42.card.yaml")
    dropped = card.data["directions"]["dropped"]
    assert dropped["log_revenue"] == ("声明不用于评分：当年收入含当年的起落，按“规模小加分”会奖励收入下滑的企业；"
                                      "规模改看近三年平均收入")
    assert "log_revenue_mean3" in card.features
    assert all(("相反" in why) or ("不稳定" in why) or ("无法判断" in why)
               for feature, why in dropped.items() if feature != "log_revenue")
    assert not set(dropped) & set(card.features)
    for feature in card.data["features"]:
        assert feature["direction"] in ("increasing", "decreasing") and feature["direction_reason"]
    assert len(card.data["metrics"]["calibration_out_of_time"]) == 10
    # the settings were chosen on the last three training cohorts, and so were those of every out-of-time split
    selection = card.data["settings_selection"]
    assert selection["inner_years"] == card.data["training"]["cohorts"][-3:]
    assert len(selection["candidates"]) == len(CANDIDATES)
    best = max(selection["candidates"], key=lambda c: c["mean_auc"])
    assert {k: best[k] for k in ("relative", "C", "n_bins")} == {
        k: selection["chosen"][k] for k in ("relative", "C", "n_bins")}
    assert card.scorecard().get_params()["n_bins"] == selection["chosen"]["n_bins"]
    by_year = card.data["metrics"]["settings_by_test_year"]
    tested = sorted({row["test_year"] for row in card.data["metrics"]["out_of_time_by_year"]})
    assert [row["test_year"] for row in by_year] == tested
    assert all(row["inner_years"] == "-" or max(map(int, row["inner_years"].split(","))) <= row["test_year"] - 3
               for row in by_year)


# --- the Missing-bin policy -------------------------------------------------------------------------------

def _newcomers(effect_by_year: dict[int, float], seed: int = 2) -> pd.DataFrame:
    """Firms per cohort; a quarter are new (past growth missing) with a cohort-specific log-odds effect."""
    rng = np.random.default_rng(seed)
    rows = []
    for year, effect in effect_by_year.items():
        n = 400
        growth = rng.normal(0.1, 0.2, n)
        new = rng.uniform(size=n) < 0.25
        logit = 3 * growth + np.where(new, effect, 0.0) - 0.8
        label = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(float)
        rows.append(pd.DataFrame({"uscc": [f"{year}-{i}" for i in range(n)], "year": year,
                                  "revenue_growth_1y": np.where(new, np.nan, growth), "label": label}))
    return pd.concat(rows, ignore_index=True)


def _fit(data: pd.DataFrame) -> Scorecard:
    return Scorecard(features=["revenue_growth_1y"], directions={"revenue_growth_1y": "increasing"}).fit(
        data[["uscc", "year", "revenue_growth_1y"]], data["label"])


def test_an_unstable_missing_bin_scores_newly_observed_firms_as_average() -> None:
    # newcomers grow more in early cohorts and less in late ones: no bonus, no penalty
    model = _fit(_newcomers({2000: 1.5, 2001: 1.5, 2002: 0.0, 2003: -1.5, 2004: -1.5, 2005: -1.5}))
    bins = model.bins_["revenue_growth_1y"]
    assert bins.missing_policy == "neutral" and bins.points[-1] == 0
    assert bins.missing_why.startswith("各时段缺失组的证据权重不同号")
    newcomer = pd.DataFrame({"uscc": ["N"], "year": [2006], "revenue_growth_1y": [np.nan]})
    assert model.score(newcomer).iloc[0] == model.base_points_
    assert model.top_reasons(newcomer).iloc[0] == ""
    assert model.missing_notes(newcomer).iloc[0] == ""


def test_a_stable_missing_bin_keeps_its_points_and_every_brief_says_so() -> None:
    model = _fit(_newcomers({y: 1.5 for y in range(2000, 2006)}))
    bins = model.bins_["revenue_growth_1y"]
    assert bins.missing_policy == "learned" and bins.points[-1] > 0
    newcomer = pd.DataFrame({"uscc": ["N"], "year": [2006], "revenue_growth_1y": [np.nan]})
    points = bins.points[-1]
    assert model.missing_notes(newcomer).iloc[0] == f"无往年数据（新上市/新成立）：+{points}分（上年营收增长）"
    assert model.top_reasons(newcomer).iloc[0] == ""  # shown as a note, never as a reason to choose the firm


def test_without_years_a_missing_bin_stays_neutral() -> None:
    data = _newcomers({y: 1.5 for y in range(2000, 2006)})
    model = Scorecard(features=["revenue_growth_1y"]).fit(data[["revenue_growth_1y"]], data["label"])
    assert model.bins_["revenue_growth_1y"].missing_policy == "neutral"
    assert model.bins_["revenue_growth_1y"].points[-1] == 0


# --- reasons a committee can defend ------------------------------------------------------------------------

def test_a_loss_is_never_a_reason_even_when_it_scores_above_average() -> None:
    model = Scorecard.from_spec({
        "params": Scorecard().get_params(), "classes": [0.0, 1.0], "base_points": 500, "intercept": 0.0,
        "coefficients": {"roa": 1.0, "rd_intensity": 1.0},
        "bins": [
            {"feature": "roa", "direction": "increasing", "edges": [-0.05, 0.0], "labels": ["a", "b", "c", "缺失"],
             "count": [1, 3, 1, 0], "events": [0, 1, 1, 0], "woe": [0.0] * 4, "points": [-10, 4, 12, 0],
             "rationale": "总资产收益率高说明盈利能力强"},
            {"feature": "rd_intensity", "direction": "increasing", "edges": [0.005, 0.05],
             "labels": ["a", "b", "c", "缺失"], "count": [3, 1, 1, 0], "events": [0, 0, 1, 0], "woe": [0.0] * 4,
             "points": [-5, -3, 6, 0], "rationale": "研发投入是未来增长的来源"},
        ]})
    firms = pd.DataFrame({"uscc": ["loss", "profit"], "roa": [-0.01, 0.08], "rd_intensity": [0.10, 0.01]})
    assert model.score(firms).tolist() == [510, 509]
    reasons = model.top_reasons(firms)
    assert reasons.tolist() == [
        "研发投入强度 10%（+6分）：研发投入是未来增长的来源",
        "总资产收益率 8%（+12分）：总资产收益率高说明盈利能力强",
    ]
    # what counted against each firm is shown too (the loss scored above the lowest bin, so it is no deduction)
    assert model.top_deductions(firms).tolist() == ["", "研发投入强度 1%（-3分）"]


def test_the_bin_most_firms_share_is_never_a_reason_nor_a_deduction_and_still_scores() -> None:
    # year_share: nearly every firm operated the whole year (90 of 100 in one bin, -6); rd_intensity: 60 of 100 in a
    # bin scoring +3
    model = Scorecard.from_spec({
        "params": Scorecard().get_params(), "classes": [0.0, 1.0], "base_points": 500, "intercept": 0.0,
        "coefficients": {"year_share": 1.0, "rd_intensity": 1.0},
        "bins": [
            {"feature": "year_share", "direction": "decreasing", "edges": [0.5, 1.0],
             "labels": ["a", "b", "c", "缺失"], "count": [5, 5, 90, 0], "events": [4, 3, 30, 0], "woe": [0.0] * 4,
             "points": [71, 40, -6, 0]},
            {"feature": "rd_intensity", "direction": "increasing", "edges": [0.02, 0.08],
             "labels": ["a", "b", "c", "缺失"], "count": [20, 60, 20, 0], "events": [4, 20, 10, 0], "woe": [0.0] * 4,
             "points": [-5, 3, 9, 0]},
        ]})
    assert [model.bins_[f].typical for f in ("year_share", "rd_intensity")] == [2, 1]
    firms = pd.DataFrame({"uscc": ["whole", "part", "low"], "year_share": [1.0, 0.3, 1.0],
                          "rd_intensity": [0.05, 0.10, 0.01]})
    # the points of the modal bins still count: the score and so the ranking do not change
    assert model.score(firms).tolist() == [500 - 6 + 3, 500 + 71 + 9, 500 - 6 - 5]
    assert model.top_reasons(firms).tolist() == ["", "当年经营时间占比 30%（+71分）；研发投入强度 10%（+9分）", ""]
    assert model.top_deductions(firms).tolist() == ["", "", "研发投入强度 1%（-5分）"]
    # registered on 2 January: short of a whole year, so never shown as 100 %
    almost = firms.assign(year_share=[364 / 365, 0.3, 1.0])
    assert model.top_reasons(almost).iloc[0] == "当年经营时间占比 99.7%（+40分）"
    explained = model.explain(firms)
    typical = explained.set_index(["uscc", "feature"])["typical"]
    assert typical[("whole", "year_share")] and typical[("whole", "rd_intensity")]
    assert not typical[("part", "year_share")] and not typical[("low", "rd_intensity")]


def test_quantile_bins_of_equal_shares_have_no_typical_bin_so_a_small_size_is_shown_as_the_reason_it_is() -> None:
    # Five size bins of 20 % each (as quantile bins are): the first of equal counts is no bin "most firms share".
    # A firm in the smallest bin gets +21, the largest part of its score, and the brief must say so.
    model = Scorecard.from_spec({
        "params": Scorecard().get_params(), "classes": [0.0, 1.0], "base_points": 500, "intercept": 0.0,
        "coefficients": {"log_revenue_mean3": 1.0, "rd_intensity": 1.0},
        "bins": [
            {"feature": "log_revenue_mean3", "direction": "decreasing", "edges": [5.6, 6.5, 7.5, 8.8],
             "labels": ["a", "b", "c", "d", "e", "缺失"], "count": [20, 20, 20, 20, 20, 3],
             "events": [9, 8, 4, 3, 2, 1], "woe": [0.0] * 6, "points": [21, 18, -9, -12, -18, 0]},
            {"feature": "rd_intensity", "direction": "increasing", "edges": [0.055, 0.1],
             "labels": ["a", "b", "c", "缺失"], "count": [40, 40, 20, 0], "events": [8, 14, 10, 0], "woe": [0.0] * 4,
             "points": [-5, 2, 10, 0]},
        ]})
    assert [model.bins_[f].typical for f in ("log_revenue_mean3", "rd_intensity")] == [None, None]
    firm = pd.DataFrame({"uscc": ["small"], "log_revenue_mean3": [np.log(169.0)], "rd_intensity": [0.42]})
    assert model.score(firm).tolist() == [500 + 21 + 10]
    assert model.top_reasons(firm).tolist() == ["近三年平均营业收入规模 169万元（+21分）；研发投入强度 42%（+10分）"]
    assert not model.explain(firm)["typical"].any()


# --- calibration ------------------------------------------------------------------------------------------

def test_calibration_table_deciles_exact() -> None:
    predicted = np.arange(20) / 20
    observed = np.array([0, 0] * 5 + [1, 0] * 3 + [1, 1] * 2, dtype=float)
    table = calibration_table(predicted, observed)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["n"].tolist() == [2.0] * 10
    assert table["predicted"].tolist() == pytest.approx([(2 * k + 0.5) / 20 for k in range(10)])
    assert table["observed"].tolist() == [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 1, 1]
    # as printed: a count of firms is a whole number (was "2.000")
    assert format_table(table).splitlines()[1].split() == ["1", "2", "0.025", "0.000"]


def test_out_of_time_calibration_pools_every_test_cohort() -> None:
    data = _policy_panel()
    result = out_of_time(data, ["good", "noise"], test_years=[2006, 2007, 2008], declarations=DECLARED,
                         rankers={})
    assert result.by_year["model"].tolist() == ["scorecard"] * 3
    assert result.calibration["n"].sum() == 600
    # the well-ordered feature gives observed rates that rise from the lowest to the highest decile
    assert result.calibration["observed"].iloc[-1] > result.calibration["observed"].iloc[0] + 0.4


def test_cli_evaluate_prints_calibration_lift_and_the_plain_boosted_reference(tmp_path: Path) -> None:
    mapping = _write(tmp_path / "my.yaml", MY_MAPPING)
    rng = np.random.default_rng(3)
    rows = []
    for firm in range(120):
        revenue, assets = float(rng.uniform(1e6, 5e6)), float(rng.uniform(50, 500))
        drift = rng.normal(0.1, 0.15)
        for year in range(2010, 2020):
            revenue *= float(np.exp(drift + 0.1 * rng.normal()))
            rows.append({"企业编号": f"{firm:04d}", "年度": year, "成立年份": 2000 + firm % 9, "企业": f"企业{firm}",
                         "收入（元）": revenue, "资产（万元）": assets, "利润（元）": revenue * drift,
                         "人数": 10 + firm % 30})
    panel = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(panel, index=False)
    result = CliRunner().invoke(main, ["model", "evaluate", "--panel", str(panel), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "（列映射 my_panel）" in result.output
    assert "calibration of the scorecard, out of time" in result.output
    for column in ("roc_auc", "average_precision", "precision_at_10", "precision_at_15", "lift_at_10",
                   "lift_at_15"):
        assert column in result.output
    assert "boosted_raw" in result.output and "past_growth_1y" in result.output
    missing = CliRunner().invoke(main, ["model", "evaluate", "--panel", str(panel)])
    assert missing.exit_code == 2 and "--panel needs --mapping" in missing.output


def test_a_newcomer_s_missing_past_years_are_one_note_with_their_total_and_each_share() -> None:
    """A firm new to the data lacks every past-year feature for one reason: the brief says so once, with the
    total those Missing bins gave it (before: one "无往年数据" line per feature, the total left to the reader)."""
    data = _newcomers({y: 1.5 for y in range(2000, 2006)})
    data["asset_growth_1y"] = data["revenue_growth_1y"] * 0.5 + np.random.default_rng(3).normal(0, 0.1, len(data))
    features = ["revenue_growth_1y", "asset_growth_1y"]
    model = Scorecard(features=features, directions=dict.fromkeys(features, "increasing")).fit(
        data[["uscc", "year", *features]], data["label"])
    points = [model.bins_[f].points[-1] for f in features]
    assert all(model.bins_[f].missing_policy == "learned" for f in features) and min(points) > 0
    newcomer = pd.DataFrame({"uscc": ["N"], "year": [2006], "revenue_growth_1y": [np.nan],
                             "asset_growth_1y": [np.nan]})
    assert model.missing_notes(newcomer).iloc[0] == (
        f"无往年数据（新上市/新成立）：+{sum(points)}分（上年营收增长 +{points[0]}分、上年资产增长 +{points[1]}分）")


def test_a_test_year_where_no_firm_grew_is_left_out_of_the_means_and_said_so() -> None:
    """A cohort with one label only has no ranking to test: before, its row showed ROC AUC NaN and the mean
    counted it in precision@k but not in ROC AUC while saying "years 3"."""
    data = _newcomers({y: 1.5 for y in range(2000, 2008)})
    data.loc[data["year"] == 2007, "label"] = 0.0
    evaluation = out_of_time(data, ["revenue_growth_1y"], test_years=[2005, 2006, 2007], rankers={})
    assert evaluation.left_out == {
        2007: "该年度 400 家企业的标签全部为“非高成长”，无法检验排序（ROC AUC、平均精度无定义），不计入均值与校准表"}
    assert evaluation.by_year["test_year"].unique().tolist() == [2005, 2006]
    assert evaluation.summary["years"].tolist() == [2]
    assert evaluation.calibration["n"].sum() == 800
    assert evaluation.summary["roc_auc"].notna().all()


def test_a_card_trained_on_one_cohort_says_it_was_never_tested_out_of_time(tmp_path: Path) -> None:
    """The bundled sample register has one labelled cohort: the card is saved, and the person who trained it is
    told that its ranking was never tested (before: only the card said so)."""
    out = tmp_path / "sample"
    result = CliRunner().invoke(main, ["model", "train", "--register", str(ROOT / "datasets" / "sample_register.xlsx"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ("未做跨期检验 out-of-time not evaluated: 没有可检验的年度：须有带标签的企业，且 3 年以前有至少 30 行"
            "两类标签都有的训练数据（no test cohort）；这张模型卡的排序能力未经检验") in result.stderr
