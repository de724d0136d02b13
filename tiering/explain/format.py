"""How values, thresholds and criteria read in Chinese: one place, used by every explanation and report."""

from __future__ import annotations

import math

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
