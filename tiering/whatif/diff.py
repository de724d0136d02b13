"""Compare two versions of a program's rules over one register: who changes outcome, and which criterion did it.

The register is classified once under each version (``tiering.app.classify``); the comparison only reads the two
classifications' per-criterion statuses. A firm's *deciding criteria* are the leaf criteria on the blocking path of
the side where it did not qualify (as the explanation names them) whose status differs between the versions, or which
exist in only one version — e.g. a new industry exclusion, or a pass mark moved from 60 to 50.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiering.app import classify
from tiering.engine.evaluate import RuleSetResult
from tiering.errors import UsageError
from tiering.explain import format as fmt
from tiering.outcome import OUTCOME_TEXT, OUTCOME_ZH
from tiering.register import Register
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary
from tiering.rules.nodes import PASS, Node, RequiresNode, ScoreNode, TestNode
from tiering.whatif.resolve import with_dependencies

_LEAVES = (TestNode, ScoreNode, RequiresNode)
_ORDER = (1, 0, -1)
_STATUS_ZH = {1: "满足", 0: "不满足", -1: "缺数据", 2: "计分"}


@dataclass
class RuleDiff:
    """The outcome of every firm under both versions, the transition matrix and the changed firms explained."""

    old: CompiledRuleSet
    new: CompiledRuleSet
    year: int
    firms: np.ndarray
    names: np.ndarray
    was: np.ndarray
    now: np.ndarray
    changes: pd.DataFrame

    def matrix(self) -> pd.DataFrame:
        """Firms by outcome under the old version (rows) and the new one (columns), with totals."""
        labels = [OUTCOME_ZH[c] for c in _ORDER]
        table = pd.crosstab(pd.Categorical([OUTCOME_ZH[c] for c in self.was], labels),
                            pd.Categorical([OUTCOME_ZH[c] for c in self.now], labels), dropna=False)
        table.index.name, table.columns.name = f"旧 {self.old.id}", f"新 {self.new.id}"
        table["合计"] = table.sum(axis=1)
        table.loc["合计"] = table.sum(axis=0)
        return table

    def directions(self) -> dict[str, int]:
        """How many firms move in each direction, e.g. ``{'符合 → 不符合': 2}`` (only moves that happen)."""
        out: dict[str, int] = {}
        for a in _ORDER:
            for b in _ORDER:
                n = int(((self.was == a) & (self.now == b)).sum())
                if a != b and n:
                    out[f"{OUTCOME_ZH[a]} → {OUTCOME_ZH[b]}"] = n
        return out

    def by_criterion(self) -> pd.Series:
        """How many changed firms each deciding criterion accounts for (a firm can count under several)."""
        names = self.changes["deciding"].str.split("；").explode()
        return names[names != ""].value_counts()


def _index(result: RuleSetResult) -> dict[str, Node]:
    return {n.id: n for n in result.ruleset.root.walk()}


def _blocking_leaves(root: Node, status: dict[str, int]) -> list[Node]:
    """Leaf criteria that keep ``root`` from passing: descend through every node that did not pass."""
    want = status[root.id]
    out: list[Node] = []

    def walk(node: Node) -> None:
        if status[node.id] == PASS:
            return
        if isinstance(node, _LEAVES):
            if status[node.id] == want:
                out.append(node)
            return
        for child in node.children:
            walk(child)
    walk(root)
    return out


def _deciding(old: RuleSetResult, new: RuleSetResult, i: int) -> tuple[list[str], list[str]]:
    """The deciding criteria of firm ``i`` (labels) and a detail line for each."""
    old_nodes, new_nodes = _index(old), _index(new)
    old_status = {k: int(v.status[i]) for k, v in old.nodes.items()}
    new_status = {k: int(v.status[i]) for k, v in new.nodes.items()}
    candidates: list[Node] = []
    if new_status[new.ruleset.root.id] != PASS:
        candidates += _blocking_leaves(new.ruleset.root, new_status)
    if old_status[old.ruleset.root.id] != PASS:
        candidates += [n for n in _blocking_leaves(old.ruleset.root, old_status) if n.id not in new_nodes]
        candidates += [new_nodes[n.id] for n in _blocking_leaves(old.ruleset.root, old_status) if n.id in new_nodes]
    labels: list[str] = []
    details: list[str] = []
    seen: set[str] = set()
    for node in candidates:
        if node.id in seen:
            continue
        seen.add(node.id)
        before = old_status.get(node.id)
        after = new_status.get(node.id)
        if before == after and not _threshold_moved(old, new, node.id, i):
            continue
        labels.append(node.label)
        details.append(_detail(node, old, new, old_nodes, new_nodes, i))
    return labels, details


def _threshold_moved(old: RuleSetResult, new: RuleSetResult, node_id: str, i: int) -> bool:
    if node_id not in old.nodes or node_id not in new.nodes:
        return True
    a, b = old.nodes[node_id].threshold[i], new.nodes[node_id].threshold[i]
    return not (a == b or (np.isnan(a) and np.isnan(b)))


def _side(node: Node | None, result: RuleSetResult, i: int) -> str:
    if node is None:
        return "无此条件"
    v = result.nodes[node.id]
    status = _STATUS_ZH[int(v.status[i])]
    if isinstance(node, TestNode) and node.text_field is not None and v.text is not None:
        return f"{status}（{v.text[i] if isinstance(v.text[i], str) else '缺失'}）"
    if isinstance(node, TestNode | ScoreNode):
        shown = fmt.points_range(float(v.pmin[i]), float(v.pmax[i])) if isinstance(node, ScoreNode) \
            else fmt.value(float(v.value[i]), node.unit)
        return f"{status}（{shown}，要求 {fmt.requirement(node, float(v.threshold[i]))}）"
    return status


def _detail(node: Node, old: RuleSetResult, new: RuleSetResult, old_nodes: dict[str, Node],
            new_nodes: dict[str, Node], i: int) -> str:
    return (f"{node.label}：旧 {_side(old_nodes.get(node.id), old, i)} → 新 {_side(new_nodes.get(node.id), new, i)}"
            f" —— {fmt.source(node)}")


class RuleDiffRefused(UsageError, ValueError):
    """Two rule sets that cannot be compared (not versions of one program)."""

    id = "rule-diff-refused"


def rule_diff(register: Register, old: CompiledRuleSet, new: CompiledRuleSet, library: RuleLibrary, year: int,
              on: dt.date) -> RuleDiff:
    """Classify ``register`` under both rule sets (each with the rule sets it depends on) and compare firm by
    firm."""
    if old.program != new.program:
        raise RuleDiffRefused(f"只能比较同一项目的两个版本：{old.id} 属于 '{old.program}'，{new.id} 属于 "
                              f"'{new.program}'（compare two versions of one program）",
                              hint=f"--old 与 --new 写同一项目的两个版本，如 {old.program}@版本号 或其规则集 id")
    before = classify(register, with_dependencies(old, library, on), year, on).evaluation
    after = classify(register, with_dependencies(new, library, on), year, on).evaluation
    r_old, r_new = before.results[-1], after.results[-1]
    was, now = r_old.outcome.astype(int), r_new.outcome.astype(int)
    rows = []
    for i in np.flatnonzero(was != now):
        labels, details = _deciding(r_old, r_new, int(i))
        rows.append({"uscc": str(before.firms[i]), "name": str(before.names[i]), "was": OUTCOME_TEXT[int(was[i])],
                     "now": OUTCOME_TEXT[int(now[i])], "deciding": "；".join(labels), "details": "\n".join(details)})
    changes = pd.DataFrame(rows, columns=["uscc", "name", "was", "now", "deciding", "details"])
    return RuleDiff(old, new, year, before.firms, before.names, was, now, changes)


def diff_text(diff: RuleDiff, limit: int | None = 50) -> str:
    """The comparison as analysts read it: counts, transition matrix, deciding criteria, changed firms."""
    n = len(diff.firms)
    changed = len(diff.changes)
    out = [f"规则对比 rules diff: {_name(diff.old)} → {_name(diff.new)}  申报年度 {diff.year}  评价企业 {n} 家",
           f"结果变化 changed: {changed} 家；不变 unchanged: {n - changed} 家"]
    out += [f"  {k}: {v} 家" for k, v in diff.directions().items()]
    with pd.option_context("display.unicode.east_asian_width", True):
        matrix = diff.matrix().to_string()
    out += ["", "转移矩阵 transition matrix（行：旧版本，列：新版本）", matrix, ""]
    counts = diff.by_criterion()
    if len(counts):
        out.append("起决定作用的条件 deciding criteria（家数）")
        out += [f"  {label}: {count}" for label, count in counts.items()]
        out.append("")
    if changed:
        out.append("变化的企业 firms that change")
        shown = diff.changes if limit is None else diff.changes.head(limit)
        for row in shown.itertuples(index=False):
            out.append(f"  {row.uscc} {row.name}: {OUTCOME_ZH[_code(row.was)]} → {OUTCOME_ZH[_code(row.now)]}")
            out += [f"      {line}" for line in row.details.splitlines()]
        if limit is not None and changed > limit:
            out.append(f"  …另有 {changed - limit} 家未列出（--all 列出全部，或 --out 写出表格）")
    return "\n".join(out)


def _name(rs: CompiledRuleSet) -> str:
    """Id, version, file and content hash: a draft may carry the same id and version as the adopted file."""
    return f"{rs.id}（{rs.version}，{rs.path.name}，SHA-256 {rs.sha256[:8]}）"


def _code(text: str) -> int:
    return next(c for c, t in OUTCOME_TEXT.items() if t == text)

