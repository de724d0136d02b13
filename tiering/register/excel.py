"""Reading an .xlsx workbook as analysts keep it: every sheet's cells, which sheets are hidden, merged ranges
filled in, and the cells Excel saved without a usable value (error values, formulas without a cached result).

openpyxl's streaming reader gives the cached values; merged ranges and formulas without a cached value are not in
what it streams, so they are read from the sheet's XML, which the workbook already holds.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.exceptions import InvalidFileException

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
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, ValueError, KeyError, OSError) as exc:
        raise RegisterError(f"{source.name} 不是可读的 .xlsx 文件（{exc}）：请用 Excel 打开后重新保存") from exc
    if wanted is not None and wanted not in book.sheetnames:
        names = "、".join(book.sheetnames)
        raise RegisterError(f"{source.name} 中没有名为“{wanted}”的工作表；现有工作表：{names}")
    parts = _sheet_parts(data)
    sheets: list[Sheet] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for sheet in book.worksheets:
            hidden = sheet.sheet_state != "visible"
            if (wanted is not None and sheet.title != wanted) or (wanted is None and hidden):
                sheets.append(Sheet(sheet.title, hidden, []))
                continue
            # whole numbers as int, as Excel shows them (a code typed as a number must read 911201160000000000)
            rows = [[int(v) if type(v) is float and v.is_integer() else v for v in r]
                    for r in sheet.iter_rows(values_only=True)]
            xml = archive.read(parts[sheet.title]) if sheet.title in parts else b""
            merged = _fill_merged(rows, xml)
            sheets.append(Sheet(sheet.title, hidden, rows, merged, _uncached_formulas(xml)))
    book.close()
    return sheets


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
