"""Plan targets: the plan files validate, counts per year are exact, and the nearest firms are ordered sensibly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.cli.targets_cmd import targets
from tiering.errors import Where
from tiering.register import Register, load_register
from tiering.rules.library import load_library
from tiering.targets import Plan, PlanError, load_plan, track_plan
from tiering.targets.plan import PLANS_DIR
from tiering.targets.track import PlanYearsAbsent

ROOT = Path(__file__).resolve().parents[1]


def _target(**extra: object) -> dict:
    base = {"id": "xjr", "label": "小巨人", "program": "tj_xjr", "measure": "stock", "year": 2024, "count": 5,
            "source": {"clause": "一", "quote": "小巨人5家"}}
    return base | extra


def _plan(targets: list[dict], **extra: object) -> Plan:
    data = {"id": "t-plan", "title": "测试计划", "jurisdiction": "天津市东丽区", "districts": ["东丽区"], "start": 2022,
            "end": 2024, "source": {"document": "测试"}, "targets": targets}
    return Plan.model_validate(data | extra)


def small_register() -> Register:
    """40 东丽区 firms of the generated panel, 2015–2025 (the hand-made sample changes too often to pin counts)."""
    register = load_register(ROOT / "datasets" / "generated" / "panel_s42.csv")
    frame = register.frame
    keep = sorted(frame.loc[frame["district"] == "东丽区", "uscc"].unique())[:40]
    return dataclasses.replace(register, frame=frame[frame["uscc"].isin(keep)].reset_index(drop=True))


@pytest.fixture(scope="module")
def register() -> Register:
    return small_register()


@pytest.fixture(scope="module")
def tracking(register: Register):  # noqa: ANN201
    plan = _plan([
        _target(count=8),
        _target(id="xjr_big", label="超2亿", count=2, where={"field": "revenue", "op": ">", "value": 20000}),
        _target(id="cy_new", label="新增雏鹰", program="tj_cy", measure="new", since=2022, count=3),
        _target(id="kj", label="科技型", program="kjxzxqy", count=3, stretch=4),
    ])
    return track_plan(register, load_library(), plan)


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
    assert [str(p) for p in err.value.problems] == [f"{path}:{line} targets[0].cuont: Extra inputs are not permitted"]
    assert err.value.problems[0].where == Where(file=str(path), line=line, field="targets[0].cuont")


def test_new_measure_needs_a_base_year() -> None:
    with pytest.raises(ValueError, match="measure 'new' needs 'since'"):
        _plan([_target(measure="new")])
    with pytest.raises(ValueError, match=r"stretch \(4\) is below count \(5\)"):
        _plan([_target(stretch=4)])


def test_counts_per_year_are_exact(tracking) -> None:  # noqa: ANN001
    p = tracking.progress.set_index(["target_id", "plan_year"])
    assert tracking.years == [2022, 2023, 2024]
    assert p.loc["xjr", "count"].tolist() == [5.0, 5.0, 5.0]
    assert p.loc["xjr", "gap"].tolist() == [3.0, 3.0, 3.0]
    assert p.loc["xjr", "status"].tolist() == ["未完成"] * 3
    assert p.loc["xjr_big", "count"].tolist() == [3.0, 3.0, 2.0]
    assert p.loc["xjr_big", "status"].tolist() == ["已完成"] * 3
    assert p.loc["cy_new", "count"].tolist() == [0.0, 0.0, 0.0]
    assert p.loc["kj", "count"].tolist() == [14.0, 17.0, 14.0]
    assert p.loc["kj", "status"].tolist() == ["达到力争目标"] * 3
    assert p.loc[("xjr", 2024), "ruleset_id"] == "tj-xjr-2010"
    assert p.loc[("cy_new", 2024), "measure"] == "2022年以来新增"


def test_stock_equals_the_qualified_firms_of_the_district(tracking) -> None:  # noqa: ANN001
    from tiering.app import classify as run_classification
    from tiering.engine.evaluate import default_eval_date

    library = load_library()
    on = default_eval_date(2025)
    run = run_classification(small_register(), library.in_force(on, None, ["tj_xjr"]), 2025, on)
    direct = run.outcomes[(run.outcomes["program"] == "tj_xjr") & (run.outcomes["outcome"] == "qualified")]
    p = tracking.progress.set_index(["target_id", "plan_year"])
    assert p.loc[("xjr", 2024), "count"] == len(direct) == 5


def test_counts_of_the_sample_are_its_classification_counts() -> None:
    """targets reads the one classification: per program, the firms counted (and those 待定) in the plan's
    district are the application layer's qualified (and undetermined) firms of that district."""
    from tiering.app import classify, rules_in_force

    register = load_register(ROOT / "datasets" / "sample_register.xlsx")
    programs = ["kjxzxqy", "gxjsqy", "tj_cy", "tj_xjr"]
    plan = _plan([_target(id=p, program=p, count=1) for p in programs], start=2024, end=2024)
    progress = track_plan(register, load_library(), plan).progress.set_index("target_id")
    rulesets, on = rules_in_force(load_library(), 2025, programs=programs)
    outcomes = classify(register, rulesets, 2025, on).outcomes
    dongli = set(register.frame.loc[register.frame["district"] == "东丽区", "uscc"])
    outcomes = outcomes[outcomes["uscc"].isin(dongli)]
    counts = outcomes.groupby(["program", "outcome"], observed=True).size()
    for program in programs:
        assert progress.loc[program, "count"] == counts.get((program, "qualified"), 0)
        assert progress.loc[program, "undetermined"] == counts.get((program, "undetermined"), 0)
    assert progress["count"].sum() > 0 and progress.loc["kjxzxqy", "count"] < len(dongli)


def test_nearest_firms(tracking) -> None:  # noqa: ANN001
    c = tracking.candidates
    assert set(c["plan_year"]) == {2024}
    big = c[c["target_id"] == "xjr_big"]
    assert big["uscc"].tolist() == ["9112011048698861X6", "91120110621148032A", "91120110429887927G"]
    assert big["lacks"].tolist()[0] == "销售收入（万元） 18,200，目标 > 20,000（差 1,800）"
    xjr = c[c["target_id"] == "xjr"]
    assert xjr["rank"].tolist() == list(range(1, 11))
    assert xjr["lacks"].tolist()[:2] == [
        "销售收入（2024年） 需增加1,311.6万元（8,688.4万元 → 1亿元，+15.1%）（暂定条件）",
        "销售收入（2024年） 需增加2,049.7万元（7,950.3万元 → 1亿元，+25.8%）（暂定条件）"]
    assert (xjr["outcome_zh"] == "不符合").all()


def test_missing_rules_and_missing_base_year_cannot_be_counted(register: Register) -> None:
    plan = _plan([_target(id="lj", program="tj_lj", year=2016), _target(id="new", measure="new", since=2012)],
                 start=2016, end=2016)
    t = track_plan(register, load_library(), plan, years=[2016, 2023])
    p = t.progress.set_index(["target_id", "plan_year"])
    assert p.loc[("lj", 2016), "status"] == "无法计数"
    assert "no rule set of program 'tj_lj' is in force on 2017-06-30" in p.loc[("lj", 2016), "note"]
    assert p.loc[("lj", 2023), "status"] == "未完成"
    assert p.loc[("new", 2023), "note"] == "名录没有基期 2012 年的数据，无法计算新增"


def test_register_outside_the_plan_years_says_what_to_do(register: Register) -> None:
    with pytest.raises(PlanYearsAbsent, match="accounts for 2015–2025, none of the plan's years 2011–2013"):
        track_plan(register, load_library(), _plan([_target()], start=2011, end=2013))


def test_cli_prints_progress_and_writes_workbook(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(targets, [str(ROOT / "datasets" / "generated" / "panel_s42.csv"), "--plan",
                                       str(PLANS_DIR / "baodi-qyqt-2019.yaml"), "--limit", "2",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "■ 新发展国家高新技术企业  [gxjsqy]  目标 2019 年 26 家（2018年以来新增）" in result.output
    assert "  2019: 实有 0 家，待定 0 家，缺口 26 家 — 未完成" in result.output
    assert "  2019: 实有 5 家，待定 0 家，缺口 145 家 — 未完成" in result.output
    assert ("未跟踪 not tracked: 创新平台（“年内新增企业重点实验室等各类创新平台8家”）— 平台数量不是企业层级的认定结果"
            in result.output)
    from openpyxl import load_workbook

    wb = load_workbook(out)
    assert wb.sheetnames == ["计划目标", "最接近的企业", "说明", "列名对照"]
    notes = dict(wb["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["计划"].endswith("（baodi-qyqt-2019.yaml）") and len(notes["输入文件SHA-256"]) == 64
    assert [c.value for c in wb["计划目标"][1]][:4] == ["目标代码", "目标", "项目代码", "规则集"]


def test_cli_register_outside_the_plan_years_names_file_years_and_what_to_do() -> None:
    sample = "datasets/sample_register.xlsx"
    result = CliRunner().invoke(main, ["targets", str(ROOT / sample), "--plan",
                                       str(PLANS_DIR / "dongli-kjxzxqy-2011.yaml")])
    assert result.exit_code == 3
    assert result.output == (
        f"错误 / error: {ROOT / sample}: 名录只有 2021–2024 年度的数据，不含计划 2011–2015 的任何年度（the register "
        "has accounts for 2021–2024, none of the plan's years 2011–2015） [plan-years-absent]\n"
        "  建议 hint: 用 --year 指定要对照计划目标计数的年度 (pass --year to count other years against the plan's "
        "targets)\n")
