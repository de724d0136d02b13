"""The empty Excel register template: one column per known field, and a 字段说明 sheet explaining each one."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tiering.fields import FIELDS, DType, Field, Kind

DATA_SHEET = "企业数据"
GUIDE_SHEET = "字段说明"
GUIDE_COLUMNS = ("id", "中文名称", "单位", "类型", "层级", "含义", "是否必填")
TEMPLATE_ROWS = 5000
"""Rows prepared with text format and 是/否 drop-downs; analysts can add more below."""

TYPE_NAMES: dict[DType, str] = {
    DType.TEXT: "文本", DType.DATE: "日期（如 2015-03-01）", DType.INT: "整数", DType.MONEY: "金额",
    DType.RATIO: "比例（0.25 或 25%）", DType.BOOL: "是/否", DType.SCORE: "评分",
}
LEVEL_NAMES: dict[Kind, str] = {Kind.FIRM: "企业", Kind.YEAR: "年度"}

_BOLD = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def template_header(field: Field) -> str:
    """The template's header for a field: the Chinese label, with its unit in brackets when it has one."""
    return f"{field.label}({field.unit})" if field.unit else field.label


def write_template(path: str | Path) -> None:
    """Write an empty register template (.xlsx) that load_register reads back without any option.

    Sheet 企业数据 has every field of tiering.fields as a column (required ones shaded), one row per firm per
    year; sheet 字段说明 lists id, 中文名称, 单位, 类型, 层级, 含义, 是否必填.
    """
    book = Workbook()
    data = book.active
    data.title = DATA_SHEET
    _fill_data_sheet(data)
    _fill_guide_sheet(book.create_sheet(GUIDE_SHEET))
    book.save(Path(path))


def _fill_data_sheet(sheet: Worksheet) -> None:
    flags = DataValidation(
        type="list", formula1='"是,否"', allow_blank=True, error="请填 是 或 否", errorTitle="是/否"
    )
    sheet.add_data_validation(flags)
    for index, field in enumerate(FIELDS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=template_header(field))
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if field.required:
            cell.fill = _REQUIRED_FILL
        sheet.column_dimensions[letter].width = max(12, min(30, 2 * len(cell.value) + 2))
        if field.id == "uscc":
            # as text, so Excel neither rounds an all-digit code nor drops leading zeros
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        if field.dtype is DType.BOOL:
            flags.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.freeze_panes = "C2"


def _fill_guide_sheet(sheet: Worksheet) -> None:
    sheet.append(list(GUIDE_COLUMNS))
    for field in FIELDS:
        sheet.append([
            field.id, field.label, field.unit, TYPE_NAMES[field.dtype], LEVEL_NAMES[field.kind], field.meaning,
            "是" if field.required else "否",
        ])
    for cell in sheet[1]:
        cell.font = _BOLD
    for letter, width in zip("ABCDEFG", (26, 30, 8, 20, 8, 70, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
