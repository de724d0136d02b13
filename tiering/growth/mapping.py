"""Any firm-year panel in: a documented YAML column mapping turns a file into the model's panel contract.

A mapping (``models/mappings/*.yaml``) names the column of the firm key, the year, the founding date, and for
each amount of the catalogue (``amounts.yaml``) and each count (staff, IP) the column that holds it and its
unit. ``reader: csv`` reads a CSV with exactly those columns; ``reader: register`` reads a bureau register
through the register intake (headers, aliases, units, refusals) and keeps the fields the mapping lists. The
model then trains on whichever features the mapped fields allow.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from tiering.bundled import bundled
from tiering.errors import TieringError, Where
from tiering.fields import MONEY_UNITS
from tiering.fields import resolve as resolve_header
from tiering.growth.features import AMOUNTS
from tiering.growth.schema_words import schema_problems
from tiering.rules.yamlsrc import Loc, SourceProblem, YamlDoc, dotted, read_plain

MAPPING_VERSION = 1
MAPPINGS_DIR = bundled("models", "mappings")
COUNT_FIELDS = {"employees": "人", "tech_staff": "人", "rd_staff": "人", "ip_class1": "项", "ip_class2": "项"}
TEXT_FIELDS = ("name", "province", "district", "industry", "ownership")
UNITS: dict[str, float] = {**MONEY_UNITS, "千元": 0.1, "百万元": 100.0, "亿元": 10000.0}
"""Factor from each unit a mapping may give an amount in to 万元: the register's units and the ones financial
statements and databases are kept in (千元, 百万元, 亿元)."""


class MappingError(TieringError, ValueError, error_id="column-mapping"):
    """A mapping file, or a panel read through it, that cannot be used; the text says where and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    column: str = Field(min_length=1)
    unit: str | None = None
    note: str | None = None


class Amount(Column):
    """The column of one amount and the unit it is written in."""

    unit: str

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"未知金额单位“{value}”；可用：{'、'.join(UNITS)}")
        return value


def _known(kind: str, known: list[str], where: str = "") -> AfterValidator:
    def check(name: str) -> str:
        if name not in known:
            raise ValueError(f"未知{kind}字段“{name}”；已知：{'、'.join(known)}{where}")
        return name
    return AfterValidator(check)


class Founded(_Strict):
    column: str = Field(min_length=1)
    format: Literal["year", "date"]


class PanelMapping(_Strict):
    """One mapping file: which column is which field, and in what unit."""

    mapping_version: Literal[1]
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    reader: Literal["csv", "register"]
    encoding: str = "utf-8"
    key: Column
    year: Column
    founded: Founded | None = None
    text: dict[Annotated[str, _known("文字", list(TEXT_FIELDS))], str] = {}
    amounts: dict[Annotated[str, _known("金额", sorted(AMOUNTS), "（见 tiering/growth/amounts.yaml）")], Amount] = {}
    counts: dict[Annotated[str, _known("计数", list(COUNT_FIELDS))], Column] = {}
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)
    _path: str = PrivateAttr(default="")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as error:
            raise ValueError(f"未知编码“{value}”；常用：utf-8、utf-8-sig、gbk、gb18030") from error
        return value

    @field_validator("counts")
    @classmethod
    def _count_units(cls, value: dict[str, Column]) -> dict[str, Column]:
        bad = {k: c.unit for k, c in value.items() if c.unit != COUNT_FIELDS[k]}
        if bad:
            raise ValueError(f"计数字段单位应为 {COUNT_FIELDS}；得到 {bad}")
        return value

    def fields(self) -> list[str]:
        """Every panel field this mapping supplies besides uscc and year."""
        founded = ["registration_date"] if self.founded is not None else []
        return [*founded, *self.text, *self.amounts, *self.counts]


def mapping_path(name: str | Path) -> Path:
    """A mapping file by path, or by the id of one shipped in ``models/mappings/`` (e.g. ``register``)."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path
    return MAPPINGS_DIR / f"{name}.yaml"


def load_mapping(name: str | Path) -> PanelMapping:
    """Read a mapping with the rule files' guarded reader and check it; refuse it with the file and the problem in
    Chinese."""
    path = mapping_path(name)
    if not path.is_file():
        raise MappingError(f"找不到列映射文件；内置映射：{sorted(p.stem for p in MAPPINGS_DIR.glob('*.yaml'))}",
                           where=Where(file=str(path)))
    doc = read_plain(path, lambda problems: MappingError("不是可用的 YAML", where=Where(file=str(path)),
                                                         problems=problems))
    try:
        mapping = PanelMapping.model_validate(doc.data)
    except ValidationError as error:
        problems = schema_problems(doc, error)
        raise MappingError(f"列映射有 {len(problems)} 处问题", where=Where(file=str(path)),
                           problems=problems) from error
    if mapping.reader == "register":  # first: a header of the wrong field says more than "used twice"
        _check_register_headers(mapping, doc)
    _check_one_field_per_column(mapping, doc)
    # Where each column is named, so that a column the data file lacks is placed at its line of the mapping.
    mapping._path, mapping._lines = str(doc.path), {loc: doc.line_of(loc) for loc in _named_columns(mapping)}
    return mapping


def _named_columns(mapping: PanelMapping) -> dict[Loc, tuple[str, str]]:
    """{place in the file: (field, column)} of every column the mapping names, key and year included."""
    named: dict[Loc, tuple[str, str]] = {
        ("key", "column"): ("uscc", mapping.key.column), ("year", "column"): ("year", mapping.year.column),
        **{("text", f): (f, c) for f, c in mapping.text.items()},
        **{("amounts", f, "column"): (f, c.column) for f, c in mapping.amounts.items()},
        **{("counts", f, "column"): (f, c.column) for f, c in mapping.counts.items()}}
    if mapping.founded is not None:
        named[("founded", "column")] = ("registration_date", mapping.founded.column)
    return named


def _check_one_field_per_column(mapping: PanelMapping, doc: YamlDoc) -> None:
    """Two fields read from one column (a copied line left unedited) would make every ratio between them 1."""
    first: dict[str, str] = {}
    repeated = []
    for loc, (field, column) in _named_columns(mapping).items():
        if column in first:
            repeated.append(SourceProblem(str(doc.path), doc.line_of(loc), dotted(loc),
                                          f"列“{column}”已映射为字段 {first[column]}；每列只能是一个字段"))
        first.setdefault(column, field)
    if repeated:
        raise MappingError(f"{len(repeated)} 列被映射为不止一个字段", where=Where(file=str(doc.path)),
                           problems=repeated)


def _check_register_headers(mapping: PanelMapping, doc: YamlDoc) -> None:
    """In a register mapping each column must be the register header of the field it is listed under."""
    named = _named_columns(mapping)
    wrong = [SourceProblem(str(doc.path), doc.line_of(loc), dotted(loc),
                           f"表头“{column}”不是登记表中字段 {field} 的表头（见 tiering template）")
             for loc, (field, column) in named.items()
             if resolve_header(column) is None or resolve_header(column).id != field]
    if wrong:
        raise MappingError(f"{len(wrong)} 个表头不是登记表中对应字段的表头", where=Where(file=str(doc.path)),
                           problems=wrong)


def read_panel(path: str | Path, mapping: PanelMapping, money_unit: str | None = None) -> pd.DataFrame:
    """The panel at ``path`` read through ``mapping``: uscc, year, the mapped fields, money in 万元.

    ``money_unit`` applies to register money columns whose header names no unit (register reader only).
    """
    if mapping.reader == "register":
        from tiering.register import RegisterError, load_register

        try:
            register = load_register(path, money_unit=money_unit)
        except RegisterError as error:
            raise MappingError(error.message, where=error.where, hint=error.hint, problems=error.problems) from error
        kept = ["uscc", "year", *[f for f in mapping.fields() if f in register.frame.columns]]
        frame = register.frame[kept].reset_index(drop=True)
        # Rows the intake refused are never dropped silently: the caller reports how many.
        frame.attrs["refused"] = len(register.refusals)
        frame.attrs["rows_read"] = register.rows_read
        return frame
    return _read_csv(Path(path), mapping)


def _read_csv(path: Path, mapping: PanelMapping) -> pd.DataFrame:
    if not path.is_file():
        raise MappingError("找不到数据文件", where=Where(file=str(path)))
    try:
        raw = pd.read_csv(path, dtype={mapping.key.column: str}, encoding=mapping.encoding)
    except UnicodeDecodeError as error:
        hint = ("reader: csv 只读 CSV 文件：Excel 登记表用 reader: register 的列映射（如 register），或另存为 CSV"
                if path.suffix.lower() in (".xlsx", ".xlsm", ".xls") else
                "在列映射中写明文件的编码，如 encoding: gbk（Excel 另存的 CSV 常为 GBK）")
        raise MappingError(f"无法按列映射的编码 {mapping.encoding} 读取（第 {error.start} 字节起无法解码）",
                           where=Where(file=str(path)), hint=hint) from error
    except pd.errors.ParserError as error:
        raise MappingError(f"不是可读的 CSV 文件（{error}）", where=Where(file=str(path)),
                           hint="用 Excel 另存为“CSV（逗号分隔）”后再试") from error
    wanted = {mapping.key.column, mapping.year.column, *mapping.text.values(),
              *(c.column for c in mapping.amounts.values()), *(c.column for c in mapping.counts.values())}
    if mapping.founded is not None:
        wanted.add(mapping.founded.column)
    absent = sorted(wanted - set(raw.columns))
    if absent:
        named = [(loc, column) for loc, (_, column) in _named_columns(mapping).items() if column in absent]
        problems = [SourceProblem(mapping._path, mapping._lines[loc], dotted(loc), f"数据文件中没有列“{column}”")
                    for loc, column in named if loc in mapping._lines]
        raise MappingError(f"缺少列映射 {mapping.id} 所需的列 {absent}；文件的列为 {list(raw.columns)}",
                           where=Where(file=str(path), column=absent[0]), problems=problems,
                           hint="改正列映射中的列名（须与文件表头完全一致），或从映射中删去该字段")
    year = pd.to_numeric(raw[mapping.year.column], errors="coerce")
    if year.isna().any():
        first = int(year.isna().to_numpy().nonzero()[0][0])
        raise MappingError(f"不是年份：{raw[mapping.year.column][first]!r}",
                           where=Where(file=str(path), row=first + 2, column=mapping.year.column, field="year"))
    panel = pd.DataFrame({"uscc": raw[mapping.key.column].astype(str), "year": year.astype("int64")})
    if mapping.founded is not None:
        source = raw[mapping.founded.column]
        if mapping.founded.format == "year":
            founded = _numbers(source, path, mapping.founded.column, "registration_date", "年份")
            text = founded.round().astype("Int64").astype(str) + "-01-01"
        else:
            text = source.astype(str)
        dates = pd.to_datetime(text, errors="coerce").astype("datetime64[ns]")
        _refuse_unread(source, dates, path, mapping.founded.column, "registration_date", "日期（如 2015-03-01）")
        panel["registration_date"] = dates
    for field, column in mapping.text.items():
        panel[field] = raw[column].astype(str)
    for field, spec in mapping.amounts.items():
        panel[field] = _numbers(raw[spec.column], path, spec.column, field, "数字") * UNITS[spec.unit]
    for field, spec in mapping.counts.items():
        panel[field] = _numbers(raw[spec.column], path, spec.column, field, "数字")
    duplicated = panel.duplicated(["uscc", "year"])
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        first = panel.iloc[row]
        raise MappingError(f"{int(duplicated.sum())} 行企业与年份重复，如 {first['uscc']} {first['year']}",
                           where=Where(file=str(path), row=row + 2))
    panel = panel.sort_values(["uscc", "year"], kind="stable").reset_index(drop=True)
    # Columns the mapping does not name are not read; the caller says which, so none is dropped unnoticed.
    panel.attrs["unread"] = [str(c) for c in raw.columns if c not in wanted]
    return panel


def _numbers(source: pd.Series, path: Path, column: str, field: str, kind: str) -> pd.Series:
    """A column as numbers: thousands separators allowed, a blank cell missing, any other text refused at its row
    (a value read as missing would change a firm's features without a word)."""
    if source.dtype.kind in "iuf":
        return source.astype("float64")
    text = source.astype("string").str.strip().str.replace(r"[,，]", "", regex=True)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    _refuse_unread(source, values, path, column, field, kind)
    return values


def _refuse_unread(source: pd.Series, values: pd.Series, path: Path, column: str, field: str, kind: str) -> None:
    """Refuse the column when a non-blank cell of ``source`` gave no value, naming the first such row."""
    text = source.astype("string").str.strip()
    unread = (values.isna() & text.notna() & (text != "")).to_numpy()
    if unread.any():
        rows = unread.nonzero()[0]
        raise MappingError(f"{len(rows)} 个单元格不是{kind}，如“{source.iloc[rows[0]]}”；空白单元格表示缺失",
                           where=Where(file=str(path), row=int(rows[0]) + 2, column=column, field=field),
                           hint="改正这些单元格，或把它们留空")
