"""Panel assembly: the accepted rows as the internal panel frame, and firm-level fields made one per firm."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from operator import itemgetter

import numpy as np
import pandas as pd

from tiering.fields import BY_ID, FIELDS, DType
from tiering.register.read import RawTable, display


def _empty_columns(length: int) -> dict[DType, pd.Series]:
    """One all-missing column per kind, shared by every field the register lacks (read-only, so never altered)."""
    nothing = np.full(length, np.nan)
    nothing.flags.writeable = False
    never = np.full(length, np.datetime64("NaT"), dtype="datetime64[ns]")
    never.flags.writeable = False
    index = pd.RangeIndex(length)
    return {DType.DATE: pd.Series(never, index=index, copy=False),
            DType.TEXT: pd.Series(np.nan, index=index, dtype="str"),
            DType.BOOL: pd.Series(nothing, index=index, copy=False)}


def assemble(raw: RawTable, parsed: dict[str, pd.Series], rows: np.ndarray) -> pd.DataFrame:
    """The panel frame: every field (absent ones empty), the ``rows`` (ascending: file order), and ``_row``
    (spreadsheet row)."""
    index = pd.RangeIndex(len(rows))
    empty = _empty_columns(len(rows))
    every_row = len(rows) == len(raw.frame)

    def keep(values: pd.Series) -> pd.Series:
        if every_row:
            return values.set_axis(index)
        # the array's own take: Series.iloc would also take (and build) a 4-million-entry index per column
        return pd.Series(values.array.take(rows), index=index, copy=False)

    present = [f.id for f in FIELDS if f.id in parsed]
    # NumPy and arrow take without the GIL, so two threads take two columns at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        kept = dict(zip(present, pool.map(keep, (parsed[f] for f in present)), strict=True))
    data: dict[str, pd.Series] = {}
    for field in FIELDS:
        if field.id not in parsed:
            data[field.id] = empty.get(field.dtype, empty[DType.BOOL])
            continue
        column = kept[field.id]
        if field.dtype is DType.TEXT:
            column = column.astype("str")
        elif field.dtype is DType.DATE:
            column = column.astype("datetime64[ns]")
        else:
            column = column.astype("float64")
        data[field.id] = column
    data["year"] = data["year"].astype("int64")
    data["_row"] = pd.Series(raw.frame.index.to_numpy()[rows], index=index, dtype="int64")
    # copy=False keeps one block per column: stacking 70-odd columns of millions of rows into one block costs seconds
    return pd.DataFrame(data, copy=False)


def harmonise_firm_fields(
    frame: pd.DataFrame, field_ids: list[str], order: np.ndarray, firms: np.ndarray,
    place: Callable[[int], str] = lambda row: f"第 {row} 行",
) -> tuple[pd.DataFrame, list[str]]:
    """Give every year of a firm the firm-level value of its latest year that has one; warn where years disagree.

    ``order`` lists the positions of the frame's rows sorted by (uscc, year) and ``firms`` the firm number of each
    of them (non-decreasing), as :func:`tiering.numbering.sort_rows` gives them. A firm-level fact (注册日期,
    所在区 …) cannot differ between years, so a disagreement is a data-entry problem worth a warning, but the
    newest value is the best one to keep. ``place`` words a row's ``_row`` for the warning.
    """
    warnings: list[str] = []
    if len(order) == 0:
        return frame, warnings
    firm_of_row = np.full(len(frame), -1, dtype=np.int64)
    firm_of_row[order] = firms
    fields = [f for f in field_ids if f != "uscc"]

    def latest(field_id: str) -> tuple[pd.Series | None, np.ndarray]:
        return _latest_values(frame[field_id], order, firms, firm_of_row)

    # arrow's take and compare run without the GIL: two fields at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(latest, fields))
    for field_id, (values, differs) in zip(fields, results, strict=True):
        if values is None:
            continue
        if differs.any():
            conflicted = np.isin(firms, np.unique(firm_of_row[differs]))
            warnings.extend(_disagreements(frame.iloc[order[conflicted]], field_id, values, place))
        frame[field_id] = values
    return frame, warnings


def _latest_values(column: pd.Series, order: np.ndarray, firms: np.ndarray,
                   firm_of_row: np.ndarray) -> tuple[pd.Series | None, np.ndarray]:
    """Each row's value of its firm's latest year with one (None when that changes nothing), and the rows whose
    own value differs from it."""
    present = column.notna().to_numpy(dtype=bool)
    with_value = present[order]
    rows, firm = order[with_value], firms[with_value]
    if len(rows) == 0:
        return None, present
    ends = np.flatnonzero(np.r_[firm[1:] != firm[:-1], True])  # each firm's last year with a value
    last_row = np.full(int(firms[-1]) + 1, -1, dtype=np.int64)
    last_row[firm[ends]] = rows[ends]
    latest = pd.Series(column.array.take(last_row[firm_of_row], allow_fill=True), index=column.index)
    differs = present & (column != latest).to_numpy(dtype=bool)
    if not differs.any() and present.all():
        return None, differs
    return latest, differs


def _disagreements(rows: pd.DataFrame, field_id: str, latest: pd.Series, place: Callable[[int], str]) -> list[str]:
    label = BY_ID[field_id].label
    records = zip(
        rows["uscc"].tolist(), rows["name"].tolist(), rows["_row"].tolist(), rows["year"].tolist(),
        rows[field_id].tolist(), latest[rows.index].tolist(), strict=True,
    )
    notes = []
    # plain lists and itertools: a pandas groupby loop over thousands of firms costs seconds
    for firm, group in groupby(records, key=itemgetter(0)):
        members = list(group)
        seen = "；".join(f"{place(row)}（{year} 年）{display(value) or '空'}" for _, _, row, year, value, _ in members)
        name, keep = members[-1][1], display(members[-1][5])
        notes.append(
            f"企业 {firm}（{name}）的 {label} 在不同年度不一致：{seen}。已对该企业所有年度采用最新年度的值 {keep}"
        )
    return notes
