"""What the expressions read: a firm panel seen from one data year, for all firms at once or for one firm."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tiering.dates import day_number, day_numbers
from tiering.fields import BY_ID, DType, Kind
from tiering.missing import is_missing
from tiering.rules.expr import Equivalence, derive

if TYPE_CHECKING:
    import pandas as pd


class BatchContext:
    """Columns of the panel aligned on a fixed list of firms, for the data year and the years before it.

    ``row_firm`` numbers the firm of every panel row and ``firm_codes`` lists the evaluated firms by those
    numbers (see :func:`tiering.numbering.number_firms`), so aligning a year is integer indexing, not string matching.
    """

    def __init__(self, panel: pd.DataFrame, row_firm: np.ndarray, firm_codes: np.ndarray, data_year: int,
                 eval_date: dt.date) -> None:
        self.panel = panel
        self.size = len(firm_codes)
        self.data_year = data_year
        self._eval_date = day_number(eval_date)
        self._row_firm = row_firm
        self._position = np.full(int(row_firm.max(initial=-1)) + 1, -1, dtype=np.int64)
        self._position[firm_codes] = np.arange(self.size)
        self._years = panel["year"].to_numpy()
        self._positions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cols: dict[tuple[str, int], np.ndarray] = {}
        self._derived: dict[tuple[str, str, int], np.ndarray] = {}
        self._texts: dict[str, np.ndarray] = {}

    def _align(self, lag: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the panel at ``data_year - lag`` and the firm position each belongs to."""
        if lag not in self._positions:
            rows = np.flatnonzero(self._years == self.data_year - lag)
            pos = self._position[self._row_firm[rows]]
            keep = pos >= 0
            self._positions[lag] = (rows[keep], pos[keep])
        return self._positions[lag]

    def col(self, field: str, lag: int) -> np.ndarray:
        key = (field, lag)
        if key not in self._cols:
            f = BY_ID[field]
            out = np.full(self.size, np.nan)
            if field in self.panel:  # a column the register lacks is missing data, not an error
                rows, pos = self._align(0 if f.kind == Kind.FIRM else lag)
                source = self.panel[field]
                values = day_numbers(source) if f.dtype == DType.DATE else source.to_numpy(dtype=float, na_value=np.nan)
                out[pos] = values[rows]
            self._cols[key] = out
        return self._cols[key]

    def derived(self, field: str, equals: str, lag: int) -> np.ndarray:
        """``field`` read under a declared equivalence: where the register has no value, the ``equals`` column's."""
        key = (field, equals, lag)
        if key not in self._derived:
            self._derived[key] = derive(self.col(field, lag), self.col(equals, lag))
        return self._derived[key]

    def derive(self, needs: dict[str, int], equivalences: Sequence[Equivalence] = ()) -> None:
        """Read every column in ``needs`` (field id -> deepest lag) now rather than when a criterion first asks, and
        derive the columns a rule set declares equal to others (``equivalences``), once for every rule set."""
        for field, deepest in needs.items():
            if BY_ID[field].dtype == DType.TEXT:
                self.text(field)
                continue
            for lag in range(deepest + 1):
                self.col(field, lag)
        for eq in equivalences:
            for lag in range(needs.get(eq.field, -1) + 1):
                self.derived(eq.field, eq.equals, lag)

    def text(self, field: str) -> np.ndarray:
        if field in self._texts:
            return self._texts[field]
        out = np.full(self.size, None, dtype=object)
        if field in self.panel:
            rows, pos = self._align(0)
            out[pos] = self.panel[field].iloc[rows].to_numpy(dtype=object)
        self._texts[field] = out
        return out

    def data_year_end(self, lag: int) -> float:
        return day_number(dt.date(self.data_year - lag, 12, 31))

    def eval_date(self) -> float:
        return self._eval_date

    def subset(self, positions: np.ndarray) -> SubsetContext:
        """The same columns for the firms at ``positions`` only (each column sliced once, when first read)."""
        return SubsetContext(self, positions)


class SubsetContext:
    """A :class:`BatchContext` restricted to some of its firms: reads the parent's columns, never the panel."""

    def __init__(self, parent: BatchContext, positions: np.ndarray) -> None:
        self.parent, self.positions = parent, positions
        self.size = len(positions)
        self.data_year = parent.data_year
        self._cols: dict[tuple[str, int], np.ndarray] = {}
        self._texts: dict[str, np.ndarray] = {}

    def col(self, field: str, lag: int) -> np.ndarray:
        key = (field, lag)
        if key not in self._cols:
            self._cols[key] = self.parent.col(field, lag)[self.positions]
        return self._cols[key]

    def derived(self, field: str, equals: str, lag: int) -> np.ndarray:
        key = (f"{field}={equals}", lag)
        if key not in self._cols:
            self._cols[key] = self.parent.derived(field, equals, lag)[self.positions]
        return self._cols[key]

    def text(self, field: str) -> np.ndarray:
        if field not in self._texts:
            self._texts[field] = self.parent.text(field)[self.positions]
        return self._texts[field]

    def data_year_end(self, lag: int) -> float:
        return self.parent.data_year_end(lag)

    def eval_date(self) -> float:
        return self.parent.eval_date()


class FirmContext:
    """The same view for one firm, read cell by cell from its rows (the per-firm path): one mapping per firm-year,
    field id -> cell, as a frame's records give them or as the register cache keeps them (dates as ISO text)."""

    size = 1

    def __init__(self, rows: Sequence[Mapping[str, Any]], data_year: int, eval_date: dt.date) -> None:
        self.by_year: dict[int, Mapping[str, Any]] = {int(r["year"]): r for r in rows}
        self.data_year = data_year
        self._eval_date = day_number(eval_date)

    def col(self, field: str, lag: int) -> float:
        f = BY_ID[field]
        row = self.by_year.get(self.data_year - (0 if f.kind == Kind.FIRM else lag))
        value = None if row is None else row.get(field)
        if is_missing(value):
            return math.nan
        if f.dtype == DType.DATE:
            return day_number(_date(value))
        return float(value)

    def derived(self, field: str, equals: str, lag: int) -> float:
        return derive(self.col(field, lag), self.col(equals, lag))

    def text(self, field: str) -> Any:
        row = self.by_year.get(self.data_year)
        return None if row is None else row.get(field)

    def data_year_end(self, lag: int) -> float:
        return day_number(dt.date(self.data_year - lag, 12, 31))

    def eval_date(self) -> float:
        return self._eval_date


class FirmArrays:
    """A :class:`FirmContext` seen as a batch context of its one firm (arrays of length one): the batch code that
    reads an evaluation's contexts — the 尚缺 searches — runs on one firm's cells without a panel."""

    size = 1

    def __init__(self, firm: FirmContext) -> None:
        self.firm = firm
        self.data_year = firm.data_year
        self._cols: dict[tuple[str, ...], np.ndarray] = {}

    def col(self, field: str, lag: int) -> np.ndarray:
        key = (field, str(lag))
        if key not in self._cols:
            self._cols[key] = np.array([self.firm.col(field, lag)])
        return self._cols[key]

    def derived(self, field: str, equals: str, lag: int) -> np.ndarray:
        key = (field, equals, str(lag))
        if key not in self._cols:
            self._cols[key] = np.array([self.firm.derived(field, equals, lag)])
        return self._cols[key]

    def text(self, field: str) -> np.ndarray:
        return np.array([self.firm.text(field)], dtype=object)

    def data_year_end(self, lag: int) -> float:
        return self.firm.data_year_end(lag)

    def eval_date(self) -> float:
        return self.firm.eval_date()

    def subset(self, positions: np.ndarray) -> FirmArrays:
        """The firms at ``positions``: this one firm (the only position there is)."""
        assert positions.tolist() == [0], positions
        return self


def _date(value: Any) -> dt.date:
    """A date cell as a date: a pandas Timestamp or datetime (a frame's records), a date, or ISO text (the register
    cache's records)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
