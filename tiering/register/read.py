"""Reading a register file (.xlsx, .csv, .parquet), mapping its headers to field ids, and settling money units.

Units are never guessed: a money column's unit comes from its header (``销售收入(元)``) or from the explicit
``money_unit`` option, and the two must agree when both are given.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from openpyxl.utils import get_column_letter

from tiering.errors import Where
from tiering.fields import FIELDS, MONEY_UNITS, DType, Field, resolve_all, split_header, suggest
from tiering.register.csvfile import read_csv_cells
from tiering.register.excel import Sheet, read_workbook
from tiering.register.layout import LOOK_ROWS, MIN_FIELDS, find_header, header_score, lay_out, looked_at
from tiering.register.refusals import RegisterError

READABLE = (".xlsx", ".xlsm", ".csv", ".parquet")

PERCENT_UNITS = ("%", "％")


ROW_KEY = 10_000_000
"""Rows of the n-th stacked sheet are keyed n * ROW_KEY + row (an Excel sheet has at most 1,048,576 rows)."""
YEAR_IN_NAME = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
YEAR_FROM_SHEET = "年度（取自工作表名）"
UNCACHED_FORMULA = "公式没有保存计算结果：请在 Excel 中打开该文件、保存一次（Excel 会算出并保存公式的值）后再读入"
MALFORMED_LINE = (
    "该行有 {count} 个单元格，多于表头的 {width} 列：多半是未加引号的分隔符（如金额中的逗号），请给该单元格加引号"
    "或去掉多余的分隔符"
)


@dataclass
class RawTable:
    """The cells of a register file as read, before any parsing.

    ``frame`` has positional column labels 0..n-1 (headers may repeat) and is indexed by row key: the spreadsheet
    row number (the CSV line) for the first sheet, ``n * ROW_KEY + row`` for the n-th of stacked year sheets.
    Fully blank rows, title, total and note rows are already left out. ``flags`` are cells found unusable while
    reading (formulas without a cached value; a malformed CSV line, column -1): (row key, column, value, reason).
    """

    frame: pd.DataFrame
    headers: list[str]
    path: Path
    sha256: str
    blank_rows: list[int] = field(default_factory=list)
    sheets: list[str] = field(default_factory=lambda: [""])
    notes: list[str] = field(default_factory=list)
    flags: list[tuple[int, int, str, str]] = field(default_factory=list)

    def key_of(self, sheet: str, row: int) -> int:
        """The row key of a row of a sheet (the inverse of locate)."""
        return self.sheets.index(sheet) * ROW_KEY + row

    def places(self, keys: list[int]) -> str:
        """Rows as people find them: 第 4、6 行, with the sheet when the register spans year sheets."""
        located = [self.locate(k) for k in keys]
        if len(self.sheets) == 1:
            return f"第 {'、'.join(str(row) for _, row in located)} 行"
        return "、".join(f"工作表“{sheet}”第 {row} 行" for sheet, row in located)

    def locate(self, key: int) -> tuple[str, int]:
        """(sheet name, row number as the spreadsheet shows it) of a row key; the sheet is "" for CSV/Parquet."""
        return self.sheets[key // ROW_KEY], key % ROW_KEY


@dataclass
class ColumnMap:
    """How the file's columns map to fields: field id -> column position, header, and money/percent units."""

    positions: dict[str, int]
    headers: dict[str, str]
    money_units: dict[str, str]
    percent: set[str]
    warnings: list[str]
    unused: list[str] = field(default_factory=list)
    """Headers of the file that name no field, in file order."""


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | None = None, header_row: int | None = None
) -> RawTable:
    """Read the cells of a register file without interpreting them (see RawTable): the header found (or the
    1-based ``header_row``), the sheet or year sheets picked, title, total and note rows set aside."""
    source = Path(path)
    if not source.is_file():
        raise RegisterError("找不到文件：请检查路径", where=Where(file=str(source)))
    suffix = source.suffix.lower()
    if suffix == ".xls":
        raise RegisterError("是旧版 .xls 文件：请在 Excel 中“另存为” .xlsx 后再读入", where=Where(file=str(source)))
    if suffix not in READABLE:
        raise RegisterError("格式无法读取：请提供 .xlsx、.csv 或 .parquet 文件", where=Where(file=str(source)))
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".parquet":
        headers, body = _read_parquet(source, data)
        body = body.set_axis(pd.RangeIndex(2, 2 + len(body)), axis=0).set_axis(pd.RangeIndex(len(headers)), axis=1)
        table = RawTable(frame=body, headers=[_header_text(h) for h in headers], path=source, sha256=digest)
    elif suffix == ".csv":
        cells = read_csv_cells(source, data, encoding)
        if cells.grid.empty:
            raise RegisterError("是空文件：应有一行表头，其下每行一个企业年度", where=Where(file=str(source)))
        table = _from_grids(source, digest, [("", cells.grid, [])], header_row, sheet_named=False)
        table.notes[:0] = cells.notes
        _refuse_overlong_lines(table)
    else:
        table = _from_workbook(source, digest, read_workbook(source, data, sheet), sheet, header_row)
    _drop_blank_rows(table)
    return table


def _drop_blank_rows(table: RawTable) -> None:
    body = table.frame
    blank = _blank_rows(body)
    if blank.any():
        data_rows = body.index[~blank]
        last_data = int(data_rows.max()) if len(data_rows) else 0
        table.blank_rows = [int(r) for r in body.index[blank] if r < last_data]
        table.frame = body[~blank]


def _from_workbook(source: Path, digest: str, sheets: list[Sheet], wanted: str | None,
                   header_row: int | None) -> RawTable:
    notes = [f"隐藏的工作表“{s.name}”未读取（要读它请加 --sheet {s.name}）" for s in sheets
             if s.hidden and s.name != wanted]
    read = [s for s in sheets if (s.name == wanted if wanted is not None else not s.hidden)]
    if not read:
        raise RegisterError("没有可见的工作表：请用 --sheet 指定要读的工作表", where=Where(file=str(source)))
    grids = [(s, _grid(s.rows)) for s in read]
    found = [(s, grid) for s, grid in grids if _header_at(grid, header_row) is not None]
    if not found and len(grids) == 1 and _header_at(grids[0][1], header_row, 1) is not None:
        found = grids
    if not found:
        listing = "\n".join(
            f"  工作表“{s.name}”：{looked_at(grid.to_numpy(dtype=object).tolist(), list(grid.index))}"
            for s, grid in grids
        )
        rows = f"第 {header_row} 行" if header_row is not None else f"前 {LOOK_ROWS} 行"
        raise RegisterError(
            f"{rows}中没有找到表头（一行中至少要认出 {MIN_FIELDS} 个已知字段，如 统一社会信用代码、"
            f"企业名称、年度）。查看过的行：\n{listing}\n请检查表头文字（tiering template 列出全部字段），"
            "或用 --header-row N 指定表头所在行、--sheet 指定工作表" + "".join(f"\n{n}" for n in notes),
            where=Where(file=str(source), sheet=read[0].name if len(read) == 1 else None, row=header_row),
        )
    if len(found) > 1:
        years = [_year_of(s.name) for s, _ in found]
        if None in years or len(set(years)) != len(years):
            names = "、".join(f"“{s.name}”" for s, _ in found)
            raise RegisterError(
                f"有 {len(found)} 个工作表都有名录表头：{names}。请用 --sheet 指定要读的一个；"
                "若是每年一个工作表，请以年份命名工作表（如 2023年、2024年），将按年度合并读入",
                where=Where(file=str(source)),
            )
        notes.append(f"按年度工作表合并读入：{'、'.join(s.name for s, _ in found)}")
    elif found[0][0] is not read[0]:
        skipped = "、".join(f"“{s.name}”" for s, _ in grids if s is not found[0][0])
        notes.append(f"数据在工作表“{found[0][0].name}”上；工作表 {skipped} 没有表头，未读取")
    for s, _ in found:
        if s.merged:
            notes.append(f"工作表“{s.name}”有 {s.merged} 处合并单元格：合并区域的每个单元格都按其左上角的值读取")
    parts = [(s.name, grid, s.uncached) for s, grid in found]
    table = _from_grids(source, digest, parts, header_row, sheet_named=True)
    table.notes[:0] = notes
    return table


def _grid(rows: list[list[object]]) -> pd.DataFrame:
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], index=pd.RangeIndex(1, len(rows) + 1),
                        columns=pd.RangeIndex(width), dtype=object)


def _header_at(grid: pd.DataFrame, header_row: int | None, minimum: int = MIN_FIELDS) -> int | None:
    """Position of the header row in ``grid``: the forced row number, else the one found."""
    if header_row is not None:  # a forced row must still name a field: a data row is not a header
        hits = np.flatnonzero(grid.index.to_numpy() == header_row)
        named = len(hits) and header_score(grid.iloc[int(hits[0])].tolist()) >= 1
        return int(hits[0]) if named else None
    return find_header(grid.head(LOOK_ROWS).to_numpy(dtype=object).tolist(), minimum)


def _year_of(name: str) -> int | None:
    years = YEAR_IN_NAME.findall(name)
    return int(years[0]) if len(years) == 1 else None


def _from_grids(source: Path, digest: str, parts: list[tuple[str, pd.DataFrame, list[tuple[int, int]]]],
                header_row: int | None, *, sheet_named: bool, table_ends: bool = True) -> RawTable:
    """One table from the sheets (or the CSV) that hold the register: headers found, bodies stacked by header,
    each sheet's rows keyed ``sheet index * ROW_KEY + row``; ``table_ends`` False when the grids are the first
    rows of a file read in pieces (remarks under the table are then looked for in its last piece)."""
    notes: list[str] = []
    headers: list[str] = []
    slots: dict[str, int] = {}
    bodies: list[pd.DataFrame] = []
    flags: list[tuple[int, int, str, str]] = []
    for index, (name, grid, uncached) in enumerate(parts):
        # one table to read: a row naming fewer fields still is its header, and the mapping names what is missing
        at = _header_at(grid, header_row, MIN_FIELDS if len(parts) > 1 else 1)
        if at is None:
            rows = f"第 {header_row} 行" if header_row is not None else f"前 {LOOK_ROWS} 行"
            raise RegisterError(
                f"{rows}中没有找到表头（一行中至少要认出 {MIN_FIELDS} 个已知字段，如 "
                f"统一社会信用代码、企业名称、年度）。查看过的行："
                f"{looked_at(grid.to_numpy(dtype=object).tolist(), list(grid.index))}。"
                "请检查表头文字（tiering template 列出全部字段），或用 --header-row N 指定表头所在行",
                where=Where(file=str(source), sheet=name or None, row=header_row),
            )
        layout = lay_out(grid, at, table_ends)
        where = f"工作表“{name}”：" if len(parts) > 1 else ""
        notes.extend(where + n for n in layout.notes)
        own = list(layout.headers)
        body = layout.body
        year = _year_of(name) if sheet_named else None
        if year is not None and not any(f.id == "year" for h in own for f in resolve_all(_squash(h))):
            own.append(YEAR_FROM_SHEET)
            body = body.set_axis(pd.RangeIndex(len(own) - 1), axis=1).assign(**{"year": year})
            body = body.set_axis(pd.RangeIndex(len(own)), axis=1)
            notes.append(f"工作表“{name}”没有年度列：年度取自工作表名，为 {year}")
        mapping = []
        taken: set[str] = set()
        for position, header in enumerate(own):
            key = _slot_key(header, position)
            if key in taken:  # two columns of one sheet for one field: kept apart, so the mapping refuses them
                key = f"{key}#{position}"
            taken.add(key)
            if key not in slots:
                slots[key] = len(headers)
                headers.append(header)
            mapping.append(slots[key])
        offset = index * ROW_KEY
        body = body.set_axis(body.index.to_numpy() + offset, axis=0).set_axis(mapping, axis=1)
        bodies.append(body)
        flags.extend((row + offset, column - 1, "", UNCACHED_FORMULA) for row, column in uncached
                     if row > layout.header_row)
    frame = bodies[0] if len(bodies) == 1 else pd.concat(bodies, axis=0)
    frame = frame.reindex(columns=pd.RangeIndex(len(headers)))
    return RawTable(frame=frame, headers=headers, path=source, sha256=digest,
                    sheets=[name for name, _, _ in parts], notes=notes, flags=flags)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _slot_key(header: str, position: int) -> str:
    """Columns of year sheets line up by the field they name (职工总数 in one, 从业人员数 in another), else by text."""
    hits = resolve_all(_squash(header))
    if len(hits) == 1:
        return "field:" + hits[0].id
    return f"text:{_squash(header)}" if header else f"blank:{position}"


def _refuse_overlong_lines(table: RawTable) -> None:
    """A CSV line with cells beyond the header's last column has an unquoted delimiter: refuse that row."""
    width = max((i + 1 for i, h in enumerate(table.headers) if h), default=0)
    extra = table.frame.iloc[:, width:]
    if extra.empty:
        return
    over = extra.notna().any(axis=1).to_numpy()
    for row in table.frame.index[over]:
        cells = table.frame.loc[row]
        count = int(cells.notna().to_numpy().nonzero()[0].max()) + 1
        shown = ",".join(display(v) for v in cells.iloc[:count])
        table.flags.append((int(row), -1, shown[:200], MALFORMED_LINE.format(count=count, width=width)))
    table.frame = table.frame.iloc[:, :width]
    table.headers = table.headers[:width]


def _blank_rows(body: pd.DataFrame) -> np.ndarray:
    """Rows with no cell at all; column by column, stopping once every row has shown a value (usually column A)."""
    blank = np.ones(len(body), dtype=bool)
    for position in body.columns:
        blank &= body[position].isna().to_numpy()
        if not blank.any():
            break
    return blank


def _read_parquet(source: Path, data: bytes) -> tuple[list[object], pd.DataFrame]:
    try:
        # straight from the bytes already read (no Python file object in between); one block per column, arrow
        # buffers released as they convert: no consolidation copy, half the peak
        table = pd.read_parquet(pa.BufferReader(data), to_pandas_kwargs={"split_blocks": True, "self_destruct": True})
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise RegisterError(f"不是可读的 parquet 文件（{exc}）", where=Where(file=str(source))) from exc
    # parquet columns keep their native dtypes, which lets validation take its vectorised fast path
    return list(table.columns), table.reset_index(drop=True)


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
    unused: list[str] = []
    for position, header in enumerate(headers):
        letter = get_column_letter(position + 1)
        if not header:
            if frame[position].notna().any():
                warnings.append(f"第 {letter} 列没有表头，已忽略该列")
            continue
        hits = resolve_all(_squash(header))
        if len(hits) > 1:
            candidates = " 或 ".join(f"{f.label}（{f.id}）" for f in hits)
            problems.append(f'列 "{header}"（{letter}）可能是 {candidates}：请把表头改为其中一个字段的名称')
            continue
        if not hits:
            warnings.append(_unknown_column(header))
            unused.append(header)
            continue
        target = hits[0]
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
        problems.append(_missing_required(missing))
    if missing_unit:
        problems.append(_missing_unit_message(missing_unit))
    if problems:
        raise RegisterError("\n".join(problems))
    return ColumnMap(positions=positions, headers=names, money_units=money_units, percent=percent, warnings=warnings,
                     unused=unused)


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


def _missing_required(missing: list[Field]) -> str:
    wanted = "、".join(f"{f.label}（{f.id}）" for f in missing)
    return f"缺少必填列：{wanted}。请在表头中加上这些列（中文名或英文 id 均可）"


def _missing_unit_message(headers: list[str]) -> str:
    listed = "、".join(f'"{h}"' for h in headers)
    example = split_header(headers[0])[0]
    return (
        f"金额列没有单位：{listed}。请在表头写明单位，例如 {example}(万元) 或 {example}(元)，"
        "或者加 --unit 万元（或 --unit 元）说明全表金额单位"
    )


def rejected_cells(raw: RawTable, keys: list[int]) -> pd.DataFrame:
    """The original cells of the rows with the given keys as text, with the file's headers, indexed by (sheet,
    row number)."""
    picked = raw.frame.loc[keys]
    text = picked.apply(lambda column: column.map(display)) if len(picked) else picked
    text.columns = [h or get_column_letter(i + 1) for i, h in enumerate(raw.headers)]
    return text.set_axis(pd.MultiIndex.from_tuples([raw.locate(int(k)) for k in keys]) if keys
                         else pd.MultiIndex.from_arrays([[], []]), axis=0)


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
