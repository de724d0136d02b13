"""Writing a panel the way analysts keep registers: Chinese headers with units, 是/否, dates as YYYY-MM-DD.

The headers are the field labels of tiering.fields (``销售收入(万元)``, ``职工总数(人)``), so
tiering.register.load_register reads the files back to the same panel.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tiering.datasets.refused import GenerateRefused
from tiering.fields import BY_ID, FIELDS, MONEY_UNITS, DType, Field

EXCEL_MAX_ROWS = 1_048_575
"""Data rows an .xlsx sheet can hold below its header."""

_UNIT_NAMES = {"万元": "万元", "wan": "万元", "元": "元", "yuan": "元"}


def header(field: Field, money_unit: str = "万元") -> str:
    """The column header for ``field``: its label with the unit in brackets where it has one."""
    if field.dtype is DType.MONEY:
        return f"{field.label}({money_unit})"
    return f"{field.label}({field.unit})" if field.unit else field.label


def register_frame(panel: pd.DataFrame, *, money_unit: str = "万元") -> pd.DataFrame:
    """The analyst-format frame of ``panel``: known fields in registry order, Chinese headers, cells as written.

    Money is converted from 万元 into ``money_unit`` (万元 or 元); counts become whole numbers; shares whose
    header says (%) are written as percent; flags 是/否; dates YYYY-MM-DD text. Raises ValueError for a column
    that is not a known field id.
    """
    unit = _unit(money_unit)
    unknown = [c for c in panel.columns if c not in BY_ID]
    if unknown:
        raise GenerateRefused(
            f"面板中有不是已知字段的列：{', '.join(map(str, unknown))}。请先删除这些列（隐藏变量应另存 latent 文件）"
        )
    columns: dict[str, object] = {}
    for field in FIELDS:
        if field.id in panel.columns:
            columns[header(field, unit)] = _cells(field, panel[field.id], unit)
    return pd.DataFrame(columns)


def _unit(money_unit: str) -> str:
    unit = _UNIT_NAMES.get(money_unit.strip().lower())
    if unit is None:
        raise GenerateRefused(f"金额单位应为 万元 或 元，实为 {money_unit!r}")
    return unit


def _cells(field: Field, values: pd.Series, money_unit: str) -> pd.Series:
    if field.id == "year":
        return values.astype("int64")
    if field.dtype is DType.MONEY:
        factor = MONEY_UNITS[money_unit]
        return (values.astype("float64") / factor).round(2 if money_unit == "万元" else 0)
    if field.dtype is DType.INT:
        return values.astype("float64").round().astype("Int64")
    if field.dtype is DType.RATIO and field.unit == "%":
        return (values.astype("float64") * 100).round(6)  # the header says (%), so the cell holds percent
    if field.dtype is DType.BOOL:
        flags = values.astype("float64")
        words = np.where(flags == 1.0, "是", "否").astype(object)
        return pd.Series(np.where(flags.isna(), None, words), index=values.index, dtype="object")
    if field.dtype is DType.DATE:
        dates = pd.to_datetime(values)
        return dates.dt.strftime("%Y-%m-%d").astype("object").where(dates.notna(), None)
    return values


def write_register(panel: pd.DataFrame, path: str | Path, *, money_unit: str = "万元") -> Path:
    """Write ``panel`` as an analyst register; the suffix of ``path`` picks .xlsx, .csv (UTF-8 with BOM) or
    .parquet. Returns the path written. ValueError for another suffix or a panel too long for one sheet."""
    return write_register_blocks([panel], path, rows=len(panel), money_unit=money_unit)


def write_register_blocks(
    panels: Iterable[pd.DataFrame], path: str | Path, *, rows: int, money_unit: str = "万元"
) -> Path:
    """Write the consecutive blocks ``panels`` (one or more, ``rows`` rows in all) as one register, each block
    as it comes: a Parquet file gets one row group per block, a CSV file the block's lines; only an .xlsx sheet
    (at most EXCEL_MAX_ROWS rows) is assembled whole. The file is the one :func:`write_register` writes of the blocks
    concatenated (byte for byte for a single block). Everything that can be refused is refused before the first
    block is taken."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".csv", ".parquet"):
        raise GenerateRefused(f"无法写出 {target.name}：文件名应以 .xlsx、.csv 或 .parquet 结尾")
    if suffix == ".xlsx" and rows > EXCEL_MAX_ROWS:
        raise GenerateRefused(
            f"{rows:,} 行超出 Excel 单个工作表的上限 {EXCEL_MAX_ROWS:,} 行：请改用 .csv 或 .parquet"
        )
    unit = _unit(money_unit)
    frames = _frames(panels, unit)
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        frame = pd.concat(list(frames), ignore_index=True)
        frame.to_excel(target, index=False, sheet_name="register", freeze_panes=(1, 0))
        return target
    try:
        if suffix == ".csv":
            with target.open("w", encoding="utf-8-sig", newline="") as handle:
                for k, frame in enumerate(frames):
                    frame.to_csv(handle, index=False, header=k == 0)
                    del frame  # one block at a time: not alive while the next is made
        else:
            _write_parquet(frames, target, unit)
    except BaseException:
        target.unlink(missing_ok=True)  # no part of a register is left behind as if it were one
        raise
    return target


def _write_parquet(frames: Iterator[pd.DataFrame], target: Path, money_unit: str) -> None:
    """One row group per frame, every frame with the schema its fields declare (:func:`parquet_schema`): a column
    blank throughout the first frame (the generator's first block holds CHUNK firms) but filled in a later one is
    written like any other, and a column blank throughout the register keeps its field's type."""
    first = next(frames)
    schema = parquet_schema(first.columns, money_unit)
    table = pa.Table.from_pandas(first, schema=schema, preserve_index=False)
    del first
    with pq.ParquetWriter(target, table.schema, compression="snappy") as writer:
        writer.write_table(table)
        del table  # one block at a time: not alive while the next is made
        for frame in frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            del frame


# pandas' own text dtype as Arrow stores it (large_string from pandas 3, string before): the generator's text
# columns are of that dtype, so a register is written as pandas would write it whole
_TEXT = pa.Schema.from_pandas(pd.DataFrame({"text": pd.Series(["文本"], dtype=str)}), preserve_index=False)[0].type
_ARROW_TYPES = {DType.TEXT: _TEXT, DType.DATE: pa.string(), DType.BOOL: pa.string(), DType.INT: pa.int64(),
                DType.MONEY: pa.float64(), DType.RATIO: pa.float64(), DType.SCORE: pa.float64()}
"""The Arrow type of each field type's cells as :func:`register_frame` writes them (dates and 是/否 as text)."""


def parquet_schema(headers: Iterable[str], money_unit: str = "万元") -> pa.Schema:
    """The Parquet schema of a register frame with these ``headers`` (:func:`header` of known fields), each column
    typed by its field's declared type, whatever its cells hold in any one block."""
    fields = {header(field, money_unit): field for field in FIELDS}
    return pa.schema([pa.field(name, _ARROW_TYPES[fields[name].dtype]) for name in headers])


def _frames(panels: Iterable[pd.DataFrame], money_unit: str) -> Iterator[pd.DataFrame]:
    """The analyst-format frame of each block, made when it is asked for; a block is let go once its frame is."""
    for panel in panels:
        frame = register_frame(panel, money_unit=money_unit)
        del panel
        yield frame
        del frame
