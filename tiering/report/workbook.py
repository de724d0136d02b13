"""The bureau's Excel workbook: Chinese headers, bold banded header row, column widths, frozen header, autofilter,
and cell colours for outcomes (符合 green, 不符合 red, 待定 amber), on every sheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tiering.output.write import escape_formulas, zh

REPORT_HEADERS = {
    "label": "目标", "measure": "口径", "plan_year": "计数年度", "target_year": "目标年度", "target": "目标数",
    "stretch": "力争数", "count": "实有数", "gap": "缺口", "source": "计划原文", "note": "备注",
    "target_id": "目标代码",
    "rank": "排名", "n_failed": "未满足条件数", "n_missing": "缺数据条件数", "next_rung": "下一层级",
    "firms": "企业数", "level": "层级", "pick": "入选序号", "district": "所在区", "combined": "综合得分",
    "technical": "技术水平得分", "growth": "发展潜力得分", "reasons": "入选主要理由", "goal": "培育目标",
    "goal_lacks": "距培育目标尚缺", "missed_reason": "未入选原因", "order": "排序",
}
# Colours by the exact text of an outcome or status cell; pale fills keep the text readable when printed.
OUTCOME_FILLS = {
    "符合": "C6EFCE", "不符合": "FFC7CE", "待定（缺数据）": "FFEB9C",
    "pass": "C6EFCE", "fail": "FFC7CE", "unknown": "FFEB9C",
    "已完成": "C6EFCE", "达到力争目标": "A9D08E", "未完成": "FFC7CE", "无法计数": "D9D9D9",
}
OUTCOME_HEADERS = ("结果", "判定", "状态", "status")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_MAX_WIDTH = 60


def headers_zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the project's Chinese headers plus the report's own."""
    return zh(frame).rename(columns=lambda c: REPORT_HEADERS.get(c, c))


def _width(values: list[str]) -> float:
    # GBK byte length approximates display width: a Chinese character is two columns wide.
    return min(_MAX_WIDTH, max(len(v.encode("gbk", "replace")) for v in values) + 2)


def format_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """Header style, widths, frozen header row, autofilter and outcome colours for one written sheet."""
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "C2" if len(frame.columns) > 3 else "A2"
    if len(frame.columns):
        ws.auto_filter.ref = ws.dimensions
    last = max(ws.max_row, 2)
    for i, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        sample = [str(col)] + ["" if pd.isna(v) else str(v) for v in frame[col].head(300).tolist()]
        ws.column_dimensions[letter].width = _width(sample)
        if str(col) in OUTCOME_HEADERS:
            area = f"{letter}2:{letter}{last}"
            for text, colour in OUTCOME_FILLS.items():
                ws.conditional_formatting.add(area, FormulaRule(
                    formula=[f'{letter}2="{text}"'], fill=PatternFill("solid", fgColor=colour, bgColor=colour)))


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write ``sheets`` (sheet name → frame with id columns) as one formatted workbook; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            shown = headers_zh(escape_formulas(frame))
            shown.to_excel(writer, sheet_name=name, index=False)
            format_sheet(writer.sheets[name], shown)
    return path
