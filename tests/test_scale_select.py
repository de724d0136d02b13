"""The cultivation list of a register classified in partitions is the list of the whole register: each partition
gives its firms' statuses and component values (tiering.app.selection.selection_part), and the percentiles, order
and pick are made over every candidate at once (select_parts)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.app import classify, rules_in_force
from tiering.app.selection import DEFAULT_POLICY, select, select_parts, selection_inputs, selection_part
from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
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
def rules():
    return rules_in_force(load_library(), YEAR)


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
