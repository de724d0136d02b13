"""Levers: the data-year numbers a firm can change, and the smallest change that makes a condition true.

A lever is a yearly numeric field read at the data year (lag 0) — 研发费用, 销售收入, 科技人员数, a count of IP … —
never a date, a past year's value or an expert score. Changes are found by evaluating the compiled rule itself on a
context whose lever column is shifted, for all firms at once: first doubling the step until the condition holds, then
bisecting. So a threshold chosen by revenue, a ``where`` branch or a three-year sum is honoured exactly as the
evaluator reads it, with no rule re-implemented here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tiering.fields import BY_ID, DType, Kind
from tiering.rules.expr import Age, BinOp, Compare, Const, Context, Expr, FieldRef, Func, Lag, Neg, Window

LEVER_TYPES = (DType.MONEY, DType.INT, DType.RATIO)
"""Field types a firm can move by its own effort (expert scores, flags, dates and text are not levers)."""
GROWTH_LIMIT = 1000.0
"""Largest change searched, as a multiple of the lever's current size (or of a million steps when it is zero)."""
_EXPAND, _BISECT = 40, 40
SEARCH_CHUNK = 1 << 19
"""Rows searched at once: every bisection step evaluates the rule on arrays this long, so a million firms'
searches in one piece would hold gigabytes of temporaries."""


def reads(expr: Expr, shift: int = 0, out: set[tuple[str, int]] | None = None) -> set[tuple[str, int]]:
    """Every (field, lag) cell an expression reads."""
    out = set() if out is None else out
    if isinstance(expr, FieldRef):
        out.add((expr.field, 0 if expr.firm_level else shift))
    elif isinstance(expr, Lag):
        reads(expr.arg, shift + expr.k, out)
    elif isinstance(expr, Window):
        for i in range(expr.n):
            reads(expr.arg, shift + i, out)
    elif isinstance(expr, Age):
        out.add((expr.field, 0))
    elif isinstance(expr, BinOp | Compare):
        reads(expr.left, shift, out)
        reads(expr.right, shift, out)
    elif isinstance(expr, Neg):
        reads(expr.arg, shift, out)
    elif isinstance(expr, Func):
        for a in expr.args:
            reads(a, shift, out)
    elif not isinstance(expr, Const):
        raise TypeError(f"unknown expression node {type(expr).__name__}")
    return out


def uses_age(expr: Expr) -> bool:
    """True when the expression reads a date through age_years / age_days / fiscal_years."""
    if isinstance(expr, Age):
        return True
    kids: list[Expr] = []
    if isinstance(expr, Lag | Window | Neg):
        kids = [expr.arg]
    elif isinstance(expr, BinOp | Compare):
        kids = [expr.left, expr.right]
    elif isinstance(expr, Func):
        kids = list(expr.args)
    return any(uses_age(k) for k in kids)


def levers(*exprs: Expr | None) -> list[str]:
    """The fields the firm can move in these expressions, in a stable order."""
    cells: set[tuple[str, int]] = set()
    for e in exprs:
        if e is not None:
            reads(e, 0, cells)
    found = {f for f, lag in cells if lag == 0 and BY_ID[f].kind == Kind.YEAR and BY_ID[f].dtype in LEVER_TYPES}
    return sorted(found)


class SliceContext:
    """A batch context seen through a subset of its firms (so a search only evaluates the firms it concerns)."""

    def __init__(self, base: Context, idx: np.ndarray) -> None:
        self.base, self.idx = base, idx
        self.size = len(idx)

    def col(self, field: str, lag: int) -> Any:
        return np.asarray(self.base.col(field, lag))[self.idx]

    def text(self, field: str) -> Any:
        return np.asarray(self.base.text(field))[self.idx]

    def data_year_end(self, lag: int) -> float:
        return self.base.data_year_end(lag)

    def eval_date(self) -> float:
        return self.base.eval_date()


class PatchedContext:
    """A batch context with one lever column (at the data year) shifted by ``delta``."""

    def __init__(self, base: Context, field: str, delta: np.ndarray) -> None:
        self.base, self.field, self.delta = base, field, delta
        self.size = base.size

    def col(self, field: str, lag: int) -> Any:
        values = self.base.col(field, lag)
        if field == self.field and lag == 0:
            return values + self.delta
        return values

    def text(self, field: str) -> Any:
        return self.base.text(field)

    def data_year_end(self, lag: int) -> float:
        return self.base.data_year_end(lag)

    def eval_date(self) -> float:
        return self.base.eval_date()


@dataclass
class Shift:
    """The change of one lever that makes a condition hold, per firm (NaN where no change within reach does)."""

    field: str
    base: np.ndarray
    delta: np.ndarray  # signed: positive = increase

    @property
    def cost(self) -> np.ndarray:
        """Relative size of the change: |Δ| / |current| (1 = doubling; from zero counts as 1 per unit)."""
        size = np.abs(self.base)
        return np.where(size > 0, np.abs(self.delta) / np.where(size > 0, size, 1.0), np.abs(self.delta))


def _step(field: str) -> float:
    """The smallest meaningful change of a field: 1 for counts, 0.1万元 for money, 0.01 % for shares."""
    dtype = BY_ID[field].dtype
    return 1.0 if dtype == DType.INT else 0.1 if dtype == DType.MONEY else 0.0001


def direction(value_of: Callable[[Any], np.ndarray], ctx: Context, field: str, active: np.ndarray) -> np.ndarray:
    """Per firm, +1 if raising the lever raises the value, −1 if it lowers it, 0 if it does not move it here (or
    the firm is not ``active``)."""
    out = np.zeros(len(active))
    idx = np.flatnonzero(active)
    if not len(idx):
        return out
    sub = SliceContext(ctx, idx)
    base = np.asarray(sub.col(field, 0), dtype=float)
    probe = np.maximum(np.abs(base) * 0.01, _step(field))
    up = value_of(PatchedContext(sub, field, probe))
    down = value_of(PatchedContext(sub, field, -np.minimum(probe, np.abs(base))))
    out[idx] = np.sign(np.nan_to_num(up - down, nan=0.0))
    return out


def solve(holds: Callable[[Any, np.ndarray], np.ndarray], ctx: Context, field: str, sign: np.ndarray,
          active: np.ndarray) -> Shift:
    """The smallest change of ``field`` in direction ``sign`` (per firm) for which ``holds`` is true.

    ``holds(context, rows)`` evaluates the condition on a patched context of the firms searched at ``rows`` (see
    :func:`solve_rows`) and returns a boolean per firm. Firms not ``active``, with a missing lever, or with no
    solution within reach get NaN.
    """
    full_base = np.asarray(ctx.col(field, 0), dtype=float)
    delta = np.full(len(full_base), math.nan)
    idx = np.flatnonzero(active & (sign != 0) & ~np.isnan(full_base))
    if len(idx):
        delta[idx] = solve_rows(holds, ctx, field, idx, sign[idx])
    return Shift(field, full_base, delta)


def solve_rows(holds: Callable[[Any, np.ndarray], np.ndarray], ctx: Context, field: str, rows: np.ndarray,
               sign: np.ndarray) -> np.ndarray:
    """The same search over rows that may repeat a firm, so several targets of one firm are searched in one pass.

    ``rows`` are firm positions in ``ctx`` whose lever is known, with a non-zero ``sign`` each. Rows are searched
    in chunks of ``SEARCH_CHUNK``; ``holds(context, part)`` is called on a context of the rows ``rows[part]`` and
    returns one boolean per row. Returns the signed changes (NaN = none).
    """
    out = np.empty(len(rows))
    for start in range(0, len(rows), SEARCH_CHUNK):
        part = np.arange(start, min(start + SEARCH_CHUNK, len(rows)))
        sub = SliceContext(ctx, rows[part])
        out[part] = _search(lambda c, part=part: holds(c, part), sub, field,
                            np.asarray(sub.col(field, 0), dtype=float), sign[part])
    return out


def _search(holds: Callable[[Any], np.ndarray], ctx: SliceContext, field: str, base: np.ndarray,
            sign: np.ndarray) -> np.ndarray:
    step = _step(field)
    # a decrease cannot take an amount or a count below zero; an increase is searched up to a generous bound
    cap = np.where(sign < 0, np.maximum(base, 0.0), np.maximum(np.abs(base) * GROWTH_LIMIT, step * 1e6))
    live = cap > 0
    scale = np.maximum(np.abs(base), step)

    def test(d: np.ndarray) -> np.ndarray:
        return np.asarray(holds(PatchedContext(ctx, field, np.where(live, sign * d, 0.0))), dtype=bool) & live

    lo = np.zeros(len(base))
    hi = np.minimum(np.where(sign < 0, cap, scale / 64.0), cap)
    ok = test(hi)
    for _ in range(_EXPAND):
        grow = live & ~ok & (hi < cap)
        if not grow.any():
            break
        lo = np.where(grow, hi, lo)
        hi = np.where(grow, np.minimum(hi * 2.0, cap), hi)
        ok = np.where(grow, test(hi), ok)
    for _ in range(_BISECT):
        if not (ok & (hi - lo > step / 4)).any():
            break  # every bracket is narrower than what is shown
        mid = (lo + hi) / 2.0
        m_ok = test(mid)
        hi = np.where(ok & m_ok, mid, hi)
        lo = np.where(ok & ~m_ok, mid, lo)
    # the answer lies in (lo, hi] and hi − lo < step/4: the first multiple of the step above lo is enough, or else
    # the next one (so the shown number never overshoots by a step)
    rounded = np.maximum(np.ceil(lo / step - 1e-6), 1.0) * step
    if sign.min() < 0:
        rounded = np.where(sign < 0, np.minimum(rounded, cap), rounded)
    again = ok & ~test(rounded)
    rounded = np.where(again, rounded + step, rounded)
    ok = ok & test(rounded)
    return np.where(ok, sign * rounded, math.nan)
