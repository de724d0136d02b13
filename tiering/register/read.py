"""Reading a register file (.xlsx, .csv, .parquet), mapping its headers to field ids, and settling money units.

Units are never guessed: a money column's unit comes from its header (``销售收入(元)``) or from the explicit
``money_unit`` option, and the two must agree when both are given.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from tiering.fields import FIELDS, MONEY_UNITS, DType, Field, resolve, split_header, suggest
from tiering.register.refusals import RegisterError

READABLE = (".xlsx", ".xlsm", ".csv", ".parquet")
ENCODING_ORDER = ("utf-8-sig", "gb18030")
"""Encodings tried, in this order, when none is given; utf-8-sig also reads plain UTF-8."""

PERCENT_UNITS = ("%", "％")


@dataclass
class RawTable:
    """The cells of a register file as read, before any parsing.

    ``frame`` has positional column labels 0..n-1 (headers may repeat) and is indexed by spreadsheet row number
    (header = row 1, first data row = row 2). Fully blank rows are already left out.
    """

    frame: pd.DataFrame
    headers: list[str]
    path: Path
    sha256: str
    blank_rows: list[int] = field(default_factory=list)


@dataclass
class ColumnMap:
    """How the file's columns map to fields: field id -> column position, header, and money/percent units."""

    positions: dict[str, int]
    headers: dict[str, str]
    money_units: dict[str, str]
    percent: set[str]
    warnings: list[str]


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> RawTable:
    """Read the cells of a register file without interpreting them (see RawTable)."""
    source = Path(path)
    if not source.is_file():
        raise RegisterError(f"找不到文件 {source}：请检查路径")
    suffix = source.suffix.lower()
    if suffix == ".xls":
        raise RegisterError(f"{source.name} 是旧版 .xls 文件：请在 Excel 中“另存为” .xlsx 后再读入")
    if suffix not in READABLE:
        raise RegisterError(f"{source.name} 的格式无法读取：请提供 .xlsx、.csv 或 .parquet 文件")
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".parquet":
        headers, body = _read_parquet(source, data)
    else:
        cells = _read_csv(source, data, encoding) if suffix == ".csv" else _read_excel(source, data, sheet)
        if cells.empty:
            raise RegisterError(f"{source.name} 是空文件：第 1 行应为表头，从第 2 行起每行一个企业年度")
        headers, body = list(cells.iloc[0]), cells.iloc[1:]
    body = body.set_axis(pd.RangeIndex(2, 2 + len(body)), axis=0).set_axis(pd.RangeIndex(len(headers)), axis=1)
    blank = _blank_rows(body)
    blank_rows: list[int] = []
    if blank.any():
        data_rows = body.index[~blank]
        last_data = int(data_rows.max()) if len(data_rows) else 1
        blank_rows = [int(r) for r in body.index[blank] if r < last_data]
        body = body[~blank]
    return RawTable(
        frame=body, headers=[_header_text(h) for h in headers], path=source, sha256=digest, blank_rows=blank_rows,
    )


def _blank_rows(body: pd.DataFrame) -> np.ndarray:
    """Rows with no cell at all; column by column, stopping once every row has shown a value (usually column A)."""
    blank = np.ones(len(body), dtype=bool)
    for position in body.columns:
        blank &= body[position].isna().to_numpy()
        if not blank.any():
            break
    return blank


def _read_csv(source: Path, data: bytes, encoding: str | None) -> pd.DataFrame:
    name = _encoding_of(source, data, encoding)
    try:
        # from bytes, not from the decoded text: pandas' C parser reads a StringIO several times slower
        return pd.read_csv(
            io.BytesIO(data), encoding=name, header=None, dtype=str, keep_default_na=False, na_values=[""],
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise RegisterError(
            f"{source.name} 不是规整的 CSV（{str(exc).strip()}）：某行的列数多于表头，检查是否有未加引号的逗号"
        ) from exc


def _encoding_of(source: Path, data: bytes, encoding: str | None) -> str:
    """The first encoding (the declared one, else utf-8-sig then gb18030) that decodes the whole file."""
    attempts = (encoding,) if encoding else ENCODING_ORDER
    for name in attempts:
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise RegisterError(f"不认识的编码 {name}：常用的是 utf-8 或 gb18030") from exc
        return name
    tried = "、".join(attempts)
    raise RegisterError(
        f"{source.name} 无法按 {tried} 解码：请确认文件编码，例如加 --encoding gb18030，"
        "或在 Excel 中另存为“CSV UTF-8”"
    )


def _read_parquet(source: Path, data: bytes) -> tuple[list[object], pd.DataFrame]:
    try:
        # straight from the bytes already read (no Python file object in between); one block per column, arrow
        # buffers released as they convert: no consolidation copy, half the peak
        table = pd.read_parquet(pa.BufferReader(data), to_pandas_kwargs={"split_blocks": True, "self_destruct": True})
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise RegisterError(f"{source.name} 不是可读的 parquet 文件（{exc}）") from exc
    # parquet columns keep their native dtypes, which lets validation take its vectorised fast path
    return list(table.columns), table.reset_index(drop=True)


def _read_excel(source: Path, data: bytes, sheet: str | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except (zipfile.BadZipFile, InvalidFileException, ValueError, KeyError) as exc:
        raise RegisterError(f"{source.name} 不是可读的 .xlsx 文件（{exc}）：请用 Excel 打开后重新保存") from exc
    if sheet is not None and sheet not in book.sheet_names:
        names = "、".join(book.sheet_names)
        raise RegisterError(f"{source.name} 中没有名为“{sheet}”的工作表；现有工作表：{names}")
    return pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object)


def _header_text(header: object) -> str:
    if header is None or (isinstance(header, float) and header != header):
        return ""
    if isinstance(header, float) and header.is_integer():
        return str(int(header))
    return str(header).strip()


def map_columns(headers: list[str], frame: pd.DataFrame, *, money_unit: str | None = None) -> ColumnMap:
    """Map headers to fields and settle money units, raising one RegisterError that lists every header problem.

    Unknown headers are ignored with a "did you mean" warning; two headers for one field, a missing required
    column, a unit that contradicts the field or the ``money_unit`` option, or a money column with no unit at
    all are errors.
    """
    option = _canonical_money_unit(money_unit) if money_unit is not None else None
    if money_unit is not None and option is None:
        raise RegisterError(f"金额单位 --unit 应为 万元 或 元，实为 {money_unit}")
    problems: list[str] = []
    warnings: list[str] = []
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    money_units: dict[str, str] = {}
    percent: set[str] = set()
    missing_unit: list[str] = []
    for position, header in enumerate(headers):
        letter = get_column_letter(position + 1)
        if not header:
            if frame[position].notna().any():
                warnings.append(f"第 {letter} 列没有表头，已忽略该列")
            continue
        target = resolve(re.sub(r"\s+", "", header))
        if target is None:
            warnings.append(_unknown_column(header))
            continue
        if target.id in positions:
            problems.append(
                f'列 "{names[target.id]}"（{get_column_letter(positions[target.id] + 1)}）和 '
                f'列 "{header}"（{letter}）都对应字段 {target.id}（{target.label}）：请删除或改名其中一列'
            )
            continue
        positions[target.id], names[target.id] = position, header
        unit = split_header(re.sub(r"\s+", "", header))[1]
        if target.dtype is DType.MONEY:
            problem = _settle_money(target, header, unit, option, money_units)
            if problem == "missing":
                missing_unit.append(header)
            elif problem:
                problems.append(problem)
        elif unit is not None:
            problem = _check_other_unit(target, header, unit, percent, warnings)
            if problem:
                problems.append(problem)
    missing = [f for f in FIELDS if f.required and f.id not in positions]
    if missing:
        problems.append(_missing_required(missing, headers))
    if missing_unit:
        problems.append(_missing_unit_message(missing_unit))
    if problems:
        raise RegisterError("\n".join(problems))
    return ColumnMap(positions=positions, headers=names, money_units=money_units, percent=percent, warnings=warnings)


def _canonical_money_unit(unit: str) -> str | None:
    factor = MONEY_UNITS.get(unit.strip().lower())
    if factor is None:
        return None
    return "万元" if factor == MONEY_UNITS["万元"] else "元"


def _settle_money(target: Field, header: str, unit: str | None, option: str | None, out: dict[str, str]) -> str:
    if unit is None:
        if option is None:
            return "missing"
        out[target.id] = option
        return ""
    from_header = _canonical_money_unit(unit)
    if from_header is None:
        return f'列 "{header}" 的单位 {unit} 无法识别：金额单位应为 万元 或 元，例如 {target.label}(万元)'
    if option is not None and option != from_header:
        return (
            f'列 "{header}" 的单位 {from_header} 与 --unit {option} 不一致：'
            "请改正表头，或去掉 --unit（表头写明的单位优先）"
        )
    out[target.id] = from_header
    return ""


def _check_other_unit(target: Field, header: str, unit: str, percent: set[str], warnings: list[str]) -> str:
    if target.dtype is DType.RATIO and unit in PERCENT_UNITS:
        percent.add(target.id)
        return ""
    if target.unit:
        if unit == target.unit:
            return ""
        return f'列 "{header}" 的单位 {unit} 与字段 {target.label} 的单位 {target.unit} 不符：请按 {target.unit} 填写'
    if target.dtype is DType.RATIO:
        return f'列 "{header}" 的单位 {unit} 无法识别：比例列可不写单位（填 0.25 或 25%），或写 (%) 表示填的是百分数'
    warnings.append(f'列 "{header}" 括号中的 {unit} 不是 {target.label} 的单位，已忽略括号内容')
    return ""


def _unknown_column(header: str) -> str:
    guess = suggest(header)
    hint = f"：是否想写 {guess}？" if guess else ""
    return f'列 "{header}" 不是已知字段，已忽略{hint}'


def _missing_required(missing: list[Field], headers: list[str]) -> str:
    wanted = "、".join(f"{f.label}（{f.id}）" for f in missing)
    message = f"缺少必填列：{wanted}"
    if not any(headers):
        return message + "。第 1 行必须是表头"
    return message + "。请在第 1 行表头中加上这些列（中文名或英文 id 均可）"


def _missing_unit_message(headers: list[str]) -> str:
    listed = "、".join(f'"{h}"' for h in headers)
    example = split_header(headers[0])[0]
    return (
        f"金额列没有单位：{listed}。请在表头写明单位，例如 {example}(万元) 或 {example}(元)，"
        "或者加 --unit 万元（或 --unit 元）说明全表金额单位"
    )


def rejected_cells(raw: RawTable, rows: list[int]) -> pd.DataFrame:
    """The original cells of the given rows as text, with the file's headers, indexed by row number."""
    picked = raw.frame.loc[rows]
    text = picked.apply(lambda column: column.map(display)) if len(picked) else picked
    text.columns = [h or get_column_letter(i + 1) for i, h in enumerate(raw.headers)]
    return text


def display(value: object) -> str:
    """A cell as the analyst would read it in the spreadsheet: blank for missing, 12 not 12.0, dates as 2015-03-01."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating):
        number = float(value)
        if number != number:
            return ""
        return str(int(number)) if number.is_integer() and abs(number) < 1e16 else repr(number)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
