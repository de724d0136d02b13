"""A plan's targets counted on a register in partitions (tiering.targets.parts): each partition counts its plan
years with the functions of a whole run and the driver adds the tallies up and merges the nearest firms; the
tables equal a whole run's, on the local engine and on a local Dask cluster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.engine.evaluate import default_eval_date
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.scale import classify_partitioned
from tiering.targets import Plan, track_plan
from tiering.targets.parts import PlanReduce, plan_rules, run_year, track_parts


def _target(**extra: object) -> dict:
    base = {"id": "xjr", "label": "小巨人", "program": "tj_xjr", "measure": "stock", "year": 2024, "count": 20,
            "source": {"clause": "一", "quote": "小巨人20家"}}
    return base | extra


PLAN = {"id": "gen-plan", "title": "测试计划", "jurisdiction": "天津市", "start": 2021, "end": 2024,
        "source": {"document": "测试"}, "targets": [
            _target(),
            _target(id="xjr_big", label="超2亿", count=5, where={"field": "revenue", "op": ">", "value": 20000}),
            _target(id="kj_new", label="新增科技型", program="kjxzxqy", measure="new", since=2021, count=30),
            _target(id="gq", label="高企", program="gxjsqy", count=40, stretch=60),
        ]}


@pytest.fixture(scope="module")
def register_file(tmp_path_factory) -> Path:
    """300 generated firms, 2020–2024, in several districts."""
    return write_register(generate_panel(300, (2020, 2024), seed=5).panel,
                          tmp_path_factory.mktemp("gen") / "g.parquet")


@pytest.mark.parametrize("districts", [[], ["东丽区", "蓟州区"]], ids=["all", "districts"])
def test_targets_counted_in_partitions_equal_the_whole_registers(register_file, tmp_path, districts) -> None:
    plan = Plan.model_validate(PLAN | {"districts": districts})
    library = load_library()
    register = load_register(register_file)
    whole = track_plan(register, library, plan, limit=6)
    rules = plan_rules(library, plan, [], {})
    year = run_year(rules) + 1
    run = classify_partitioned(register_file, rules[year - 1][0], year, default_eval_date(year), tmp_path, 40,
                               reduce=PlanReduce(plan, rules, 6))
    assert run.partitions >= 7
    parts = track_parts(plan, run.reduced, rules, [], 6, register_file)
    assert parts.years == whole.years == [2021, 2022, 2023, 2024]
    pd.testing.assert_frame_equal(parts.progress, whole.progress)
    pd.testing.assert_frame_equal(parts.candidates, whole.candidates)
    assert parts.notes == whole.notes
    p = whole.progress.set_index(["target_id", "plan_year"])
    # the counts are real: firms of every target, new firms after the base year, nearest firms of several parts
    assert p.loc[("xjr", 2024), "count"] > 5 and p.loc[("kj_new", 2024), "count"] > 0
    assert p.loc[("kj_new", 2021), "count"] == 0 and p.loc[("gq", 2021), "undetermined"] > 10
    assert len(whole.candidates) == 4 * 6
    firms = {u: k for k, part in enumerate(run.reduced) for u in part.pools["xjr", 2024]["uscc"]}
    assert len({firms[u] for u in whole.candidates.loc[whole.candidates["target_id"] == "xjr", "uscc"]}) > 1
    if districts:
        assert p.loc[("xjr", 2024), "count"] < track_plan(register, library, Plan.model_validate(PLAN),
                                                          years=[2024]).progress["count"].iloc[0]


def test_targets_with_an_engine_print_and_write_what_a_whole_run_does(register_file, tmp_path) -> None:
    plan = tmp_path / "gen-plan.yaml"
    import yaml

    plan.write_text(yaml.safe_dump(PLAN | {"districts": ["东丽区", "蓟州区"]}, allow_unicode=True), encoding="utf-8")
    args = ["targets", str(register_file), "--plan", str(plan), "--limit", "4"]
    whole = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "whole.xlsx")])
    assert whole.exit_code == 0, whole.output
    assert "■ 新增科技型  [kjxzxqy]  目标 2024 年 30 家（2021年以来新增）" in whole.output
    for name, engine in (("local", ["--engine", "local", "--workers", "1"]), ("dask", ["--engine", "dask"])):
        parted = CliRunner().invoke(main, [*args, "--out", str(tmp_path / f"{name}.xlsx"), *engine,
                                           "--partition-size", "40", "--parts", str(tmp_path / name)])
        assert parted.exit_code == 0, parted.output
        tables = whole.output.split("写出 wrote")[0]
        assert parted.output.endswith(f"{tables}写出 wrote {tmp_path / name}.xlsx\n")  # after the run's own lines
        assert len(list((tmp_path / name / "结果").glob("part-*.parquet"))) >= 7
        for sheet in ("计划目标", "最接近的企业"):
            assert [list(r) for r in load_workbook(tmp_path / f"{name}.xlsx")[sheet].values] == \
                [list(r) for r in load_workbook(tmp_path / "whole.xlsx")[sheet].values]
    again = CliRunner().invoke(main, [*args, "--engine", "local", "--parts", str(tmp_path / "local")])
    assert again.exit_code == 3 and "加 --overwrite" in again.output
    unused = CliRunner().invoke(main, [*args, "--parts", str(tmp_path / "x")])
    assert unused.exit_code == 2 and "--parts 只用于分区运行" in unused.output


def test_targets_with_an_engine_refuse_a_plan_without_rules_in_force_in_any_year(register_file, tmp_path) -> None:
    import yaml

    plan = tmp_path / "lj-plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN | {"id": "lj-plan", "targets": [_target(id="lj", program="tj_lj")]},
                                   allow_unicode=True), encoding="utf-8")
    args = ["targets", str(register_file), "--plan", str(plan), "--year", "2016"]
    whole = CliRunner().invoke(main, args)
    assert whole.exit_code == 0 and "2016: 实有 — 家，待定 — 家，缺口 — 家 — 无法计数" in whole.output
    refused = CliRunner().invoke(main, [*args, "--engine", "local", "--parts", str(tmp_path / "p")])
    assert refused.exit_code == 3
    assert "计划 lj-plan 的项目在所计年度都没有施行中的规则集" in refused.output and not (tmp_path / "p").exists()
