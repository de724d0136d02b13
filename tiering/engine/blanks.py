"""Which register cells a criterion could not read: the blank (field, fiscal year) cells behind a missing value.

One place answers it for every output that says 缺失 — the explanation of a firm (and so the report's firm pages,
the desk and ``explain``) and the ladder's 需补充数据 texts; :func:`tiering.explain.format.missing_cells` words it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiering.dates import years_of_days
from tiering.fields import BY_ID, DType, Kind
from tiering.missing import is_missing
from tiering.rules.expr import Equivalence, equivalent_reads, reads
from tiering.rules.nodes import Node

Cell = tuple[str, int, str | None]
"""A register cell: field id, fiscal year (the data year for a field describing the firm once) and the field a
declared equivalent may supply it from (营业收入 for 销售收入), if any."""


def cells_read(node: Node) -> list[tuple[str, int, Equivalence | None]]:
    """Every (field, lag, equivalence) cell the node's expression, its threshold's selector and its text field read,
    the data year first; a field read under a declared equivalent carries it (the column it may be derived from is
    not a cell of its own)."""
    cells: set[tuple[str, int]] = set()
    equivalent: dict[tuple[str, int], Equivalence] = {}
    for expr in (getattr(node, "expr", None), getattr(getattr(node, "threshold", None), "by", None)):
        if expr is not None:
            reads(expr, 0, cells, derived_from=False)
            equivalent_reads(expr, 0, equivalent)
    text_field = getattr(node, "text_field", None)
    if text_field is not None:
        cells.add((text_field, 0))
    return [(f, lag, equivalent.get((f, lag))) for f, lag in sorted(cells, key=lambda c: (c[1], c[0]))]


def _blank(ctx: Any, field: str, lag: int, eq: Equivalence | None) -> np.ndarray:
    if BY_ID[field].dtype == DType.TEXT:
        texts = np.atleast_1d(np.asarray(ctx.text(field), dtype=object))
        return np.array([is_missing(t) or t == "" for t in texts], dtype=bool)
    # a field read under a declared equivalent is missing only when the column it equals is missing too
    value = ctx.col(field, lag) if eq is None else ctx.derived(field, eq.equals, lag)
    return np.isnan(np.atleast_1d(np.asarray(value, dtype=float)))


def blank_cells(node: Node, ctx: Any, data_year: int) -> tuple[list[Cell], np.ndarray]:
    """The cells ``node`` reads and, per cell and firm of ``ctx``, whether it is blank. Years before a firm's
    registration are not asked for; a firm without a registration date counts as registered long ago, so every
    blank year of it is."""
    read = cells_read(node)
    first = np.nan_to_num(np.atleast_1d(years_of_days(np.asarray(ctx.col("registration_date", 0), dtype=float))),
                          nan=-1e6)
    cells = [(f, data_year - (0 if BY_ID[f].kind == Kind.FIRM else lag), None if eq is None else eq.equals)
             for f, lag, eq in read]
    if not read:
        return cells, np.zeros((0, len(first)), dtype=bool)
    blank = np.vstack([_blank(ctx, f, lag, eq) & (data_year - lag >= first) for f, lag, eq in read])
    return cells, blank


def firm_blank_cells(node: Node, ctx: Any, data_year: int, i: int) -> tuple[Cell, ...]:
    """The blank cells of firm ``i`` of ``ctx`` among those ``node`` reads."""
    cells, blank = blank_cells(node, ctx, data_year)
    return tuple(c for c, gap in zip(cells, blank[:, i], strict=True) if gap)
