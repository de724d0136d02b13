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
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from tiering.fields import BY_ID, DType, Kind
from tiering.rules.expr import (
    Age,
    BinOp,
    Compare,
    Const,
    Context,
    Expr,
    FieldRef,
    Func,
    Lag,
    Neg,
    Window,
    derive,
    reads,
)
from tiering.rules.nodes import Node

LEVER_TYPES = (DType.MONEY, DType.INT, DType.RATIO)
"""Field types a firm can move by its own effort (expert scores, flags, dates and text are not levers)."""
GROWTH_LIMIT = 1000.0
"""Largest change searched, as a multiple of the lever's current size (or of a million steps when it is zero)."""
_EXPAND, _BISECT = 40, 40
SEARCH_CHUNK = 1 << 19
"""Rows searched at once: every bisection step evaluates the rule on arrays this long, so a million firms'
searches in one piece would hold gigabytes of temporaries."""


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

    def derived(self, field: str, equals: str, lag: int) -> Any:
        return np.asarray(self.base.derived(field, equals, lag))[self.idx]

    def text(self, field: str) -> Any:
        return np.asarray(self.base.text(field))[self.idx]

    def data_year_end(self, lag: int) -> float:
        return self.base.data_year_end(lag)

    def eval_date(self) -> float:
        return self.base.eval_date()


class _Chunk:
    """The rows one search evaluates, and the parts of its condition the lever does not move, each evaluated once
    on all of these rows at each shift it is read at (see :func:`fixed_apart`)."""

    def __init__(self, ctx: Context, rows: np.ndarray) -> None:
        self.ctx = SliceContext(ctx, rows)
        self._values: dict[tuple[int, int], np.ndarray] = {}

    def values(self, part: Fixed, shift: int) -> np.ndarray:
        key = (id(part), shift)
        if key not in self._values:
            self._values[key] = np.broadcast_to(part.expr.vec(self.ctx, shift), self.ctx.size)
        return self._values[key]


class PatchedContext:
    """A batch context with one lever column (at the data year) shifted by ``delta``; given the search's chunk and
    the positions of its rows in it, the :class:`Fixed` parts of a condition are read from the chunk."""

    def __init__(self, base: Context, field: str, delta: np.ndarray, chunk: _Chunk | None = None,
                 at: np.ndarray | None = None) -> None:
        self.base, self.field, self.delta = base, field, delta
        self.chunk, self.at = chunk, at
        self.size = base.size

    def fixed(self, part: Fixed, shift: int) -> np.ndarray:
        """The values of a part the lever does not move, for this context's rows."""
        assert self.chunk is not None and self.at is not None
        return self.chunk.values(part, shift)[self.at]

    def col(self, field: str, lag: int) -> Any:
        values = self.base.col(field, lag)
        if field == self.field and lag == 0:
            return values + self.delta
        return values

    def derived(self, field: str, equals: str, lag: int) -> Any:
        # from the patched columns: moving 营业收入 moves a 销售收入 derived from it
        return derive(self.col(field, lag), self.col(equals, lag))

    def text(self, field: str) -> Any:
        return self.base.text(field)

    def data_year_end(self, lag: int) -> float:
        return self.base.data_year_end(lag)

    def eval_date(self) -> float:
        return self.base.eval_date()


@dataclass(eq=False)
class Fixed(Expr):
    """A part of a condition that does not read the lever at the data year (a firm's age, last year's figures, a
    ratio of other columns): a search reads it from its chunk, where the one evaluator computed it once."""

    expr: Expr

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        assert isinstance(ctx, PatchedContext)  # a search's context: the only one a live node is evaluated on
        return ctx.fixed(self, shift)


def _apart(expr: Expr, field: str, shifts: tuple[int, ...]) -> Expr:
    """``expr`` evaluated at ``shifts`` with every largest part that never reads ``field`` at the data year, and
    reads some column, put in a :class:`Fixed` (a bare column stays as it is: reading it costs what a lookup
    costs)."""
    if all((field, 0) not in reads(expr, s) for s in shifts):
        bare = isinstance(expr, Const) or (isinstance(expr, FieldRef) and expr.equivalence is None)
        return expr if bare or not reads(expr, shifts[0]) else Fixed(expr)
    if isinstance(expr, Lag):
        return Lag(_apart(expr.arg, field, tuple(s + expr.k for s in shifts)), expr.k)
    if isinstance(expr, Window):
        return Window(expr.how, _apart(expr.arg, field, tuple(s + i for s in shifts for i in range(expr.n))),
                      expr.n)
    if isinstance(expr, BinOp | Compare):
        return type(expr)(expr.op, _apart(expr.left, field, shifts), _apart(expr.right, field, shifts))
    if isinstance(expr, Neg):
        return Neg(_apart(expr.arg, field, shifts))
    if isinstance(expr, Func):
        return Func(expr.name, [_apart(a, field, shifts) for a in expr.args])
    return expr


N = TypeVar("N", bound=Node)


def fixed_apart(node: N, field: str) -> N:
    """A copy of a test or points node whose expressions keep only what moving ``field`` changes live: every part
    that does not read it is evaluated once per search chunk (:class:`Fixed`) instead of at every step. For the
    searches only (a chunk's context must be given): the values are those of ``node``, the derivation notes are
    not kept."""
    changes: dict[str, Any] = {}
    for name in ("expr", "override"):
        expr = getattr(node, name, None)
        if expr is not None:
            changes[name] = _apart(expr, field, (0,))
    threshold = getattr(node, "threshold", None)
    if threshold is not None and threshold.by is not None:
        changes["threshold"] = replace(threshold, by=_apart(threshold.by, field, (0,)))
    return replace(node, **changes)


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


@dataclass
class Slope:
    """Per firm, which way a lever moves a value and the two changes tried to find it out: the increase ``up`` and
    the decrease ``down`` (both as sizes, NaN for a firm not asked) and the value at each."""

    sign: np.ndarray
    up: np.ndarray
    up_value: np.ndarray
    down: np.ndarray
    down_value: np.ndarray

    def tried(self, firms: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row (a firm and the direction it is searched in), the size of the change tried that way and the
        value there: a first point for the search's guess that costs no evaluation."""
        up = sign > 0
        return (np.where(up, self.up[firms], self.down[firms]),
                np.where(up, self.up_value[firms], self.down_value[firms]))


def direction(value_of: Callable[[PatchedContext], np.ndarray], ctx: Context, field: str,
              active: np.ndarray) -> Slope:
    """Per firm, +1 if raising the lever raises the value, −1 if it lowers it, 0 if it does not move it here (or
    the firm is not ``active``), with the changes tried."""
    n = len(active)
    out = Slope(np.zeros(n), *(np.full(n, math.nan) for _ in range(4)))
    idx = np.flatnonzero(active)
    if not len(idx):
        return out
    sub = SliceContext(ctx, idx)
    base = np.asarray(sub.col(field, 0), dtype=float)
    probe = np.maximum(np.abs(base) * 0.01, _step(field))
    lower = np.minimum(probe, np.abs(base))
    up = np.asarray(value_of(PatchedContext(sub, field, probe)), dtype=float)
    down = np.asarray(value_of(PatchedContext(sub, field, -lower)), dtype=float)
    out.sign[idx] = np.sign(np.nan_to_num(up - down, nan=0.0))
    out.up[idx], out.up_value[idx], out.down[idx], out.down_value[idx] = probe, up, lower, down
    return out


def solve(holds: Probe, ctx: Context, field: str, sign: np.ndarray,
          active: np.ndarray, gap: Gap | None = None) -> Shift:
    """The smallest change of ``field`` in direction ``sign`` (per firm) for which ``holds`` is true.

    ``holds(context, rows)`` evaluates the condition on a patched context of the firms searched at ``rows`` (see
    :func:`solve_rows`) and returns a boolean per firm; ``gap``, if given, probes the same way how far the value is
    from the edge it must cross and whether the condition holds (both from one evaluation), with per firm that
    distance as evaluated and at a first change (for a first guess, see :data:`Gap`). Firms not ``active``, with a
    missing lever, or with no solution within reach get NaN.
    """
    full_base = np.asarray(ctx.col(field, 0), dtype=float)
    delta = np.full(len(full_base), math.nan)
    idx = np.flatnonzero(active & (sign != 0) & ~np.isnan(full_base))
    if len(idx):
        delta[idx] = solve_rows(holds, ctx, field, idx, sign[idx],
                                None if gap is None else (gap[0], gap[1][idx], gap[2][idx], gap[3][idx]))
    return Shift(field, full_base, delta)


Probe = Callable[[PatchedContext, np.ndarray], np.ndarray]
"""A condition or a distance evaluated on a patched context of the rows searched at the given positions."""
GapHolds = Callable[[PatchedContext, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""A probe of how far the value is from the edge it must cross and whether the condition holds, from one
evaluation."""
Gap = tuple[GapHolds, np.ndarray, np.ndarray, np.ndarray]
"""How far the value is from the edge it must cross and whether the condition holds, on a patched context (a
:data:`GapHolds`); and per row that distance with no change at all (as the evaluation found it), a first change (a
size, in the row's direction) and the distance there (as :func:`direction` found it), so a first guess need not
evaluate either again."""


def solve_rows(holds: Probe, ctx: Context, field: str, rows: np.ndarray, sign: np.ndarray,
               gap: Gap | None = None) -> np.ndarray:
    """The same search over rows that may repeat a firm, so several targets of one firm are searched in one pass.

    ``rows`` are firm positions in ``ctx`` whose lever is known, with a non-zero ``sign`` each. Rows are searched
    in chunks of ``SEARCH_CHUNK``; ``holds(context, part)`` is called on a context of the rows ``rows[part]`` and
    returns one boolean per row; ``gap`` is a probe ``gap(context, part)`` of the signed distance of the value from
    the edge it must cross and ``holds``, and per row that distance with no change and at a first change (see
    :data:`Gap`). Returns the signed changes (NaN = none).

    With ``gap``, each row first tries the change a few secant steps on the gap point to, rounded to the lever's
    step: it is taken only when the condition holds there and not one step below, which is exactly what the
    search would find; every other row is searched as without it.
    """
    out = np.empty(len(rows))
    base = np.asarray(ctx.col(field, 0), dtype=float)
    for start in range(0, len(rows), SEARCH_CHUNK):
        part = np.arange(start, min(start + SEARCH_CHUNK, len(rows)))
        out[part] = _Search(holds, gap, ctx, field, rows, part, base[rows[part]], sign[part]).run()
    return out


_SECANT = 8
INF = math.inf
_ABOVE_LOWER = 0.25 + 1e-5
"""A quarter of the step, and enough more that the lower end of a bracket a quarter step wide that fails there lies
above the step below it however the rounding of ``_shown`` falls."""


class _Search:
    """One chunk of rows: a verified guess where the gap allows one, the doubling-and-bisecting search elsewhere."""

    def __init__(self, holds: Probe, gap: Gap | None, ctx: Context, field: str, rows: np.ndarray,
                 part: np.ndarray, base: np.ndarray, sign: np.ndarray) -> None:
        self.holds, self.ctx, self.field = holds, ctx, field
        self.gap = None if gap is None else (gap[0], *(np.asarray(g, dtype=float)[part] for g in gap[1:]))
        self.part, self.base, self.sign = part, base, sign
        self.firms = rows[part]  # the firm of each row of the chunk
        self.chunk = _Chunk(ctx, self.firms)
        self.step = step = _step(field)
        # a decrease cannot take an amount or a count below zero; an increase is searched up to a generous bound
        self.cap = np.where(sign < 0, np.maximum(base, 0.0), np.maximum(np.abs(base) * GROWTH_LIMIT, step * 1e6))
        # per row, the condition at the cap once evaluated there (0 = not yet, 1 = fails, 2 = holds): a decrease's
        # doubling starts there, and the guess and its check ask there first (see :meth:`test`)
        self._at_cap = np.zeros(len(base), dtype=np.int8)

    def _patched(self, sel: np.ndarray, d: np.ndarray) -> PatchedContext:
        return PatchedContext(SliceContext(self.ctx, self.firms[sel]), self.field, self.sign[sel] * d,
                              self.chunk, sel)

    def test(self, sel: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Whether the condition holds for rows ``sel`` (positions in the chunk) changed by ``d``."""
        if not len(sel):  # no row left to ask: evaluating the rule on empty arrays costs as much as on one firm
            return np.zeros(0, dtype=bool)
        capped = d == self.cap[sel]
        if not capped.any():
            return np.asarray(self.holds(self._patched(sel, d), self.part[sel]), dtype=bool)
        # the outcome at a row's cap is kept: evaluated once, whoever asks
        kept = self._at_cap[sel]
        out = kept == 2
        ask = np.flatnonzero(~capped | (kept == 0))
        if len(ask):
            out[ask] = np.asarray(self.holds(self._patched(sel[ask], d[ask]), self.part[sel[ask]]), dtype=bool)
        new = np.flatnonzero(capped & (kept == 0))
        self._at_cap[sel[new]] = np.where(out[new], 2, 1)
        return out

    def run(self) -> np.ndarray:
        live = np.flatnonzero(self.cap > 0)  # nothing to decrease: no change within reach
        out = np.full(len(self.base), math.nan)
        if not len(live):
            return out
        below, above = np.full(len(live), -INF), np.full(len(live), INF)
        first = last = np.full(len(live), math.nan)
        if self.gap is not None:
            below, above, first, last = self._guess(live)
        out[live] = self._bisect(live, below, above, first, last)
        return out

    def _guess(self, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row, as :meth:`_secant` returns them; a decrease is first tried whole (its cap, where the search's
        doubling starts and where the guess's check would ask): where the condition fails there the search finds no
        change, and the row is not guessed."""
        go = np.ones(len(sel), dtype=bool)
        down = np.flatnonzero(self.sign[sel] < 0)
        go[down] = self.test(sel[down], self.cap[sel[down]])
        if go.all():
            return self._secant(sel)
        below, above = np.full(len(sel), -INF), np.full(len(sel), INF)
        first, last = np.full(len(sel), math.nan), np.full(len(sel), math.nan)
        at = np.flatnonzero(go)
        if len(at):
            below[at], above[at], first[at], last[at] = self._secant(sel[at])
        return below, above, first, last

    def _secant(self, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row, a change known to fail and the next step of the lever known to pass (−∞ and ∞ where no guess
        is verified), and where the search's doubling steps over the latter (see :meth:`_doubling`): steps on the
        gap from no change and a first change (the one :func:`direction` tried), rounded to the step and checked
        either side, and against where the search's doubling would stop.

        A step goes to the root of the curve ``(p + q·d) / (1 + s·d)`` through the last three changes tried (of
        the line through two before that): exact for a gap linear in the lever (研发费用 in a share, a count) and
        for one whose denominator the lever moves (研发费用 / 成本费用 lowering 成本费用), which the secant alone
        approaches slowly from one side. A step to a change where the gap cannot be computed (the cap of a
        decrease that takes a denominator to zero) is halved back towards the last change tried."""
        assert self.gap is not None  # a search given no gap makes no guess
        probe_holds, gap0, tried, gap_tried = self.gap
        step, cap = self.step, self.cap[sel]
        n = len(sel)
        d0, f0 = np.full(n, math.nan), np.full(n, math.nan)  # the oldest point: none yet
        d1, f1 = np.zeros(n), gap0[sel].copy()
        d2, f2 = tried[sel].copy(), gap_tried[sel].copy()
        # the rows still stepping, compacted as rows stop; a row that stops leaves its last change, its gap and,
        # where that change is the k-th step of the lever, k and whether the condition holds there (else k = 0)
        change, gap, steps, held = d2.copy(), f2.copy(), np.zeros(n), np.zeros(n, dtype=bool)
        going, cap, retry = np.arange(n), cap.copy(), np.full(n, math.nan)
        k2, h2 = np.zeros(n), np.zeros(n, dtype=bool)
        for tries in range(_SECANT):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                # the first step has two points, so no curve through three
                nxt = _mobius_root(d0, f0, d1, f1, d2, f2) if tries else np.full(len(d2), math.nan)
                nxt = np.where(np.isfinite(nxt), nxt, d2 - f2 * (d2 - d1) / (f2 - f1))
            nxt = np.where(np.isnan(retry), nxt, retry)
            nxt = np.clip(nxt, 0.0, cap)
            # the step the lever would be shown at (within the cap): evaluated there, the outcome is the first the
            # guess checks; a row stops once it points to the change it was evaluated at (or cannot be taken)
            k = np.maximum(np.ceil(nxt / step - 1e-6), 1.0)
            nxt = np.minimum(k * step, cap)
            on = np.isfinite(nxt) & (k != k2) & (nxt != d2)
            stop = going[~on]
            change[stop], gap[stop], steps[stop], held[stop] = d2[~on], f2[~on], k2[~on], h2[~on]
            going, k, nxt, cap = going[on], k[on], nxt[on], cap[on]
            d0, f0, d1, f1, d2, f2, k2, h2 = d0[on], f0[on], d1[on], f1[on], d2[on], f2[on], k2[on], h2[on]
            if not len(going):
                break
            f, h = probe_holds(self._patched(sel[going], nxt), self.part[sel[going]])
            f = np.asarray(f, dtype=float)
            ok = np.isfinite(f)
            retry = np.where(ok, math.nan, (d2 + nxt) / 2.0)
            d0, f0 = np.where(ok, d1, d0), np.where(ok, f1, f0)
            d1, f1 = np.where(ok, d2, d1), np.where(ok, f2, f1)
            d2, f2 = np.where(ok, nxt, d2), np.where(ok, f, f2)
            k2 = np.where(ok & (nxt == k * step), k, np.where(ok, 0.0, k2))
            h2 = np.where(ok, np.asarray(h, dtype=bool), h2)
        change[going], gap[going], steps[going], held[going] = d2, f2, k2, h2
        below, above = np.full(n, -INF), np.full(n, INF)
        first, last = np.full(n, math.nan), np.full(n, math.nan)
        tried = np.flatnonzero(np.isfinite(gap))  # a value that cannot be computed gives no guess
        if len(tried):
            below[tried], above[tried], first[tried], last[tried] = self._verify(sel[tried], change[tried],
                                                                                 steps[tried], held[tried])
        return below, above, first, last

    def _verify(self, sel: np.ndarray, guess: np.ndarray, steps: np.ndarray,
                held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row, as :meth:`_guess` returns them, for the guesses ``guess``; where ``steps`` is not 0 the guess is
        that many steps of the lever, and ``held`` says whether the condition holds there."""
        step, cap = self.step, self.cap[sel]
        k = np.where(steps > 0, steps, np.maximum(np.ceil(guess / step - 1e-6), 1.0))
        at = held.copy()
        ask = np.flatnonzero(steps == 0)
        at[ask] = self.test(sel[ask], k[ask] * step)
        fails = np.zeros(len(sel), dtype=bool)
        passes = np.zeros(len(sel), dtype=bool)
        lower = np.flatnonzero(at & (k > 1))
        fails[lower] = ~self.test(sel[lower], (k[lower] - 1) * step)
        fails[at & (k == 1)] = True  # no change at all is what fails
        upper = np.flatnonzero(~at)
        passes[upper] = self.test(sel[upper], (k[upper] + 1) * step)
        k = np.where(at, k, k + 1)
        found = ((at & fails) | (~at & passes)) & (k * step <= cap)
        # where the condition is not monotone the search may stop elsewhere (e.g. nowhere): the guess must also
        # agree with the two changes where the search's doubling steps over it
        # (not again at the two changes just checked: the condition holds at k steps and fails at k − 1)
        first, last = self._doubling(sel, k * step)
        found &= ~np.isnan(last)
        check = np.flatnonzero(found & (last != k * step))
        found[check] &= self.test(sel[check], last[check])
        check = np.flatnonzero(found & (first > 0) & (first != (k - 1) * step))
        found[check] &= ~self.test(sel[check], first[check])
        return np.where(found, (k - 1) * step, -INF), np.where(found, k * step, INF), first, last

    def _doubling(self, sel: np.ndarray, answer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the search's doubling would step from below ``answer`` to at or above it: the last change tried
        below (0 if none) and the first at or above (NaN if beyond the steps the search takes)."""
        step, base, sign, cap = self.step, self.base[sel], self.sign[sel], self.cap[sel]
        start = np.minimum(np.where(sign < 0, cap, np.maximum(np.abs(base), step) / 64.0), cap)
        with np.errstate(divide="ignore", invalid="ignore"):
            j = np.maximum(np.ceil(np.log2(answer / start)), 0.0)
        j = np.where(np.isfinite(j), j, 0.0)
        # the j-th change tried, before the cap: doubling or halving a float is exact, as the search does it
        power = start * np.exp2(j)
        up = np.minimum(power, cap) < answer
        j, power = np.where(up, j + 1, j), np.where(up, power * 2.0, power)
        down = (j > 0) & (np.minimum(power / 2.0, cap) >= answer)
        j, power = np.where(down, j - 1, j), np.where(down, power / 2.0, power)
        tried = np.minimum(power, cap)
        last = np.where((j <= _EXPAND) & (tried >= answer), tried, math.nan)
        first = np.where(j > 0, np.minimum(power / 2.0, cap), 0.0)
        return first, last

    def _bisect(self, sel: np.ndarray, below: np.ndarray, above: np.ndarray, first: np.ndarray,
                last: np.ndarray) -> np.ndarray:
        """First doubling the change until the condition holds, then bisecting every row while any bracket is wider
        than a quarter of the step. A row whose answer is known to lie in (``below``, ``above``] is evaluated only
        at changes inside it, and any row only while the outcome can still change its answer: where the condition
        does not turn back between the changes checked, the steps, and so every number, are those of evaluating
        every row at every step (tests/test_lacks_golden.py compares the two). A guessed row's bracket starts where
        the doubling steps over its guess, ``first`` to ``last``."""
        step = self.step
        ok = np.isfinite(above)
        lo, hi = np.where(ok, first, 0.0), np.where(ok, last, 0.0)  # where the doubling steps over a guess
        rest = np.flatnonzero(~ok)
        lo[rest], hi[rest], ok[rest] = self._double(sel[rest])
        # a guessed row ends on the step it was guessed at or on the one below plus a step: where these are the
        # same number, nothing the bisection meets changes its answer; its bracket still keeps the bisection of
        # the other rows going while it is wide (as if it held from the guess on: only its width counts)
        settled = np.isfinite(above) & (below + step == above)
        # where they differ in the last bit, the bisection's lower end ends above the step below the guess, and so
        # on the guess, unless the condition already holds a quarter step above it: one evaluation there settles
        # most of these rows (brackets the bisection narrows to a quarter step, of changes far below 2^40 steps)
        odd = np.flatnonzero(np.isfinite(above) & ~settled & (hi - lo <= step * 2.0**36) & (above < step * 2.0**40))
        settled[odd] = ~self.test(sel[odd], below[odd] + step * _ABOVE_LOWER)
        out = np.where(settled, self.sign[sel] * above, math.nan)
        s = np.flatnonzero(settled)
        # how long the settled rows' brackets keep the bisection going, counted once instead of halving them along
        until = _halvings(lo[s], hi[s], above[s], step)
        # a row the doubling found no change for has no answer, and its bracket keeps no bisection going
        r = np.flatnonzero(~settled & ok)
        lo, hi, below, above = lo[r], hi[r], below[r], above[r]

        def test(d: np.ndarray, at: np.ndarray) -> np.ndarray:
            """The condition at ``d`` for the rows ``at``; outside (``below``, ``above``) as if it held from
            ``above`` on."""
            out = d >= above[at]
            unsure = np.flatnonzero((d > below[at]) & (d < above[at]))
            out[unsure] = self.test(sel[r[at[unsure]]], d[unsure])
            return out

        # a row whose ends show the same multiple of the step is never evaluated again and its answer starts from
        # that multiple: it leaves the bisection, and only the width of its bracket, which halves as if it held
        # from ``above`` on, still counts (as for the settled rows)
        every = np.arange(len(r))
        same = _shown(lo, step) == _shown(hi, step)
        until = _halvings(lo[same], hi[same], above[same], step, until)
        live = every[~same]

        def ahead(at: np.ndarray, lo: np.ndarray, hi: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray, int]:
            """Bisection steps i, i + 1, … of the rows ``at`` (ends ``lo``, ``hi``) with one evaluation of the
            rule: every change a row may be asked at within the next steps (a tree of them, more steps the fewer
            the rows, as an evaluation costs about as much as a thousand rows) is evaluated at once, then the
            steps are taken one by one, stopping where the loop stops. Returns the ends and the number of steps
            taken."""
            m = len(at)
            depth = min(_depth(m), _BISECT - i)
            los, his = [lo[None, :]], [hi[None, :]]
            for _ in range(depth - 1):  # the children of a bracket: 2j where the middle holds, 2j + 1 where not
                mid = (los[-1] + his[-1]) / 2.0
                los.append(np.stack([los[-1], mid], axis=1).reshape(-1, m))
                his.append(np.stack([mid, his[-1]], axis=1).reshape(-1, m))
            lows, highs = np.concatenate(los), np.concatenate(his)
            mids = (lows + highs) / 2.0
            b, a = below[at], above[at]
            holds = mids >= a
            # the lower end only moves within its bracket: once both ends start from the same multiple of the
            # step, the outcome changes nothing but the bracket's width, which halves either way
            node, row = np.nonzero((mids > b) & (mids < a))
            unsure = _shown(lows[node, row], step) != _shown(highs[node, row], step)
            node, row = node[unsure], row[unsure]
            holds[node, row] = self.test(sel[r[at[row]]], mids[node, row])
            each, j = np.arange(m), np.zeros(m, dtype=np.int64)
            for k in range(depth):
                if k and i + k >= until and not (hi - lo > step / 4).any():
                    return lo, hi, k
                at_k = (1 << k) - 1 + j
                ok, mid = holds[at_k, each], mids[at_k, each]
                hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
                j = 2 * j + ~ok
            return lo, hi, depth

        i = 0
        while i < _BISECT and len(live):  # once no row is bisected, the steps left change no answer
            l_, h_ = lo[live], hi[live]
            if i >= until and not (h_ - l_ > step / 4).any():
                break  # every bracket is narrower than what is shown
            l_, h_, k = ahead(live, l_, h_, i)
            i += k
            lo[live], hi[live] = l_, h_
            same = _shown(l_, step) == _shown(h_, step)
            if same.any():
                until = i + _halvings(l_[same], h_[same], above[live[same]], step, until - i)
                live = live[~same]
        # the answer lies in (lo, hi] and hi − lo < step/4: the first multiple of the step above lo is enough, or
        # else the next one (so the shown number never overshoots by a step)
        sign, cap = self.sign[sel[r]], self.cap[sel[r]]
        k = _shown(lo, step)
        rounded = k * step
        if len(sign) and sign.min() < 0:
            rounded = np.where(sign < 0, np.minimum(rounded, cap), rounded)
        again = ~test(rounded, every)
        # the next multiple as k + 1 steps, as every other path writes a multiple: (k·step) + step may differ from
        # it in the last bit, and a text rounding a tie (270.75 − 228.1 → 42.6 or 42.7) would then depend on the
        # other firms searched beside this one (a partitioned run against a whole one)
        rounded = np.where(again, np.where(rounded < k * step, rounded + step, (k + 1) * step), rounded)
        retried = np.flatnonzero(again)
        found = ~again
        found[retried] = test(rounded[retried], retried)
        out[r] = np.where(found, sign * rounded, math.nan)
        return out

    def _double(self, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The doubling: from a 64th of the lever's size (or the whole decrease), doubling the change until the
        condition holds or the cap is reached. Per row: the last change that failed (0 if none), the last
        change tried, and whether it holds."""
        step, base, sign, cap = self.step, self.base[sel], self.sign[sel], self.cap[sel]
        lo = np.zeros(len(sel))
        if not len(sel):
            return lo, lo.copy(), np.zeros(0, dtype=bool)
        hi = np.minimum(np.where(sign < 0, cap, np.maximum(np.abs(base), step) / 64.0), cap)
        ok = self.test(sel, hi)
        done = 0
        while done < _EXPAND:
            grow = np.flatnonzero(~ok & (hi < cap))
            if not len(grow):
                break
            # the next doublings of every row that grows, evaluated at once where few rows grow (as the
            # bisection's steps ahead), then taken one by one
            depth = min(_depth(len(grow)), _EXPAND - done)
            changes = [np.minimum(hi[grow] * 2.0, cap[grow])]
            for _ in range(depth - 1):
                changes.append(np.minimum(changes[-1] * 2.0, cap[grow]))
            tried = np.stack(changes)
            level, row = np.nonzero(np.vstack([np.ones((1, len(grow)), dtype=bool), tried[:-1] < cap[grow]]))
            holds = np.zeros(tried.shape, dtype=bool)
            holds[level, row] = self.test(sel[grow[row]], tried[level, row])
            on = np.ones(len(grow), dtype=bool)
            for k in range(depth):
                if k:
                    on &= ~holds[k - 1] & (tried[k - 1] < cap[grow])
                at = grow[on]
                lo[at], hi[at], ok[at] = hi[at], tried[k, on], holds[k, on]
            done += depth
        return lo, hi, ok


def _mobius_root(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, x2: np.ndarray,
                 y2: np.ndarray) -> np.ndarray:
    """Where the curve ``y = (p + q·x) / (1 + s·x)`` through three points crosses zero: the α of its inverse
    ``x = (α + β·y) / (1 + γ·y)``, by Cramer's rule on ``α + β·y − γ·x·y = x`` (NaN where the points do not
    determine one)."""
    z0, z1, z2 = x0 * y0, x1 * y1, x2 * y2
    det = (y2 - y0) * (z1 - z0) - (y1 - y0) * (z2 - z0)
    num = x0 * (y2 * z1 - y1 * z2) - y0 * (x2 * z1 - x1 * z2) + z0 * (x2 * y1 - x1 * y2)
    return np.where(det != 0, num / det, math.nan)


def _depth(rows: int) -> int:
    """How many steps of a search to evaluate at once for this many rows: every change a row may be asked at in
    them (up to 2^depth − 1 per row) is worth it while a call of the evaluator costs more than its rows."""
    return 3 if rows <= 256 else 2 if rows <= 1024 else 1


def _halvings(lo: np.ndarray, hi: np.ndarray, above: np.ndarray, step: float, at_least: int = 0) -> int:
    """How many bisection steps the brackets (``lo``, ``hi``] of rows no longer evaluated stay wider than a quarter of
    the step, as the bisection computes them (each step keeps the half that holds if the condition held from
    ``above`` on), or ``at_least`` if that is more.

    Halving a width w takes ⌈log2(w / (step/4))⌉ steps; the roundings of the halves move that only where the
    logarithm lies within a few units in the last place of the ends (over a quarter of the step) of a whole number,
    so only those rows that could decide the count are halved as the bisection halves them."""
    if not len(lo):
        return at_least
    quarter = step / 4
    width, huge = hi - lo, hi > step * 2.0**40  # (0 <= lo <= hi)
    if at_least >= 2 and width.max() <= quarter * 2.0 ** (at_least - 2) and not huge.any():
        return at_least  # even the widest bracket is narrow one step before ``at_least``, rounding included
    # a bracket 32 times narrower than the widest ends at least two steps earlier, rounding included
    keep = (width >= width.max() / 32) | huge
    lo, hi, above = lo[keep], hi[keep], above[keep]
    with np.errstate(divide="ignore"):
        octaves = np.log2((hi - lo) / quarter)
    count = np.maximum(np.ceil(octaves), 0.0)
    slack = 8.0 * np.spacing(np.maximum(np.abs(lo), np.abs(hi))) / quarter + 1e-9
    near = np.isfinite(octaves) & (np.abs(octaves - np.round(octaves)) <= slack)
    most = int(max(count[~near].max(initial=0.0), at_least))
    check = np.flatnonzero(near & (count + 1 > most))
    lo, hi, above = lo[check], hi[check], above[check]
    for i in range(_BISECT):
        wide = hi - lo > quarter
        if not wide.any():
            return max(most, i)
        lo, hi, above = lo[wide], hi[wide], above[wide]
        mid = (lo + hi) / 2.0
        holds = mid >= above
        hi, lo = np.where(holds, mid, hi), np.where(holds, lo, mid)
    return _BISECT


def _shown(x: np.ndarray, step: float) -> np.ndarray:
    """The multiple of the step a search's answer starts from when its bisection ends with the lower end at x."""
    return np.maximum(np.ceil(x / step - 1e-6), 1.0)
