"""The one workbook writer: every .xlsx the tool writes (results, rejects, cultivation list, report, diff, targets).

Each sheet gets Chinese headers with the unit in the header (``取值（万元）``), codes turned into Chinese words
(qualified → 符合, pass → 满足, stable → 现行 …), typed numbers with a number format, column widths, a frozen header,
an autofilter and outcome colours (符合 green, 不符合 red, 待定 amber). Every workbook ends with a 说明 sheet (run id,
input hash, rule versions, …) and a 列名对照 sheet giving, for every column of every sheet, its English id and unit,
so a script can address columns by id whatever the Chinese header says.

XlsxWriter writes the file: it streams styled cells several times faster than openpyxl (measured in
bench/workbook_bench.py) and, with the document dates fixed, the same sheets give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from tiering.outcome import ZH_OF

ABOUT_SHEET = "说明"
COLUMNS_SHEET = "列名对照"
_FIXED_DATE = dt.datetime(2000, 1, 1)
_FORMULA_START = ("=", "+", "-", "@")
_MAX_WIDTH = 50
_FIT_WIDTH = 320
"""Sheets whose columns add up to at most this many characters print scaled to one page width; wider ones print
across pages at full size, with the header row (and the firm's code and name) repeated."""
_WIDTH_SAMPLE = 300


@dataclass(frozen=True)
class Column:
    """How one column id reads in a workbook: Chinese label, unit shown in the header, Excel number format."""

    label: str
    unit: str = ""
    number_format: str = ""


_INT = "#,##0"
_POINTS = "0.0"
_MONEY = "#,##0.00"
_SCORE = "0.00"

COLUMNS: dict[str, Column] = {
    # firms and rule sets
    "uscc": Column("统一社会信用代码"), "name": Column("企业名称"), "district": Column("所在区"),
    "industry": Column("行业"), "cluster": Column("产业集群"), "program": Column("项目代码"),
    "program_title": Column("项目"), "ruleset_id": Column("规则集"), "version": Column("规则版本"),
    "ruleset_status": Column("规则状态"), "provisional": Column("含暂定标准"),
    # outcomes
    "outcome": Column("结果"), "outcome_zh": Column("结果"), "score_min": Column("得分下限", "分", _POINTS),
    "score_max": Column("得分上限", "分", _POINTS), "score_source": Column("得分来源"),
    "path": Column("符合路径"), "failed": Column("未满足条件"),
    "missing": Column("缺数据条件"), "lacks": Column("尚缺（一企一策起点）"),
    "override": Column("人工调整结果"), "override_reason": Column("人工调整理由"),
    "override_by": Column("调整人"), "override_at": Column("调整时间"),
    "list_decision": Column("名单决定"), "list_reason": Column("名单决定理由"), "list_by": Column("决定人"),
    "list_at": Column("决定时间"),
    # trace
    "criterion_id": Column("条件代码"), "criterion": Column("条件"), "kind": Column("类型"),
    "value": Column("取值"), "threshold": Column("门槛"), "unit": Column("单位"), "status": Column("判定"),
    "points_min": Column("得分下限", "分", _POINTS), "points_max": Column("得分上限", "分", _POINTS),
    "band": Column("档位"), "document": Column("依据文件"), "clause": Column("条款"), "text": Column("文本取值"),
    # summaries and tiers
    "qualified": Column("符合", "家", _INT), "not_qualified": Column("不符合", "家", _INT),
    "undetermined": Column("待定", "家", _INT), "total": Column("合计", "家", _INT),
    "highest_rung": Column("最高层级"), "highest": Column("最高层级"), "rung": Column("层级序号", "", "0"),
    "programs_qualified": Column("符合的全部项目"), "programs": Column("符合的全部项目"),
    "pending": Column("缺数据待定的项目"), "tier": Column("层级（排序用）"), "next_rung": Column("下一层级"),
    "level": Column("层级"), "firms": Column("企业数", "家", _INT),
    # plan targets
    "label": Column("目标"), "measure": Column("口径"), "plan_year": Column("计数年度", "", "0"),
    "target_year": Column("目标年度", "", "0"), "target": Column("目标数", "家", _INT),
    "stretch": Column("力争数", "家", _INT), "count": Column("实有数", "家", _INT), "gap": Column("缺口", "家", _INT),
    "source": Column("计划原文"), "note": Column("备注"), "target_id": Column("目标代码"),
    "rank": Column("排名", "", "0"), "n_failed": Column("未满足条件数", "项", _INT),
    "n_missing": Column("缺数据条件数", "项", _INT),
    # selection
    "pick": Column("入选序号", "", "0"), "order": Column("综合排名", "", "0"),
    "combined": Column("综合得分", "分", _SCORE), "technical": Column("技术水平得分", "分", _SCORE),
    "growth": Column("发展潜力得分", "分", _SCORE), "selected": Column("入选"), "missed_reason": Column("未入选原因"),
    "status_reason": Column("原因"), "lacks_source": Column("差距来源"), "model_reasons": Column("模型主要理由"),
    "reasons": Column("入选主要理由"), "goal": Column("培育目标"), "goal_lacks": Column("距培育目标尚缺"),
    # growth model validation (what the model card records)
    "metric": Column("指标"), "decile": Column("十分位（按预测概率，1 最低）", "", "0"),
    "n": Column("企业年数", "个", _INT), "predicted": Column("平均预测概率", "", "0.000"),
    "observed": Column("实际达标比例", "", "0.000"),
    # rule diff
    "was": Column("旧版本结果"), "now": Column("新版本结果"), "deciding": Column("起决定作用的条件"),
    "details": Column("说明"),
    # rejects
    "file": Column("文件"), "sheet": Column("工作表"), "row": Column("行号", "", "0"), "column": Column("列"),
    "reason": Column("原因"), "error_id": Column("错误代码"),
    # watch alerts
    "date": Column("日期"), "firm_id": Column("统一社会信用代码"), "event_id": Column("事件编号"),
    "before": Column("原结果"), "after": Column("新结果"), "message": Column("提示"), "alert_kind": Column("提示类型"),
}
"""Every column id any workbook uses. A sheet may give its own labels for columns not listed here."""

_OUTCOMES = ZH_OF
VALUE_WORDS: dict[str, dict[str, str]] = {
    "outcome": _OUTCOMES, "was": _OUTCOMES, "now": _OUTCOMES, "override": _OUTCOMES,
    "before": _OUTCOMES, "after": _OUTCOMES,
    "status": {"pass": "满足", "fail": "不满足", "unknown": "缺数据", "scored": "已计分"},
    "ruleset_status": {"stable": "现行", "provisional": "暂定", "draft": "草案", "superseded": "已废止"},
    "kind": {"test": "条件", "group": "条件组", "points": "计分表", "best_of": "取最高分", "subtotal": "小计",
             "score": "总分", "all": "全部满足", "any": "满足其一", "at_least": "至少满足", "paths": "路径",
             "requires": "前置项目", "classes": "分类"},
    "selected": {"True": "是", "False": "否"},
}
"""Codes shown in Chinese, per column id; a value not listed is shown as it is."""

OUTCOME_FILLS = {
    "符合": "#C6EFCE", "满足": "#C6EFCE", "已完成": "#C6EFCE", "达到力争目标": "#A9D08E", "入选": "#C6EFCE",
    "不符合": "#FFC7CE", "不满足": "#FFC7CE", "未完成": "#FFC7CE",
    "待定（缺数据）": "#FFEB9C", "缺数据": "#FFEB9C", "无法计数": "#D9D9D9",
}
"""Fill colours by the exact text of an outcome or status cell; pale, so the text stays readable when printed."""
_COLOURED = {"outcome", "outcome_zh", "status", "was", "now", "override", "before", "after"}


def _by_unique(series: pd.Series, convert: Callable[[object], object]) -> pd.Series:
    """``series`` with ``convert`` applied to each value, computed once per distinct value when the column holds
    only text (a trace repeats the same texts thousands of times); any other column value by value."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return pd.Series([convert(v) for v in values], index=series.index, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    converted = np.empty(len(uniques), dtype=object)
    converted[:] = [convert(v) for v in uniques]
    return pd.Series(converted[codes], index=series.index, dtype=object)


def _escaped(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells starting with = + - @ are prefixed with an apostrophe (never a formula)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype | pd.CategoricalDtype):
            escaped = _by_unique(out[col].astype(object), _escaped)
            if not escaped.equals(out[col].astype(object)):
                out[col] = escaped
    return out


def _in_words(value: object, words: Mapping[str, str]) -> object:
    return words.get(str(value), value) if isinstance(value, str | bool | np.bool_) else value


def in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with coded values in Chinese (see ``VALUE_WORDS``); a code column beside its Chinese twin
    (``outcome`` beside ``outcome_zh``) is dropped."""
    out = frame.drop(columns=["outcome"]) if {"outcome", "outcome_zh"} <= set(frame.columns) else frame.copy()
    for col, words in VALUE_WORDS.items():
        if col in out.columns:
            out[col] = _by_unique(out[col].astype(object), lambda v, w=words: _in_words(v, w))
    return out


def header(col: str, labels: Mapping[str, str]) -> str:
    """The Chinese header of column ``col``: the sheet's own label, else the registry's, with the unit."""
    spec = COLUMNS.get(col, Column(col))
    label = labels.get(col, spec.label)
    return f"{label}（{spec.unit}）" if spec.unit and "（" not in label else label


def _display_width(values: Sequence[object]) -> float:
    # GBK byte length approximates display width: a Chinese character is two columns wide.
    return min(_MAX_WIDTH, max(len(str(v).encode("gbk", "replace")) for v in values) + 2)


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78",
                                       "text_wrap": True, "valign": "vcenter", "border": 1,
                                       "border_color": "#BFBFBF"})
        self.fills = {text: book.add_format({"bg_color": colour}) for text, colour in OUTCOME_FILLS.items()}
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self._numbers: dict[str, object] = {}

    def number(self, pattern: str) -> object:
        if pattern not in self._numbers:
            self._numbers[pattern] = self.book.add_format({"num_format": pattern})
        return self._numbers[pattern]


def _cell(value: object) -> object:
    """A value XlsxWriter can write: missing → None (an empty cell), NumPy scalars → Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_ | bool):
        return "是" if value else "否"
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    return value


def _cells(series: pd.Series) -> list[object]:
    """:func:`_cell` of every value of a column, numeric and text columns converted as whole arrays."""
    if _is_number(series):
        numbers = series.to_numpy(dtype=float)
        cells = numbers.astype(object)
        cells[~np.isfinite(numbers)] = None
        if pd.api.types.is_integer_dtype(series):
            return [None if v is None else int(v) for v in cells.tolist()]
        return cells.tolist()
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        values = values.copy()
        values[pd.isna(values)] = None
        return values.tolist()
    return [_cell(v) for v in values.tolist()]


def _write_sheet(book: xlsxwriter.Workbook, formats: _Formats, name: str, frame: pd.DataFrame,
                 labels: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """Write one formatted sheet; return its (sheet, header, id, unit) rows for the 列名对照 sheet."""
    shown = escape_formulas(in_words(frame))
    ws = book.add_worksheet(name)
    columns = [str(c) for c in shown.columns]
    headers = [header(c, labels) for c in columns]
    widths: list[float] = []
    ws.write_row(0, 0, headers, formats.header)
    ws.set_row(0, 32)
    for j, col in enumerate(columns):
        series = shown.iloc[:, j]
        spec = COLUMNS.get(col, Column(col))
        numeric = _is_number(series)
        pattern = ""
        if numeric:
            pattern = spec.number_format or ("0" if pd.api.types.is_integer_dtype(series) else "General")
        cells = _cells(series)
        ws.write_column(1, j, cells)
        sample = [headers[j], *("" if v is None else v for v in cells[:_WIDTH_SAMPLE])]
        width = _display_width(sample) if not numeric else max(10, _display_width(sample))
        widths.append(width)
        # long texts wrap inside their column instead of running over the next ones
        cell_format = formats.number(pattern) if pattern else formats.wrap if width >= _MAX_WIDTH else None
        ws.set_column(j, j, width, cell_format)
        if col in _COLOURED and len(shown):
            for text, fill in formats.fills.items():
                ws.conditional_format(1, j, len(shown), j, {"type": "cell", "criteria": "==",
                                                              "value": f'"{text}"', "format": fill})
    firm_first = len(columns) > 4 and columns[:2] == ["uscc", "name"]
    ws.freeze_panes(1, 2 if firm_first else 0)
    if columns:
        ws.autofilter(0, 0, max(len(shown), 1), len(columns) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.repeat_rows(0)
    ws.set_footer(f"&L{name}&R第 &P 页，共 &N 页")
    if sum(widths) <= _FIT_WIDTH:
        ws.fit_to_pages(1, 0)
    elif "name" in columns[:3]:
        ws.repeat_columns(0, columns.index("name"))
    return [(name, h, c, COLUMNS.get(c, Column(c)).unit) for h, c in zip(headers, columns, strict=True)]


def _write_pairs(book: xlsxwriter.Workbook, formats: _Formats, name: str, head: Sequence[str],
                 rows: Sequence[Sequence[str]], widths: Sequence[int]) -> None:
    ws = book.add_worksheet(name)
    ws.write_row(0, 0, list(head), formats.header)
    for i, row in enumerate(rows, start=1):
        ws.write_row(i, 0, [_cell(v) for v in row])
    for j, width in enumerate(widths):
        ws.set_column(j, j, width, formats.wrap if j == len(widths) - 1 else None)
    ws.freeze_panes(1, 0)
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], about: Sequence[tuple[str, str]],
                   labels: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """The .xlsx of ``sheets`` (sheet name → frame with id columns) plus the 说明 sheet of ``about`` ((项目, 内容)
    pairs: run id, input hash, rule versions …) and the 列名对照 sheet. ``labels`` gives per sheet the Chinese
    header of columns the registry does not know. Document dates are fixed, so equal input gives equal bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"created": _FIXED_DATE, "author": "tiering"})
    formats = _Formats(book)
    dictionary: list[tuple[str, str, str, str]] = []
    for name, frame in sheets.items():
        dictionary += _write_sheet(book, formats, name[:31], frame, (labels or {}).get(name, {}))
    _write_pairs(book, formats, ABOUT_SHEET, ["项目", "内容"], about, [28, 100])
    _write_pairs(book, formats, COLUMNS_SHEET, ["工作表", "列名", "英文代码", "单位"], dictionary, [16, 30, 22, 8])
    book.close()
    return buffer.getvalue()


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], about: Sequence[tuple[str, str]],
                   labels: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Write ``workbook_bytes(sheets, about, labels)`` to ``path`` (folders created); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(sheets, about, labels))
    return path
