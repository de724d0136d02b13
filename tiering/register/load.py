"""Reading a register file: table, column mapping, cell cleaning, row checks, one :class:`Register`."""

from __future__ import annotations

from pathlib import Path

from tiering.register.cells import clean_cells
from tiering.register.read import map_columns, read_table, rejected_cells
from tiering.register.refusals import Register
from tiering.register.validate import validate


def load_register(
    path: str | Path, *, money_unit: str | None = None, encoding: str | None = None, sheet: str | None = None,
    header_row: int | None = None,
) -> Register:
    """Load a firm-by-year register, refusing bad rows with reasons; raise RegisterError if the file is unusable.

    ``money_unit`` ("万元" or "元") states the unit of money columns whose header names none (a header unit must
    agree with it); ``encoding`` fixes a CSV's encoding (default: try utf-8-sig, then gb18030); ``sheet`` picks an
    Excel sheet by name (default: the visible sheet that holds a register, or year sheets stacked);
    ``header_row`` forces the 1-based header row (default: found). Every row read is either in ``frame`` or named
    by a refusal.
    """
    raw = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
    columns = map_columns(raw.headers, raw.frame, money_unit=money_unit)
    cleaned, found = clean_cells(raw, columns)
    frame, refusals, warnings, numbering = validate(raw, columns, found)
    blank = [_blank_rows_note(raw.path.name, raw.blank_rows)] if raw.blank_rows else []
    return Register(
        frame=frame,
        refusals=refusals,
        rows_read=len(raw.frame),
        path=raw.path,
        sha256=raw.sha256,
        money_units=columns.money_units,
        columns=columns.headers,
        warnings=[*columns.warnings, *blank, *warnings],
        rejected=rejected_cells(raw, sorted({raw.key_of(r.sheet, r.row) for r in refusals})),
        notes=[*raw.notes, *cleaned],
        unused_columns=columns.unused,
        numbering=(frame, *numbering),
    )


def _blank_rows_note(file: str, rows: list[int], shown: int = 20) -> str:
    listed = "、".join(map(str, rows[:shown]))
    more = f" 等共 {len(rows)}" if len(rows) > shown else ""
    return f"{file} 第 {listed}{more} 行是空行，已跳过"
