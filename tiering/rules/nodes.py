"""Compiled criteria: the decision tree of a rule set, evaluable over arrays (batch) or for one firm.

Each node kind implements ``vec`` and ``one`` from the same compiled definition. Both return the same
record — value, threshold, status, points range, band — so the batch trace and the per-firm trace agree
by construction of the data and by test (``tests/test_paths_agree.py``) of the code.

Three-valued logic: a criterion passes, fails, or is unknown because data it needs is missing. An ``all``
fails if any child fails, else is unknown if any child is; an ``any`` passes if any child passes, else is
unknown if any child is; ``at_least k`` passes with k passes and fails once k can no longer be reached.
Points criteria carry a points range: equal ends when the value is known, the table's span when it is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from tiering.industry import membership
from tiering.rules.bands import MISSING, OUT_OF_DOMAIN, BandTable, tidy
from tiering.rules.expr import Context, Equivalence, Expr, equivalent_reads
from tiering.rules.operators import compare
from tiering.rules.schema import Band, Source, Unit

PASS, FAIL, UNKNOWN, SCORED = 1, 0, -1, 2
STATUS_TEXT = {PASS: "pass", FAIL: "fail", UNKNOWN: "unknown", SCORED: "scored"}
NO_BAND = -1

@dataclass
class Vec:
    """A node's result for every firm (arrays of equal length).

    ``text`` is what a text criterion saw (e.g. 行业); for a criterion reading a column the rule set declares equal
    to another, it says where the firm's value was derived ("销售收入由 营业收入 按 工作指引 口径取得（…）"), None
    elsewhere.
    """

    value: np.ndarray
    threshold: np.ndarray
    status: np.ndarray
    pmin: np.ndarray
    pmax: np.ndarray
    band: np.ndarray
    text: np.ndarray | None = None


@dataclass
class One:
    """A node's result for one firm."""

    value: float
    threshold: float
    status: int
    pmin: float
    pmax: float
    band: int
    text: str | None = None
    blank: tuple[tuple[str, int, str | None], ...] = ()
    """The register cells left blank that made ``value`` missing, when known (see :mod:`tiering.engine.blanks`)."""


class Evaluator(Protocol):
    """What a node needs while it evaluates: the data, the other nodes' results, dependency outcomes."""

    ctx: Context
    size: int

    def result(self, node_id: str) -> Any: ...
    def outcome(self, program: str) -> Any: ...


def _full(n: int, x: float) -> np.ndarray:
    return np.full(n, x, dtype=float)


@lru_cache(maxsize=4)
def _missing(n: int) -> np.ndarray:
    """One read-only all-NaN array per size, shared by every criterion without points or a threshold: a million
    firms × tens of criteria would otherwise allocate (and fault in) gigabytes of NaN."""
    out = np.full(n, math.nan)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=4)
def _no_band(n: int) -> np.ndarray:
    """One read-only NO_BAND array per size, shared like :func:`_missing`."""
    out = np.full(n, NO_BAND, dtype=np.int16)
    out.flags.writeable = False
    return out


@dataclass
class Node:
    """Common part of every compiled criterion."""

    id: str
    label: str
    source: Source
    provisional: bool
    unit: Unit
    children: list[Node] = field(default_factory=list)
    note: str | None = None

    kind = "node"

    def vec(self, ev: Evaluator) -> Vec:
        raise NotImplementedError

    def one(self, ev: Evaluator) -> One:
        raise NotImplementedError

    def walk(self) -> list[Node]:
        """This node and every node below it, parents first."""
        out: list[Node] = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    @property
    def gives_points(self) -> bool:
        return False

    @property
    def informational(self) -> bool:
        """True for nodes that describe a firm without deciding anything (groups do not count them)."""
        return False


def _derived_notes(exprs: list[Expr | None]) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """The equivalences ``exprs`` read, as (note, cells (field, equals, lag) read under it)."""
    reads: dict[tuple[str, int], Equivalence] = {}
    for e in exprs:
        if e is not None:
            equivalent_reads(e, 0, reads)
    grouped: dict[str, list[tuple[str, str, int]]] = {}
    for (name, lag), eq in reads.items():
        grouped.setdefault(eq.note, []).append((name, eq.equals, lag))
    return list(grouped.items())


def derivation_vec(ctx: Context, exprs: list[Expr | None], n: int) -> np.ndarray | None:
    """Per firm, the note of every equivalence its value was derived by (None where none was): a cell is derived
    where the register has no value for the field and has one for the column declared equal to it."""
    found = _derived_notes(exprs)
    if not found:
        return None
    used = []
    for note, cells in found:
        mask = np.zeros(n, dtype=bool)
        for name, equals, lag in cells:
            own, other = (np.asarray(ctx.col(f, lag), dtype=float) for f in (name, equals))
            mask |= np.isnan(own) & ~np.isnan(other)
        used.append((note, mask))
    if not any(mask.any() for _, mask in used):
        return None
    out = np.full(n, None, dtype=object)
    for i in np.flatnonzero(np.any([mask for _, mask in used], axis=0)):
        out[i] = "；".join(note for note, mask in used if mask[i])
    return out


def derivation_one(ctx: Context, exprs: list[Expr | None]) -> str | None:
    """The same note for one firm."""
    notes = [note for note, cells in _derived_notes(exprs)
             if any(math.isnan(ctx.col(f, lag)) and not math.isnan(ctx.col(e, lag)) for f, e, lag in cells)]
    return "；".join(notes) if notes else None


def _range_status_vec(op: str, lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    a = compare(op, lo, t)
    unknown = np.isnan(lo) | np.isnan(t)
    if hi is not lo:  # a known value is its own range: round and compare it once
        unknown |= np.isnan(hi) | (a != compare(op, hi, t))
    return np.where(unknown, np.int8(UNKNOWN), np.where(a, np.int8(PASS), np.int8(FAIL)))


def _range_status_one(op: str, lo: float, hi: float, t: float) -> int:
    if math.isnan(lo) or math.isnan(hi) or math.isnan(t):
        return UNKNOWN
    a, b = compare(op, lo, t), compare(op, hi, t)
    if a != b:
        return UNKNOWN
    return PASS if a else FAIL


@dataclass
class Threshold:
    """A fixed threshold, or one chosen per firm from a table by another value."""

    fixed: float | None = None
    by: Expr | None = None
    table: BandTable | None = None
    unit: Unit = Unit.NUMBER

    def vec(self, ctx: Context, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.fixed is not None:
            return _full(n, self.fixed), _no_band(n)
        assert self.by is not None and self.table is not None
        idx = self.table.index_vec(np.broadcast_to(self.by.vec(ctx, 0), n))
        values = np.array([b.value for b in self.table.bands] + [math.nan] * 3, dtype=float)
        return values[idx], idx

    def one(self, ctx: Context) -> tuple[float, int]:
        if self.fixed is not None:
            return self.fixed, NO_BAND
        assert self.by is not None and self.table is not None
        i = self.table.index_one(self.by.one(ctx, 0))
        return (self.table.bands[i].value if i >= 0 else math.nan), i  # type: ignore[return-value]


@dataclass
class TestNode(Node):
    """value op threshold; 'in'/'not_in' for text; or a test on another criterion's points."""

    kind = "test"
    op: str = ">="
    expr: Expr | None = None
    text_field: str | None = None
    values: tuple[str, ...] = ()
    prefix: bool = False
    """Compare hierarchical codes by prefix (industry codes: "K" holds "K7010"); see tiering.industry."""
    points_of: str | None = None
    threshold: Threshold = field(default_factory=Threshold)
    if_missing: int = UNKNOWN

    def vec(self, ev: Evaluator) -> Vec:
        n = ev.size
        nan = _missing(n)
        band = _no_band(n)
        if self.text_field is not None:
            import pandas as pd  # a batch text column comes from a pandas panel; one firm's cells go through one()

            text = np.asarray(ev.ctx.text(self.text_field), dtype=object)
            # a register holds few distinct texts (codes, industries): each is tested once; a missing one gets -1
            which, distinct = pd.factorize(text)
            distinct = np.asarray(distinct, dtype=object)
            missing = which < 0
            if self.prefix:
                inside = np.append(membership(distinct, self.values), np.int8(-1))[which]
                status = np.where(inside == -1, UNKNOWN, np.where((inside == 1) == (self.op == "in"), PASS, FAIL))
                status = np.where(missing, self.if_missing, status).astype(np.int8)
                return Vec(nan, nan, status, nan, nan, band, text)
            hit = np.append(np.isin(distinct.astype(str), list(self.values)), False)[which]
            ok = hit if self.op == "in" else ~hit
            status = np.where(missing, self.if_missing, np.where(ok, PASS, FAIL)).astype(np.int8)
            return Vec(nan, nan, status, nan, nan, band, text)
        t, band = self.threshold.vec(ev.ctx, n)
        if self.points_of is not None:
            ref: Vec = ev.result(self.points_of)
            status = _range_status_vec(self.op, ref.pmin, ref.pmax, t)
            value = np.where(ref.pmin == ref.pmax, ref.pmin, np.nan)
        else:
            assert self.expr is not None
            value = np.broadcast_to(self.expr.vec(ev.ctx, 0), n).astype(float)
            status = _range_status_vec(self.op, value, value, t)
            status = np.where(np.isnan(value), self.if_missing, status).astype(np.int8)
            return Vec(value, t, status, nan, nan, band, derivation_vec(ev.ctx, [self.expr, self.threshold.by], n))
        return Vec(value, t, status, nan, nan, band)

    def one(self, ev: Evaluator) -> One:
        if self.text_field is not None:
            text = ev.ctx.text(self.text_field)
            if text is None or (isinstance(text, float) and math.isnan(text)):
                return One(math.nan, math.nan, self.if_missing, math.nan, math.nan, NO_BAND, None)
            if self.prefix:
                inside = int(membership(np.array([text], dtype=object), self.values)[0])
                status = UNKNOWN if inside == -1 else PASS if (inside == 1) == (self.op == "in") else FAIL
                return One(math.nan, math.nan, status, math.nan, math.nan, NO_BAND, str(text))
            ok = (str(text) in self.values) == (self.op == "in")
            return One(math.nan, math.nan, PASS if ok else FAIL, math.nan, math.nan, NO_BAND, str(text))
        t, band = self.threshold.one(ev.ctx)
        if self.points_of is not None:
            ref: One = ev.result(self.points_of)
            status = _range_status_one(self.op, ref.pmin, ref.pmax, t)
            value = ref.pmin if ref.pmin == ref.pmax else math.nan
            return One(value, t, status, math.nan, math.nan, band)
        assert self.expr is not None
        value = self.expr.one(ev.ctx, 0)
        status = self.if_missing if math.isnan(value) else _range_status_one(self.op, value, value, t)
        return One(value, t, status, math.nan, math.nan, band,
                   derivation_one(ev.ctx, [self.expr, self.threshold.by]))


def _band_points(band: Band, lo_edge: float, hi_edge: float) -> tuple[float, float]:
    """A band's points range; a ``value`` band (the points are the value itself) spans its own interval."""
    p = band.points
    if p == "value":
        return lo_edge, hi_edge
    if isinstance(p, tuple):
        return float(p[0]), float(p[1])
    return float(p), float(p)  # type: ignore[arg-type]


@dataclass
class PointsNode(Node):
    """A points table over one value, with an explicit band for missing data.

    A ``value`` band gives the value itself as points; an ``override`` expression (an expert sub-score) replaces
    the range the table gives when it lies inside that range.
    """

    kind = "points"
    expr: Expr | None = None
    table: BandTable | None = None
    missing_points: float | None = None
    override: Expr | None = None

    @property
    def gives_points(self) -> bool:
        return True

    def band_range(self, i: int) -> tuple[float, float]:
        """Points range of band ``i`` (its interval for a ``value`` band)."""
        assert self.table is not None
        b = self.table.bands[i]
        lo = self.table.lo if b.min is None else float(b.min)
        hi = self.table.hi if b.max is None else float(b.max)
        return _band_points(b, lo, hi)

    def span(self) -> tuple[float, float]:
        """The lowest and highest points the table can give."""
        assert self.table is not None
        ranges = [self.band_range(i) for i in range(len(self.table.bands))]
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def from_register(self, band: int, pmin: float, pmax: float) -> bool:
        """Whether a result's points (band ``band``, ``pmin``–``pmax``) are a score the register gives rather than
        the table's: a ``value`` band's value, or the ``override`` where it narrowed the range the table gives (the
        band's, or the whole table's for missing data) to one score."""
        assert self.table is not None
        if band >= 0 and self.table.bands[band].points == "value":
            return True
        if self.override is None or math.isnan(pmin) or pmin != pmax:
            return False
        if band >= 0:
            lo, hi = self.band_range(band)
        elif band == MISSING and self.missing_points is not None:
            return False  # a fixed score for missing data: an override equal to it changes nothing
        else:
            lo, hi = self.span()
        return lo < hi

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.table is not None
        ranges = [self.band_range(i) for i in range(len(self.table.bands))]
        lo, hi = [r[0] for r in ranges], [r[1] for r in ranges]
        tlo, thi = self.span()
        if self.missing_points is not None:
            span_lo = span_hi = self.missing_points
        else:
            span_lo, span_hi = tlo, thi
        is_value = [b.points == "value" for b in self.table.bands]
        # indexed by band, or from the end: -3 (out of domain) spans the table, -2 (missing) as declared
        return (np.array([*lo, tlo, span_lo, math.nan], dtype=float),
                np.array([*hi, thi, span_hi, math.nan], dtype=float),
                np.array([*is_value, False, False, False], dtype=bool))

    def vec(self, ev: Evaluator) -> Vec:
        assert self.expr is not None and self.table is not None
        n = ev.size
        value = np.broadcast_to(self.expr.vec(ev.ctx, 0), n).astype(float)
        tidied = tidy(value)
        idx = self.table.index_vec(tidied)
        lo, hi, is_value = self._arrays()
        pmin, pmax = lo[idx], hi[idx]
        given = is_value[idx]
        pmin, pmax = np.where(given, tidied, pmin), np.where(given, tidied, pmax)
        if self.override is not None:
            o = tidy(np.broadcast_to(self.override.vec(ev.ctx, 0), n).astype(float))
            use = ~np.isnan(o) & (o >= pmin) & (o <= pmax)
            pmin, pmax = np.where(use, o, pmin), np.where(use, o, pmax)
        status = np.where(pmin == pmax, SCORED, UNKNOWN).astype(np.int8)
        return Vec(value, _missing(n), status, pmin, pmax, idx, derivation_vec(ev.ctx, [self.expr, self.override], n))

    def one(self, ev: Evaluator) -> One:
        assert self.expr is not None and self.table is not None
        value = self.expr.one(ev.ctx, 0)
        tidied = tidy(value)
        i = self.table.index_one(tidied)  # type: ignore[arg-type]
        if i >= 0 and self.table.bands[i].points == "value":
            pmin = pmax = float(tidied)
        elif i >= 0:
            pmin, pmax = self.band_range(i)
        elif i == MISSING and self.missing_points is not None:
            pmin = pmax = self.missing_points
        else:
            pmin, pmax = self.span()
        if self.override is not None:
            o = tidy(self.override.one(ev.ctx, 0))
            if not math.isnan(o) and pmin <= o <= pmax:  # type: ignore[operator]
                pmin = pmax = float(o)
        status = SCORED if pmin == pmax else UNKNOWN
        return One(value, math.nan, status, float(pmin), float(pmax), i,
                   derivation_one(ev.ctx, [self.expr, self.override]))


@dataclass
class BestOfNode(Node):
    """The better of several points criteria (the firm may choose the option that scores higher)."""

    kind = "best_of"

    @property
    def gives_points(self) -> bool:
        return True

    def vec(self, ev: Evaluator) -> Vec:
        res = [ev.result(c.id) for c in self.children]
        lo = np.vstack([r.pmin for r in res])
        hi = np.vstack([r.pmax for r in res])
        pmin, pmax = lo.max(axis=0), hi.max(axis=0)
        choice = lo.argmax(axis=0).astype(np.int16)
        status = np.where(pmin == pmax, SCORED, UNKNOWN).astype(np.int8)
        return Vec(pmin.copy(), _missing(ev.size), status, pmin, pmax, choice)

    def one(self, ev: Evaluator) -> One:
        res = [ev.result(c.id) for c in self.children]
        lows = [r.pmin for r in res]
        pmin, pmax = max(lows), max(r.pmax for r in res)
        choice = lows.index(pmin)
        return One(pmin, math.nan, SCORED if pmin == pmax else UNKNOWN, pmin, pmax, choice)


def _sum_points_vec(ev: Evaluator, children: list[Node]) -> tuple[np.ndarray, np.ndarray]:
    """The summed points range of ``children`` for every firm."""
    res = [ev.result(c.id) for c in children]
    return np.sum([r.pmin for r in res], axis=0), np.sum([r.pmax for r in res], axis=0)


def _sum_points_one(ev: Evaluator, children: list[Node]) -> tuple[float, float]:
    """The summed points range of ``children`` for one firm."""
    res = [ev.result(c.id) for c in children]
    return float(sum(r.pmin for r in res)), float(sum(r.pmax for r in res))


@dataclass
class SubtotalNode(Node):
    """The sum of points criteria, capped (a points criterion itself, e.g. 知识产权 ≤ 30 with its bonus)."""

    kind = "subtotal"
    cap: float | None = None

    @property
    def gives_points(self) -> bool:
        return True

    def vec(self, ev: Evaluator) -> Vec:
        pmin, pmax = _sum_points_vec(ev, self.children)
        if self.cap is not None:
            pmin, pmax = np.minimum(pmin, self.cap), np.minimum(pmax, self.cap)
        status = np.where(pmin == pmax, SCORED, UNKNOWN).astype(np.int8)
        return Vec(pmin.copy(), _missing(ev.size), status, pmin, pmax, _no_band(ev.size))

    def one(self, ev: Evaluator) -> One:
        pmin, pmax = _sum_points_one(ev, self.children)
        if self.cap is not None:
            pmin, pmax = min(pmin, self.cap), min(pmax, self.cap)
        return One(pmin, math.nan, SCORED if pmin == pmax else UNKNOWN, pmin, pmax, NO_BAND)


@dataclass
class ClassesNode(Node):
    """Labelled bands that classify a firm (status scored, band = the class) without affecting any outcome."""

    kind = "classes"
    expr: Expr | None = None
    table: BandTable | None = None

    @property
    def informational(self) -> bool:
        return True

    def vec(self, ev: Evaluator) -> Vec:
        assert self.expr is not None and self.table is not None
        n = ev.size
        value = np.broadcast_to(self.expr.vec(ev.ctx, 0), n).astype(float)
        idx = self.table.index_vec(tidy(value))
        status = np.where(idx >= 0, SCORED, UNKNOWN).astype(np.int8)
        nan = _missing(n)
        return Vec(value, nan, status, nan, nan, idx, derivation_vec(ev.ctx, [self.expr], n))

    def one(self, ev: Evaluator) -> One:
        assert self.expr is not None and self.table is not None
        value = self.expr.one(ev.ctx, 0)
        i = self.table.index_one(tidy(value))  # type: ignore[arg-type]
        return One(value, math.nan, SCORED if i >= 0 else UNKNOWN, math.nan, math.nan, i,
                   derivation_one(ev.ctx, [self.expr]))

    def label_of(self, band: int) -> str | None:
        """The label of class ``band`` (None when the firm is in no class)."""
        assert self.table is not None
        return self.table.bands[band].label if band >= 0 else None


GIVEN_INSIDE, GIVEN_OUTSIDE = 0, 1
"""Band of a score read from its ``override`` (a given score): inside, or outside, the range the parts add up to."""
GIVEN_TEXT = {
    GIVEN_INSIDE: "按登记的得分：人工覆盖计算结果，登记得分在计算范围内",
    GIVEN_OUTSIDE: "按登记的得分：人工覆盖计算结果，登记得分超出按各项计算的范围，请核对",
}


@dataclass
class ScoreNode(Node):
    """The sum of points criteria against a pass mark; the sum is a range while any part is unknown.

    An ``override`` expression (a score the register holds) replaces the sum wherever it has a value, as an
    explicit override: the band says so, and whether the given score lies inside the computed range.
    """

    kind = "score"
    op: str = ">="
    mark: float = 0.0
    override: Expr | None = None

    @property
    def gives_points(self) -> bool:
        return True

    def vec(self, ev: Evaluator) -> Vec:
        pmin, pmax = _sum_points_vec(ev, self.children)
        band = _no_band(ev.size)
        if self.override is not None:
            o = tidy(np.broadcast_to(self.override.vec(ev.ctx, 0), ev.size).astype(float))
            given = ~np.isnan(o)
            inside = (o >= tidy(pmin)) & (o <= tidy(pmax))
            band = np.where(given, np.where(inside, GIVEN_INSIDE, GIVEN_OUTSIDE), NO_BAND).astype(np.int16)
            pmin, pmax = np.where(given, o, pmin), np.where(given, o, pmax)
        t = _full(ev.size, self.mark)
        status = _range_status_vec(self.op, pmin, pmax, t)
        return Vec(pmin.copy(), t, status, pmin, pmax, band)

    def label_of(self, band: int) -> str | None:
        """What band ``band`` of this score says: read from the override (inside or outside), or None (computed)."""
        return GIVEN_TEXT.get(band) if self.override is not None else None

    def one(self, ev: Evaluator) -> One:
        pmin, pmax = _sum_points_one(ev, self.children)
        band = NO_BAND
        if self.override is not None:
            o = tidy(self.override.one(ev.ctx, 0))
            if not math.isnan(o):  # type: ignore[arg-type]
                band = GIVEN_INSIDE if tidy(pmin) <= o <= tidy(pmax) else GIVEN_OUTSIDE  # type: ignore[operator]
                pmin = pmax = float(o)  # type: ignore[arg-type]
        return One(pmin, self.mark, _range_status_one(self.op, pmin, pmax, self.mark), pmin, pmax, band)


@dataclass
class GroupNode(Node):
    """all / any / at_least k / paths (an 'any' that also records which alternative qualified)."""

    kind = "group"
    how: str = "all"
    k: int = 1

    def counted(self) -> list[Node]:
        """The children whose status counts (informational children such as classes do not)."""
        return [c for c in self.children if not c.informational]

    def _need(self) -> int:
        return {"all": len(self.counted()), "any": 1, "paths": 1}.get(self.how, self.k)

    def vec(self, ev: Evaluator) -> Vec:
        kids = self.counted()
        if not kids:
            nan = _missing(ev.size)
            return Vec(nan, nan, np.full(ev.size, PASS, dtype=np.int8), nan, nan, _no_band(ev.size))
        st = np.vstack([ev.result(c.id).status for c in kids])
        passes = (st == PASS).sum(axis=0)
        unknowns = (st == UNKNOWN).sum(axis=0)
        need = self._need()
        status = np.where(passes >= need, PASS, np.where(passes + unknowns < need, FAIL, UNKNOWN)).astype(np.int8)
        band = _no_band(ev.size)
        if self.how == "paths":
            band = np.where(status == PASS, (st == PASS).argmax(axis=0), NO_BAND).astype(np.int16)
        nan = _missing(ev.size)
        return Vec(passes.astype(float), _full(ev.size, float(need)), status, nan, nan, band)

    def one(self, ev: Evaluator) -> One:
        st = [ev.result(c.id).status for c in self.counted()]
        passes, unknowns, need = st.count(PASS), st.count(UNKNOWN), self._need()
        status = PASS if passes >= need else FAIL if passes + unknowns < need else UNKNOWN
        band = st.index(PASS) if self.how == "paths" and status == PASS else NO_BAND
        return One(float(passes), float(need), status, math.nan, math.nan, band)


@dataclass
class RequiresNode(Node):
    """Another program's outcome, evaluated earlier in the same run."""

    kind = "requires"
    program: str = ""

    def vec(self, ev: Evaluator) -> Vec:
        status = np.asarray(ev.outcome(self.program), dtype=np.int8)
        nan = _missing(ev.size)
        return Vec(status.astype(float), _full(ev.size, 1.0), status, nan, nan, _no_band(ev.size))

    def one(self, ev: Evaluator) -> One:
        status = int(ev.outcome(self.program))
        return One(float(status), 1.0, status, math.nan, math.nan, NO_BAND)


__all__ = [
    "PASS", "FAIL", "UNKNOWN", "SCORED", "NO_BAND", "MISSING", "OUT_OF_DOMAIN", "STATUS_TEXT", "GIVEN_INSIDE",
    "GIVEN_OUTSIDE", "GIVEN_TEXT",
    "Vec", "One", "Node", "TestNode", "PointsNode", "BestOfNode", "SubtotalNode", "ScoreNode", "GroupNode",
    "RequiresNode", "ClassesNode", "Threshold",
]
