"""Cells made readable before parsing, each change said: invisible characters (zero-width, control, NUL) removed
from texts so they never reach a comparison or the Excel writer, full-width digits and punctuation read as
half-width, and Excel error values (#DIV/0!, #N/A …) refused with their cell.

Every column is first screened on arrow's UTF-8 bytes: the characters concerned all start with a byte that plain
Chinese text and ASCII digits never use, so a clean column costs one pass over its bytes.
"""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa

from tiering.fields import BY_ID, DType
from tiering.register.columns import Problem
from tiering.register.excel import EXCEL_ERRORS
from tiering.register.read import ColumnMap, RawTable

INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\u2060-\u2064\ufeff]")
"""Control characters, zero-width and direction marks: invisible in a cell, yet they make 甲公司 ≠ 甲\u200b公司."""
WIDE = re.compile("[\uff01-\uff5e\u3000]")
"""Full-width ASCII forms (１２３，．％) and the ideographic space."""
EXCEL_ERROR = "Excel 错误值 {value}：该单元格的公式出错，请在 Excel 中改正公式（或填入数值）后重新保存"
_OTHER_SUSPECTS = tuple(bytes([b]) for b in (0x7F, 0xC2, 0xE2, 0xE3, 0xEF, ord("#")))
"""With bytes under 0x20, the lead bytes of every character above (C2: U+0080–009F; E2: U+2000–2FFF; E3: U+3000;
EF: U+FF00–FFFF) and the # of an Excel error value."""


def clean_cells(raw: RawTable, columns: ColumnMap) -> tuple[list[str], list[Problem]]:
    """Clean every mapped text cell of ``raw`` in place; return the notes for the summary and the refused cells
    (which are left blank)."""
    notes: list[str] = []
    problems: list[Problem] = []

    def screened(position: int) -> pd.Series | None:
        strings = _strings(raw.frame[position])
        return strings if strings is not None and _suspect(strings) else None

    # the byte screens run without the GIL: two columns at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        suspects = dict(zip(columns.positions, pool.map(screened, columns.positions.values()), strict=True))
    for field_id, position in columns.positions.items():
        strings = suspects[field_id]
        if strings is None:
            continue
        cells = raw.frame[position]
        field = BY_ID[field_id]
        header = raw.headers[position]
        errors = strings.isin(EXCEL_ERRORS).to_numpy(dtype=bool)
        for key in cells.index[errors]:
            problems.append((int(key), position, str(strings[key]), EXCEL_ERROR.format(value=strings[key])))
        present = strings.notna().to_numpy(dtype=bool) & ~errors
        invisible = present & strings.str.contains(INVISIBLE.pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        wide = np.zeros(len(strings), dtype=bool)
        if field.dtype is not DType.TEXT or field_id == "uscc":
            wide = present & strings.str.contains(WIDE.pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        changed = invisible | wide
        if not changed.any() and not errors.any():
            continue
        fixed = strings[changed].map(lambda t: unicodedata.normalize("NFKC", INVISIBLE.sub("", t)).replace("　", " "))
        updated = cells.astype(object).copy()
        updated[changed] = fixed.to_numpy(dtype=object)
        updated[errors] = None
        raw.frame[position] = updated
        if invisible.any():
            notes.append(f'列 "{header}" {_rows(raw, cells.index[invisible])} 含不可见字符（零宽、控制字符或 NUL），'
                         "已删除")
        if wide.any():
            notes.append(f'列 "{header}" {_rows(raw, cells.index[wide])} 含全角数字或标点，已按半角读取')
    return notes, problems


def _strings(cells: pd.Series) -> pd.Series | None:
    """The text cells of a column as an arrow-backed string Series (others missing), or None for a column of
    numbers, dates or flags."""
    if pd.api.types.is_string_dtype(cells) and cells.dtype != object:
        return cells
    if cells.dtype != object:
        return None
    is_text = cells.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not is_text.any():
        return None
    return cells.where(is_text).astype("str")


def _suspect(strings: pd.Series) -> bool:
    """Whether any cell may hold a character to clean: its UTF-8 bytes include a lead byte of one."""
    array = pa.array(strings, type=pa.large_string())
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        data = chunk.buffers()[2]
        if data is None or data.size == 0:  # a column of blank cells has an empty character buffer
            continue
        data = np.frombuffer(data, dtype=np.uint8)
        if not data.size:  # every cell of the chunk empty
            continue
        # most columns are plain: nothing under 0x20 (one reduction), then the few other lead bytes by memchr
        if data.min() < 0x20:
            return True
        if data.max() < 0x80:  # plain ASCII (codes, numbers): only DEL and # are left to look for
            if bool(((data == 0x7F) | (data == 0x23)).any()):
                return True
            continue
        raw = data.tobytes()
        if any(raw.find(byte) >= 0 for byte in _OTHER_SUSPECTS):
            return True
    return False


def _rows(raw: RawTable, keys: pd.Index, shown: int = 5) -> str:
    places = []
    for key in keys[:shown]:
        sheet, row = raw.locate(int(key))
        places.append(f"工作表“{sheet}”第 {row} 行" if sheet else f"第 {row} 行")
    more = f" 等 {len(keys)} 处" if len(keys) > shown else ""
    return "、".join(places) + more
