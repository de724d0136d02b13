"""What needs every firm, reduced from the partitions of a register: the cultivation list (each partition gives its
firms' statuses and component values, tiering.app.selection.selection_part; the percentiles, order and pick are
made over every candidate at once, select_parts) and the report's counts, pyramid, transitions and indicator
distributions (tiering.report.data.ReportReduce) equal those of the whole register."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.app import classify, rules_in_force
from tiering.app.selection import DEFAULT_POLICY, select, select_parts, selection_inputs, selection_part
from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
from tiering.report.data import DEFAULT_INDICATORS, ReportReduce, build_report_data, previous_rules, report_from_parts
from tiering.rules.library import load_library
from tiering.scale import classify_partitioned

YEAR = 2025
MODEL = Path(__file__).resolve().parents[1] / "models" / "panel_s42.card.yaml"


@pytest.fixture(scope="module")
def register_file(tmp_path_factory) -> Path:
    """300 generated firms over four years: about 50 candidates of the default policy, in several partitions."""
    return write_register(generate_panel(300, (2021, 2024), seed=5).panel,
                          tmp_path_factory.mktemp("gen") / "g.parquet")


@pytest.fixture(scope="module")
def library():
    return load_library()


@pytest.fixture(scope="module")
def rules(library):
    return rules_in_force(library, YEAR)


@pytest.mark.parametrize("model", [None, MODEL], ids=["policy", "model"])
def test_a_list_ranked_from_partitions_equals_the_whole_registers(register_file, rules, tmp_path, model) -> None:
    rulesets, on = rules
    register = load_register(register_file)
    whole = select(classify(register, rulesets, YEAR, on), selection_inputs(DEFAULT_POLICY, model, [],
                                                                              register.frame), 12)
    inputs = selection_inputs(DEFAULT_POLICY, model, [], None)
    run = classify_partitioned(register_file, rulesets, YEAR, on, tmp_path, 40,
                               reduce=partial(selection_part, inputs=inputs))
    assert run.partitions >= 7 and len(run.reduced) == run.partitions
    # no partition holds the list's firms alone: the list needs the pool of all of them
    assert max(int((p.firms["status"] == "候选").sum()) for p in run.reduced) < 25
    parts = select_parts(run.reduced, inputs, YEAR, 12)
    pd.testing.assert_frame_equal(parts.ranked, whole.ranked)  # the list, ranks, scores, percentiles, reasons
    pd.testing.assert_frame_equal(parts.firms, whole.firms)    # every firm's status and standing
    assert parts.warnings == whole.warnings
    assert len(parts.selected) == 12 and len(parts.ranked) > 40
    assert parts.ranked["order"].tolist() == list(range(1, len(parts.ranked) + 1))
    counts = parts.firms["status"].value_counts()
    assert counts.sum() == register.frame["uscc"].nunique() and counts["候选"] == len(parts.ranked)


def test_select_with_an_engine_writes_the_same_list_and_records_the_run(register_file, tmp_path) -> None:
    whole = CliRunner().invoke(main, ["select", str(register_file), "--year", str(YEAR), "--n", "12", "--out",
                                      str(tmp_path / "whole"), "--no-audit"])
    assert whole.exit_code == 0, whole.output
    store = tmp_path / "audit.sqlite"
    parted = CliRunner().invoke(main, ["select", str(register_file), "--year", str(YEAR), "--n", "12", "--out",
                                       str(tmp_path / "parts"), "--engine", "local", "--partition-size", "40",
                                       "--store", str(store)])
    assert parted.exit_code == 0, parted.output
    listed = whole.output[whole.output.index("年度重点培育企业"):whole.output.index("写出 wrote")]
    assert listed in parted.output
    assert (tmp_path / "parts" / "briefs.md").read_bytes() == (tmp_path / "whole" / "briefs.md").read_bytes()
    for sheet in ("入选名单", "递补", "候选池", "未进入候选池"):
        pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "parts" / "cultivation_list.xlsx", sheet_name=sheet),
                                      pd.read_excel(tmp_path / "whole" / "cultivation_list.xlsx", sheet_name=sheet))
    assert len(list((tmp_path / "parts" / "结果").glob("part-*.parquet"))) >= 7
    verified = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert verified.exit_code == 0, verified.output


def test_a_report_reduced_from_partitions_shows_the_whole_registers_counts_and_distributions(register_file, library,
                                                                                            rules, tmp_path) -> None:
    rulesets, on = rules
    register = load_register(register_file)
    whole = build_report_data(register, library, rulesets, YEAR, on, None, DEFAULT_INDICATORS,
                              selection_inputs(DEFAULT_POLICY, None, [], register.frame), 12)
    before, before_on, why = previous_rules(library, rulesets, YEAR)
    reduce = ReportReduce(DEFAULT_INDICATORS, before, before_on, selection_inputs(DEFAULT_POLICY, None, [], None))
    run = classify_partitioned(register_file, rulesets, YEAR, on, tmp_path, 40, reduce=reduce)
    parts = report_from_parts(run.reduced, run.provenance, run.summary, rulesets, YEAR, reduce, why, 12)
    assert run.partitions >= 7 and parts.run is None and parts.trace is None
    pd.testing.assert_frame_equal(parts.summary, whole.summary)
    assert parts.levels == whole.levels and sum(n for _, n in parts.levels) == len(whole.tiers)
    assert dict(parts.levels)["科技型中小企业"] > 50
    pd.testing.assert_frame_equal(parts.transitions, whole.transitions)
    assert int(parts.transitions.to_numpy().sum()) > len(whole.tiers)  # firms of either year, new and gone ones too
    assert [(i.program, i.criterion_id, i.label, i.thresholds, i.unit) for i in parts.indicators] == \
        [(i.program, i.criterion_id, i.label, i.thresholds, i.unit) for i in whole.indicators]
    for mine, theirs in zip(parts.indicators, whole.indicators, strict=True):
        np.testing.assert_array_equal(np.sort(mine.values), np.sort(theirs.values))
    pd.testing.assert_frame_equal(parts.selection.ranked, whole.selection.ranked)
    assert parts.notes == whole.notes


def test_report_with_an_engine_writes_the_whole_reports_counts_and_list(register_file, tmp_path) -> None:
    args = ["report", str(register_file), "--year", str(YEAR), "--n", "12"]
    whole = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    parted = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "parts"), "--engine", "local",
                                       "--partition-size", "40", "--workers", "1"])
    assert parted.exit_code == 0, parted.output
    assert "报告中的计数与分布由各分区汇总" in parted.output
    for sheet in ("汇总", "梯队", "培育名单", "递补"):
        pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "parts" / "report.xlsx", sheet_name=sheet),
                                      pd.read_excel(tmp_path / "whole" / "report.xlsx", sheet_name=sheet))
    assert "尚缺" not in pd.ExcelFile(tmp_path / "parts" / "report.xlsx").sheet_names
    page = (tmp_path / "parts" / "report.html").read_text(encoding="utf-8")
    assert "四、年度层级变化" in page and "三、关键指标分布与门槛" in page
    refused = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "p2"), "--engine", "local", "--all-firms"])
    assert refused.exit_code == 2 and "tiering explain" in refused.output


def test_report_of_a_recorded_run_in_partitions_checks_the_register_it_classified(register_file, tmp_path) -> None:
    store = tmp_path / "audit.sqlite"
    engine = ["--engine", "local", "--workers", "1", "--partition-size", "100"]
    classified = CliRunner().invoke(main, ["classify", str(register_file), "--year", str(YEAR), "--program", "tj_cy",
                                           "--out", str(tmp_path / "c"), "--store", str(store), *engine])
    assert classified.exit_code == 0, classified.output
    run_id = classified.output.split("审计记录 audit run ")[1].split()[0]
    args = ["report", run_id, "--store", str(store), "--no-selection", *engine]
    reported = CliRunner().invoke(main, [*args, "--register", str(register_file), "--out", str(tmp_path / "r")])
    assert reported.exit_code == 0, reported.output
    assert f"报告依据审计记录 {run_id}：规则版本 tj-cy-2021" in reported.output
    counts = pd.read_csv(tmp_path / "c" / "汇总.csv")
    summary = pd.read_excel(tmp_path / "r" / "report.xlsx", sheet_name="汇总")
    assert summary.iloc[0, 0] == "tj-cy-2021" and int(counts["符合（家）"].iloc[0]) in summary.iloc[0].tolist()
    other = write_register(generate_panel(30, (2021, 2024), seed=6).panel, tmp_path / "other.parquet")
    refused = CliRunner().invoke(main, [*args, "--register", str(other), "--out", str(tmp_path / "r2")])
    assert refused.exit_code == 3 and "is not the file run" in refused.output


def test_select_and_report_on_a_local_dask_cluster_equal_the_whole_runs(register_file, tmp_path) -> None:
    """`select` and `report` with --engine dask (a local cluster of two worker processes started for the run)."""
    dask = ["--engine", "dask", "--workers", "2", "--partition-size", "40"]
    listed = {}
    for name, engine in (("whole", []), ("dask", dask)):
        chose = CliRunner().invoke(main, ["select", str(register_file), "--year", str(YEAR), "--n", "12", "--out",
                                          str(tmp_path / f"select-{name}"), "--no-audit", *engine])
        assert chose.exit_code == 0, chose.output
        listed[name] = chose.output[chose.output.index("年度重点培育企业"):chose.output.index("写出 wrote")]
        reported = CliRunner().invoke(main, ["report", str(register_file), "--year", str(YEAR), "--n", "12",
                                             "--out", str(tmp_path / f"report-{name}"), *engine])
        assert reported.exit_code == 0, reported.output
    assert listed["dask"] == listed["whole"] and listed["whole"].count("\n") > 12
    assert "Dask（本机 2 个工作进程 local cluster）" in chose.output
    assert len(list((tmp_path / "select-dask" / "结果").glob("part-*.parquet"))) >= 7
    chosen, whole = tmp_path / "select-dask", tmp_path / "select-whole"
    assert (chosen / "briefs.md").read_bytes() == (whole / "briefs.md").read_bytes()
    for sheet in ("入选名单", "递补", "候选池", "未进入候选池"):
        pd.testing.assert_frame_equal(pd.read_excel(chosen / "cultivation_list.xlsx", sheet_name=sheet),
                                      pd.read_excel(whole / "cultivation_list.xlsx", sheet_name=sheet))
    for sheet in ("汇总", "梯队", "培育名单", "递补"):
        pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "report-dask" / "report.xlsx", sheet_name=sheet),
                                      pd.read_excel(tmp_path / "report-whole" / "report.xlsx", sheet_name=sheet))
    assert "报告中的计数与分布由各分区汇总" in reported.output
