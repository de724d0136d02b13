"""The register loader: files in, accepted panel and named refusals out."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tiering import uscc
from tiering.errors import Where
from tiering.fields import BY_ID, FIELDS, DType, Field, Kind
from tiering.register import (
    Refusal,
    RegisterError,
    RegisterRow,
    load_register,
    write_rejects,
    write_template,
)
from tiering.register.columns import fast_parse
from tiering.register.row import BAD_BOOL, parse_cell

A = uscc.make("91120116MA05JX1A0")
B = uscc.make("91120116MA05JX1B0")
C = uscc.make("91120116MA05JX1C0")
HEADER = ["统一社会信用代码", "企业名称", "年度", "注册日期", "职工总数", "科技人员数", "销售收入(万元)", "高企证书"]
GOOD = [A, "甲公司", "2024", "2015-03-01", "100", "20", "1,234.5", "是"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def write_xlsx(path: Path, header: list[object], rows: list[list[object]], sheet: str = "Sheet") -> Path:
    book = openpyxl.Workbook()
    book.active.title = sheet
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def messages(register) -> list[str]:
    return [r.message() for r in register.refusals]


def with_cell(header: str, value: str) -> list[str]:
    row = list(GOOD)
    row[HEADER.index(header)] = value
    return row


# --- refusals ---------------------------------------------------------------------------------------------------


def test_refusal_message_names_file_row_column_and_value() -> None:
    refusal = Refusal("firms.xlsx", 17, "研发费用(万元)", "abc", "应为数字")
    assert refusal.message() == 'firms.xlsx 行 17 列 "研发费用(万元)" 值 "abc": 应为数字'


def test_xlsx_row_number_is_the_one_excel_shows(tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "年度", "研发费用(万元)"]
    rows: list[list[object]] = [[A, "甲公司", 2000 + i, 10.5] for i in range(15)]
    rows.append([A, "甲公司", 2020, "abc"])  # the 16th data row is spreadsheet row 17
    register = load_register(write_xlsx(tmp_path / "firms.xlsx", header, rows))
    assert messages(register) == ['firms.xlsx 工作表“Sheet” 行 17 列 "研发费用(万元)" 值 "abc": 应为数字']
    assert register.rows_read == 16
    assert len(register.frame) == 15


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("职工总数", "abc", "应为数字"),
        ("职工总数", "-3", "不能为负数"),
        ("职工总数", "12.5", "应为整数"),
        ("职工总数", "20000000",
         "超过合理上限 10,000,000人：请检查是否多输了位数或单位填错（上限见 tiering/fields.yaml）"),
        ("销售收入(万元)", "-1", "不能为负数"),
        ("销售收入(万元)", "12万", "数字后面带了单位“万”：单元格里只填数字，单位写在表头，如 销售收入(万元)"),
        ("销售收入(万元)", "1,23,4", "应为数字"),
        ("注册日期", "2015-13-01", "应为日期，如 2015-03-01"),
        ("注册日期", "2015-02-30", "应为日期，如 2015-03-01"),
        ("注册日期", "下个月", "应为日期，如 2015-03-01"),
        ("注册日期", "1850-01-01", "日期的年份应在 1900 到 2100 之间"),
        # beyond what a nanosecond timestamp holds: refused with its reason, not a traceback
        ("注册日期", "6107-09-01", "日期的年份应在 1900 到 2100 之间"),
        ("注册日期", "61070901", "应为日期，如 2015-03-01"),
        ("注册日期", "6107/9/1", "日期的年份应在 1900 到 2100 之间"),
        ("高企证书", "maybe", "应为 是 或 否（也可写 Y/N、1/0、TRUE/FALSE、有/无）"),
        ("高企证书", "2", "应为 是 或 否（也可写 Y/N、1/0、TRUE/FALSE、有/无）"),
        ("年度", "1979", "应为 1980 到 2100 之间的整数年份"),
        ("年度", "2023.5", "应为 1980 到 2100 之间的整数年份"),
        ("年度", "二〇二三", "应为 1980 到 2100 之间的整数年份"),
        ("年度", "", "必填，不能为空"),
        ("企业名称", "", "必填，不能为空"),
        ("统一社会信用代码", A[:17] + "0", "校验位错误：第18位应为 T，实为 0"),
        ("统一社会信用代码", "91120116MA05JX1A", "应为18位，实为16位"),
        ("统一社会信用代码", "91120116MA05JX1AO" + "0", "含有不允许的字符 O（不使用 I、O、Z、S、V）"),
    ],
)
def test_bad_cell_is_refused_with_reason(tmp_path: Path, header: str, value: str, reason: str) -> None:
    bad = with_cell(header, value) if header == "统一社会信用代码" else [B, *with_cell(header, value)[1:]]
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, [list(GOOD), bad]))
    assert messages(register) == [f'firms.csv 行 3 列 "{header}" 值 "{value}": {reason}']
    assert (register.rows_read, register.rows_refused, len(register.frame)) == (2, 1, 1)


def test_uscc_reason_comes_from_the_checksum_module(tmp_path: Path) -> None:
    wrong = A[:17] + "0"
    register = load_register(write_csv(tmp_path / "f.csv", HEADER, [with_cell("统一社会信用代码", wrong)]))
    assert register.refusals[0].reason == uscc.problem(wrong)


def test_tech_staff_above_employees_names_both_columns(tmp_path: Path) -> None:
    row = with_cell("科技人员数", "120")
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, [row]))
    assert messages(register) == [
        'firms.csv 行 2 列 "科技人员数" 值 "120": 大于列 "职工总数" 的值 100：科技人员数不能超过职工总数'
    ]


def test_duplicate_firm_years_refuse_every_copy_naming_the_others(tmp_path: Path) -> None:
    other = [B, "乙公司", "2024", "2016-01-01", "10", "1", "5", "否"]
    rows = [list(GOOD), other, list(GOOD), with_cell("年度", "2023"), list(GOOD)]
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, rows))
    assert messages(register) == [
        f'firms.csv 行 2 列 "统一社会信用代码" 值 "{A}": 同一企业同一年度出现多次：另见第 4、6 行',
        f'firms.csv 行 4 列 "统一社会信用代码" 值 "{A}": 同一企业同一年度出现多次：另见第 2、6 行',
        f'firms.csv 行 6 列 "统一社会信用代码" 值 "{A}": 同一企业同一年度出现多次：另见第 2、4 行',
    ]
    assert register.frame["_row"].tolist() == [3, 5]  # the file's order: B, then A (2023)


def test_every_problem_of_a_row_is_named_and_the_row_counted_once(tmp_path: Path) -> None:
    row = [A, "甲公司", "2024", "昨天", "abc", "20", "-5", "也许"]
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, [row, list(GOOD)[:2] + ["2023"] + GOOD[3:]]))
    assert [(r.row, r.column, r.reason) for r in register.refusals] == [
        (2, "注册日期", "应为日期，如 2015-03-01"),
        (2, "职工总数", "应为数字"),
        (2, "销售收入(万元)", "不能为负数"),
        (2, "高企证书", BAD_BOOL),
    ]
    assert (register.rows_read, register.rows_refused, len(register.frame)) == (2, 1, 1)


def test_rows_read_equals_accepted_plus_refused_and_blank_rows_are_reported(tmp_path: Path) -> None:
    rows = [list(GOOD), [""] * 8, with_cell("职工总数", "x"), with_cell("年度", "2023"), [""] * 8]
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, rows))
    assert register.rows_read == 3
    assert register.rows_read == len(register.frame) + register.rows_refused
    assert register.warnings == ["firms.csv 第 3 行是空行，已跳过"]
    assert register.frame["_row"].tolist() == [5]


# --- accepted values and the frame contract ---------------------------------------------------------------------


def test_accepted_values_follow_the_panel_contract(tmp_path: Path) -> None:
    rows = [
        [B, " 乙公司 ", "2023", "2016/3/1", "10", "", "0", "N"],
        [A, "甲公司", "2024", "2015年3月1日", "100", "20", "1,234.5", "有"],
        [A, "甲公司", "2023", "20150301", "90", "18", "800", "false"],
    ]
    frame = load_register(write_csv(tmp_path / "firms.csv", HEADER, rows)).frame
    assert list(frame.columns) == [f.id for f in FIELDS] + ["_row"]
    # rows keep the file's order
    assert frame[["uscc", "year", "_row"]].values.tolist() == [[B, 2023, 2], [A, 2024, 3], [A, 2023, 4]]
    assert frame["name"].tolist() == ["乙公司", "甲公司", "甲公司"]
    assert frame["revenue"].tolist() == [0.0, 1234.5, 800.0]
    assert frame["hitech_cert"].tolist() == [0.0, 1.0, 0.0]
    assert frame["registration_date"].tolist() == [pd.Timestamp("2016-03-01")] + [pd.Timestamp("2015-03-01")] * 2
    assert math.isnan(frame.at[0, "tech_staff"])
    assert frame["total_assets"].isna().all()
    for field in FIELDS:
        dtype = frame[field.id].dtype
        if field.id in ("year",):
            assert dtype == "int64"
        elif field.dtype is DType.DATE:
            assert dtype == "datetime64[ns]", field.id
        elif field.dtype is DType.TEXT:
            assert pd.api.types.is_string_dtype(dtype), field.id
        else:
            assert dtype == "float64", field.id
    assert frame["_row"].dtype == "int64"


def test_bool_words_are_accepted(tmp_path: Path) -> None:
    words = ["是", "否", "Y", "N", "1", "0", "TRUE", "FALSE", "true", "false", "有", "无", "y", ""]
    rows = [[A, "甲", str(2000 + i), "", "", "", "", w] for i, w in enumerate(words)]
    frame = load_register(write_csv(tmp_path / "firms.csv", HEADER, rows)).frame
    expected = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, np.nan]
    assert frame["hitech_cert"].tolist()[:-1] == expected[:-1]
    assert math.isnan(frame["hitech_cert"].iloc[-1])


def test_firm_level_disagreement_keeps_latest_year_and_warns(tmp_path: Path) -> None:
    rows = [
        with_cell("年度", "2022"),
        [A, "甲公司", "2024", "2016-05-01", "100", "20", "1", "是"],
        [A, "甲公司", "2023", "", "100", "20", "1", "是"],
    ]
    register = load_register(write_csv(tmp_path / "firms.csv", HEADER, rows))
    assert register.frame["registration_date"].tolist() == [pd.Timestamp("2016-05-01")] * 3
    assert register.warnings == [
        f"企业 {A}（甲公司）的 注册日期 在不同年度不一致：第 2 行（2022 年）2015-03-01；第 4 行（2023 年）空；"
        "第 3 行（2024 年）2016-05-01。已对该企业所有年度采用最新年度的值 2016-05-01"
    ]
    assert register.refusals == []


# --- headers and units ------------------------------------------------------------------------------------------


def test_money_in_yuan_header_is_converted_to_wan(tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "年度", "销售收入(元)", "资产总额（万元）"]
    register = load_register(write_csv(tmp_path / "f.csv", header, [[A, "甲", "2024", "1,234,500", "12.5"]]))
    assert register.frame.at[0, "revenue"] == pytest.approx(123.45, abs=1e-12)
    assert register.frame.at[0, "total_assets"] == 12.5
    assert register.money_units == {"revenue": "元", "total_assets": "万元"}
    assert register.money_note("revenue") == "金额单位：万元（由表头 销售收入(元) 换算）"
    assert register.money_note("total_assets") == "金额单位：万元（表头 资产总额（万元））"


def test_money_unit_option_applies_to_headers_without_unit(tmp_path: Path) -> None:
    header = ["uscc", "name", "year", "revenue", "total_assets[yuan]"]
    path = write_csv(tmp_path / "f.csv", header, [[A, "甲", "2024", "50000", "20000"]])
    register = load_register(path, money_unit="元")
    assert register.frame.loc[0, ["revenue", "total_assets"]].tolist() == [5.0, 2.0]
    assert register.columns == {
        "uscc": "uscc", "name": "name", "year": "year", "revenue": "revenue", "total_assets": "total_assets[yuan]",
    }
    assert register.money_note("revenue") == "金额单位：万元（由--unit 元，列 revenue 换算）"


def test_english_ids_and_chinese_labels_mix(tmp_path: Path) -> None:
    header = ["firm_id", "公司名称", "fiscal_year", "revenue(万元)", "employees", "I类知识产权数量"]
    frame = load_register(write_csv(tmp_path / "f.csv", header, [[A, "甲", "2024", "7", "30", "2"]])).frame
    assert frame.loc[0, ["uscc", "name", "year", "revenue", "employees", "ip_class1"]].tolist() == [
        A, "甲", 2024, 7.0, 30.0, 2.0,
    ]


def test_money_column_without_unit_and_without_option_is_an_error(tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "年度", "销售收入", "资产总额"]
    path = write_csv(tmp_path / "f.csv", header, [[A, "甲", "2024", "1", "2"]])
    with pytest.raises(RegisterError) as caught:
        load_register(path)
    assert str(caught.value) == (
        '金额列没有单位："销售收入"、"资产总额"。请在表头写明单位，例如 销售收入(万元) 或 销售收入(元)，'
        "或者加 --unit 万元（或 --unit 元）说明全表金额单位"
    )


def test_header_unit_contradicting_option_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", HEADER, [list(GOOD)])
    with pytest.raises(RegisterError) as caught:
        load_register(path, money_unit="元")
    assert str(caught.value) == (
        '列 "销售收入(万元)" 的单位 万元 与 --unit 元 不一致：请改正表头，或去掉 --unit（表头写明的单位优先）'
    )
    assert load_register(path, money_unit="万元").frame.at[0, "revenue"] == 1234.5


@pytest.mark.parametrize(
    ("header", "unit", "message"),
    [
        (["uscc", "name", "year", "revenue(千元)"], None,
         '列 "revenue(千元)" 的单位 千元 无法识别：金额单位应为 万元 或 元，例如 销售收入(万元)'),
        (["uscc", "name", "year", "职工总数(千人)"], None,
         '列 "职工总数(千人)" 的单位 千人 与字段 职工总数 的单位 人 不符：请按 人 填写'),
        (["uscc", "name", "year"], "美元", "金额单位 --unit 应为 万元 或 元，实为 美元"),
        (["uscc", "name", "year", "销售收入(万元)", "revenue[wan]"], None,
         '列 "销售收入(万元)"（D）和 列 "revenue[wan]"（E）都对应字段 revenue（销售收入）：请删除或改名其中一列'),
        (["企业名称", "销售收入(万元)"], None,
         "缺少必填列：统一社会信用代码（uscc）、年度（year）。请在表头中加上这些列（中文名或英文 id 均可）"),
    ],
)
def test_unusable_headers_raise_register_error(
    tmp_path: Path, header: list[str], unit: str | None, message: str
) -> None:
    path = write_csv(tmp_path / "f.csv", header, [["x"] * len(header)])
    with pytest.raises(RegisterError) as caught:
        load_register(path, money_unit=unit)
    assert str(caught.value) == message


def test_unknown_column_is_ignored_with_a_suggestion(tmp_path: Path) -> None:
    header = [*HEADER, "研发费用总", "备注"]
    register = load_register(write_csv(tmp_path / "f.csv", header, [[*GOOD, "5", "无"]]))
    assert register.warnings == [
        '列 "研发费用总" 不是已知字段，已忽略：是否想写 rd_expense（研发费用总额）？',
        '列 "备注" 不是已知字段，已忽略',
    ]
    assert "研发费用总" not in register.columns.values()
    assert register.refusals == []


# --- file formats -----------------------------------------------------------------------------------------------


def test_gb18030_csv_is_read_when_no_encoding_given(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", HEADER, [list(GOOD)], encoding="gb18030")
    register = load_register(path)
    assert register.frame.at[0, "name"] == "甲公司"
    assert register.columns["revenue"] == "销售收入(万元)"


def test_utf8_bom_csv_keeps_first_header_clean(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", HEADER, [list(GOOD)], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    register = load_register(path)
    assert register.columns["uscc"] == "统一社会信用代码"
    assert register.frame.at[0, "uscc"] == A


def test_undecodable_csv_suggests_an_encoding(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("统一社会信用代码,企业名称,年度\n".encode() + b"\xff\xfe\x80,\x81\n")
    with pytest.raises(RegisterError) as caught:
        load_register(path)
    assert caught.value.where == Where(file=str(path))
    assert caught.value.message == (
        "无法按 UTF-8、GB18030 或 UTF-16 解码：请在 Excel 中另存为“CSV UTF-8”，或加 --encoding 指明编码"
    )


def test_declared_encoding_is_the_only_one_tried(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", HEADER, [list(GOOD)], encoding="gb18030")
    with pytest.raises(RegisterError, match=r"^\S*f\.csv 行 1: 无法按 utf-8 解码：请确认文件编码") as caught:
        load_register(path, encoding="utf-8")
    assert caught.value.where == Where(file=str(path), row=1)
    assert load_register(path, encoding="gb18030").frame.at[0, "name"] == "甲公司"


def test_parquet_with_native_types(tmp_path: Path) -> None:
    source = pd.DataFrame({
        "uscc": [A, B, C],
        "企业名称": ["甲", "乙", "丙"],
        "年度": [2024, 2024, 2024],
        "注册日期": [date(2015, 3, 1), None, date(2020, 1, 2)],
        "职工总数": [100.0, np.nan, -1.0],
        "销售收入(元)": [10_000, 20_000, 30_000],
        "高企证书": [True, False, None],
    })
    path = tmp_path / "firms.parquet"
    source.to_parquet(path)
    register = load_register(path)
    assert messages(register) == ['firms.parquet 行 4 列 "职工总数" 值 "-1": 不能为负数']
    frame = register.frame
    assert frame["revenue"].tolist() == [1.0, 2.0]
    assert frame["hitech_cert"].tolist() == [1.0, 0.0]
    assert frame["registration_date"].iloc[0] == pd.Timestamp("2015-03-01")
    assert pd.isna(frame["registration_date"].iloc[1])


def test_xlsx_typed_cells_and_sheet_choice(tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "年度", "注册日期", "高企证书", "销售收入(万元)"]
    rows: list[list[object]] = [
        [A, "甲", 2024, datetime(2015, 3, 1), True, 12.5],
        [911201160000000000, "乙", 2024, datetime(2016, 3, 1), 0, 3],
    ]
    path = tmp_path / "firms.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("数据")
    for row in [header, *rows]:
        sheet.append(row)
    book.save(path)
    with pytest.raises(RegisterError) as caught:
        load_register(path, sheet="企业")
    assert str(caught.value) == f"{path}: 没有名为“企业”的工作表；现有工作表：说明、数据"
    register = load_register(path, sheet="数据")
    assert messages(register) == [
        'firms.xlsx 工作表“数据” 行 3 列 "统一社会信用代码" 值 "911201160000000000": '
        "应为文本：代码被存成了数字（可能已丢失位数），请把该列设为文本格式后重新填写"
    ]
    assert register.frame.loc[0, ["hitech_cert", "revenue"]].tolist() == [1.0, 12.5]
    assert register.frame.at[0, "registration_date"] == pd.Timestamp("2015-03-01")


def test_unreadable_files_raise_register_error(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="找不到文件"):
        load_register(tmp_path / "none.xlsx")
    old = tmp_path / "old.xls"
    old.write_bytes(b"x")
    with pytest.raises(RegisterError, match=r"是旧版 \.xls 文件") as caught:
        load_register(old)
    assert caught.value.where == Where(file=str(old))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(RegisterError, match=r"不是可读的 \.xlsx 文件") as caught:
        load_register(broken)
    assert caught.value.where == Where(file=str(broken))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(RegisterError, match=r"是空文件") as caught:
        load_register(empty)
    assert str(caught.value).startswith(f"{empty}: 是空文件")


def test_sha256_and_path_are_recorded(tmp_path: Path) -> None:
    import hashlib

    path = write_csv(tmp_path / "f.csv", HEADER, [list(GOOD)])
    register = load_register(path)
    assert register.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert register.path == path


# --- template and rejects ---------------------------------------------------------------------------------------


def test_template_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["企业数据", "字段说明"]
    data, guide = book["企业数据"], book["字段说明"]
    headers = [c.value for c in data[1]]
    assert len(headers) == len(FIELDS)
    assert headers[:4] == ["统一社会信用代码", "企业名称", "年度", "注册日期"]
    assert "销售收入(万元)" in headers and "职工总数(人)" in headers
    assert data.freeze_panes == "C2" and data["A1"].font.bold
    assert [c.value for c in guide[1]] == ["id", "中文名称", "单位", "类型", "层级", "含义", "是否必填"]
    assert [c.value for c in guide[2]][:5] == ["uscc", "统一社会信用代码", None, "文本", "企业"]
    revenue = next(r for r in guide.iter_rows(min_row=2, values_only=True) if r[0] == "revenue")
    assert revenue == ("revenue", "销售收入", "万元", "金额", "年度", BY_ID["revenue"].meaning, "否")

    values = {"uscc": A, "name": "甲公司", "year": 2024, "revenue": 321.5, "employees": 40, "hitech_cert": "是"}
    for column, field in enumerate(FIELDS, start=1):
        if field.id in values:
            data.cell(row=2, column=column, value=values[field.id])
    book.save(path)
    register = load_register(path)
    assert register.refusals == [] and register.warnings == []
    assert register.rows_read == 1
    assert register.frame.loc[0, ["uscc", "year", "revenue", "employees", "hitech_cert"]].tolist() == [
        A, 2024, 321.5, 40.0, 1.0,
    ]
    assert set(register.money_units.values()) == {"万元"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_rejects_keeps_original_cells_and_reasons(tmp_path: Path, suffix: str) -> None:
    header = [*HEADER, "备注"]
    rows = [[*GOOD, "ok"], [*with_cell("职工总数", "abc")[:5], "200", "-1", "是", "查"]]
    rows[1][2] = "2023"
    register = load_register(write_csv(tmp_path / "firms.csv", header, rows))
    out = tmp_path / f"rejects{suffix}"
    write_rejects(register, out)
    if suffix == ".csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        back = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    else:
        back = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert list(back.columns) == ["文件", "工作表", "行号", "列", "值", "原因", *header]
    assert back[["文件", "行号", "列", "值", "原因"]].values.tolist() == [
        ["firms.csv", "3", "职工总数", "abc", "应为数字"],
        ["firms.csv", "3", "销售收入(万元)", "-1", "不能为负数"],
    ]
    assert back.loc[0, header].tolist() == [A, "甲公司", "2023", "2015-03-01", "abc", "200", "-1", "是", "查"]


# --- the row model is the contract ------------------------------------------------------------------------------


def test_row_model_accepts_and_converts_like_the_loader() -> None:
    row = RegisterRow.model_validate(
        {"uscc": A.lower(), "name": "甲", "year": "2024", "revenue": "1,234,500", "hitech_cert": "有"},
        context={"money_units": {"revenue": "元"}},
    )
    assert (row.uscc, row.year, row.revenue, row.hitech_cert, row.employees) == (A, 2024, 123.45, True, None)


def test_row_model_reasons_match_loader_reasons() -> None:
    with pytest.raises(ValidationError) as caught:
        RegisterRow.model_validate({"uscc": A, "name": "", "year": 2024, "employees": "abc", "hitech_cert": "?"})
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("name",), "必填，不能为空"), (("employees",), "应为数字"), (("hitech_cert",), BAD_BOOL),
    ]
    with pytest.raises(ValidationError) as caught:
        RegisterRow.model_validate({"uscc": A, "name": "甲", "year": 2024, "employees": 10, "tech_staff": 12})
    assert caught.value.errors()[0]["msg"] == '科技人员数 12 大于列 "职工总数" 的值 10：科技人员数不能超过职工总数'
    assert set(RegisterRow.model_json_schema()["required"]) == {"uscc", "name", "year"}


def test_ratio_cells_accept_fractions_and_percent_text() -> None:
    share = Field("share", "占比", Kind.YEAR, DType.RATIO, "测试用比例")
    assert parse_cell(share, "25%") == 0.25
    assert parse_cell(share, "0.25") == 0.25
    assert parse_cell(share, "25", {"percent": {"share"}}) == 0.25
    assert parse_cell(share, " ") is None


CELL_TEXT = st.one_of(
    st.sampled_from([
        "", " ", "0", "1", "-1", "1.5", "1,234", "1,234.5", "12,34", "1e3", ".5", "5.", "abc", "是", "否", "Y", "n",
        "TRUE", "有", "无", "2015-03-01", "2015/3/1", "2015年3月1日", "20150301", "2015-02-30", "１２", "٣", "25%",
        "nan", "inf", "-0", "2024", "1979", "2100.0", A, A.lower(), A[:17] + "0", "\u3000", " 7 ",
    ]),
    st.integers(min_value=-10**6, max_value=10**8).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
)
CHECKED_FIELDS = [BY_ID[i] for i in ("uscc", "name", "year", "employees", "revenue", "net_profit", "hitech_cert",
                                      "registration_date", "district")]


@settings(max_examples=300, deadline=None)
@given(st.lists(CELL_TEXT, min_size=1, max_size=6), st.sampled_from(CHECKED_FIELDS))
def test_fast_path_accepts_only_what_the_row_model_accepts_with_the_same_value(cells: list[str], field) -> None:
    context = {"money_units": {"revenue": "元"}, "percent": set()}
    for series in (pd.Series(cells, dtype="str"), pd.Series(cells, dtype=object)):
        series = series.where(series != "")
        values, clean = fast_parse(field, series, context)
        for cell, value, ok in zip(series, values, clean, strict=True):
            if not ok:
                continue
            expected = parse_cell(field, cell, context)
            if expected is None:
                assert pd.isna(value)
            elif field.dtype is DType.DATE:
                assert value == pd.Timestamp(expected)
            elif field.dtype is DType.TEXT:
                assert value == expected
            else:
                assert value == pytest.approx(float(expected), rel=1e-15), cell
