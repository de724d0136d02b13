"""Moves: for one failing criterion, the cheapest concrete change per firm, as a cost and a Chinese text.

Costs compare alternatives (the cheaper 直通车 or score path, the cheaper pair of band moves): a numeric change costs
its relative size (+16 % = 0.16), one unit of a count from zero or a yes/no item (a certificate, an institution)
costs 1, waiting costs the years waited, registering elsewhere costs 5, and what cannot be changed costs ∞.
Everything numeric is computed for all the firms of a rule set at once; texts are written only for the moves that
end up chosen, for all the firms that need one text at once (``render(firms)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tiering.dates import DAYS_PER_YEAR
from tiering.engine.blanks import blank_cells
from tiering.explain.format import missing_cells
from tiering.fields import BY_ID, DType
from tiering.ladder import wording
from tiering.ladder.columns import Column, Texts, mend, place
from tiering.ladder.levers import (
    PatchedContext,
    Shift,
    direction,
    fixed_apart,
    levers,
    solve,
    solve_rows,
    uses_age,
)
from tiering.patterns import distinct_rows
from tiering.rules.bands import tidy
from tiering.rules.expr import Context, FieldRef
from tiering.rules.nodes import PASS, BestOfNode, Node, PointsNode, SubtotalNode, TestNode, Vec
from tiering.rules.operators import UPWARD, op_zh
from tiering.rules.schema import Unit

INF = math.inf
YES_NO = 1.0
"""Cost of obtaining a yes/no item (a certificate, a registered institution, an award)."""
RELOCATE = 5.0
"""Cost of a condition on where the firm is registered."""
STUCK = 10.0
"""Cost of a gap that no change of this year's own numbers closes (it may still close by other means)."""
_SIZES = (DType.MONEY, DType.INT)

Render = Callable[[np.ndarray], Column | list[str]]
"""The texts of one move for the firms at the given positions (in that order): a column, or a list of strings."""


class _Ev:
    """The least an evaluator must offer a test or points node evaluated on a patched context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.size = ctx, ctx.size

    def result(self, node_id: str) -> Any:
        raise KeyError(node_id)

    def outcome(self, program: str) -> Any:
        raise KeyError(program)


@dataclass
class Move:
    """Per firm: the cost of a change, and how to say it for some firms (only asked for firms that need it)."""

    cost: np.ndarray
    render: Render


@dataclass
class Option:
    """One band move of a points item: points gained (low and high end of the range), cost and text per firm."""

    item: int
    gain_lo: np.ndarray
    gain_hi: np.ndarray
    cost: np.ndarray
    render: Render


def constant(text: str) -> Render:
    """The same text for every firm."""
    return lambda firms: [text] * len(firms)


def _each(say: Callable[[int], str]) -> Render:
    """A render from the text of one firm, asked firm by firm."""
    return lambda firms: [say(i) for i in firms.tolist()]


class Mover:
    """Moves for the nodes of one rule set, over a fixed subset of firms."""

    def __init__(self, ctx: Context | None, vec: Callable[[str], Vec], data_year: int,
                 metric_labels: dict[int, str], amounts: wording.Amounts) -> None:
        self.ctx, self.vec, self.data_year = ctx, vec, data_year
        # the amounts' tables are written in the kind of column every text of these moves is put together in
        self.metric_labels, self.amounts, self.texts = metric_labels, amounts, amounts.texts

    # --- tests -----------------------------------------------------------------------------------------------
    def describe(self, node: TestNode) -> str:
        """The criterion's short name: its metric's label when it tests a named metric, else its own label."""
        return self.metric_labels.get(id(node.expr), node.label) if node.expr is not None else node.label

    def shown(self, node: TestNode, firms: np.ndarray) -> Column:
        """'研发费用占比（当前3.90%，要求≥4.00%）' for each of ``firms``."""
        v = self.vec(node.id)
        name, op, unit = self.describe(node), op_zh(node.op), node.unit
        now, need = wording.shown_pairs(v.value[firms], v.threshold[firms], unit, self.texts)
        return self.texts.cat(f"{name}（当前", now, f"，要求{op}", need, "）")

    def test(self, node: TestNode, fail: np.ndarray) -> Move:
        """The cheapest change that makes a failing test pass, for the firms in ``fail``."""
        v: Vec = self.vec(node.id)
        if node.text_field is not None:
            texts = v.text
            return Move(np.where(fail, RELOCATE, 0.0),
                        _each(lambda i: f"须满足：{node.label}（当前：{texts[i] if texts is not None else '缺失'}）"))
        assert node.expr is not None
        expr = node.expr
        bare = expr if isinstance(expr, FieldRef) else None  # the test reads one column as it stands
        if bare is not None and BY_ID[bare.field].dtype == DType.BOOL:
            want = bool(v.threshold[0]) if node.op == "==" else not bool(v.threshold[0])
            if want:
                return Move(np.where(fail, YES_NO, 0.0), constant(f"需满足：{node.label}"))
            text = f"{wording.IMPOSSIBLE}：{node.label}（当前：{BY_ID[bare.field].label}为是）"
            return Move(np.where(fail, INF, 0.0), constant(text))
        if node.op not in UPWARD:
            return Move(np.where(fail, YES_NO, 0.0), lambda firms: self.shown(node, firms))
        if bare is not None and BY_ID[bare.field].dtype in _SIZES and UPWARD[node.op] < 0:
            # a size cap (职工 ≤ 500, 销售收入 ≤ 2亿): shrinking the firm is not advice; a value derived under a
            # declared equivalent is named by the column the firm holds (当前营业收入…)
            held, field = _held_label(bare, v), bare.field
            return Move(np.where(fail, INF, 0.0), _each(lambda i: f"{wording.IMPOSSIBLE}：{node.label}，"
                        f"当前{held(i)}{wording.of_field(field, float(v.value[i]))}，超过上限"))
        fields = levers(expr, node.threshold.by)
        if fields and self.ctx is not None:
            return self._lever_test(node, fail, fields, bare is not None)
        if uses_age(expr) and not fields:
            return self._age(node, v, fail)
        if not fields and self.ctx is not None:
            return Move(np.where(fail, INF, 0.0), lambda firms: self.texts.cat(
                f"{wording.IMPOSSIBLE}：", self.shown(node, firms), "，取决于往年数据"))
        return Move(np.where(fail, YES_NO, 0.0), lambda firms: self.shown(node, firms))

    def _age(self, node: TestNode, v: Vec, fail: np.ndarray) -> Move:
        per_day = 1.0 / DAYS_PER_YEAR if node.unit == Unit.YEARS else 1.0
        if UPWARD[node.op] > 0:
            days = np.ceil((v.threshold - v.value) / per_day + (1 if node.op == ">" else 0) - 1e-9)
            return Move(np.where(fail, days / DAYS_PER_YEAR, 0.0),
                        self._per_value(days, lambda d: f"{node.label}：尚需等待{d:g}天"))
        return Move(np.where(fail, INF, 0.0), self._per_value(v.value, lambda x: f"{wording.IMPOSSIBLE}：{node.label}"
                    f"（当前{wording.of_unit(x, node.unit)}）"))

    def _per_value(self, values: np.ndarray, say: Callable[[float], str]) -> Render:
        """A render of a text that depends on one number per firm alone: each distinct number (a firm's age, as
        of the same few founding dates) worded once."""

        def render(firms: np.ndarray) -> Column:
            at = values[firms]
            first, which = wording.distinct([wording.bits(at)])
            return self.texts.take([say(x) for x in at[first].tolist()], which)

        return render

    def _lever_test(self, node: TestNode, fail: np.ndarray, fields: list[str], bare: bool) -> Move:
        assert self.ctx is not None and node.expr is not None
        expr = node.expr
        shifts = []
        # a lever that also picks the threshold (研发费用占比 by 销售收入) can pass, fail and pass again as it
        # moves: there the search is not guessed ahead of
        moves_threshold = set(levers(node.threshold.by))
        v = self.vec(node.id)
        now = _gap(v)
        for field in fields:
            slope = direction(lambda c: np.broadcast_to(expr.vec(c, 0), c.size), self.ctx, field, fail)
            sign = slope.sign * UPWARD[node.op]
            tried, value = slope.tried(np.arange(len(fail)), sign)
            live = fixed_apart(node, field)

            def holds(c: PatchedContext, _part: np.ndarray, live: TestNode = live) -> np.ndarray:
                return live.vec(_Ev(c)).status == PASS

            def gap_holds(c: PatchedContext, _part: np.ndarray, live: TestNode = live) -> tuple[np.ndarray, np.ndarray]:
                v = live.vec(_Ev(c))
                return _gap(v), v.status == PASS

            guess = None if field in moves_threshold else (gap_holds, now, tried, value - v.threshold)
            shifts.append(solve(holds, self.ctx, field, sign, fail, guess))
        pick = _Pick(shifts, fail)

        nowhere = f"仅调整{self.data_year}年数据无法满足（取决于往年数据）"

        def render(firms: np.ndarray) -> Column:
            said = pick.say(firms, self.change, self.texts)
            found = pick.found[firms]
            if bare:  # where no change is found, the criterion as it stands
                return mend(self.texts, said, found,
                            lambda lost: self.texts.cat(self.shown(node, firms[lost]), "：", nowhere))
            colon = self.texts.take([f"：{nowhere}", "："], found.astype(np.int64))
            return self.texts.cat(self.shown(node, firms), colon, said)

        return Move(np.where(fail, np.where(np.isfinite(pick.cost), pick.cost, STUCK), 0.0), render)

    def change(self, s: Shift, firms: np.ndarray) -> Column:
        """'研发费用总额（2024年） 需增加38.5万元（822万元 → 860.5万元，+4.7%）' for each of ``firms``."""
        old = s.base[firms]
        return wording.changes(s.field, old, old + s.delta[firms], self.amounts, self.data_year)

    # --- points items ----------------------------------------------------------------------------------------
    def options(self, node: Node, item: int, active: np.ndarray) -> list[Option]:
        """Band moves of a points criterion (through best_of and subtotal), gains relative to ``node``."""
        if isinstance(node, PointsNode):
            return self._points_options(node, item, active)
        kids = node.children
        if isinstance(node, BestOfNode):
            lows = np.vstack([self.vec(c.id).pmin for c in kids])
            highs = np.vstack([self.vec(c.id).pmax for c in kids])
            out = []
            for k, child in enumerate(kids):
                others_lo = np.delete(lows, k, axis=0).max(axis=0, initial=-INF)
                others_hi = np.delete(highs, k, axis=0).max(axis=0, initial=-INF)
                for o in self.options(child, item, active):
                    new_lo = np.maximum(lows[k] + o.gain_lo, others_lo)
                    new_hi = np.maximum(highs[k] + o.gain_hi, others_hi)
                    out.append(Option(item, new_lo - lows.max(axis=0), new_hi - highs.max(axis=0), o.cost, o.render))
            return out
        if isinstance(node, SubtotalNode):
            s_lo = np.sum([self.vec(c.id).pmin for c in kids], axis=0)
            s_hi = np.sum([self.vec(c.id).pmax for c in kids], axis=0)
            cap = INF if node.cap is None else node.cap
            out = []
            for child in kids:
                for o in self.options(child, item, active):
                    g_lo = np.minimum(cap, s_lo + o.gain_lo) - np.minimum(cap, s_lo)
                    g_hi = np.minimum(cap, s_hi + o.gain_hi) - np.minimum(cap, s_hi)
                    out.append(Option(item, g_lo, g_hi, o.cost, o.render))
            return out
        return []

    def _points_options(self, node: PointsNode, item: int, active: np.ndarray) -> list[Option]:
        assert node.table is not None and node.expr is not None
        v: Vec = self.vec(node.id)
        known = active & (v.band >= 0)
        expr = node.expr
        # a yes/no column scored as it stands: obtaining the item is the move
        flag = expr if isinstance(expr, FieldRef) and BY_ID[expr.field].dtype == DType.BOOL else None
        fields = [] if flag is not None else levers(expr)
        if not known.any() or (flag is None and (not fields or self.ctx is None)):
            return []
        targets: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        for j, band in enumerate(node.table.bands):
            if band.points == "value":
                continue
            lo_j, hi_j = node.band_range(j)
            gain_lo, gain_hi = lo_j - v.pmin, hi_j - v.pmax
            target = known & (v.band != j) & (gain_hi > 0)
            if target.any():
                targets.append((j, target, gain_lo, gain_hi))
        if flag is not None:
            out = []
            for j, target, gain_lo, gain_hi in targets:
                reach = target & (node.table.index_vec(1.0 - v.value) == j)
                band = node.table.bands[j]
                want = f"需满足：{BY_ID[flag.field].label}（{node.label} {band.label}，得{node.band_range(j)[1]:g}分）"
                out.append(Option(item, gain_lo, gain_hi, np.where(reach, YES_NO, INF), constant(want)))
            return out
        return self._band_moves(node, targets, fields, item)

    def _band_moves(self, node: PointsNode, targets: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
                    fields: list[str], item: int) -> list[Option]:
        """Every band move of a points criterion: per lever one search over all (band, firm) rows at once."""
        assert self.ctx is not None and node.expr is not None and node.table is not None
        expr, table, ctx = node.expr, node.table, self.ctx
        if not targets:
            return []
        v = self.vec(node.id)
        value = tidy(np.asarray(v.value, dtype=float))
        anyone = np.any([t for _, t, _, _ in targets], axis=0)
        m = len(v.value)
        deltas = {field: np.full((len(targets), m), np.nan) for field in fields}
        for field in fields:
            slope = direction(lambda c: np.broadcast_to(expr.vec(c, 0), c.size), ctx, field, anyone)
            base = np.asarray(ctx.col(field, 0), dtype=float)
            rows, which, signs, needs, edges = [], [], [], [], []
            for k, (j, target, _, _) in enumerate(targets):
                band = table.bands[j]
                lo_edge = -INF if band.min is None else band.min
                hi_edge = INF if band.max is None else band.max
                desired = np.where(value < lo_edge, 1.0, np.where(value >= hi_edge, -1.0, 0.0))
                sign = slope.sign * desired
                moved = np.flatnonzero(target & (sign != 0) & ~np.isnan(base))
                rows.append(moved)
                which.append(np.full(len(moved), k))
                signs.append(sign[moved])
                needs.append(np.full(len(moved), node.band_range(j)[1]))
                edges.append(np.where(desired[moved] > 0, lo_edge, hi_edge))
            row = np.concatenate(rows)
            if not len(row):
                continue
            need, edge, sign = np.concatenate(needs), np.concatenate(edges), np.concatenate(signs)
            tried, value_there = slope.tried(row, sign)
            live = fixed_apart(node, field)

            def reaches(c: PatchedContext, part: np.ndarray, need: np.ndarray = need,
                        live: PointsNode = live) -> np.ndarray:
                return live.vec(_Ev(c)).pmax >= need[part] - 1e-9

            def gap_holds(c: PatchedContext, part: np.ndarray, edge: np.ndarray = edge, need: np.ndarray = need,
                          live: PointsNode = live) -> tuple[np.ndarray, np.ndarray]:
                v = live.vec(_Ev(c))
                return v.value - edge[part], v.pmax >= need[part] - 1e-9

            found = solve_rows(reaches, ctx, field, row, sign,
                               (gap_holds, v.value[row] - edge, tried, value_there - edge))
            deltas[field][np.concatenate(which), row] = found
        out = []
        for k, (j, target, gain_lo, gain_hi) in enumerate(targets):
            shifts = [Shift(f, np.asarray(ctx.col(f, 0), dtype=float), deltas[f][k]) for f in fields]
            pick = _Pick(shifts, target)
            out.append(Option(item, gain_lo, gain_hi, np.where(target, pick.cost, INF),
                              self._band_text(node, j, pick)))
        return out

    def _band_text(self, node: PointsNode, j: int, pick: _Pick) -> Render:
        assert node.table is not None
        table, v = node.table, self.vec(node.id)
        band = table.bands[j]
        gets = wording.of_unit(node.band_range(j)[1], Unit.POINTS)

        # the band a firm is in now ('缺失' last, for none) and where it moves
        labels = [*(b.label for b in table.bands), "缺失"]
        heads = [f"{node.label} {label} → {band.label}（{gets}）：" for label in labels]

        def render(firms: np.ndarray) -> Column:
            now = v.band[firms]
            return self.texts.cat(self.texts.take(heads, np.where(now >= 0, now, len(heads) - 1)),
                                  pick.say(firms, self.change, self.texts))

        return render

    # --- missing data ----------------------------------------------------------------------------------------
    def missing_cells(self, node: Node) -> Render:
        """Renders '（缺失：2023年 销售收入（revenue）、2024年 研发费用总额（rd_expense））' for firm i: the blank
        cells the node's expressions read (:func:`tiering.engine.blanks.blank_cells`)."""
        if self.ctx is None:
            return constant("")
        cells, blank = blank_cells(node, self.ctx, self.data_year)
        # one text per distinct set of blank cells: firm by firm, a NumPy call each costs seconds on 100k firms
        patterns, firm_pattern = distinct_rows(blank.T)
        texts = [_missing_text([c for c, gap in zip(cells, p, strict=True) if gap]) for p in patterns]
        return lambda firms: [texts[k] for k in firm_pattern[firms].tolist()]


def _held_label(expr: FieldRef, v: Vec) -> Callable[[int], str]:
    """'' for a firm whose value is its own; the label of the column it was derived from where a declared
    equivalent supplied it (the firm holds that column, not this one)."""
    eq = expr.equivalence
    texts = v.text
    if eq is None or texts is None:
        return lambda i: ""
    other = BY_ID[eq.equals].label
    return lambda i: other if texts[i] else ""


def _gap(v: Vec) -> np.ndarray:
    """How far a test's value is from its threshold (the edge a change must cross)."""
    return np.asarray(v.value, dtype=float) - np.asarray(v.threshold, dtype=float)


class _Pick:
    """Per firm, the cheapest increase among the levers (else the cheapest decrease), with the cheapest decrease as
    the alternative when both exist — e.g. '研发费用 需增加…，或销售收入 需减少…'."""

    def __init__(self, shifts: list[Shift], active: np.ndarray) -> None:
        m = len(active)
        # worked out for the firms with a change (a band move's are a few of the rule set's): elsewhere every
        # lever's cost is ∞, so nothing is picked and the cost is ∞
        at = np.flatnonzero(active | np.any([~np.isnan(s.delta) for s in shifts], axis=0))
        costs = np.vstack([np.where(np.isnan(d), INF, Shift(s.field, s.base[at], d).cost)
                           for s, d in ((s, s.delta[at]) for s in shifts)])
        ups = np.vstack([s.delta[at] > 0 for s in shifts])
        up_costs, down_costs = np.where(ups, costs, INF), np.where(ups, INF, costs)
        up, down = up_costs.argmin(axis=0), down_costs.argmin(axis=0)
        cols = np.arange(len(at))
        self.up, self.down = np.zeros(m, dtype=up.dtype), np.zeros(m, dtype=down.dtype)
        self.up[at], self.down[at] = up, down
        self.up_cost, self.down_cost = np.full(m, INF), np.full(m, INF)
        self.up_cost[at], self.down_cost[at] = up_costs[up, cols], down_costs[down, cols]
        self.cost = np.where(np.isfinite(self.up_cost), self.up_cost, self.down_cost)
        self.shifts = shifts
        self.found = np.isfinite(self.up_cost) | np.isfinite(self.down_cost)

    def say(self, firms: np.ndarray, change: Callable[[Shift, np.ndarray], Column], texts: Texts) -> Column:
        """For each of ``firms``, the cheapest increase, with '，或' the cheapest decrease when there is one, else
        the cheapest decrease; '' where no change is found. Each lever's changes are worded at once."""
        has_up, has_down = np.isfinite(self.up_cost[firms]), np.isfinite(self.down_cost[firms])
        up_texts = self._worded(firms, has_up, self.up[firms], change, texts)
        if not has_down.any():
            return up_texts
        down_texts = self._worded(firms, has_down, self.down[firms], change, texts)
        if not has_up.any():
            return down_texts
        return texts.cat(up_texts, texts.take(["", "，或"], (has_up & has_down).astype(np.int64)), down_texts)

    def _worded(self, firms: np.ndarray, has: np.ndarray, which: np.ndarray,
                change: Callable[[Shift, np.ndarray], Column], texts: Texts) -> Column:
        pieces = []
        for k, shift in enumerate(self.shifts):
            at = np.flatnonzero(has & (which == k))
            if len(at):
                pieces.append((at, change(shift, firms[at])))
        return place(texts, len(firms), pieces)


def _missing_text(cells: list[tuple[str, int, str | None]]) -> str:
    """'（缺失：2023年 销售收入（revenue））' for the blank cells (at most four named, then 等); '' for none."""
    return f"（{missing_cells(cells)}）" if cells else ""
