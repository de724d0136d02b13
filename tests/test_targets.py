"""Plan targets: the plan files validate, counts per year are exact, and the nearest firms are ordered sensibly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import tiering.cli.targets_cmd  # noqa: F401  (registers the command)
from tiering.cli import main
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.targets import Plan, PlanError, load_plan, track_plan
from tiering.targets.plan import PLANS_DIR

ROOT = Path(__file__).resolve().parents[1]


def _target(**extra: object) -> dict:
    base = {"id": "xjr", "label": "小巨人", "program": "tj_xjr", "measure": "stock", "year": 2024, "count": 5,
            "source": {"clause": "一", "quote": "小巨人5家"}}
    return base | extra


def _plan(targets: list[dict], **extra: object) -> Plan:
    data = {"id": "t-plan", "title": "测试计划", "jurisdiction": "天津市东丽区", "districts": ["东丽区"], "start": 2022,
            "end": 2024, "source": {"document": "测试"}, "targets": targets}
    return Plan.model_validate(data | extra)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return load_register(ROOT / "datasets" / "sample_register.xlsx").frame


@pytest.fixture(scope="module")
def tracking(panel: pd.DataFrame):  # noqa: ANN201
    plan = _plan([
        _target(),
        _target(id="xjr_big", label="超2亿", count=2, where={"field": "revenue", "op": ">", "value": 20000}),
        _target(id="cy_new", label="新增雏鹰", program="tj_cy", measure="new", since=2022, count=3),
        _target(id="kj", label="科技型", program="kjxzxqy", count=3, stretch=4),
    ])
    return track_plan(panel, load_library(), plan)


def test_every_plan_file_validates_and_quotes_its_source() -> None:
    plans = {p.stem: load_plan(p) for p in sorted(PLANS_DIR.glob("*.yaml"))}
    assert sorted(plans) == ["baodi-qyqt-2019", "baotou-xjr-2015", "dongli-kjxzxqy-2011", "jixian-xjr-2013"]
    jixian = {t.id: t for t in plans["jixian-xjr-2013"].targets}
    assert (jixian["kjxqy_total_2015"].count, jixian["kjxqy_total_2015"].stretch) == (1450, 1600)
    assert (jixian["xjr_total_2015"].count, jixian["lj_2015"].count) == (50, 5)
    dongli = {t.id: t for t in plans["dongli-kjxzxqy-2011"].targets}
    assert [dongli[k].count for k in ("kjxqy_total_2015", "xjr_total_2015", "xjr_over_3yi_2015",
                                      "xjr_over_10yi_2015")] == [2000, 110, 30, 8]
    assert dongli["xjr_over_3yi_2015"].where.text() == "revenue > 30000"
    assert [t.count for t in plans["baotou-xjr-2015"].targets] == [50]
    assert [(t.program, t.count, t.since) for t in plans["baodi-qyqt-2019"].targets] == [
        ("gxjsqy", 26, 2018), ("kjxzxqy", 150, 2018)]
    seeds = Path("/work/shared/seeds")
    for plan in plans.values():
        for t in plan.targets:
            assert t.source.quote
        if seeds.is_dir() and plan.source.file:
            text = (seeds / Path(plan.source.file).name).read_text(encoding="utf-8")
            for t in plan.targets:
                assert t.source.quote.split("……")[0].split("（")[0] in text, (plan.id, t.id)


def test_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad-plan.yaml"
    source = (PLANS_DIR / "baotou-xjr-2015.yaml").read_text(encoding="utf-8")
    path.write_text(source.replace("id: baotou-xjr-2015", "id: bad-plan").replace("    count: 50",
                                                                                   "    count: 50\n    cuont: 5"),
                    encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load_plan(path)
    line = source.splitlines().index("    count: 50") + 2
    assert err.value.problems == [f"{path}:{line} targets[0].cuont: Extra inputs are not permitted"]


def test_new_measure_needs_a_base_year() -> None:
    with pytest.raises(ValueError, match="measure 'new' needs 'since'"):
        _plan([_target(measure="new")])
    with pytest.raises(ValueError, match=r"stretch \(4\) is below count \(5\)"):
        _plan([_target(stretch=4)])


def test_counts_per_year_are_exact(tracking) -> None:  # noqa: ANN001
    p = tracking.progress.set_index(["target_id", "plan_year"])
    assert tracking.years == [2022, 2023, 2024]
    assert p.loc["xjr", "count"].tolist() == [0.0, 1.0, 2.0]
    assert p.loc["xjr", "undetermined"].tolist() == [1.0, 0.0, 0.0]
    assert p.loc["xjr", "gap"].tolist() == [5.0, 4.0, 3.0]
    assert p.loc["xjr_big", "count"].tolist() == [0.0, 1.0, 1.0]
    assert p.loc["cy_new", "count"].tolist() == [0.0, 0.0, 0.0]
    assert p.loc["kj", "status"].tolist() == ["已完成"] * 3
    assert p.loc[("xjr", 2024), "status"] == "未完成"
    assert p.loc[("xjr", 2024), "ruleset_id"] == "tj-xjr-2010"


def test_stock_equals_the_qualified_firms_of_the_district(panel: pd.DataFrame, tracking) -> None:  # noqa: ANN001
    from tiering.cli.classify_cmd import run_classification
    from tiering.engine.evaluate import default_eval_date

    full = load_register(ROOT / "datasets" / "sample_register.xlsx")
    register = dataclasses.replace(full, frame=full.frame[full.frame["district"] == "东丽区"])
    library = load_library()
    run = run_classification(register, library.in_force(default_eval_date(2025), None, ["tj_xjr"]), 2025,
                             default_eval_date(2025))
    direct = run.outcomes[(run.outcomes["program"] == "tj_xjr") & (run.outcomes["outcome"] == "qualified")]
    p = tracking.progress.set_index(["target_id", "plan_year"])
    assert p.loc[("xjr", 2024), "count"] == len(direct)


def test_nearest_firms(tracking) -> None:  # noqa: ANN001
    c = tracking.candidates
    big = c[c["target_id"] == "xjr_big"]
    assert big[["uscc", "name", "outcome_zh"]].values.tolist() == [
        ["91120116MA0500015E", "东丽光电科技有限公司", "符合"]]
    assert big["lacks"].tolist() == ["销售收入（万元） 10,000，目标 > 20,000（差 10,000）"]
    xjr = c[c["target_id"] == "xjr"]
    assert xjr["rank"].tolist() == [1, 2, 3, 4, 5]
    assert xjr["lacks"].iloc[0] == "销售收入（2024年） 需增加4,000万元（6,000万元 → 1亿元，+66.7%）（暂定条件）"
    assert set(c["plan_year"]) == {2024}


def test_missing_rules_and_missing_base_year_cannot_be_counted(panel: pd.DataFrame) -> None:
    plan = _plan([_target(id="lj", program="tj_lj", year=2016), _target(id="new", measure="new", since=2015)],
                 start=2016, end=2016)
    t = track_plan(panel, load_library(), plan, years=[2016, 2023])
    p = t.progress.set_index(["target_id", "plan_year"])
    assert p.loc[("lj", 2016), "status"] == "无法计数"
    assert "no rule set of program 'tj_lj' is in force on 2017-06-30" in p.loc[("lj", 2016), "note"]
    assert p.loc[("lj", 2023), "status"] == "未完成"
    assert p.loc[("new", 2023), "note"] == "名录没有基期 2015 年的数据，无法计算新增"


def test_register_outside_the_plan_years_says_what_to_do(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="accounts for 2021–2024, none of the plan's years 2013–2015; pass --year"):
        track_plan(panel, load_library(), _plan([_target()], start=2013, end=2015))


def test_cli_prints_progress_and_writes_workbook(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["targets", str(ROOT / "datasets" / "sample_register.xlsx"), "--plan",
                                       str(PLANS_DIR / "baodi-qyqt-2019.yaml"), "--year", "2023", "--limit", "2",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "■ 新发展国家高新技术企业  [gxjsqy]  目标 2019 年 26 家（2018年以来新增）" in result.output
    assert ("  2023: 实有 — 家，待定 — 家，缺口 — 家 — 无法计数（名录没有基期 2018 年的数据，无法计算新增）"
            in result.output)
    from openpyxl import load_workbook

    wb = load_workbook(out)
    assert wb.sheetnames == ["计划目标", "最接近的企业"]
    assert [c.value for c in wb["计划目标"][1]][:4] == ["目标代码", "目标", "项目代码", "规则集"]
