"""Reading a CSV register as analysts save it: encoding detected (UTF-8, GB18030, UTF-16), delimiter sniffed
(`,` `;` tab), and a malformed line refused by its line number while the other lines are read.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tiering.errors import Where
from tiering.register.refusals import RegisterError

DELIMITERS = (",", ";", "\t", "；")
DELIMITER_NAMES = {",": "逗号", ";": "分号", "\t": "制表符", "；": "全角分号"}
SNIFF_LINES = 30
NEWLINE = b"\n"


@dataclass
class CsvCells:
    """The cells of a CSV file row by row, and what was noticed on the way."""

    grid: pd.DataFrame
    """Cells as text (missing when empty), columns 0..n-1, indexed by the 1-based line on which each row starts
    (a quoted cell may span lines)."""
    encoding: str
    delimiter: str
    notes: list[str] = field(default_factory=list)


def encoding_of(source: Path, data: bytes, encoding: str | None) -> str:
    """The declared encoding, else UTF-16 by its byte-order mark or NUL pattern, UTF-8, then GB18030."""
    if encoding:
        try:
            codecs.lookup(encoding)
            data.decode(encoding)
        except LookupError as exc:
            raise RegisterError(f"不认识的编码 {encoding}：常用的是 utf-8、gb18030 或 utf-16") from exc
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(NEWLINE) + 1
            raise RegisterError(f"无法按 {encoding} 解码：请确认文件编码，或去掉 --encoding 让程序自行判断",
                                where=Where(file=str(source), row=line)) from exc
        return encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        head = data[:4000]
        # UTF-16 without a mark: the NUL halves of ASCII characters sit at odd (LE) or even (BE) offsets
        odd, even = head[1::2].count(0), head[0::2].count(0)
        wide = ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le")
        candidates = (*wide, "utf-8-sig", "gb18030") if max(odd, even) > len(head) // 8 else ("utf-8-sig", "gb18030")
    for name in candidates:
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    raise RegisterError("无法按 UTF-8、GB18030 或 UTF-16 解码：请在 Excel 中另存为“CSV UTF-8”，或加 --encoding "
                        "指明编码", where=Where(file=str(source)))


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most columns, the same number on most lines."""
    lines = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delimiter))) for line in lines]
        if not counts or max(counts) < 2:
            continue
        widest = max(counts)
        score = (sum(c == widest for c in counts), widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_cells(source: Path, data: bytes, encoding: str | None) -> CsvCells:
    """Every row of the file as cells (text, None for empty), with the line each starts on."""
    name = encoding_of(source, data, encoding)
    text = data.decode(name)
    if text.startswith("\ufeff"):
        text = text[1:]
    delimiter = sniff_delimiter(text)
    notes = []
    if name not in ("utf-8-sig",):
        notes.append(f"{source.name} 按 {name} 编码读入")
    if delimiter != ",":
        notes.append(f"{source.name} 的分隔符是{DELIMITER_NAMES[delimiter]}")
    return CsvCells(csv_grid(source, data, name, delimiter), name, delimiter, notes)


def csv_grid(source: Path, data: bytes, encoding: str, delimiter: str, first_line: int = 1) -> pd.DataFrame:
    """The cells of ``data`` (whole lines of a CSV file, the first of them line ``first_line``) as text, missing
    when empty, indexed by the line on which each row starts."""
    fast = _read_fast(data, encoding, delimiter)
    if fast is not None:
        return fast.set_axis(fast.index + (first_line - 1), axis=0)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = first_line + data[:exc.start].count(NEWLINE)
        raise RegisterError(f"无法按 {encoding} 解码：请确认文件编码，或加 --encoding 指明编码",
                            where=Where(file=str(source), row=line)) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    rows: list[list[object]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = first_line
    try:
        for record in reader:
            rows.append([cell if cell.strip() else None for cell in record])
            lines.append(start)
            start = first_line + reader.line_num
    except csv.Error as exc:
        raise RegisterError(f"无法按 CSV 读取（{exc}）：请检查该行的引号",
                            where=Where(file=str(source), row=start)) from exc
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], index=lines, dtype=object)


def _read_fast(data: bytes, encoding: str, delimiter: str) -> pd.DataFrame | None:
    """pandas' C parser for the usual file (one cell per column on every line, no quoted line breaks); None when
    the file needs the line-by-line reader."""
    if delimiter == "；" or encoding.startswith("utf-16"):
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(data), encoding=encoding, sep=delimiter, header=None, dtype=str, keep_default_na=False,
            na_values=[""], skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None
    lines = data.count(b"\n") + int(not data.endswith(b"\n"))
    if len(frame) != lines:
        return None  # a quoted line break: rows no longer match lines
    return frame.set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)
