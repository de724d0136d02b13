"""The firms' current data in memory: the register as a base, with every event's cell changes folded over it.

A cell's value is a function of the set of changes made to it, not of the order they arrived in: changes are
folded in (date, event id) order, so a late event dated earlier lands where it belongs, and replaying the log in
any order gives the same panel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tiering.fields import BY_ID, DType, Kind
from tiering.watch.events import ADD, BASE_RANK, MAX, SET, Op


@dataclass(frozen=True)
class Change:
    """An :class:`Op` as applied: with the date and event that made it (the fold order)."""

    date: dt.date
    event_id: str
    op: Op


def _missing(x: Any) -> bool:
    return x is None or x is pd.NaT or (isinstance(x, float) and math.isnan(x))


def fold(base: Any, changes: list[Change]) -> Any:
    """The value of a cell: its register value with the changes applied in (date, event id) order."""
    value, rank = base, (-1 if _missing(base) else BASE_RANK)
    ordered = changes if len(changes) == 1 else sorted(changes, key=lambda c: (c.date, c.event_id))
    for ch in ordered:
        op = ch.op
        if op.how == SET:
            if op.rank >= rank:
                value, rank = op.value, op.rank
        elif op.how == ADD:
            value = (0.0 if _missing(value) else value) + op.value
        elif op.how == MAX:
            value = op.value if _missing(value) else max(value, op.value)
    return value


def _blank(dtype: np.dtype) -> Any:
    """The missing value of a column's dtype."""
    return {"M": np.datetime64("NaT"), "f": np.nan, "i": 0}.get(dtype.kind)


class _Column:
    """A growable numpy column (rows are appended when an event reports a year the register lacks)."""

    def __init__(self, values: np.ndarray) -> None:
        self.data = values.copy()
        self.size = len(values)

    def append(self, value: Any) -> None:
        if self.size == len(self.data):
            extra = np.empty(max(16, len(self.data)), dtype=self.data.dtype)
            extra[:] = _blank(self.data.dtype)
            self.data = np.concatenate([self.data, extra])
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


def _column_array(series: pd.Series, field: str) -> np.ndarray:
    f = BY_ID.get(field)
    if f is not None and f.dtype == DType.DATE:
        return pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[ns]")
    if field == "year":
        return series.to_numpy(dtype=np.int64)
    if f is not None and f.dtype != DType.TEXT:
        return series.to_numpy(dtype=float, na_value=np.nan)
    return series.to_numpy(dtype=object)


class FirmPanel:
    """Every firm's rows, current; cheap to slice for the firms an event batch touched."""

    def __init__(self, frame: pd.DataFrame) -> None:
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
        self.columns = list(frame.columns)
        self._cols = {c: _Column(_column_array(frame[c], c)) for c in self.columns}
        self._rows: dict[tuple[str, int], int] = {}
        self._firm_rows: dict[str, list[int]] = defaultdict(list)
        for i, (uscc, year) in enumerate(zip(frame["uscc"].to_numpy(), frame["year"].to_numpy(), strict=True)):
            self._rows[(str(uscc), int(year))] = i
            self._firm_rows[str(uscc)].append(i)
        self._base: dict[tuple[int, str], Any] = {}
        self._changes: dict[tuple[str, int | None, str], list[Change]] = defaultdict(list)

    def has_firm(self, uscc: str) -> bool:
        return uscc in self._firm_rows

    def name(self, uscc: str) -> str:
        return str(self._cols["name"].view()[self._firm_rows[uscc][0]])

    def firms(self) -> list[str]:
        return list(self._firm_rows)

    def years(self, uscc: str) -> list[int]:
        year = self._cols["year"].view()
        return sorted(int(year[i]) for i in self._firm_rows[uscc])

    def value(self, uscc: str, year: int, field: str) -> Any:
        i = self._rows.get((uscc, year))
        return None if i is None else self._cols[field].view()[i]

    def _row(self, uscc: str, year: int) -> int:
        """The row of (firm, year), created with the firm's firm-level fields when the register has none."""
        i = self._rows.get((uscc, year))
        if i is not None:
            return i
        template = self._firm_rows[uscc][0]
        i = self._cols["uscc"].size
        for c in self.columns:
            f = BY_ID.get(c)
            col = self._cols[c]
            if c == "year":
                col.append(year)
            elif c in ("uscc", "name") or (f is not None and f.kind == Kind.FIRM):
                col.append(col.view()[template])
            else:
                col.append(_blank(col.data.dtype))
        self._rows[(uscc, year)] = i
        self._firm_rows[uscc].append(i)
        return i

    def apply(self, uscc: str, date: dt.date, event_id: str, ops: list[Op]) -> None:
        """Record an event's changes and refresh the cells they touch."""
        for op in ops:
            if op.field not in self._cols:
                continue
            key = (uscc, op.year, op.field)
            self._changes[key].append(Change(date, event_id, op))
            rows = list(self._firm_rows[uscc]) if op.year is None else [self._row(uscc, op.year)]
            for i in rows:
                self._refresh(i, op.field, self._changes[key])

    def _refresh(self, i: int, field: str, changes: list[Change]) -> None:
        col = self._cols[field]
        base = self._base.setdefault((i, field), col.view()[i])
        value = fold(None if _missing(base) else base, changes)
        if col.data.dtype.kind == "M":
            value = np.datetime64("NaT") if _missing(value) else np.datetime64(pd.Timestamp(value).to_datetime64())
        col.data[i] = np.nan if value is None and col.data.dtype.kind == "f" else value

    def frame(self, firms: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """The panel (or the rows of ``firms``; or only ``columns``) in the frame contract, ready for ``evaluate``."""
        if firms is None:
            rows = np.arange(self._cols["uscc"].size)
        else:
            rows = np.fromiter((i for u in firms for i in self._firm_rows.get(u, ())), dtype=np.int64)
        wanted = [c for c in (columns or self.columns) if c in self._cols]
        out = pd.DataFrame({c: self._cols[c].view()[rows] for c in wanted})
        if firms is not None:
            return out  # evaluation slices stay in object dtype: converting ids to Arrow strings costs more here
        for c in ("uscc", "name"):
            out[c] = out[c].astype(str)
        return out.sort_values(["uscc", "year"], kind="stable").reset_index(drop=True)
