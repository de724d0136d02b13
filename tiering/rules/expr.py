"""The derived-metric language: a small, whitelisted arithmetic over fields and years.

An expression such as ``sum(rd_expense, 3) / sum(revenue, 3)`` is parsed with :mod:`ast` (parsing only —
nothing is ever evaluated by Python), checked node by node against a whitelist and the field registry, and
compiled into a tree of :class:`Expr` objects. Each object evaluates two ways from the same definition:
``vec`` over NumPy arrays (the batch path) and ``one`` over Python floats (the per-firm path).

Semantics, the same on both paths:
- a field name reads the data year (the fiscal year before the application year); ``lag(x, k)`` reads k
  years earlier; ``sum(x, n)`` / ``mean(x, n)`` cover the n years ending at the data year and are missing if
  any year is missing; ``sum_available(x, n)`` / ``mean_available(x, n)`` / ``max_available(x, n)`` use the years
  present (missing if none);
  ``count_available(x, n)`` counts them;
- missing values propagate; division by zero and a negative base under a fractional power are missing;
- a comparison gives 1 or 0; ``where(c, a, b)`` picks a or b (missing if c is); ``coalesce(a, b)`` is a unless
  a is missing; ``min``/``max`` are missing if any argument is; ``is_missing(x)`` gives 1 or 0;
- ``age_years(d)`` is the firm's age in years (days / 365.25) at the end of the data year; ``age_days(d)`` is
  the number of days from d to the evaluation date; ``fiscal_years(d)`` counts the fiscal years from the calendar
  year of d to the data year, both included (a firm registered in June 2022 has 3 fiscal years by 2024: the
  "实际经营年度" the 高企 and 领军 growth rules fall back on when a firm has fewer than three).
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tiering.dates import DAYS_PER_YEAR, year_of_day, years_of_days
from tiering.errors import TieringError
from tiering.fields import BY_ID, DType, Kind

NAN = float("nan")


class ExprError(TieringError, ValueError, error_id="expression"):
    """An expression that cannot be compiled; ``column`` is the 0-based offset of the culprit in the text."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


class Context(Protocol):
    """What an expression reads; the batch context returns arrays, the per-firm context floats."""

    size: int

    def col(self, field: str, lag: int) -> Any: ...
    def derived(self, field: str, equals: str, lag: int) -> Any: ...
    def text(self, field: str) -> Any: ...
    def data_year_end(self, lag: int) -> float: ...
    def eval_date(self) -> float: ...


class Expr:
    """A compiled expression node."""

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        raise NotImplementedError

    def one(self, ctx: Context, shift: int) -> float:
        raise NotImplementedError

    def needs(self, shift: int, out: dict[str, int]) -> None:
        """Record, per field, the deepest lag this expression reads."""


@dataclass
class Const(Expr):
    value: float

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        return np.asarray(self.value, dtype=float)

    def one(self, ctx: Context, shift: int) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Equivalence:
    """A field the rule set's document makes equal to another (a rule file's ``equivalents`` entry): a missing value
    of ``field`` is read from ``equals``; ``note`` is what the trace says where that happened."""

    field: str
    equals: str
    note: str


@dataclass
class FieldRef(Expr):
    field: str
    firm_level: bool
    equivalence: Equivalence | None = None
    """Set when the rule set declares ``field`` equal to another column: the value is the derived column."""

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        lag = 0 if self.firm_level else shift
        if self.equivalence is not None:
            return ctx.derived(self.field, self.equivalence.equals, lag)
        return ctx.col(self.field, lag)

    def one(self, ctx: Context, shift: int) -> float:
        lag = 0 if self.firm_level else shift
        if self.equivalence is not None:
            return ctx.derived(self.field, self.equivalence.equals, lag)
        return ctx.col(self.field, lag)

    def needs(self, shift: int, out: dict[str, int]) -> None:
        lag = 0 if self.firm_level else shift
        for field in (self.field,) if self.equivalence is None else (self.field, self.equivalence.equals):
            out[field] = max(out.get(field, 0), lag)


def derive(own: Any, other: Any) -> Any:
    """A column read under a declared equivalence: its own value where present, else the equal column's (arrays
    for the batch path, floats for one firm: the one definition both paths use)."""
    if isinstance(own, float):
        return other if math.isnan(own) else own
    return np.where(np.isnan(own), other, own)


def equivalent_reads(expr: Expr, shift: int = 0, out: dict[tuple[str, int], Equivalence] | None = None,
                     ) -> dict[tuple[str, int], Equivalence]:
    """Every (field, lag) an expression reads under a declared equivalence, with the equivalence."""
    out = {} if out is None else out
    if isinstance(expr, FieldRef):
        if expr.equivalence is not None:
            out[(expr.field, 0 if expr.firm_level else shift)] = expr.equivalence
    elif isinstance(expr, Lag):
        equivalent_reads(expr.arg, shift + expr.k, out)
    elif isinstance(expr, Window):
        for i in range(expr.n):
            equivalent_reads(expr.arg, shift + i, out)
    elif isinstance(expr, BinOp | Compare):
        equivalent_reads(expr.left, shift, out)
        equivalent_reads(expr.right, shift, out)
    elif isinstance(expr, Neg):
        equivalent_reads(expr.arg, shift, out)
    elif isinstance(expr, Func):
        for a in expr.args:
            equivalent_reads(a, shift, out)
    return out


def _nan_if_bad(x: float) -> float:
    return x if isinstance(x, float) and math.isfinite(x) else NAN


def _div(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return NAN
    return a / b


def _pow(a: float, b: float) -> float:
    # numpy's power, as the batch path computes it: math.pow may differ in the last bit (e.g. a growth rate's cube
    # root), and a value on a threshold must fall on the same side in both paths
    return float(_vpow(np.array([a]), np.array([b]))[0])


def _vdiv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=(b != 0) & ~np.isnan(b))
    return out


def _vpow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # both sides as full contiguous arrays, also for one firm: with a scalar or broadcast exponent numpy takes
    # another loop (0.5 → a square root) whose last bit differs, and a value on a threshold must not flip
    a, b = (np.ascontiguousarray(x) for x in np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float)))
    with np.errstate(all="ignore"):
        out = np.power(a, b)
    return np.where(np.isfinite(out), out, np.nan)


_BIN: dict[type, tuple[str, Callable[[float, float], float], Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add, np.add),
    ast.Sub: ("-", operator.sub, np.subtract),
    ast.Mult: ("*", operator.mul, np.multiply),
    ast.Div: ("/", _div, _vdiv),
    ast.Pow: ("**", _pow, _vpow),
}

_CMP: dict[type, Callable[[Any, Any], Any]] = {
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}


@dataclass
class BinOp(Expr):
    op: type
    left: Expr
    right: Expr

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = _BIN[self.op][2](self.left.vec(ctx, shift), self.right.vec(ctx, shift))
        return np.where(np.isfinite(out), out, np.nan)

    def one(self, ctx: Context, shift: int) -> float:
        a, b = self.left.one(ctx, shift), self.right.one(ctx, shift)
        if math.isnan(a) or math.isnan(b):
            return NAN
        try:
            return _nan_if_bad(float(_BIN[self.op][1](a, b)))
        except OverflowError:
            return NAN

    def needs(self, shift: int, out: dict[str, int]) -> None:
        self.left.needs(shift, out)
        self.right.needs(shift, out)


@dataclass
class Neg(Expr):
    arg: Expr

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        return -self.arg.vec(ctx, shift)

    def one(self, ctx: Context, shift: int) -> float:
        return -self.arg.one(ctx, shift)

    def needs(self, shift: int, out: dict[str, int]) -> None:
        self.arg.needs(shift, out)


@dataclass
class Compare(Expr):
    op: type
    left: Expr
    right: Expr

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        a, b = self.left.vec(ctx, shift), self.right.vec(ctx, shift)
        return np.where(np.isnan(a) | np.isnan(b), np.nan, _CMP[self.op](a, b).astype(float))

    def one(self, ctx: Context, shift: int) -> float:
        a, b = self.left.one(ctx, shift), self.right.one(ctx, shift)
        if math.isnan(a) or math.isnan(b):
            return NAN
        return 1.0 if _CMP[self.op](a, b) else 0.0

    def needs(self, shift: int, out: dict[str, int]) -> None:
        self.left.needs(shift, out)
        self.right.needs(shift, out)


@dataclass
class Lag(Expr):
    arg: Expr
    k: int

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        return self.arg.vec(ctx, shift + self.k)

    def one(self, ctx: Context, shift: int) -> float:
        return self.arg.one(ctx, shift + self.k)

    def needs(self, shift: int, out: dict[str, int]) -> None:
        self.arg.needs(shift + self.k, out)


@dataclass
class Window(Expr):
    """sum / mean / max / count over the n years ending at the current shift."""

    how: str
    arg: Expr
    n: int

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        cols = np.vstack([np.broadcast_to(self.arg.vec(ctx, shift + i), ctx.size) for i in range(self.n)])
        present = (~np.isnan(cols)).sum(axis=0)
        total = np.nansum(cols, axis=0)
        if self.how == "count_available":
            return present.astype(float)
        if self.how == "sum":
            return np.where(present == self.n, total, np.nan)
        if self.how == "mean":
            return np.where(present == self.n, total / self.n, np.nan)
        if self.how == "sum_available":
            return np.where(present > 0, total, np.nan)
        if self.how == "max_available":
            return np.where(present > 0, np.max(np.where(np.isnan(cols), -np.inf, cols), axis=0), np.nan)
        with np.errstate(all="ignore"):
            return np.where(present > 0, total / present, np.nan)

    def one(self, ctx: Context, shift: int) -> float:
        vals = [self.arg.one(ctx, shift + i) for i in range(self.n)]
        known = [v for v in vals if not math.isnan(v)]
        if self.how == "count_available":
            return float(len(known))
        if self.how in ("sum", "mean") and len(known) < self.n:
            return NAN
        if not known:
            return NAN
        if self.how == "max_available":
            return float(max(known))
        total = sum(known)
        return total if self.how.startswith("sum") else total / len(known)

    def needs(self, shift: int, out: dict[str, int]) -> None:
        for i in range(self.n):
            self.arg.needs(shift + i, out)


@dataclass
class Func(Expr):
    name: str
    args: list[Expr]

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        vals = [a.vec(ctx, shift) for a in self.args]
        if self.name == "abs":
            return np.abs(vals[0])
        if self.name == "min":
            return np.minimum.reduce(np.broadcast_arrays(*vals))
        if self.name == "max":
            return np.maximum.reduce(np.broadcast_arrays(*vals))
        if self.name == "where":
            c, a, b = np.broadcast_arrays(*vals)
            return np.where(np.isnan(c), np.nan, np.where(c != 0, a, b))
        if self.name == "coalesce":
            a, b = np.broadcast_arrays(*vals)
            return np.where(np.isnan(a), b, a)
        if self.name == "is_missing":
            return np.isnan(vals[0]).astype(float)
        raise AssertionError(self.name)

    def one(self, ctx: Context, shift: int) -> float:
        vals = [a.one(ctx, shift) for a in self.args]
        if self.name == "is_missing":
            return 1.0 if math.isnan(vals[0]) else 0.0
        if self.name == "coalesce":
            return vals[1] if math.isnan(vals[0]) else vals[0]
        if self.name == "where":
            c, a, b = vals
            return NAN if math.isnan(c) else (a if c != 0 else b)
        if any(math.isnan(v) for v in vals):
            return NAN
        if self.name == "abs":
            return abs(vals[0])
        return float(min(vals) if self.name == "min" else max(vals))

    def needs(self, shift: int, out: dict[str, int]) -> None:
        for a in self.args:
            a.needs(shift, out)


@dataclass
class Age(Expr):
    """Age of a date field: in years at the end of the data year, in days at the evaluation date, or in fiscal
    years (calendar years from the date's year to the data year, both included)."""

    how: str
    field: str

    def vec(self, ctx: Context, shift: int) -> np.ndarray:
        d = ctx.col(self.field, 0)
        if self.how == "age_days":
            return ctx.eval_date() - d
        if self.how == "fiscal_years":
            return year_of_day(ctx.data_year_end(shift)) - years_of_days(d) + 1
        return (ctx.data_year_end(shift) - d) / DAYS_PER_YEAR

    def one(self, ctx: Context, shift: int) -> float:
        d = ctx.col(self.field, 0)
        if math.isnan(d):
            return NAN
        if self.how == "age_days":
            return ctx.eval_date() - d
        if self.how == "fiscal_years":
            return float(year_of_day(ctx.data_year_end(shift)) - year_of_day(d) + 1)
        return (ctx.data_year_end(shift) - d) / DAYS_PER_YEAR

    def needs(self, shift: int, out: dict[str, int]) -> None:
        out.setdefault(self.field, 0)


def reads(expr: Expr, shift: int = 0, out: set[tuple[str, int]] | None = None,
          derived_from: bool = True) -> set[tuple[str, int]]:
    """Every (field, lag) cell an expression reads; with ``derived_from`` also the cells of the columns a field
    declared equal to another is derived from (营业收入 for 销售收入: a lever too)."""
    out = set() if out is None else out
    if isinstance(expr, FieldRef):
        out.add((expr.field, 0 if expr.firm_level else shift))
        if expr.equivalence is not None and derived_from:
            out.add((expr.equivalence.equals, 0 if expr.firm_level else shift))
    elif isinstance(expr, Lag):
        reads(expr.arg, shift + expr.k, out, derived_from)
    elif isinstance(expr, Window):
        for i in range(expr.n):
            reads(expr.arg, shift + i, out, derived_from)
    elif isinstance(expr, Age):
        out.add((expr.field, 0))
    elif isinstance(expr, BinOp | Compare):
        reads(expr.left, shift, out, derived_from)
        reads(expr.right, shift, out, derived_from)
    elif isinstance(expr, Neg):
        reads(expr.arg, shift, out, derived_from)
    elif isinstance(expr, Func):
        for a in expr.args:
            reads(a, shift, out, derived_from)
    elif not isinstance(expr, Const):
        raise TypeError(f"unknown expression node {type(expr).__name__}")
    return out


_WINDOWS = ("sum", "mean", "sum_available", "mean_available", "max_available", "count_available")
_FUNCS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1), "min": (2, None), "max": (2, None), "where": (3, 3), "coalesce": (2, 2), "is_missing": (1, 1),
}
_DATES = ("age_years", "age_days", "fiscal_years")
FUNCTIONS = ("lag", *_WINDOWS, *_FUNCS, *_DATES)


class Compiler:
    """Compiles expressions against the field registry and a rule set's metrics (which may use each other)."""

    def __init__(self, metrics: Mapping[str, str], equivalences: Mapping[str, Equivalence] | None = None) -> None:
        self._sources = dict(metrics)
        self._equivalences = dict(equivalences or {})
        self._compiled: dict[str, Expr] = {}
        self._stack: list[str] = []

    def metric(self, name: str) -> Expr:
        """The compiled metric ``name`` (compiling it, and the metrics it uses, on first use)."""
        if name in self._compiled:
            return self._compiled[name]
        if name in self._stack:
            cycle = " → ".join([*self._stack[self._stack.index(name):], name])
            raise ExprError(f"metrics refer to each other in a cycle: {cycle}")
        self._stack.append(name)
        try:
            expr = self.compile(self._sources[name])
        finally:
            self._stack.pop()
        self._compiled[name] = expr
        return expr

    def compile(self, text: str) -> Expr:
        """Parse and compile ``text``; raise :class:`ExprError` naming the offending part."""
        try:
            tree = ast.parse(str(text).strip(), mode="eval")
        except SyntaxError as exc:
            raise ExprError(f"not a valid expression: {exc.msg}", (exc.offset or 1) - 1) from None
        return self._node(tree.body)

    def text_field(self, text: str) -> str | None:
        """The field id if ``text`` is just the name of a text field (for 'in' / 'not_in' tests)."""
        name = str(text).strip()
        f = BY_ID.get(name)
        return name if f is not None and f.dtype == DType.TEXT else None

    def _name(self, node: ast.Name) -> Expr:
        name = node.id
        if name in self._sources:
            return self.metric(name)
        f = BY_ID.get(name)
        if f is None:
            raise ExprError(f"unknown name '{name}'{_did_you_mean(name, [*BY_ID, *self._sources])}", node.col_offset)
        if f.dtype in (DType.TEXT, DType.DATE):
            raise ExprError(f"'{name}' is a {f.dtype} field; arithmetic needs a number "
                            f"(dates go through age_years()/age_days())", node.col_offset)
        return FieldRef(name, firm_level=f.kind == Kind.FIRM, equivalence=self._equivalences.get(name))

    def _int_arg(self, node: ast.expr, what: str) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool) \
                and 1 <= node.value <= 20:
            return node.value
        raise ExprError(f"{what} must be a whole number of years from 1 to 20", node.col_offset)

    def _call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise ExprError("only the listed functions can be called", node.col_offset)
        name = node.func.id
        if node.keywords:
            raise ExprError(f"{name}() takes positional arguments only", node.col_offset)
        args = node.args
        if name == "lag":
            if len(args) != 2:
                raise ExprError("lag(x, k) takes two arguments", node.col_offset)
            return Lag(self._node(args[0]), self._int_arg(args[1], "lag's k"))
        if name in _WINDOWS:
            if len(args) != 2:
                raise ExprError(f"{name}(x, n) takes two arguments", node.col_offset)
            return Window(name, self._node(args[0]), self._int_arg(args[1], f"{name}'s n"))
        if name in _DATES:
            arg = args[0] if len(args) == 1 else None
            f = BY_ID.get(arg.id) if isinstance(arg, ast.Name) else None
            if f is None or f.dtype != DType.DATE:
                raise ExprError(f"{name}(d) takes one date field, e.g. {name}(registration_date)", node.col_offset)
            return Age(name, f.id)
        if name in _FUNCS:
            lo, hi = _FUNCS[name]
            if len(args) < lo or (hi is not None and len(args) > hi):
                raise ExprError(f"{name}() takes {lo if lo == hi else f'at least {lo}'} arguments", node.col_offset)
            return Func(name, [self._node(a) for a in args])
        raise ExprError(f"unknown function '{name}'{_did_you_mean(name, FUNCTIONS)}; allowed: "
                        f"{', '.join(FUNCTIONS)}", node.col_offset)

    def _node(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return Const(float(node.value))
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return BinOp(type(node.op), self._node(node.left), self._node(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self._node(node.operand)
            return Neg(inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            return Compare(type(node.ops[0]), self._node(node.left), self._node(node.comparators[0]))
        if isinstance(node, ast.Call):
            return self._call(node)
        snippet = ast.unparse(node)
        raise ExprError(f"'{snippet}' is not allowed: use numbers, field and metric names, + - * / **, "
                        f"comparisons and the functions {', '.join(FUNCTIONS)}", node.col_offset)


def _did_you_mean(name: str, candidates: Any) -> str:
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
