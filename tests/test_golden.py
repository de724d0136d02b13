"""The bundled sample register's results, checked cell by cell against the reviewed golden file."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from regenerate import HERE, ROOT, SAMPLE, golden_frame  # noqa: E402


def test_sample_results_match_golden_file_cell_by_cell() -> None:
    assert_matches_golden_file(golden_frame())


INDUSTRY_CODES = {
    "先进装备制造": "C34", "高端装备制造": "C35", "新能源新材料": "C26", "电子信息": "C39", "生物医药": "C27",
    "节能环保": "N77", "人工智能": "I65", "现代农业": "A01", "科技服务": "M75", "批发和零售业": "F51",
}
"""A GB/T 4754-2017 division for each 行业 of the sample (批发业 F51 for the 批发和零售业 firm, which fails the 119号
exclusion by code as well as by name: the two criteria share one label, so the reason text is the golden one)."""


def test_sample_kept_as_analysts_keep_it_gives_the_golden_results(tmp_path: Path) -> None:
    """The sample as a bureau keeps it: one sheet per year named by the year (no 年度 column), a title row above
    the header on each, 从业人员数 for 职工总数, 营业收入（万元） with full-width brackets, a 行业代码 column (GB/T
    4754-2017, consistent with each firm's 行业) and a 合计 row under the data."""
    import openpyxl

    rows = [list(r) for r in openpyxl.load_workbook(SAMPLE, read_only=True).worksheets[0].iter_rows(values_only=True)]
    industry = rows[0].index("行业")
    rows = [[*r, "行业代码" if i == 0 else INDUSTRY_CODES[r[industry]]] for i, r in enumerate(rows)]
    header = [{"职工总数(人)": "从业人员数", "营业收入(万元)": "营业收入（万元）"}.get(h, h) for h in rows[0]]
    year = header.index("年度")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for fiscal in sorted({r[year] for r in rows[1:]}):
        sheet = book.create_sheet(f"{fiscal}年")
        sheet.append([f"{fiscal}年度科技企业名录（单位：万元）"])
        sheet.append(header[:year] + header[year + 1:])
        for row in rows[1:]:
            if row[year] == fiscal:
                sheet.append(row[:year] + row[year + 1:])
        sheet.append(["合计"])
    variant = tmp_path / "名录（按年度分表）.xlsx"
    book.save(variant)
    from tiering.register import load_register

    register = load_register(variant)
    assert register.refusals == [] and register.rows_read == len(rows) - 1
    assert register.columns["employees"] == "从业人员数"
    assert register.columns["operating_revenue"] == "营业收入（万元）"
    assert register.columns["industry_code"] == "行业代码"
    assert "按年度工作表合并读入：2021年、2022年、2023年、2024年" in register.notes
    assert_matches_golden_file(golden_frame(register_path=variant))


def assert_matches_golden_file(frame: pd.DataFrame) -> None:
    """Every rule set and firm of the golden file, cell by cell."""
    expected = pd.read_csv(HERE / "sample_2025.csv", dtype=str, keep_default_na=False)
    got = frame.astype(object).where(lambda f: f.notna(), "")
    got = got[got["ruleset_id"].isin(set(expected["ruleset_id"]))].reset_index(drop=True)
    got = got.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))
    expected = expected.map(lambda v: f"{float(v):g}" if v.replace(".", "", 1).isdigit() else v)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    mismatches = [(i, col, expected.at[i, col], got.at[i, col]) for i in range(len(expected))
                  for col in expected.columns if expected.at[i, col] != got.at[i, col]]
    assert mismatches == []


def test_golden_file_pins_named_firms() -> None:
    expected = pd.read_csv(HERE / "sample_2025.csv", dtype=str, keep_default_na=False).set_index("name")
    kx = expected[expected["ruleset_id"] == "kjxzxqy-2022"]
    assert kx.loc["蓟州生物医药有限公司", ["outcome", "score_min"]].tolist() == ["qualified", "60.0"]
    assert kx.loc["东丽智能装备有限公司", "failed"] == "直通车条件（符合其一即可）：均不满足；综合评价得分不低于60分"
    missing_rd = kx.loc["蓟州农业科技有限公司", ["outcome", "score_min", "score_max"]].tolist()
    assert missing_rd == ["undetermined", "50.0", "100.0"]


def test_row_order_of_the_register_changes_no_result(tmp_path: Path) -> None:
    """Rows shuffled in the spreadsheet give the same outcomes, in the same (code) order, and the same trace."""
    import datetime as dt

    from tiering.engine.evaluate import evaluate
    from tiering.engine.trace import trace_table
    from tiering.explain.outcomes import outcome_frame
    from tiering.register import load_register
    from tiering.rules.library import load_library

    sample = ROOT / "datasets" / "sample_register.xlsx"
    shuffled = tmp_path / "shuffled.xlsx"
    cells = pd.read_excel(sample, dtype=object)
    cells.sample(frac=1, random_state=3).to_excel(shuffled, index=False)
    rulesets = load_library(ROOT / "rules").in_force(dt.date(2025, 6, 30))
    runs = [evaluate(load_register(path).frame, rulesets, 2025) for path in (sample, shuffled)]
    pd.testing.assert_frame_equal(outcome_frame(runs[0]), outcome_frame(runs[1]))
    assert trace_table(runs[0]).equals(trace_table(runs[1]))
    assert list(runs[0].firms) == sorted(runs[0].firms)
