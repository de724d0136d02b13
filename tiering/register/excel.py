"""Reading an .xlsx workbook as analysts keep it: every sheet's cells, which sheets are hidden, merged ranges
filled in, and the cells Excel saved without a usable value (error values, formulas without a cached result).

python-calamine (Rust) reads the cached values and the sheets' visibility, some 20 times faster than openpyxl
(40,000 rows x 72 columns: 3.9 s against 92 s on the shared VM). It reads an error cell as empty and knows
nothing of merged ranges or of formulas saved without a value, so those three are read from the sheet's XML,
which the workbook already holds (one scan, skipped when the XML has no merge, error cell or formula).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from openpyxl.utils import range_boundaries
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from tiering.errors import Where
from tiering.register.refusals import RegisterError

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!",
    "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#PYTHON!",
})
"""Excel's error values, as a cell shows them (and as a CSV saved from Excel holds them)."""

_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="(?P<name>[^"]*)"[^>]*?\br:id="(?P<rid>[^"]+)"', re.S)
_SHEET_RID_FIRST = re.compile(rb'<sheet\b[^>]*?\br:id="(?P<rid>[^"]+)"[^>]*?\bname="(?P<name>[^"]*)"', re.S)
_REL = re.compile(rb'<Relationship\b[^>]*?\bId="(?P<id>[^"]+)"[^>]*?\bTarget="(?P<target>[^"]+)"', re.S)
_REL_TARGET_FIRST = re.compile(rb'<Relationship\b[^>]*?\bTarget="(?P<target>[^"]+)"[^>]*?\bId="(?P<id>[^"]+)"', re.S)
_MERGE = re.compile(rb'<mergeCell\b[^>]*?\bref="(?P<ref>[A-Z]+[0-9]+:[A-Z]+[0-9]+)"')
_CELL = re.compile(rb"<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)", re.S)
_REF = re.compile(rb'\br="(?P<ref>[A-Z]+[0-9]+)"')
_VALUE = re.compile(rb"<v>[^<]+</v>|<is>", re.S)
_ERROR_VALUE = re.compile(rb"<v>(?P<error>#[^<]+)</v>")
_ERROR_TYPE = re.compile(rb'\bt="e"')


@dataclass
class Sheet:
    """One worksheet: its cells row by row (row 1 first, None for empty cells), and what needs saying about it."""

    name: str
    hidden: bool
    rows: list[list[object]]
    merged: int = 0
    """How many merged ranges were filled in (each cell of a range reads the value of its top-left cell)."""
    uncached: list[tuple[int, int]] = field(default_factory=list)
    """(row, column) of formulas saved without a computed value, both 1-based."""


def read_workbook(source: Path, data: bytes, wanted: str | None) -> list[Sheet]:
    """Every sheet of the workbook, or only ``wanted`` (by name; hidden sheets are read only when named).

    Hidden sheets other than ``wanted`` come back with no rows, so the caller can say they exist.
    """
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in book.sheets_metadata]
    except (CalamineError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise RegisterError(f"不是可读的 .xlsx 文件（{exc}）：请用 Excel 打开后重新保存",
                            where=Where(file=str(source))) from exc
    if wanted is not None and wanted not in names:
        raise RegisterError(f"没有名为“{wanted}”的工作表；现有工作表：{'、'.join(names)}",
                            where=Where(file=str(source)))
    parts = _sheet_parts(data)
    sheets: list[Sheet] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for meta in book.sheets_metadata:
            name, hidden = meta.name, meta.visible != SheetVisibleEnum.Visible
            if (wanted is not None and name != wanted) or (wanted is None and hidden):
                sheets.append(Sheet(name, hidden, []))
                continue
            try:
                cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except (CalamineError, ValueError) as exc:
                raise RegisterError(f"无法读取（{exc}）：请用 Excel 打开后重新保存",
                                    where=Where(file=str(source), sheet=name)) from exc
            rows = [[_cell(v) for v in r] for r in cells]
            xml = archive.read(parts[name]) if name in parts else b""
            _put_errors(rows, xml)
            merged = _fill_merged(rows, xml)
            sheets.append(Sheet(name, hidden, rows, merged, _uncached_formulas(xml)))
    return sheets


def _cell(value: object) -> object:
    """Empty as None; whole numbers as int, as Excel shows them (a code typed as a number reads
    911201160000000000, not 9.1120116e+17)."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _put_errors(rows: list[list[object]], xml: bytes) -> None:
    """Error cells (#DIV/0!, #N/A …) with their error value, which calamine reads as empty."""
    if not _ERROR_TYPE.search(xml):
        return
    for match in _CELL.finditer(xml):
        if not _ERROR_TYPE.search(match["attrs"]) or not match["body"]:
            continue
        ref, error = _REF.search(match["attrs"]), _ERROR_VALUE.search(match["body"])
        if ref is None or error is None:
            continue
        letters, row = coordinate_from_string(ref["ref"].decode())
        column = column_index_from_string(letters)
        while len(rows) < row:
            rows.append([])
        if len(rows[row - 1]) < column:
            rows[row - 1].extend([None] * (column - len(rows[row - 1])))
        rows[row - 1][column - 1] = error["error"].decode()


def _sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from the workbook part and its relationships."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            workbook = archive.read("xl/workbook.xml")
            rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {m["id"].decode(): m["target"].decode() for rx in (_REL, _REL_TARGET_FIRST) for m in rx.finditer(rels)}
    parts: dict[str, str] = {}
    for rx in (_SHEET, _SHEET_RID_FIRST):
        for match in rx.finditer(workbook):
            target = targets.get(match["rid"].decode())
            if target is None:
                continue
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            parts[_unescape(match["name"].decode())] = path
    return parts


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _fill_merged(rows: list[list[object]], xml: bytes) -> int:
    """Give every cell of a merged range its top-left value (Excel shows the value across the range)."""
    count = 0
    for match in _MERGE.finditer(xml):
        first_col, first_row, last_col, last_row = range_boundaries(match["ref"].decode())
        if first_row > len(rows):
            continue
        top = rows[first_row - 1]
        value = top[first_col - 1] if first_col - 1 < len(top) else None
        count += 1
        for r in range(first_row, min(last_row, len(rows)) + 1):
            row = rows[r - 1]
            if len(row) < last_col:
                row.extend([None] * (last_col - len(row)))
            for c in range(first_col, last_col + 1):
                row[c - 1] = value
    return count


def _uncached_formulas(xml: bytes) -> list[tuple[int, int]]:
    """Cells holding a formula but no saved value: Excel computes these on opening; a reader sees nothing."""
    if b"<f" not in xml:
        return []
    cells: list[tuple[int, int]] = []
    for match in _CELL.finditer(xml):
        body = match["body"]
        if not body or b"<f" not in body or _VALUE.search(body):
            continue
        ref = _REF.search(match["attrs"])
        if ref is None:
            continue
        letters, row = coordinate_from_string(ref["ref"].decode())
        cells.append((row, column_index_from_string(letters)))
    return cells
