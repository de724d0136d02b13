"""How values, thresholds and criteria read in Chinese: one place, used by every explanation and report."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tiering.fields import BY_ID, Kind
from tiering.outcome import OUTCOME_ZH
from tiering.rules.nodes import FAIL, PASS, SCORED, UNKNOWN, GroupNode, Node, TestNode
from tiering.rules.operators import OP_ZH
from tiering.rules.schema import Unit

STATUS_ZH = {PASS: "满足", FAIL: "不满足", UNKNOWN: "待定（缺数据）", SCORED: "已计分"}
OUTCOME_BY_STATUS = {PASS: OUTCOME_ZH[PASS], FAIL: OUTCOME_ZH[FAIL], UNKNOWN: OUTCOME_ZH[UNKNOWN]}


def value(x: float | None, unit: Unit) -> str:
    """A value as an analyst reads it: 4.20%, 1,234.5万元, 3项, 是/否 …; missing is 缺失."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "缺失"
    if unit == Unit.PERCENT:
        return f"{x * 100:.2f}%"
    if unit == Unit.WAN:
        return f"{x:,.2f}".rstrip("0").rstrip(".") + "万元"
    if unit == Unit.COUNT:
        return f"{x:g}项"
    if unit == Unit.PEOPLE:
        return f"{x:g}人"
    if unit == Unit.YEARS:
        return f"{x:.2f}年"
    if unit == Unit.DAYS:
        return f"{x:g}天"
    if unit == Unit.BOOL:
        return "是" if x else "否"
    if unit == Unit.POINTS:
        return f"{x:g}分"
    if unit == Unit.OUTCOME:
        return OUTCOME_BY_STATUS.get(int(x), "?")
    return f"{x:g}"


def _years(years: list[int]) -> str:
    """'2024年', '2022–2024年' (consecutive), '2021、2023年'."""
    ordered = sorted(set(years))
    if len(ordered) > 2 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"{ordered[0]}–{ordered[-1]}年"
    return "、".join(str(y) for y in ordered) + "年"


def cell_name(field: str, years: Sequence[int], equals: str | None = None) -> str:
    """Register cells of one field as a person looks for them: '2024年 研发费用总额（rd_expense）', '2022–2024年
    研发费用总额（rd_expense）', '2024年 销售收入（revenue，或营业收入 operating_revenue）' for a field a declared
    equivalent may supply; a field describing the firm once has no year: '注册日期（registration_date）'."""
    alt = f"，或{BY_ID[equals].label} {equals}" if equals is not None else ""
    label = f"{BY_ID[field].label}（{field}{alt}）"
    return label if BY_ID[field].kind == Kind.FIRM else f"{_years(list(years))} {label}"


def missing_cells(cells: Sequence[tuple[str, int, str | None]], most: int = 4) -> str:
    """'缺失：2024年 研发费用总额（rd_expense）、2022–2023年 销售收入（revenue）' for blank cells (field, fiscal year,
    equivalent field or None; see :mod:`tiering.engine.blanks`), field by field in the order given (at most ``most``
    fields named, then 等); plain '缺失' when none is known (a value the rules could not compute from filled cells,
    or a record kept without the register's cells)."""
    if not cells:
        return "缺失"
    years: dict[tuple[str, str | None], list[int]] = {}
    for field, year, equals in cells:
        years.setdefault((field, equals), []).append(year)
    names = [cell_name(f, y, e) for (f, e), y in years.items()]
    return f"缺失：{'、'.join(names[:most])}{'等' if len(names) > most else ''}"


def points_range(lo: float, hi: float) -> str:
    """'45分' or '40–70分' when the points are only known as a range."""
    if math.isnan(lo):
        return "—"
    return f"{lo:g}分" if lo == hi else f"{lo:g}–{hi:g}分"


def requirement(node: Node, threshold: float) -> str:
    """What a criterion asks for, e.g. '≥ 60分', '须为 否', '属于 天津'."""
    if isinstance(node, TestNode):
        if node.text_field is not None:
            return f"{OP_ZH[node.op]} {'、'.join(node.values)}"
        if node.unit == Unit.BOOL and node.op in ("==", "!="):
            want = bool(threshold) if node.op == "==" else not bool(threshold)
            return f"须为 {'是' if want else '否'}"
        return f"{OP_ZH[node.op]} {value(threshold, node.unit)}"
    if isinstance(node, GroupNode):
        return {"all": "全部满足", "any": "满足其一", "paths": "满足其一"}.get(node.how, f"至少满足{node.k}项")
    if node.kind == "score":
        return f"{OP_ZH[node.op]} {value(threshold, Unit.POINTS)}"  # type: ignore[attr-defined]
    if node.kind == "requires":
        return f"须先符合 {node.program}"  # type: ignore[attr-defined]
    return ""


def source(node: Node) -> str:
    """'国科发政〔2017〕115号 第七条（一）'."""
    return f"{node.source.document} {node.source.clause}"
