"""What loading a register produces: the accepted panel, the refused cells, and the rejects file for analysts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tiering.errors import TieringError, Where
from tiering.fields import split_header

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from tiering.numbering import FirmNumbers

REJECT_COLUMNS: tuple[str, ...] = ("文件", "工作表", "行号", "列", "值", "原因")
"""Columns write_rejects puts in front of the original cells."""


class RegisterError(TieringError):
    """The file cannot be used as a register at all; the message says what is wrong and how to fix it (exit 3)."""

    id = "register-unusable"


def _frame() -> pd.DataFrame:
    """An empty frame; pandas is loaded only when a register is made (the register cache's one-firm lookup, which
    imports this module, does without it)."""
    import pandas as pd

    return pd.DataFrame()


@dataclass(frozen=True)
class Refusal:
    """One problem that keeps one row out of the register.

    ``row`` is the spreadsheet row as the analyst sees it (header = row 1, first data row = row 2) and ``column``
    is the header exactly as written in the file.
    """

    file: str
    row: int
    column: str
    value: str
    reason: str
    sheet: str = ""
    """The worksheet (empty for CSV and Parquet)."""
    field: str = ""
    """The id of the field the column holds (empty for a whole line)."""

    @property
    def where(self) -> Where:
        """The cell as the error family places it: file, sheet, row, column and field."""
        return Where(file=self.file, sheet=self.sheet or None, row=self.row, column=self.column,
                     field=self.field or None)

    def message(self) -> str:
        """One line for people, e.g. ``firms.xlsx 工作表“名录” 行 17 列 "研发费用(万元)" 值 "abc": 应为数字``."""
        return f'{dataclasses.replace(self.where, field=None)} {self.problem()}'

    def problem(self) -> str:
        """What is wrong with the cell, without its place: ``值 "abc": 应为数字``."""
        return f'值 "{self.value}": {self.reason}'


@dataclass
class Register:
    """A loaded register: accepted firm-years plus everything that was refused or noticed on the way.

    ``frame`` follows the internal panel frame contract (every field id as a column, money in 万元, ``_row`` =
    spreadsheet row), rows in the file's order. ``columns`` maps field id -> header as written in the file;
    ``money_units`` maps money field id -> the unit the file's amounts were in ("万元" or "元").
    ``rejected`` holds the original cells (as text, original headers) of every refused row, indexed by (sheet,
    row number), or by (file, sheet, row number) for a register folder. ``notes`` say how the file was read
    (header row, sheets, skipped title/total/note rows, cleaned cells); ``unused_columns`` are the file's headers
    that name no field.
    """

    frame: pd.DataFrame
    refusals: list[Refusal]
    rows_read: int
    path: Path
    sha256: str
    money_units: dict[str, str]
    columns: dict[str, str]
    warnings: list[str]
    rejected: pd.DataFrame = field(default_factory=_frame)
    notes: list[str] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)
    numbering: tuple[pd.DataFrame, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    """(the frame the loader numbered, its firm numbering): the sort by firm the loader made for its checks, kept
    so that a classification numbers the firms once. Read it through :meth:`firm_numbers`."""

    def firm_numbers(self) -> FirmNumbers:
        """Each row of ``frame``'s firm number and the codes by number (:func:`tiering.numbering.number_firms`):
        the loader's numbering while ``frame`` is the frame it numbered, otherwise (some rows of it, a frame put
        together elsewhere) numbered now."""
        if self.numbering is not None and self.numbering[0] is self.frame:
            return self.numbering[1], self.numbering[2]
        from tiering.numbering import number_firms

        return number_firms(self.frame["uscc"])

    @property
    def rows_refused(self) -> int:
        """Number of distinct rows (of a file and sheet) with at least one refusal."""
        return len({(r.file, r.sheet, r.row) for r in self.refusals})

    def money_note(self, field_id: str) -> str:
        """Where the unit of a money column came from, e.g. ``金额单位：万元（由表头 销售收入(元) 换算）``."""
        unit = self.money_units[field_id]
        header = self.columns[field_id]
        from_header = split_header(header)[1] is not None
        if unit == "万元":
            source = f"表头 {header}" if from_header else f"--unit 万元，列 {header}"
            return f"金额单位：万元（{source}）"
        source = f"表头 {header}" if from_header else f"--unit 元，列 {header}"
        return f"金额单位：万元（由{source} 换算）"


def write_rejects(register: Register, path: str | Path) -> None:
    """Write every refusal with the original cells of its row to ``path`` (.csv as UTF-8 with BOM, or .xlsx).

    One line per refusal, so a row with three problems appears three times, each naming its column and reason.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise RegisterError(f"拒收文件 {target.name} 的扩展名应为 .csv 或 .xlsx，实为 {suffix or '（无）'}")
    import pandas as pd

    frame = rejects_frame(register)
    if suffix == ".csv":
        # utf-8-sig: Excel on Windows only detects UTF-8 (and so shows Chinese correctly) when a BOM is present
        frame.to_csv(target, index=False, encoding="utf-8-sig")
        return
    from openpyxl.styles import Font

    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="拒收")
        sheet = writer.sheets["拒收"]
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["E"].width = 60


def rejects_frame(register: Register) -> pd.DataFrame:
    """The rejects table: 文件, 工作表, 行号, 列, 值, 原因, then the original cells of the refused row."""
    import pandas as pd

    reasons = pd.DataFrame(
        [(r.file, r.sheet, r.row, r.column, r.value, r.reason) for r in register.refusals], columns=list(REJECT_COLUMNS)
    )
    if register.rejected.empty:
        return reasons
    levels = ("文件", "工作表", "行号")[-register.rejected.index.nlevels:]  # (file,) sheet, row
    where = pd.MultiIndex.from_arrays([reasons[level].to_numpy() for level in levels])
    cells = register.rejected.reindex(where).reset_index(drop=True)
    return pd.concat([reasons, cells], axis=1)
