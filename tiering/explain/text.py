"""A readable explanation of one firm's results: every criterion with its value, threshold, points and clause."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tiering.explain import format as fmt
from tiering.outcome import OUTCOME_ZH
from tiering.rules.bands import MISSING
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import (
    FAIL,
    PASS,
    SCORED,
    UNKNOWN,
    BestOfNode,
    ClassesNode,
    GroupNode,
    Node,
    One,
    PointsNode,
    RequiresNode,
    ScoreNode,
    SubtotalNode,
    TestNode,
)
from tiering.rules.schema import Unit

_MARK = {PASS: "✔", FAIL: "✘", UNKNOWN: "？", SCORED: "•"}


def _value(r: One, unit: Unit) -> str:
    """The value as read, or 缺失 naming the blank cells behind it (field and fiscal year)."""
    return fmt.missing_cells(r.blank) if math.isnan(r.value) else fmt.value(r.value, unit)


def _line(node: Node, r: One, results: dict[str, One]) -> str:
    src = fmt.source(node)
    prov = "【暂定标准】" if node.provisional else ""
    if isinstance(node, TestNode):
        if node.text_field is not None:
            shown = r.text or fmt.missing_cells(r.blank)
        elif node.points_of is not None:
            ref = results[node.points_of]
            shown = fmt.points_range(ref.pmin, ref.pmax)
        else:
            shown = _value(r, node.unit)
        need = fmt.requirement(node, r.threshold)
        if node.threshold.table is not None and r.band >= 0:
            need += f"（按{fmt.value(r.threshold, node.unit)}档：{node.threshold.table.bands[r.band].label or ''}）"
        return f"{node.label}{prov}：{shown}，要求 {need} —— {src}"
    if isinstance(node, PointsNode):
        band = ""
        if node.table is not None and r.band >= 0:
            band = node.table.bands[r.band].label or ""
        elif r.band == MISSING:
            band = "缺失数据"
        if node.from_register(r.band, r.pmin, r.pmax):  # an expert or provincial score the register holds
            band += "；按登记的得分"
        return (f"{node.label}{prov}：{_value(r, node.unit)} → {fmt.points_range(r.pmin, r.pmax)}"
                f"（{band}）—— {src}")
    if isinstance(node, BestOfNode):
        chosen = node.children[r.band].label if r.band >= 0 else ""
        return f"{node.label}{prov}：{fmt.points_range(r.pmin, r.pmax)}（取：{chosen}）—— {src}"
    if isinstance(node, SubtotalNode):
        cap = f"，上限{node.cap:g}分" if node.cap is not None else ""
        return f"{node.label}{prov}：{fmt.points_range(r.pmin, r.pmax)}（各项合计{cap}）—— {src}"
    if isinstance(node, ClassesNode):
        shown = _value(r, node.unit)
        return f"{node.label}{prov}：{shown} → {node.label_of(r.band) or '不属于任何分类'} —— {src}"
    if isinstance(node, ScoreNode):
        need = fmt.requirement(node, r.threshold)
        given = node.label_of(r.band)
        how = f"（{given}）" if given else ""
        return f"{node.label}{prov}：{fmt.points_range(r.pmin, r.pmax)}{how}，要求 {need} —— {src}"
    if isinstance(node, RequiresNode):
        return f"{node.label}：依赖项目 {node.program} 的结果为「{fmt.OUTCOME_BY_STATUS[r.status]}」—— {src}"
    assert isinstance(node, GroupNode)
    return f"{node.label}（{fmt.requirement(node, r.threshold)}，满足{r.value:g}项）—— {src}"


def _tree(node: Node, results: dict[str, One], depth: int, out: list[str]) -> None:
    r = results[node.id]
    out.append(f"{'  ' * depth}{_MARK[r.status]} {_line(node, r, results)}")
    if r.text and not (isinstance(node, TestNode) and node.text_field is not None):
        out.append(f"{'  ' * (depth + 1)}口径：{r.text}")  # a value read under a declared equivalent
    for child in node.children:
        _tree(child, results, depth + 1, out)


@dataclass(frozen=True)
class Deciding:
    """What decides one program for a firm, for a condensed explanation (the printable firm page): the criteria
    failed or pending in full, the ones met as labels, and the verdict."""

    open: list[tuple[int, str]]
    """(status, line as ``explain`` prints it) of each criterion failed or pending (not the groups and subtotals
    combining them) that is not an alternative left aside because another one passed."""
    met: list[str]
    """Labels of the criteria met (points scored shown beside them)."""
    verdict: str


_CRITERIA = (TestNode, PointsNode, ClassesNode, RequiresNode, ScoreNode)
"""Nodes a condensed explanation lists: criteria, not the groups and subtotals that combine them."""


def deciding(rs: CompiledRuleSet, results: dict[str, One]) -> Deciding:
    """The condensed explanation of one program (see :class:`Deciding`), from the same lines as ``explain``."""
    open_lines: list[tuple[int, str]] = []
    met: list[str] = []

    def walk(node: Node, settled: bool) -> None:
        r = results[node.id]
        criterion = isinstance(node, _CRITERIA)
        if r.status in (FAIL, UNKNOWN) and not settled and criterion:
            open_lines.append((r.status, _line(node, r, results)))
        elif criterion and r.status in (PASS, SCORED) and not node.children:
            points = f"（{fmt.points_range(r.pmin, r.pmax)}）" if r.status == SCORED and r.pmin == r.pmin else ""
            met.append(node.label + points)
        for child in node.children:
            walk(child, settled or r.status == PASS)

    walk(rs.root, False)
    return Deciding(open_lines, list(dict.fromkeys(met)), _verdict(rs, results))


def _verdict(rs: CompiledRuleSet, results: dict[str, One]) -> str:
    root = results[rs.root.id]
    paths = rs.paths_node()
    if root.status == PASS:
        via = ""
        if paths is not None and results[paths.id].band >= 0:
            via = f"，经由「{paths.children[results[paths.id].band].label}」"
        return f"结论：符合{via}。"
    want = FAIL if root.status == FAIL else UNKNOWN
    unmet = list(dict.fromkeys(n.label for n in rs.root.walk() if isinstance(n, TestNode | ScoreNode | RequiresNode)
                               and results[n.id].status == want and _on_blocking_path(rs, n, results)))
    if root.status == FAIL:
        return "结论：不符合。未满足：" + "；".join(unmet) + "。"
    return "结论：待定——缺少判断所需的数据：" + "；".join(unmet) + "。补齐数据后重新评价。"


def _on_blocking_path(rs: CompiledRuleSet, target: Node, results: dict[str, One]) -> bool:
    """Whether ``target`` is among the reasons the root did not pass (not an untaken alternative that passed)."""
    def walk(node: Node) -> bool:
        if node is target:
            return True
        if results[node.id].status == PASS:
            return False
        return any(walk(c) for c in node.children)
    return walk(rs.root)


def explain_firm(uscc: str, name: str, year: int, rulesets: Sequence[CompiledRuleSet],
                 results: dict[str, dict[str, One]], lacks: dict[str, list[str]] | None = None) -> str:
    """The explanation of one firm for every rule set, as plain text (Chinese)."""
    out = [f"企业：{name}（{uscc}）  申报年度：{year}  数据年度：{year - 1}", ""]
    for rs in rulesets:
        res = results[rs.id]
        root = res[rs.root.id]
        out.append(f"【{rs.meta.program_title}】{rs.meta.title}  版本 {rs.version}（{rs.meta.status.value}）")
        if rs.provisional:
            out.append("  注意：本规则集含暂定标准（原文未完整取得），结论仅供参考，以正式文件为准。")
        for note in rs.purpose_notes:  # what the purpose of this evaluation changed (e.g. 复核不考核：…)
            out.append(f"  评价目的：{note}")
        score = rs.score_node()
        head = f"  结果：{OUTCOME_ZH[root.status]}"
        if score is not None:
            head += f"  得分：{fmt.points_range(res[score.id].pmin, res[score.id].pmax)}"
            if score.label_of(res[score.id].band):
                head += "（按登记的得分，人工覆盖）"
        out.append(head)
        _tree(rs.root, res, 1, out)
        out.append("  " + _verdict(rs, res))
        for text in (lacks or {}).get(rs.id, []):
            out.append(f"  尚缺：{text}")
        out.append("")
    return "\n".join(out)


def verdict_reason(rs: CompiledRuleSet, results: dict[str, One], width: int = 60) -> str:
    """The verdict's reason without its outcome ('未满足：年限', '经由「路径一」'), cut to ``width`` characters."""
    reason = _verdict(rs, results).removeprefix("结论：").rstrip("。")
    for said in ("不符合。", "待定——", "符合，", "符合"):  # the outcome is said beside it
        reason = reason.removeprefix(said)
    return reason[:width - 1] + "…" if len(reason) > width else reason


def verdicts(rulesets: Sequence[CompiledRuleSet], results: dict[str, dict[str, One]]) -> list[str]:
    """One line per program for the top of an explanation: mark, program, outcome, score and the first reason,
    cut to a screen's width so every program fits one screen."""
    lines = []
    for rs in rulesets:
        res = results[rs.id]
        root = res[rs.root.id]
        score = rs.score_node()
        points = f"  {fmt.points_range(res[score.id].pmin, res[score.id].pmax)}" if score is not None else ""
        if score is not None and score.label_of(res[score.id].band):
            points += "（按登记的得分）"
        reason = verdict_reason(rs, res)
        title = rs.shown_title
        lines.append(f"{_MARK[root.status]} {title}：{OUTCOME_ZH[root.status]}{points}" + (f" —— {reason}" if reason
                                                                                          else ""))
    return lines
