"""Turn a validated rule file into a compiled rule set, checking everything that needs the whole file."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from tiering import industry
from tiering.fields import BY_ID, DType
from tiering.rules import bands as band_tables
from tiering.rules.expr import Compiler, Equivalence, Expr, ExprError
from tiering.rules.extends import Base
from tiering.rules.nodes import (
    FAIL,
    PASS,
    UNKNOWN,
    BestOfNode,
    ClassesNode,
    GroupNode,
    Node,
    PointsNode,
    RequiresNode,
    ScoreNode,
    SubtotalNode,
    TestNode,
    Threshold,
)
from tiering.rules.operators import compare
from tiering.rules.schema import AtPurpose, Criterion, RuleSetFile, Status, Unit
from tiering.rules.yamlsrc import Loc

_MISSING_CODE = {"unknown": UNKNOWN, "pass": PASS, "fail": FAIL}


@dataclass
class CompiledRuleSet:
    """A rule set ready to evaluate: its metadata, compiled decision tree and provenance."""

    meta: RuleSetFile
    root: Node
    nodes: dict[str, Node]
    path: Path
    sha256: str
    needs: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Expr] = field(default_factory=dict)
    bases: tuple[Base, ...] = ()
    """The rule files this one extends (nearest first), each with its own SHA-256; empty for a whole file."""
    equivalences: tuple[Equivalence, ...] = ()
    """The columns this rule set's documents make equal to others (its ``equivalents``), derived where missing."""
    purpose: str = "认定"
    """The purpose of evaluation this tree is compiled for (认定 / 复核): criteria with ``purposes`` differ by it."""
    purpose_notes: tuple[str, ...] = ()
    """What differs for this purpose, in Chinese with the source: "复核不考核：…", "复核改用：…"."""
    variants: dict[str, CompiledRuleSet] = field(default_factory=dict)
    """The same rule set compiled for each other purpose its criteria name (empty when none does)."""

    def for_purpose(self, purpose: str) -> CompiledRuleSet:
        """This rule set as it applies to an evaluation of ``purpose`` (itself when no criterion differs)."""
        return self.variants.get(purpose, self)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def program(self) -> str:
        return self.meta.program

    @property
    def version(self) -> str:
        return self.meta.version

    @property
    def provisional(self) -> bool:
        """Provisional — the one meaning, written in docs/rule-language.md ("Provisional"): the rule set's status is
        ``provisional`` or ``draft``, or one of its criteria is provisional (marked ``provisional: true``, or inside
        a criterion that is). Everything said of a provisional rule set says 暂定."""
        return self.meta.status in (Status.DRAFT, Status.PROVISIONAL) or any(n.provisional for n in self.nodes.values())

    @property
    def shown_title(self) -> str:
        """The programme's title as every output names it: with （暂定） when the rule set is provisional."""
        return self.meta.program_title + ("（暂定）" if self.provisional else "")

    def requires(self) -> set[str]:
        """Programs whose outcome this rule set reads."""
        return {n.program for n in self.nodes.values() if isinstance(n, RequiresNode)}

    def score_node(self) -> ScoreNode | None:
        """The rule set's (first) score, if it has one."""
        return next((n for n in self.root.walk() if isinstance(n, ScoreNode)), None)

    def paths_node(self) -> GroupNode | None:
        """The node whose alternatives are the qualifying paths, if any."""
        return next((n for n in self.root.walk() if isinstance(n, GroupNode) and n.how == "paths"), None)


class _Build:
    def __init__(self, spec: RuleSetFile, purpose: str = "认定") -> None:
        self.spec, self.purpose = spec, purpose
        self.purpose_notes: list[str] = []
        self.problems: list[tuple[Loc, str]] = []
        self.equivalences = self._equivalences()
        self.compiler = Compiler({k: m.expr for k, m in spec.metrics.items()},
                                 {e.field: e for e in self.equivalences})
        self.nodes: dict[str, Node] = {}
        self.needs: dict[str, int] = {}

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def _equivalences(self) -> tuple[Equivalence, ...]:
        """The declared equivalents, checked: two numeric fields of one type, each field derived at most once."""
        out: list[Equivalence] = []
        for i, eq in enumerate(self.spec.equivalents):
            loc: Loc = ("equivalents", i)
            a, b = BY_ID.get(eq.field), BY_ID.get(eq.equals)
            if a is None or b is None:
                unknown = eq.field if a is None else eq.equals
                self.problem(loc + ("field" if a is None else "equals",), f"unknown field '{unknown}'")
                continue
            if a.dtype != b.dtype or a.dtype in (DType.TEXT, DType.DATE) or a.kind != b.kind or a.id == b.id:
                self.problem(loc + ("equals",), f"'{a.id}' can only be read as another numeric field of the same "
                                                f"type and kind; '{b.id}' is not one")
                continue
            if any(e.field == a.id for e in out):
                self.problem(loc + ("field",), f"'{a.id}' has two equivalents in this rule set; keep one")
                continue
            mark = "【暂定口径】" if eq.provisional else ""
            note = f"{a.label}由 {b.label} 按 {eq.basis} 口径取得{mark}（{eq.source.document} {eq.source.clause}）"
            out.append(Equivalence(a.id, b.id, note))
        return tuple(out)

    def expr(self, text: str, loc: Loc) -> Expr | None:
        try:
            compiled = self.compiler.compile(text)
        except ExprError as exc:
            self.problem(loc, f"in '{text}' at column {exc.column + 1}: {exc}")
            return None
        compiled.needs(0, self.needs)
        return compiled

    def unit_of(self, text: str, declared: Unit | None) -> Unit:
        if declared is not None:
            return declared
        name = text.strip()
        if name in self.spec.metrics:
            return self.spec.metrics[name].unit
        f = BY_ID.get(name)
        if f is not None:
            return {DType.MONEY: Unit.WAN, DType.BOOL: Unit.BOOL, DType.INT: Unit.COUNT, DType.RATIO: Unit.PERCENT,
                    DType.SCORE: Unit.POINTS, DType.TEXT: Unit.TEXT}.get(f.dtype, Unit.NUMBER)
        return Unit.NUMBER

    def table(self, spec_bands, intervals, domain, loc: Loc, what: str) -> band_tables.BandTable:  # noqa: ANN001
        table, problems = band_tables.build(spec_bands, intervals, domain)
        for p in problems:
            self.problem(loc + ("bands",), p)
        for i, b in enumerate(spec_bands):
            if what == "points" and b.points is None:
                self.problem(loc + ("bands", i), "a points band needs 'points'")
            edges = (table.lo if b.min is None else b.min, table.hi if b.max is None else b.max)
            if what == "points" and b.points == "value" and not all(math.isfinite(e) for e in edges):
                self.problem(loc + ("bands", i), "a 'points: value' band needs finite edges (set min/max or domain)")
            if what != "points" and b.points is not None:
                self.problem(loc + ("bands", i), f"a {what} band gives no points; remove 'points'")
            if what == "value" and b.value is None:
                self.problem(loc + ("bands", i), "a threshold band needs 'value'")
            if what == "class" and not b.label:
                self.problem(loc + ("bands", i), "a class band needs a 'label' (it is what the class is called)")
            if what == "class" and b.value is not None:
                self.problem(loc + ("bands", i), "a class band gives no value; remove 'value'")
        return table

    def kids(self, items: list[Criterion], loc: Loc, parent_kind: str) -> list[Node]:
        """The compiled children of a group, without those this purpose does not test."""
        out = []
        for i, k in enumerate(items):
            at = k.purposes.get(self.purpose)  # type: ignore[call-overload]
            if at is not None and at.skip:
                self.purpose_notes.append(f"{self.purpose}不考核：{k.label}{_cited(at)}")
                continue
            out.append(self.node(k, loc + (i,), parent_kind))
        return out

    def node(self, c: Criterion, loc: Loc, parent_kind: str) -> Node:
        at = c.purposes.get(self.purpose)  # type: ignore[call-overload]
        if at is not None and at.criterion is not None:
            self.purpose_notes.append(f"{self.purpose}改用：{at.criterion.label}（代替：{c.label}）{_cited(at)}")
            return self.node(at.criterion, loc + ("purposes", self.purpose, "criterion"), parent_kind)
        if at is not None and parent_kind == "root":
            self.problem(loc + ("purposes", self.purpose), "the root criterion cannot be skipped")
        if c.id in self.nodes:
            self.problem(loc + ("id",), f"criterion id '{c.id}' is used twice in this rule set")
        base = dict(id=c.id, label=c.label, source=c.source, provisional=c.provisional, note=c.note,
                    unit=Unit.NUMBER)
        kind = c.kind
        adders = ("score", "best_of", "subtotal")
        if parent_kind in adders and kind not in ("points", "best_of", "subtotal"):
            self.problem(loc, f"a {parent_kind} adds up points criteria; '{c.id}' is a {kind}")
        if parent_kind not in adders and kind in ("points", "best_of", "subtotal"):
            self.problem(loc, f"'{c.id}' gives points but sits under a {parent_kind}; put it inside a score")
        if kind == "classes" and parent_kind != "all":
            self.problem(loc, f"classes '{c.id}' only describes a firm; put it directly under an 'all' group")
        node: Node
        if kind == "test":
            node = self._test(c, loc + ("test",), base)
        elif kind == "points":
            t = c.points
            assert t is not None
            table = self.table(t.bands, t.intervals, t.domain, loc + ("points",), "points")
            node = PointsNode(**base, expr=self.expr(t.value, loc + ("points", "value")), table=table,
                              missing_points=t.missing.points)
            if t.override is not None:
                node.override = self.expr(t.override, loc + ("points", "override"))
            node.unit = self.unit_of(t.value, t.unit)
        elif kind == "subtotal":
            st = c.subtotal
            assert st is not None
            kids = self.kids(st.of, loc + ("subtotal", "of"), "subtotal")
            node = SubtotalNode(**base, children=kids, cap=st.cap)
            node.unit = Unit.POINTS
        elif kind == "classes":
            cl = c.classes
            assert cl is not None
            table = self.table(cl.bands, cl.intervals, cl.domain, loc + ("classes",), "class")
            node = ClassesNode(**base, expr=self.expr(cl.value, loc + ("classes", "value")), table=table)
            node.unit = self.unit_of(cl.value, cl.unit)
        elif kind == "score":
            s = c.score
            assert s is not None
            kids = self.kids(s.of, loc + ("score", "of"), "score")
            node = ScoreNode(**base, children=kids, op=s.op, mark=s.threshold)
            if s.override is not None:
                node.override = self.expr(s.override, loc + ("score", "override"))
            node.unit = Unit.POINTS
            reachable = sum(_max_points(k) for k in kids)
            if not compare(s.op, reachable, s.threshold):
                self.problem(loc + ("score", "threshold"),
                             f"pass mark {s.op} {s.threshold:g} cannot be reached: the parts add up to {reachable:g}")
        elif kind == "best_of":
            kids = self.kids(c.best_of or [], loc + ("best_of",), "best_of")
            node = BestOfNode(**base, children=kids)
            node.unit = Unit.POINTS
        elif kind == "requires":
            assert c.requires is not None
            node = RequiresNode(**base, program=c.requires.program)
            node.unit = Unit.OUTCOME
        else:
            items = c.at_least.of if kind == "at_least" else getattr(c, kind)  # type: ignore[union-attr]
            sub = ("at_least", "of") if kind == "at_least" else (kind,)
            kids = self.kids(items, loc + sub, kind)
            k_needed = c.at_least.k if c.at_least is not None else 1
            if kind == "at_least" and k_needed > len(kids):
                self.problem(loc + ("at_least", "k"), f"needs {k_needed} of only {len(kids)} criteria: cannot pass")
            node = GroupNode(**base, children=kids, how=kind, k=k_needed)
        self.nodes.setdefault(c.id, node)
        return node

    def _test(self, c: Criterion, loc: Loc, base: dict) -> TestNode:
        t = c.test
        assert t is not None
        node = TestNode(**base, op=t.op, if_missing=_MISSING_CODE[t.if_missing])
        if t.op in ("in", "not_in"):
            field_id = self.compiler.text_field(t.value or "")
            if field_id is None:
                self.problem(loc + ("value",), f"'{t.op}' compares a text field (e.g. province, district); "
                                               f"'{t.value}' is not one")
            else:
                self.needs.setdefault(field_id, 0)
            node.text_field, node.values, node.unit = field_id, tuple(t.values or ()), Unit.TEXT
            if field_id == industry.CODE_FIELD:
                node.prefix, node.values = True, self._codes(node.values, loc + ("values",))
            return node
        if t.points_of is not None:
            node.points_of, node.unit = t.points_of, Unit.POINTS
        else:
            assert t.value is not None
            node.expr = self.expr(t.value, loc + ("value",))
            node.unit = self.unit_of(t.value, t.unit)
        th = t.threshold
        if isinstance(th, bool):
            node.threshold = Threshold(fixed=1.0 if th else 0.0, unit=node.unit)
        elif isinstance(th, int | float):
            node.threshold = Threshold(fixed=float(th), unit=node.unit)
        elif isinstance(th, str):
            self.problem(loc + ("threshold",), f"threshold must be a number, true/false or a lookup table; got '{th}'")
        elif th is not None:
            table = self.table(th.bands, th.intervals, th.domain, loc + ("threshold",), "value")
            by = self.expr(th.by, loc + ("threshold", "by"))
            node.threshold = Threshold(by=by, table=table, unit=self.unit_of(th.by, th.unit))
        return node


    def _codes(self, values: tuple[str, ...], loc: Loc) -> tuple[str, ...]:
        """Industry codes of a rule, as stored (section letter + digits); an unknown one is a problem."""
        codes: list[str] = []
        for i, value in enumerate(values):
            try:
                codes.append(industry.classification().code_of(value))
            except industry.IndustryCodeError as error:
                self.problem(loc + (i,), str(error))
        return tuple(codes)


def _cited(at: AtPurpose) -> str:
    mark = "【暂定】" if at.provisional else ""
    note = f"；{at.note}" if at.note else ""
    return f"{mark}（{at.source.document} {at.source.clause}{note}）"


def _purposes_named(c: Criterion) -> set[str]:
    found = set(c.purposes)
    for child in c.children():
        found |= _purposes_named(child)
    for at in c.purposes.values():
        if at.criterion is not None:
            found |= _purposes_named(at.criterion)
    return found


def _max_points(node: Node) -> float:
    if isinstance(node, PointsNode) and node.table is not None:
        if any(b.points is None for b in node.table.bands):
            return 0.0  # already reported as a band without points
        return max(node.span()[1], -math.inf if node.missing_points is None else node.missing_points)
    if isinstance(node, BestOfNode):
        return max(_max_points(k) for k in node.children)
    if isinstance(node, SubtotalNode):
        total = sum(_max_points(k) for k in node.children)
        return total if node.cap is None else min(total, node.cap)
    return 0.0


def compile_ruleset(spec: RuleSetFile, path: Path, raw: bytes) -> tuple[CompiledRuleSet | None, list[tuple[Loc, str]]]:
    """Compile ``spec`` for 认定 and for every other purpose its criteria name (``variants``); return the rule set
    (None when it has problems) and the problems with their locations."""
    compiled, problems = _compile_for(spec, path, raw, "认定")
    for purpose in sorted(_purposes_named(spec.criteria) - {"认定"}):
        variant, found = _compile_for(spec, path, raw, purpose)
        problems += [p for p in found if p not in problems]
        if compiled is not None and variant is not None:
            compiled.variants[purpose] = variant
    return (compiled if not problems else None), problems


def _compile_for(spec: RuleSetFile, path: Path, raw: bytes,
                 purpose: str) -> tuple[CompiledRuleSet | None, list[tuple[Loc, str]]]:
    b = _Build(spec, purpose)
    if spec.id != path.stem:
        b.problem(("id",), f"id '{spec.id}' must equal the file name '{path.stem}'")
    metrics: dict[str, Expr] = {}
    for name, metric in spec.metrics.items():
        if name in BY_ID:
            b.problem(("metrics", name), f"metric '{name}' has the name of a field; choose another name")
            continue
        try:
            metrics[name] = b.compiler.metric(name)
        except ExprError as exc:
            b.problem(("metrics", name, "expr"), f"in '{metric.expr}' at column {exc.column + 1}: {exc}")
    root = b.node(spec.criteria, ("criteria",), "root")
    for marked in [n for n in root.walk() if n.provisional]:
        for inside in marked.walk():  # a criterion inside a provisional one is as uncertain as it
            inside.provisional = True
    for n in b.nodes.values():
        if isinstance(n, TestNode) and n.points_of is not None:
            target = b.nodes.get(n.points_of)
            if target is None or not target.gives_points:
                b.problem(_loc_of(spec.criteria, n.id, ("criteria",)) + ("test", "points_of"),
                          f"points_of '{n.points_of}' must name a points, best_of or score criterion of this rule set")
    if b.problems:
        return None, b.problems
    return CompiledRuleSet(spec, root, b.nodes, path, hashlib.sha256(raw).hexdigest(), b.needs, metrics,
                           equivalences=b.equivalences, purpose=purpose, purpose_notes=tuple(b.purpose_notes)), []


def _loc_of(c: Criterion, node_id: str, loc: Loc) -> Loc:
    if c.id == node_id:
        return loc
    kind = c.kind
    sub: Loc = (kind, "of") if kind in ("at_least", "score", "subtotal") else (kind,)
    for i, child in enumerate(c.children()):
        found = _loc_of(child, node_id, loc + sub + (i,))
        if found:
            return found
    return ()
