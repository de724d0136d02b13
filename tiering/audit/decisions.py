"""A run's outcomes as rows of the audit store's ``decisions`` table, built a column at a time.

A large run records millions of decisions. Built as one Python row each, their texts coded and each row written
as JSON for the digest, they cost more than classifying the run. A column of outcomes holds few distinct values
among many rows (a firm's code and name once per rule set, a few hundred scores and reason texts), so each
column is cut once into its distinct values and, per row, the position of its value: each distinct value
becomes its stored value (text, number or NULL), its number in ``texts`` and its JSON once, and the rows are
put together from those by NumPy and Arrow. The rows and their digest are those of the row-by-row build
(:func:`tiering.audit.chain.rows_sha256` of :meth:`Decisions.rows`), so stores written before verify as they did.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tiering.audit.chain import ROW_JSON

DECISION_COLUMNS = ("uscc", "name", "program", "ruleset_id", "version", "outcome", "score_min", "score_max", "path",
                    "failed", "missing")
"""The columns of a decision, as stored and hashed (after the year)."""

TEXT_COLUMNS = ("program", "ruleset_id", "version", "outcome", "path", "failed", "missing")
"""The columns stored as numbers of their texts in ``texts``."""

_NUMBERS = ("score_min", "score_max")


@dataclass(frozen=True)
class _Column:
    values: list[Any]
    """The column's distinct values as stored: text, number, or None for a blank (NaN included)."""
    at: np.ndarray
    """Per row, the position of its value in ``values``."""


def _column(col: pd.Series) -> _Column:
    if col.name in _NUMBERS:
        numbers = col.to_numpy(dtype=float)
        # distinct by their bits, so that 0.0 and -0.0 keep the texts JSON gives each
        bits, at = np.unique(numbers.view(np.int64), return_inverse=True)
        return _Column([None if math.isnan(x) else x for x in bits.view(np.float64).tolist()], at.reshape(-1))
    at, distinct = pd.factorize(col, use_na_sentinel=True)
    values: list[Any] = [v if type(v) is str else str(v) for v in np.asarray(distinct, dtype=object).tolist()]
    if (at < 0).any():
        at = np.where(at < 0, len(values), at)
        values.append(None)
    return _Column(values, at)


class Decisions:
    """The outcome table of a run (or of one part of it) as the decisions of application ``year``.

    Its rows are numbered from 0; :meth:`rows`, :meth:`json` and :meth:`numbered` give a range of them, so that a
    large table is recorded a piece at a time from columns cut once."""

    def __init__(self, year: int, outcomes: pd.DataFrame) -> None:
        self.year = int(year)
        self._n = len(outcomes)
        self._columns = [_column(outcomes[key]) for key in DECISION_COLUMNS]
        self._json: list[pa.StringArray] | None = None

    def __len__(self) -> int:
        return self._n

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[Any, ...]]:
        """Rows ``start:stop`` as plain Python values: the year, then :data:`DECISION_COLUMNS` (NaN as None)."""
        return list(zip(repeat(self.year), *self._taken([_table(c.values) for c in self._columns], start, stop)))

    def json(self, start: int = 0, stop: int | None = None) -> pa.StringArray:
        """Rows ``start:stop`` written as JSON, one text per row, each what :data:`~tiering.audit.chain.ROW_JSON`
        writes of the row of :meth:`rows` (for :meth:`tiering.audit.chain.RowsHasher.add_json`)."""
        if self._json is None:
            self._json = [pa.array([ROW_JSON.encode(v) for v in c.values], pa.string()) for c in self._columns]
        stop = self._n if stop is None else stop
        parts = [texts.take(c.at[start:stop]) for texts, c in zip(self._json, self._columns, strict=True)]
        return pc.binary_join_element_wise(pc.binary_join_element_wise(f"[{self.year}", *parts, ","), "]", "")

    def numbered(self, text_ids: Callable[[list[Any]], list[Any]]) -> NumberedDecisions:
        """The decisions as the ``decisions`` table takes them, the distinct texts of :data:`TEXT_COLUMNS` numbered
        by ``text_ids`` once for every range of rows then inserted (:meth:`NumberedDecisions.rows`)."""
        return NumberedDecisions(self, [_table(text_ids(c.values) if key in TEXT_COLUMNS else c.values)
                                        for key, c in zip(DECISION_COLUMNS, self._columns, strict=True)])

    def _taken(self, tables: list[np.ndarray], start: int, stop: int | None) -> list[list[Any]]:
        """Each column's rows ``start:stop`` as a list, its values taken from ``tables`` (one per column, its
        values by their place in :attr:`_Column.values`)."""
        return [table[column.at[start:stop]].tolist() for column, table in zip(self._columns, tables, strict=True)]


@dataclass(frozen=True)
class NumberedDecisions:
    """:class:`Decisions` with their texts numbered as the store numbers them (:meth:`Decisions.numbered`)."""

    decisions: Decisions
    tables: list[np.ndarray]
    """Per column, its distinct values as stored (texts as their numbers)."""

    def rows(self, run: int, first: int, start: int, stop: int) -> Iterator[tuple[Any, ...]]:
        """Rows ``start:stop`` as the ``decisions`` table takes them: under record ``run``, numbered from
        ``first``, the year, then :data:`DECISION_COLUMNS`."""
        return zip(repeat(run), range(first, first + stop - start), repeat(self.decisions.year),
                   *self.decisions._taken(self.tables, start, stop))


def _table(values: list[Any]) -> np.ndarray:
    """``values`` as an array of Python objects, to be taken from by position."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table
