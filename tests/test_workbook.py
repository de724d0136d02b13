"""The one workbook writer, read back: Chinese headers with units, ids on 列名对照, Chinese values, typed numbers with
number formats, frozen header, filter, outcome colours, the 说明 sheet, and overrides beside the decision."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tiering.cli import main
from tiering.output.workbook import workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"
DONGLI = "91120110MA070003X9"  # 东丽云控技术有限公司: 58 points, not qualified for 科技型中小企业
JINGGONG = "91120110MA070027XQ"  # 精工轴承科技有限公司: 专精特新 2022 score registered as 75 (zjtx_score)


@pytest.fixture(scope="module")
def classified(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("wb")
    store = base / "audit.sqlite"
    runner = CliRunner()
    first = runner.invoke(main, ["classify", str(SAMPLE), "--year", "2025", "--out", str(base / "a"),
                                 "--store", str(store)])
    assert first.exit_code == 0, first.output
    override = runner.invoke(main, ["audit", "override", DONGLI, "--ruleset", "kjxzxqy-2022", "--outcome", "符合",
                                    "--by", "李四", "--why", "补充材料证明科技人员占比达标", "--year", "2025",
                                    "--store", str(store)])
    assert override.exit_code == 0, override.output
    second = runner.invoke(main, ["classify", str(SAMPLE), "--year", "2025", "--out", str(base / "b"),
                                  "--store", str(store)])
    assert second.exit_code == 0, second.output
    run_id = re.search(r"audit run (\S+)", second.output).group(1)
    return {"a": base / "a" / "results.xlsx", "b": base / "b" / "results.xlsx", "run_id": run_id}


def test_results_headers_are_chinese_with_units_and_ids_on_the_column_sheet(classified: dict) -> None:
    wb = load_workbook(classified["a"])
    assert wb.sheetnames == ["层级", "结果", "汇总", "追溯", "说明", "列名对照"]
    assert [c.value for c in wb["层级"][1]] == ["统一社会信用代码", "企业名称", "层级序号", "最高层级",
                                              "符合的全部项目", "缺数据待定的项目", "层级（排序用）"]
    result_headers = [c.value for c in wb["结果"][1]]
    assert "结果代码" not in result_headers and "得分下限（分）" in result_headers
    ids = pd.read_excel(classified["a"], sheet_name="列名对照", dtype=str)
    row = ids[(ids["工作表"] == "结果") & (ids["英文代码"] == "score_min")].iloc[0]
    assert (row["列名"], row["单位"]) == ("得分下限（分）", "分")
    assert ids[(ids["工作表"] == "追溯") & (ids["列名"] == "单位")]["英文代码"].tolist() == ["unit"]


def test_results_values_are_chinese_and_numbers_typed(classified: dict) -> None:
    results = pd.read_excel(classified["a"], sheet_name="结果")
    assert set(results["结果"]) == {"符合", "不符合", "待定（缺数据）"}
    assert set(results["规则状态"]) <= {"现行", "暂定", "草案", "已废止"}
    dongli = results[(results["统一社会信用代码"] == DONGLI) & (results["规则集"] == "kjxzxqy-2022")].iloc[0]
    assert dongli["得分下限（分）"] == 58.0
    trace = pd.read_excel(classified["a"], sheet_name="追溯")
    assert set(trace["判定"]) <= {"满足", "不满足", "缺数据", "已计分"}
    assert {"条件", "条件组", "计分表"} <= set(trace["类型"])
    ratios = trace[trace["单位"] == "%"]  # ratios shown in percent (3 for 3%), with the unit beside them
    assert ratios["门槛"].dropna().between(-100, 100).all() and ratios["门槛"].max() == 70  # 0.7 in the trace
    assert set(trace["单位"].dropna()) >= {"万元", "%", "人", "分"}
    ws = load_workbook(classified["a"])["结果"]
    col = [c.value for c in ws[1]].index("得分下限（分）") + 1
    cell = ws.cell(row=2, column=col)
    assert isinstance(cell.value, int | float) and cell.number_format == "0.0"


def test_results_say_where_each_score_comes_from(classified: dict) -> None:
    """A score the register gives (a score's ``override``) reads 按登记的得分 on the 结果 sheet; a summed one
    按各项计算; a program without a score leaves the cell empty."""
    results = pd.read_excel(classified["a"], sheet_name="结果")
    headers = list(results.columns)
    assert headers[headers.index("得分上限（分）") + 1] == "得分来源"
    zjtx = results[results["规则集"] == "zjtx-2022"].set_index("统一社会信用代码")
    assert (zjtx.at[JINGGONG, "得分下限（分）"], zjtx.at[JINGGONG, "得分上限（分）"]) == (75.0, 75.0)
    assert zjtx.at[JINGGONG, "得分来源"] == "按登记的得分"
    assert set(zjtx.drop(index=JINGGONG)["得分来源"]) == {"按各项计算"}
    jinggong = results[results["统一社会信用代码"] == JINGGONG].set_index("规则集")["得分来源"]
    assert jinggong["gxjsqy-2016"] == "按各项计算" and jinggong.isna()["tj-cy-2021"]
    ids = pd.read_excel(classified["a"], sheet_name="列名对照", dtype=str)
    assert ids[(ids["工作表"] == "结果") & (ids["列名"] == "得分来源")]["英文代码"].tolist() == ["score_source"]


def test_every_sheet_has_frozen_styled_filtered_header_and_outcome_colours(classified: dict) -> None:
    wb = load_workbook(classified["a"])
    for name in ("层级", "结果", "汇总", "追溯"):
        ws = wb[name]
        assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E78"), name
        assert ws.freeze_panes in ("A2", "C2"), name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.column_dimensions["B"].width > 12, name
    ws = wb["结果"]
    letter = ws.cell(row=1, column=[c.value for c in ws[1]].index("结果") + 1).column_letter
    fills = {r.formula[0]: r.dxf.fill.bgColor.rgb for cf in ws.conditional_formatting for r in cf.rules
             if str(cf.sqref).startswith(letter)}
    assert fills['"符合"'].endswith("C6EFCE") and fills['"不符合"'].endswith("FFC7CE")


def test_about_sheet_names_run_input_hash_and_rule_versions(classified: dict) -> None:
    about = dict(load_workbook(classified["b"])["说明"].iter_rows(min_row=2, values_only=True))
    assert about["运行编号"] == classified["run_id"]
    assert len(about["输入文件SHA-256"]) == 64
    assert about["规则集 kjxzxqy-2022"].startswith("版本 2022.1  状态 stable  SHA-256 ")


def test_override_sits_beside_the_machine_decision(classified: dict) -> None:
    before = pd.read_excel(classified["a"], sheet_name="结果")
    assert "人工调整结果" not in before.columns
    after = pd.read_excel(classified["b"], sheet_name="结果")
    headers = list(after.columns)
    assert headers[headers.index("结果") + 1] == "人工调整结果"
    row = after[(after["统一社会信用代码"] == DONGLI) & (after["规则集"] == "kjxzxqy-2022")].iloc[0]
    assert (row["结果"], row["人工调整结果"], row["调整人"]) == ("不符合", "符合", "李四")
    assert row["人工调整理由"] == "补充材料证明科技人员占比达标"
    assert after["人工调整结果"].notna().sum() == 1


def test_writer_escapes_formulas_and_writes_the_same_bytes_twice() -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(1)", "正常"], "combined": [1.5, float("nan")]})
    first = workbook_bytes({"表": frame}, [("项目", "值")])
    assert first == workbook_bytes({"表": frame}, [("项目", "值")])
    import io

    ws = load_workbook(io.BytesIO(first))["表"]
    assert ws["A2"].value == "'=HYPERLINK(1)" and ws["A2"].data_type == "s"
    assert ws["B3"].value is None and ws["B1"].value == "综合得分（分）"
