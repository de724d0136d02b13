"""What a firm still lacks: exact texts for named sample firms, worked out by hand from their numbers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from tiering.engine.evaluate import evaluate
from tiering.ladder.lacks import lacks, lacks_for_firm
from tiering.ladder.samples import load_sample
from tiering.rules.library import load_library

LIBRARY = load_library()


def _run(panel: pd.DataFrame, year: int, with_panel: bool = True) -> pd.DataFrame:
    ev = evaluate(panel, LIBRARY.in_force(dt.date(year, 6, 30)), year)
    return lacks(ev, amounts=with_panel).set_index(["name", "program"])


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, int]:
    panel, _, year = load_sample()
    return panel, year


@pytest.fixture(scope="module")
def table(sample) -> pd.DataFrame:
    return _run(*sample)


@pytest.mark.parametrize(("name", "program", "text"), [
    # 9,600 → 10,000万元: +400 = +4.2 %
    ("天保精密仪器有限公司", "tj_xjr", "销售收入（2024年） 需增加400万元（9,600万元 → 1亿元，+4.2%）（暂定条件）"),
    # 19/200 = 9.5 % gives 0 科技人员 points (veto); 20/200 = 10 % gives 4; or 19/190 = 10 %
    ("西青传感器有限公司", "kjxzxqy",
     "科技人员指标得分不得为0分：当前0分，要求>0分，需：科技人员指标得分 10%以下 → 10%（含）-15%（4分）："
     "科技人员数（2024年） 还需1人（19人 → 20人），或职工总数（2024年） 需减少10人（200人 → 190人）"),
    # 58 points; 科技人员 13/50 = 26 % (16) → 15/50 = 30 % (20) closes the 2-point gap most cheaply (+2/13 = 15 %);
    # or 13/43 = 30.2 % (13/44 = 29.5 % is not enough)
    ("东丽云控技术有限公司", "kjxzxqy",
     "综合评价得分不低于60分：当前58分，要求≥60分，需：科技人员指标得分 25%（含）-30% → 30%以上（含）（20分）："
     "科技人员数（2024年） 还需2人（13人 → 15人），或职工总数（2024年） 需减少7人（50人 → 43人）"),
    # registered 2016-10-01: 3,013 days to 2024-12-31 = 8.25 years
    ("宝坻新材料有限公司", "tj_cy", "无法通过努力满足：注册时间8年以内（截至上一年12月31日）（当前8.25年）"),
    # (四)1: one more Ⅰ类 (0 → 1) or one more Ⅱ类 (1 → 2) cost alike; the rule file lists Ⅰ类 first
    ("武清环保科技有限公司", "tj_cy", "Ⅰ类知识产权数量（2024年） 还需1项（0项 → 1项）"),
    # 2021 revenue 2,000/1.3³ = 910.3万元, a past year's value
    ("中新生态能源有限公司", "tj_dl",
     "无法通过努力满足：基期（前第三年）营业收入不低于1,000万元（暂定：原文未取得）（当前910.3万元，要求≥1,000万元），"
     "取决于往年数据（暂定条件）"),
    # 2021 revenue 5,000/1.18³ = 3,043.2; 20 % compound needs 3,043.2 × 1.728 = 5,258.65 → 5,258.7 (+258.7 = +5.2 %)
    ("华苑数据服务有限公司", "tj_dl",
     "近三年营业收入年均复合增长率（当前18.00%，要求≥20.00%）：营业收入（2024年） 需增加258.7万元"
     "（5,000万元 → 5,258.7万元，+5.2%）（暂定条件）"),
    ("华明光电有限公司", "tj_xjr", "销售收入（2024年） 需增加4,000万元（6,000万元 → 1亿元，+66.7%）（暂定条件）"),
    # the dependency is named; what it lacks is on its own row
    ("临港化工新材料有限公司", "tj_xjr", "须先符合「科技型企业（天津小巨人计划口径）（暂定）」（所缺见该项目）"),
    ("临港化工新材料有限公司", "tj_kjxqy",
     "近三个会计年度中研发费用最少的一年（当前0万元，要求>0万元）：仅调整2024年数据无法满足（取决于往年数据）（暂定条件）"),
    # no expert scores: 知识产权 [7,30] + 转化 B [19,24] + 管理 [0,20] + 成长 C [5,6] × 2 = 36–86
    ("临空航电系统有限公司", "gxjsqy",
     "企业创新能力评价应达到相应要求（70分以上，不含70分）：当前36–86分，要求>70分，取决于尚未确定的评分项"
     "（技术的先进程度、对主要产品（服务）在技术上发挥核心支持作用、知识产权数量：Ⅰ类等10项）"),
    # revenue 2.4亿 is over the 2亿 cap (not advice to shrink); 研发 696/24,000 = 2.9 % scores 10, total 56:
    # 3 % (720万, +24万) scores 20
    ("西青汽车电子有限公司", "kjxzxqy",
     "无法通过努力满足：年销售收入不超过2亿元，当前2.4亿元，超过上限；综合评价得分不低于60分：当前56分，要求≥60分，"
     "需：研发费用占销售收入比例得分 2%（含）-3% → 3%（含）-4%（20分）：研发费用总额（2024年） 需增加24万元"
     "（696万元 → 720万元，+3.4%），或销售收入（2024年） 需减少800万元（2.4亿元 → 2.32亿元，−3.3%）"),
])
def test_lacks_text(table: pd.DataFrame, name: str, program: str, text: str) -> None:
    assert table.loc[(name, program), "lacks"] == text


def test_costs_rank_what_can_and_cannot_be_done(table: pd.DataFrame) -> None:
    assert table.loc[("宝坻新材料有限公司", "tj_cy"), "cost"] == math.inf
    assert round(table.loc[("天保精密仪器有限公司", "tj_xjr"), "cost"], 4) == round(400 / 9600, 4)
    assert table.loc[("临空航电系统有限公司", "gxjsqy"), "outcome"] == "undetermined"


def test_qualified_programmes_have_no_row(table: pd.DataFrame) -> None:
    assert ("滨海激光装备有限公司", "tj_xjr") not in table.index
    assert ("天津海洋装备集团有限公司", "tj_lj") not in table.index


def test_missing_data_is_named_with_its_year(sample) -> None:
    panel, year = sample
    gone = panel.copy()
    gone.loc[(gone["name"] == "天保精密仪器有限公司") & (gone["year"] == 2024), "revenue"] = np.nan
    got = _run(gone, year).loc[("天保精密仪器有限公司", "tj_xjr"), "lacks"]
    assert got == "需补充数据：年销售收入1亿元以上（含1亿元）（缺失：2024年 销售收入（revenue））（暂定条件）"


def test_without_the_panel_the_gap_is_named_but_not_sized(sample) -> None:
    got = _run(*sample, with_panel=False).loc[("天保精密仪器有限公司", "tj_xjr"), "lacks"]
    assert got == "年销售收入1亿元以上（含1亿元）（当前9,600万元，要求≥1亿元）（暂定条件）"


def test_one_firm_gives_the_same_texts_as_the_batch(sample, table: pd.DataFrame) -> None:
    panel, year = sample
    ev = evaluate(panel, LIBRARY.in_force(dt.date(year, 6, 30)), year)
    uscc = panel.loc[panel["name"] == "东丽云控技术有限公司", "uscc"].iloc[0]
    per_rule_set = lacks_for_firm(ev, uscc)
    batch = table.loc["东丽云控技术有限公司"]
    assert set(per_rule_set) == set(batch["ruleset_id"])
    for ruleset_id, items in per_rule_set.items():
        assert "；".join(items) == batch.loc[batch["ruleset_id"] == ruleset_id, "lacks"].iloc[0]
    with pytest.raises(KeyError, match="不在本次评价中"):
        lacks_for_firm(ev, "NOPE")


def test_searching_in_small_chunks_changes_no_text(sample, table: pd.DataFrame, monkeypatch) -> None:
    from tiering.ladder import levers

    monkeypatch.setattr(levers, "SEARCH_CHUNK", 3)
    chunked = _run(*sample)
    pd.testing.assert_frame_equal(chunked, table)
    assert table["lacks"].str.contains("需增加").sum() > 3  # the searches did run over more than one chunk


def test_planning_firms_in_small_groups_changes_no_text(sample, table: pd.DataFrame, monkeypatch) -> None:
    from tiering.ladder import lacks as lacks_module

    monkeypatch.setattr(lacks_module, "FIRMS_PER_PLAN", 4)
    pd.testing.assert_frame_equal(_run(*sample), table)
    assert table.groupby("program").size().max() > 4  # a rule set planned in several groups


def _without_guesses(monkeypatch) -> None:
    """The lever search as it was before first guesses: doubling and bisecting, evaluating every step."""
    from tiering.ladder import levers

    monkeypatch.setattr(levers._Search, "_guess", lambda self, sel: (np.full(len(sel), -math.inf),
                                                                     np.full(len(sel), math.inf),
                                                                     np.full(len(sel), math.nan),
                                                                     np.full(len(sel), math.nan)))


def _guessed(monkeypatch) -> list[int]:
    """Counts the rows whose answer a first guess bracketed."""
    from tiering.ladder import levers

    seen: list[int] = []
    real = levers._Search._guess

    def spy(self, sel):
        guessed = real(self, sel)
        seen.append(int(np.isfinite(guessed[1]).sum()))
        return guessed

    monkeypatch.setattr(levers._Search, "_guess", spy)
    return seen


def test_first_guesses_change_no_text_on_the_sample(sample, table: pd.DataFrame, monkeypatch) -> None:
    seen = _guessed(monkeypatch)
    pd.testing.assert_frame_equal(_run(*sample), table)
    assert sum(seen) > 10  # most searches were guessed
    monkeypatch.undo()
    _without_guesses(monkeypatch)
    pd.testing.assert_frame_equal(_run(*sample), table)


def test_first_guesses_change_no_text_or_cost_on_a_generated_register(tmp_path, monkeypatch) -> None:
    from tiering.datasets import generate_panel, write_register
    from tiering.register import load_register

    path = write_register(generate_panel(1500, (2021, 2024), seed=11).panel, tmp_path / "g.parquet")
    panel = load_register(path).frame
    seen = _guessed(monkeypatch)
    guessed = _run(panel, 2025)
    assert sum(seen) > 1000
    monkeypatch.undo()
    _without_guesses(monkeypatch)
    searched = _run(panel, 2025)
    pd.testing.assert_frame_equal(guessed, searched)
    assert guessed["lacks"].str.contains("需增加").sum() > 500


def test_amounts_are_written_as_money_writes_each_one() -> None:
    """The 尚缺 texts write amounts column by column from tables (Amounts), rounded in integers; each must read
    exactly as ``money`` writes it alone, at ties of the rounding and a hair off them, at the 万/亿 switch, for −0.0
    and for values that are not finite or too large for the tables."""
    from tiering.ladder.columns import ArrowTexts, ListTexts
    from tiering.ladder.wording import Amounts, money

    rng = np.random.default_rng(7)
    tenths = rng.integers(-2_000_000, 2_000_000, 20_000) / 10
    near_ties = np.round(rng.uniform(0, 50_000, 5_000), 1) + np.array([0.05, -0.05, 0.049999, 0.050001])[
        rng.integers(0, 4, 5_000)]
    edges = np.array([0.0, -0.0, 9_999.94, 9_999.95, 9_999.96, 10_000.0, 10_000.00005, 12_345.6789, 1e8 + 0.5,
                      -9_999.96, 1e8 - 0.00001, 1.5e12, -2e15, 5e-324, np.nan, np.inf, -np.inf])
    two_decimals = np.round(rng.uniform(0, 50_000, 20_000), 2)  # as registers hold them: 5,517.05 is 5,517.04999…
    amounts = np.concatenate([tenths, near_ties, two_decimals, rng.lognormal(5, 3, 20_000), edges])
    for texts in (ListTexts(), ArrowTexts()):
        assert texts.strings(Amounts(texts).many(amounts)) == [money(float(v)) for v in amounts]


def test_relative_changes_of_amounts_are_written_as_python_writes_each_one() -> None:
    """The change of an amount relative to it ('，+4.7%'), read from a table by its tenths of a percent, reads as
    Python formats the share alone: ties of the rounding, decreases, changes from zero (no text), beyond the table
    (1,000 % and more) and not finite."""
    from tiering.ladder.columns import ArrowTexts, ListTexts
    from tiering.ladder.wording import Amounts

    rng = np.random.default_rng(11)
    old = np.concatenate([np.round(rng.lognormal(5, 2, 20_000), 1), [0.0, 0.0, 100.0, 100.0, 1.0, 3.0, 1e-300, 8.0,
                                                                      np.nan, 5.0]])
    delta = np.concatenate([np.round(rng.lognormal(3, 2.5, 20_000), 1) * rng.choice([-1, 1], 20_000),
                            [5.0, -2.0, 0.05, -99.95, 9.9995, 29.99985, 1.0, np.inf, 1.0, 0.0]])

    def alone(o: float, d: float) -> str:
        return "" if o == 0 else f"，{'+' if d > 0 else '−'}{abs(d) / abs(o) * 100:.1f}%"

    expected = [alone(o, d) for o, d in zip(old.tolist(), delta.tolist(), strict=True)]
    assert sum(t.startswith("，+") and float(t[2:-1]) >= 1000 for t in expected) > 100
    for texts in (ListTexts(), ArrowTexts()):
        assert texts.strings(Amounts(texts).relative(old, delta)) == expected


def test_percentages_and_their_thresholds_are_written_as_the_explanations_write_them() -> None:
    """A criterion's value and threshold in percent, written column by column (wording.shown_pairs), read exactly as
    ``pair`` writes each alone: ties of the rounding, −0.0 and small negatives ('-0.00%'), values that are not
    finite, and more digits where the usual ones print a value and its threshold alike (4.9996% vs 5%)."""
    from tiering.ladder.columns import ArrowTexts, ListTexts
    from tiering.ladder.wording import pair, shown_pairs
    from tiering.rules.schema import Unit

    rng = np.random.default_rng(5)
    drawn = np.concatenate([rng.uniform(-1, 1, 5_000), np.round(rng.uniform(0, 1, 5_000), 5)])
    edges = np.array([0.0, -0.0, -1e-9, 0.00005, 0.049996, 0.05, np.nan, np.inf, -np.inf, 1e12])
    values = np.concatenate([drawn, edges])
    thresholds = np.concatenate([np.where(rng.random(len(drawn)) < 0.5, 0.05, np.round(drawn, 4)),
                                 np.full(len(edges), 0.05)])
    expected = [pair(x, t, Unit.PERCENT) for x, t in zip(values.tolist(), thresholds.tolist(), strict=True)]
    assert ("4.9996%", "5.0000%") in expected and ("-0.00%", "5.00%") in expected
    for texts in (ListTexts(), ArrowTexts()):
        now, need = shown_pairs(values, thresholds, Unit.PERCENT, texts)
        assert list(zip(texts.strings(now), texts.strings(need), strict=True)) == expected
