"""Validating a register: parse every mapped column, check across rows, refuse, and assemble the panel.

The pieces live beside this module: the row contract (row.py), the fast column parser (columns.py), the
cross-row checks (checks.py) and panel assembly (panel.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from tiering.fields import BY_ID, Kind
from tiering.numbering import FirmNumbers, numbers_of_sorted, sort_rows
from tiering.register.checks import check_duplicates, check_parts, check_registration
from tiering.register.columns import Problem, parse_column
from tiering.register.panel import assemble, harmonise_firm_fields
from tiering.register.read import ColumnMap, RawTable
from tiering.register.refusals import Refusal
from tiering.register.row import YEAR_RANGE

WHOLE_ROW = "（整行）"
"""The column named by a refusal of a whole line (a malformed CSV line)."""


def validate(
    raw: RawTable, columns: ColumnMap, found: list[Problem] | None = None
) -> tuple[pd.DataFrame, list[Refusal], list[str], FirmNumbers]:
    """Parse and check every mapped column of ``raw``; return the accepted panel frame, refusals, warnings and the
    frame's firm numbering (from the one sort by firm the checks make; the evaluation reuses it).

    ``found`` are cells already refused while reading and cleaning (their blanks are not refused again); with
    ``raw.flags`` on mapped columns and whole lines, they come first.
    """
    mapped = set(columns.positions.values())
    early = [p for p in [*raw.flags, *(found or [])] if p[1] == -1 or p[1] in mapped]
    early_cells = {(p[0], p[1]) for p in early}
    whole_rows = {p[0] for p in early if p[1] == -1}
    context = {"money_units": columns.money_units, "percent": columns.percent}
    problems: list[Problem] = []

    def parse(field_id: str, position: int) -> pd.Series:
        return parse_column(BY_ID[field_id], raw.frame[position], position, context, problems)

    # columns parse independently and NumPy/arrow drop the GIL in their loops: two threads, two cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        parsed = dict(zip(columns.positions, pool.map(parse, columns.positions, columns.positions.values()),
                          strict=True))
    # one numbering of the firms, in code order, and one sort by (firm, year) serve the duplicate check and
    # harmonising; the panel keeps the file's row order (moving every column of millions of rows costs seconds)
    years = parsed["year"].to_numpy(dtype=float, na_value=np.nan)
    known, firm = sort_rows(parsed["uscc"], years)
    key = firm * (YEAR_RANGE[1] - YEAR_RANGE[0] + 1) + (years[known] - YEAR_RANGE[0]).astype(np.int64)
    check_parts(raw, columns, parsed, problems)
    check_duplicates(raw, columns, known, key, problems)
    check_registration(raw, columns, parsed, problems)
    problems = early + [p for p in problems if (p[0], p[1]) not in early_cells and p[0] not in whole_rows]
    field_at = {position: field_id for field_id, position in columns.positions.items()}
    refusals = [
        Refusal(raw.path.name, raw.locate(row)[1], raw.headers[position] if position >= 0 else WHOLE_ROW, value,
                reason, raw.locate(row)[0], field_at.get(position, ""))
        for row, position, value, reason in sorted(problems, key=lambda p: (p[0], p[1]))
    ]
    refused = np.isin(raw.frame.index.to_numpy(), [p[0] for p in problems])
    accepted = ~refused[known]  # rows without a firm or year are refused, so ``known`` holds every accepted row
    by_firm = known[accepted]
    kept = np.zeros(len(raw.frame), dtype=bool)
    kept[by_firm] = True
    rows = np.flatnonzero(kept)
    frame = assemble(raw, parsed, rows)
    position = np.empty(len(raw.frame), dtype=np.int64)
    position[rows] = np.arange(len(rows))
    frame, warnings = harmonise_firm_fields(
        frame, [f for f in columns.positions if BY_ID[f].kind is Kind.FIRM], position[by_firm], firm[accepted],
        lambda key: raw.places([key]),
    )
    return frame, refusals, warnings, numbers_of_sorted(position[by_firm], firm[accepted], frame["uscc"])

