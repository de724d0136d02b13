"""Checks across cells and rows: a part larger than its whole, a year before the firm was registered, and one
firm-year on several rows."""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pandas as pd

from tiering.fields import BY_ID
from tiering.register.columns import Problem
from tiering.register.read import ColumnMap, RawTable, display
from tiering.register.row import NOT_ABOVE, before_registration, duplicate, not_above


def check_parts(
    raw: RawTable, columns: ColumnMap, parsed: dict[str, pd.Series], problems: list[Problem]
) -> None:
    """Refuse a part (科技人员数) larger than its whole (职工总数) on the same row, naming the whole's column."""
    for part_id, whole_id in NOT_ABOVE:
        if part_id not in parsed or whole_id not in parsed:
            continue
        over = parsed[part_id] > parsed[whole_id]
        part_position, whole_position = columns.positions[part_id], columns.positions[whole_id]
        for row in over[over].index:
            problems.append((
                int(row), part_position, display(raw.frame.at[row, part_position]),
                not_above(
                    BY_ID[part_id], BY_ID[whole_id], columns.headers[whole_id],
                    display(raw.frame.at[row, whole_position]),
                ),
            ))


def check_duplicates(
    raw: RawTable, columns: ColumnMap, rows: np.ndarray, key: np.ndarray, problems: list[Problem]
) -> None:
    """Refuse every row of a repeated (firm, year); ``key`` numbers the pair of each of ``rows``, in sorted order."""
    same = key[1:] == key[:-1]
    repeated = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
    position = columns.positions["uscc"]
    row_numbers = raw.frame.index.to_numpy()
    for _, group in groupby(repeated.tolist(), key=lambda i: key[i]):
        numbers = [int(row_numbers[rows[i]]) for i in group]
        for row in numbers:
            others = [r for r in numbers if r != row]
            problems.append((row, position, display(raw.frame.at[row, position]), duplicate(raw.places(others))))



def check_registration(
    raw: RawTable, columns: ColumnMap, parsed: dict[str, pd.Series], problems: list[Problem]
) -> None:
    """Refuse a row whose fiscal year ends before the firm's registration date on the same row."""
    if "registration_date" not in parsed:
        return
    registered = parsed["registration_date"].dt.year
    early = (parsed["year"] < registered).to_numpy(dtype=bool)
    position = columns.positions["year"]
    for row in parsed["year"].index[early]:
        problems.append((
            int(row), position, display(raw.frame.at[row, position]),
            before_registration(columns.headers["registration_date"],
                                display(raw.frame.at[row, columns.positions["registration_date"]])),
        ))
