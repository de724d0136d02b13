"""Tier summary on the sample ladder firms: each firm reaches (or narrowly misses) the rung its 说明 states."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from tiering.engine.evaluate import evaluate
from tiering.explain.outcomes import outcome_frame
from tiering.ladder.samples import load_sample
from tiering.ladder.summary import tier_summary
from tiering.report.tiers import pyramid_levels, tier_table, transition_matrix
from tiering.rules.library import load_library


@pytest.fixture(scope="module")
def summary() -> tuple[pd.DataFrame, dict[str, str]]:
    panel, notes, year = load_sample()
    ev = evaluate(panel, load_library().in_force(dt.date(year, 6, 30)), year)
    return tier_summary(ev, outcome_frame(ev)).set_index("name"), notes


def test_each_sample_firm_reaches_or_misses_the_rung_its_note_states(summary) -> None:
    table, notes = summary
    seen = {"reach": set(), "miss": set()}
    for row in table.itertuples():
        note = notes[row.uscc]
        reach = re.match(r"达到第(\d)级", note)
        miss = re.match(r"差一点达到第(\d)级", note)
        if reach:
            assert row.rung == int(reach.group(1)), (row.Index, row.tier)
            seen["reach"].add(int(reach.group(1)))
        elif miss:
            assert row.rung < int(miss.group(1)), (row.Index, row.tier)
            seen["miss"].add(int(miss.group(1)))
    assert seen == {"reach": {1, 2, 3, 4, 5, 6}, "miss": {1, 2, 3, 4, 5, 6}}


def test_two_firms_reach_and_two_narrowly_miss_every_rung(summary) -> None:
    _, notes = summary
    for rung in range(1, 7):
        assert sum(n.startswith(f"达到第{rung}级") for n in notes.values()) == 2
        assert sum(n.startswith(f"差一点达到第{rung}级") for n in notes.values()) == 2


@pytest.mark.parametrize(("name", "rung", "highest"), [
    ("滨海激光装备有限公司", 4, "科技小巨人（暂定）（1–3亿元）"),
    ("北方重型传动有限公司", 4, "科技小巨人（暂定）（3–10亿元）"),
    ("天津海洋装备集团有限公司", 6, "科技领军企业（暂定）"),
    ("津门储能科技有限公司", 3, "瞪羚企业（暂定）"),
    ("河东智能视觉有限公司", 2, "雏鹰企业"),
    ("东丽云控技术有限公司", 0, "未入梯队"),
])
def test_highest_rung_text(summary, name: str, rung: int, highest: str) -> None:
    """The 层级 sheet: 层级序号 holds the number, 最高层级 the programme (without the number again), and the sort
    column both."""
    row = summary[0].loc[name]
    assert (row["rung"], row["highest"]) == (rung, highest)
    assert row["tier"].startswith(f"{rung} {highest}｜")


def test_programs_list_ladder_then_side_programmes(summary) -> None:
    table, _ = summary
    assert table.loc["华明光电有限公司", "tier"] == (
        "1 科技型中小企业｜科技型中小企业、创新型中小企业（暂定）、高新技术企业、"
        "科技型企业（天津小巨人计划口径）（暂定）")
    assert table.loc["精工轴承科技有限公司", "programs"].endswith(
        "专精特新中小企业（暂定）、专精特新“小巨人”企业（暂定）")


def test_undetermined_programmes_are_pending_not_qualified(summary) -> None:
    table, _ = summary
    assert "高新技术企业" in table.loc["临空航电系统有限公司", "pending"].split("、")
    assert "高新技术企业" not in table.loc["临空航电系统有限公司", "programs"]


def test_the_tier_column_sorts_by_rung(summary) -> None:
    table, _ = summary
    ordered = table.sort_values("tier")
    assert ordered["rung"].is_monotonic_increasing


def test_the_report_names_each_rung_as_the_tier_sheet_does_provisional_included() -> None:
    """The report's 尚缺 sheet, pyramid and transitions name a rung by the rule set's shown title, like explain and
    the 层级 sheet: a provisional rung says （暂定）."""
    panel, _, year = load_sample()
    rulesets = load_library().in_force(dt.date(year, 6, 30))
    ev = evaluate(panel, rulesets, year)
    outcomes = outcome_frame(ev)
    tiers = tier_table(outcomes, rulesets, pd.DataFrame({"uscc": [], "program": [], "lacks": []}))
    sheet = tier_summary(ev, outcomes).set_index("uscc")
    for row in tiers.itertuples():
        assert sheet.loc[row.uscc, "highest"].startswith(row.highest_rung), row
    by_name = tiers.set_index("name")
    assert by_name.loc["滨海激光装备有限公司", "highest_rung"] == "科技小巨人（暂定）"
    assert by_name.loc["滨海激光装备有限公司", "next_rung"] == "科技领军培育企业（暂定）"
    assert by_name.loc["河东智能视觉有限公司", "highest_rung"] == "雏鹰企业"
    assert "瞪羚企业（暂定）" in by_name.loc["津门储能科技有限公司", "programs_qualified"]
    levels = [title for title, _ in pyramid_levels(tiers, rulesets)]
    assert levels[0] == "未入梯队" and "科技领军企业（暂定）" in levels and "科技小巨人" not in levels
    moved = transition_matrix(tiers.assign(rung=0), tiers, rulesets, year - 1, year)
    assert moved.loc["未入梯队", "科技小巨人（暂定）"] == (tiers["rung"] == 4).sum()
