"""Do the words of a label agree with the rule? Numbers and comparison words checked against thresholds.

A criterion's label is what people read; its ``test`` is what is evaluated. ``tiering rules check`` refuses a rule
set where they disagree:

- every number written with a unit in a test's label ("不超过500人", "2亿元", "3%") must equal the test's threshold
  once converted to the threshold's unit (亿元 = 10,000 万元, % = 1/100); numbers in a band's label must be one of
  the band's edges (or, for a threshold table, its value);
- the comparison word of a test's label must match its operator, by the convention written in
  docs/rule-language.md: 以上 / 以内 / 以下 / 不低于 / 不少于 / 不超过 / 不高于 / 达到 include the number (``>=`` /
  ``<=``); 超过 / 高于 / 大于 / 多于 / 低于 / 少于 / 不足 / 小于 exclude it (``>`` / ``<``); a label that says
  "不含" where a source's 以上/以下 is read as excluding the number must say so.

Numbers written without a unit, and numbers after 近 / 前 / 第 (periods such as "近3年", not thresholds), are not
checked; a label with words of more than one comparison kind is left to the reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import ClassesNode, PointsNode, TestNode
from tiering.rules.operators import LABEL_WORDS
from tiering.rules.schema import Band, Criterion, Lookup, Unit
from tiering.rules.yamlsrc import Loc

_FAMILY = {"亿元": (Unit.WAN, 10_000.0), "亿": (Unit.WAN, 10_000.0), "万元": (Unit.WAN, 1.0),
           "%": (Unit.PERCENT, 0.01), "％": (Unit.PERCENT, 0.01), "人": (Unit.COUNT, 1.0), "项": (Unit.COUNT, 1.0),
           "家": (Unit.COUNT, 1.0), "年": (Unit.YEARS, 1.0), "分": (Unit.POINTS, 1.0)}
_SAME = {Unit.PEOPLE: Unit.COUNT}
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_UNITS = "|".join(sorted((re.escape(u) for u in _FAMILY), key=len, reverse=True))
_QUANTITY = re.compile(rf"(?<![\d.,近前第])(?P<a>{_NUMBER})(?:\s*(?:%|％)?\s*(?:（[含不]+）)?\s*[-–—~至到]\s*"
                       rf"(?P<b>{_NUMBER}))?\s*(?P<unit>{_UNITS})")



def quantities(label: str) -> list[tuple[Unit, float]]:
    """Every number written with a unit in ``label``, converted to the unit rules use (万元, fraction, …)."""
    out: list[tuple[Unit, float]] = []
    for m in _QUANTITY.finditer(label):
        family, factor = _FAMILY[m.group("unit")]
        for part in (m.group("a"), m.group("b")):
            if part is not None:
                out.append((family, float(part.replace(",", "")) * factor))
    return out


def comparison(label: str) -> str | None:
    """The operator the label's comparison words say, or None when it has none or several kinds."""
    found: set[str] = set()
    rest = label
    for word, op in LABEL_WORDS:
        if word in rest:
            found.add(op)
            rest = rest.replace(word, "")
    if len(found) != 1:
        return None
    op = found.pop()
    return op.rstrip("=") if "不含" in label else op


def _family(unit: Unit) -> Unit:
    return _SAME.get(unit, unit)


def _close(a: float, b: float) -> bool:
    return math.isclose(abs(a), abs(b), rel_tol=1e-9, abs_tol=1e-9)


def _fmt(unit: Unit, v: float) -> str:
    return f"{v * 100:g}%" if unit == Unit.PERCENT else f"{v:g}"


def _walk(c: Criterion, loc: Loc) -> Iterator[tuple[Criterion, Loc]]:
    yield c, loc
    kind = c.kind
    sub: Loc = (kind, "of") if kind in ("at_least", "score", "subtotal") else (kind,)
    for i, child in enumerate(c.children()):
        yield from _walk(child, loc + sub + (i,))


def _band_problems(bands: list[Band], loc: Loc, edge_unit: Unit, value_unit: Unit | None) -> list[tuple[Loc, str, str]]:
    problems: list[tuple[Loc, str, str]] = []
    for i, band in enumerate(bands):
        if not band.label:
            continue
        edges = [e for e in (band.min, band.max) if e is not None]
        if _family(edge_unit) == Unit.COUNT and band.max is not None and float(band.max).is_integer():
            edges.append(band.max - 1)  # counts: [3, 5) is written "3–4项"
        for family, v in quantities(band.label):
            # a table over an expression without a declared unit: any written quantity must be an edge
            edge_family = family if edge_unit == Unit.NUMBER and family != Unit.POINTS else _family(edge_unit)
            allowed = edges if family == edge_family else []
            if value_unit is not None and family == _family(value_unit) and band.value is not None:
                allowed = [*allowed, band.value]
            if family not in (edge_family, _family(value_unit or edge_family)):
                continue
            if not any(_close(v, a) for a in allowed):
                shown = "、".join(_fmt(family, a) for a in allowed) or "无"
                problems.append((loc + (i, "label"),
                                 f"标签“{band.label}”写的 {_fmt(family, v)} 与本档的界值（{shown}）不一致",
                                 "label-number-mismatch"))
    return problems


def label_problems(rs: CompiledRuleSet) -> list[tuple[Loc, str, str]]:
    """Where a label's numbers or comparison words disagree with the rule: location in the file, message, id."""
    problems: list[tuple[Loc, str, str]] = []
    for c, loc in _walk(rs.meta.criteria, ("criteria",)):
        node = rs.nodes[c.id]
        if isinstance(node, TestNode) and c.test is not None and c.test.op not in ("==", "!=", "in", "not_in"):
            th = c.test.threshold
            unit = node.threshold.unit
            if isinstance(th, int | float) and not isinstance(th, bool):
                said = [v for family, v in quantities(c.label) if family == _family(unit)]
                if said and not any(_close(v, th) for v in said):
                    problems.append((loc + ("label",),
                                     f"标签“{c.label}”写的 {'、'.join(_fmt(unit, v) for v in said)} 与阈值 "
                                     f"{_fmt(unit, float(th))}（{unit.value}）不一致", "label-number-mismatch"))
            elif isinstance(th, Lookup):
                problems += _band_problems(th.bands, loc + ("test", "threshold", "bands"), th.unit or unit, node.unit)
            op = comparison(c.label)
            if op is not None and op != c.test.op:
                problems.append((loc + ("label",),
                                 f"标签“{c.label}”的措辞表示 {op}，条件却是 {c.test.op}"
                                 f"（以上/以下/不低于/不超过含本数，超过/低于不含，见 docs/rule-language.md）",
                                 "label-operator-mismatch"))
        elif isinstance(node, PointsNode) and c.points is not None:
            problems += _band_problems(c.points.bands, loc + ("points", "bands"), node.unit, None)
        elif isinstance(node, ClassesNode) and c.classes is not None:
            problems += _band_problems(c.classes.bands, loc + ("classes", "bands"), node.unit, None)
    return problems
