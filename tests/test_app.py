"""The application layer: one classification of a register that every output reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tiering.app import FirmAmbiguous, FirmNotFound, classify, classify_firm, rules_in_force
from tiering.engine.evaluate import evaluate, evaluate_firm
from tiering.explain.text import explain_firm
from tiering.ladder.lacks import lacks_for_firm
from tiering.register import load_register
from tiering.rules.library import NoRuleSet, load_library

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = load_library()
YEAR = 2025


@pytest.fixture(scope="module")
def register():
    return load_register(ROOT / "datasets" / "sample_register.xlsx")


@pytest.fixture(scope="module")
def result(register):
    rulesets, on = rules_in_force(LIBRARY, YEAR)
    return classify(register, rulesets, YEAR, on)


def test_rules_in_force_default_to_30_june_and_name_a_missing_program() -> None:
    rulesets, on = rules_in_force(LIBRARY, YEAR)
    assert on == dt.date(2025, 6, 30)
    assert {rs.id for rs in rulesets} >= {"kjxzxqy-2022", "gxjsqy-2016"}
    with pytest.raises(NoRuleSet, match="no rule set for program 'nope'") as caught:
        rules_in_force(LIBRARY, YEAR, programs=["nope"])
    assert caught.value.id == "no-rule-set" and caught.value.exit_code == 3


def test_every_explanation_read_from_the_result_is_the_per_firm_paths(register, result) -> None:
    """The review desk's explanation (from the one classification) is, firm by firm, the text of the per-firm
    evaluation with its own lacks — without evaluating anything again."""
    frame = register.frame
    for uscc, name in zip(result.evaluation.firms, result.evaluation.names, strict=True):
        rows = frame[frame["uscc"] == uscc]
        alone = evaluate(rows, result.rulesets, YEAR)
        expected = explain_firm(uscc, name, YEAR, result.rulesets, evaluate_firm(rows, result.rulesets, YEAR),
                                lacks_for_firm(alone, uscc))
        assert result.explain(uscc) == expected
        assert result.explain(name) == expected


def test_lacks_are_computed_once_and_read_by_results_and_explanations(result) -> None:
    assert result.lacks is result.lacks
    results = result.results
    assert len(results) == len(result.outcomes)
    row = results[(results["name"] == "天保精密仪器有限公司") & (results["program"] == "tj_xjr")].iloc[0]
    assert row["lacks"] == "销售收入（2024年） 需增加400万元（9,600万元 → 1亿元，+4.2%）（暂定条件）"
    assert results.loc[results["outcome"] == "qualified", "lacks"].eq("").all()
    uscc = row["uscc"]
    assert result.firm_lacks(uscc)[row["ruleset_id"]] == [row["lacks"]]


def test_one_firm_of_a_register_is_explained_from_its_rows_alone(register, result) -> None:
    rulesets, on = rules_in_force(LIBRARY, YEAR)
    one = classify_firm(register, "东丽智能装备有限公司", rulesets, YEAR, on)
    uscc = one.uscc
    assert list(one.evaluation.firms) == [uscc] and one.name == "东丽智能装备有限公司"
    assert one.explain() == result.explain(uscc)
    assert classify_firm(register, "东丽智能", rulesets, YEAR, on).uscc == uscc
    with pytest.raises(FirmNotFound, match="is not among the accepted rows"):
        classify_firm(register, "不存在的公司", rulesets, YEAR, on)
    with pytest.raises(FirmNotFound, match="no row for fiscal year 2029"):
        classify_firm(register, uscc, rulesets, 2030, on)


def test_a_name_shared_by_two_firms_is_refused(register, result) -> None:
    import dataclasses

    frame = register.frame.copy()
    first, second = frame["uscc"].unique()[:2]
    frame.loc[frame["uscc"].isin([first, second]), "name"] = "同名公司"
    twins = classify(dataclasses.replace(register, frame=frame), result.rulesets, YEAR)
    with pytest.raises(FirmAmbiguous, match="names several firms") as caught:
        twins.explain("同名公司")
    assert caught.value.exit_code == 3


def test_progress_is_reported_through_the_callers_callback(register) -> None:
    rulesets, on = rules_in_force(LIBRARY, YEAR, programs=["kjxzxqy"])
    seen: list[tuple[str, int, int]] = []
    run = classify(register, rulesets, YEAR, on, progress=lambda *step: seen.append(step))
    assert len(run.lacks) > 0
    assert seen[0] == ("评价中 evaluating", 0, len(rulesets))
    assert ("评价中 evaluating", len(rulesets), len(rulesets)) in seen
    assert seen[-1] == ("计算尚缺 what each firm still lacks", 1, 1)


def test_missing_values_name_the_blank_field_and_fiscal_year(register, result) -> None:
    text = result.explain("蓟州农业科技有限公司")
    assert ("研发经费占营业收入的比例不低于3%：缺失：2024年 研发费用总额（rd_expense），要求 ≥ 3.00%" in text)
    assert "【暂定标准】：缺失：2021–2024年 研发费用总额（rd_expense），要求 ≥ 2.50%" in text
    assert "不适用税前加计扣除政策的行业：缺失：行业代码（industry_code），要求" in text  # no year: kept once per firm
    assert "尚缺：需补充数据：上年度研发费用占营业收入的比例（缺失：2024年 研发费用总额（rd_expense））" in text
    assert "：缺失，" not in text and "：缺失 →" not in text  # every missing value names its cells
