"""Row validation: the pydantic row model (the contract for one firm-year) and the vectorised check that applies it.

``RegisterRow`` defines what a valid row is and, through its cell validators, the exact refusal reason for each
bad cell. Loading a million rows cell by cell through pydantic would take minutes, so ``validate`` first parses
whole columns with pandas; any cell the fast path does not accept as plainly valid is handed to the row model's
own cell validator, which either accepts it (its value wins) or gives the refusal reason. The fast path may only
ever accept a subset of what the model accepts, with the same value; tests/test_register.py checks that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError

from tiering import uscc as uscc_code
from tiering.fields import BY_ID, FIELDS, DType, Field, Kind
from tiering.numbering import fixed_width_bytes, sort_rows
from tiering.register.read import ColumnMap, RawTable, display
from tiering.register.refusals import Refusal

YEAR_RANGE = (1980, 2100)
"""Plausible fiscal years; anything outside is a typing error, not data."""
DATE_YEARS = (1900, 2100)
SIGNED = frozenset({"net_profit"})
"""Money fields that may be negative (a loss); every other amount and count must be >= 0."""
NOT_ABOVE: tuple[tuple[str, str], ...] = (
    ("tech_staff", "employees"),
    ("rd_staff", "employees"),
    ("rd_expense_domestic", "rd_expense"),
)
"""(part, whole) pairs where the part is by definition included in the whole."""

TRUE_WORDS = frozenset({"是", "y", "1", "true", "有"})
FALSE_WORDS = frozenset({"否", "n", "0", "false", "无"})
BOOL_WORDS: dict[str, float] = {**dict.fromkeys(TRUE_WORDS, 1.0), **dict.fromkeys(FALSE_WORDS, 0.0)}

NOT_NUMBER = "应为数字"
NOT_INTEGER = "应为整数"
NEGATIVE = "不能为负数"
BAD_YEAR = f"应为 {YEAR_RANGE[0]} 到 {YEAR_RANGE[1]} 之间的整数年份"
BAD_DATE = "应为日期，如 2015-03-01"
DATE_RANGE = f"日期的年份应在 {DATE_YEARS[0]} 到 {DATE_YEARS[1]} 之间"
BAD_BOOL = "应为 是 或 否（也可写 Y/N、1/0、TRUE/FALSE、有/无）"
REQUIRED = "必填，不能为空"
USCC_AS_NUMBER = "应为文本：代码被存成了数字（可能已丢失位数），请把该列设为文本格式后重新填写"

# ASCII digits only: Python's \d also matches digits of other scripts, the regex engine behind pandas does not
_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
NUMBER_RE = re.compile(_NUMBER)
PERCENT_RE = re.compile(rf"(?P<number>{_NUMBER}) *[%％]")
_DATE_SEP = r" *[-/.年] *(?P<month>[0-9]{1,2}) *[-/.月] *(?P<day>[0-9]{1,2}) *日?"
DATE_RE = re.compile(
    rf"^(?P<year>[0-9]{{4}})(?:{_DATE_SEP}|(?P<month2>[0-9]{{2}})(?P<day2>[0-9]{{2}}))"
    r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$"
)


def above_limit(limit: float) -> str:
    """Reason for a count beyond its field's plausibility ceiling."""
    return f"超过合理上限 {limit:,.0f}"


def not_above(part: Field, whole: Field, whole_header: str, whole_value: str) -> str:
    """Reason for a part (科技人员数) larger than its whole (职工总数); names the other column."""
    return f'大于列 "{whole_header}" 的值 {whole_value}：{part.label}不能超过{whole.label}'


def duplicate(other_rows: list[int]) -> str:
    """Reason for a row whose (统一社会信用代码, 年度) also appears on other rows."""
    return f"同一企业同一年度出现多次：另见第 {'、'.join(str(r) for r in other_rows)} 行"


# --- the row model: one cell validator per field --------------------------------------------------------------


def _refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError("register_cell", reason)


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _divisor(field: Field, context: dict[str, Any] | None) -> float:
    units = (context or {}).get("money_units", {})
    return 10_000.0 if units.get(field.id, "万元") == "元" else 1.0


def _parse_number(field: Field, value: object, context: dict[str, Any] | None) -> float | int | None:
    percent = False
    if isinstance(value, bool | np.bool_):
        raise _refuse(NOT_NUMBER)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        match = PERCENT_RE.fullmatch(text) if field.dtype is DType.RATIO else None
        if match:
            text, percent = match.group("number"), True
        if not NUMBER_RE.fullmatch(text):
            raise _refuse(NOT_NUMBER)
        number = float(text.replace(",", ""))
    else:
        raise _refuse(NOT_NUMBER)
    if not math.isfinite(number):
        raise _refuse(NOT_NUMBER)
    if field.id == "year":
        if not number.is_integer() or not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
            raise _refuse(BAD_YEAR)
        return int(number)
    if field.dtype is DType.INT and not number.is_integer():
        raise _refuse(NOT_INTEGER)
    if number < 0 and field.dtype in (DType.INT, DType.MONEY, DType.SCORE) and field.id not in SIGNED:
        raise _refuse(NEGATIVE)
    if field.max_value is not None and number > field.max_value:
        raise _refuse(above_limit(field.max_value))
    if field.dtype is DType.INT:
        return int(number)
    if field.dtype is DType.MONEY:
        return number / _divisor(field, context)
    if field.dtype is DType.RATIO and (percent or field.id in (context or {}).get("percent", ())):
        return number / 100
    return number


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _refuse(BAD_BOOL)


def _parse_date(value: object) -> date:
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and (match := DATE_RE.fullmatch(value.strip())):
        parts = match.groupdict()
        try:
            parsed = date(
                int(parts["year"]), int(parts["month"] or parts["month2"]), int(parts["day"] or parts["day2"])
            )
        except ValueError:
            raise _refuse(BAD_DATE) from None
    else:
        raise _refuse(BAD_DATE)
    if not DATE_YEARS[0] <= parsed.year <= DATE_YEARS[1]:
        raise _refuse(DATE_RANGE)
    return parsed


def _parse_text(field: Field, value: object) -> str:
    if field.id == "uscc":
        if not isinstance(value, str):
            raise _refuse(USCC_AS_NUMBER)
        code = value.strip().upper()
        problem = uscc_code.problem(code)
        if problem:
            raise _refuse(problem)
        return code
    return value.strip() if isinstance(value, str) else display(value)


def parse_cell(field: Field, value: object, context: dict[str, Any] | None = None) -> object:
    """Parse one cell of ``field`` the way the loader does, raising a pydantic error whose message is the reason.

    ``context`` may carry ``money_units`` (field id -> "万元"/"元"; default 万元) and ``percent`` (ratio field
    ids whose header says (%)). Money comes back in 万元, counts as int, flags as bool, dates as date.
    """
    if _is_blank(value):
        if field.required:
            raise _refuse(REQUIRED)
        return None
    if field.id == "year":
        try:
            return _parse_number(field, value, context)
        except PydanticCustomError:
            raise _refuse(BAD_YEAR) from None
    if field.dtype in (DType.INT, DType.MONEY, DType.RATIO, DType.SCORE):
        return _parse_number(field, value, context)
    if field.dtype is DType.BOOL:
        return _parse_bool(value)
    if field.dtype is DType.DATE:
        return _parse_date(value)
    return _parse_text(field, value)


def _cell_validator(field: Field) -> Callable[[object, ValidationInfo], object]:
    def validate_cell(value: object, info: ValidationInfo) -> object:
        return parse_cell(field, value, info.context)

    return validate_cell


_PYTHON_TYPE: dict[DType, type] = {
    DType.TEXT: str, DType.DATE: date, DType.INT: int, DType.MONEY: float, DType.RATIO: float,
    DType.BOOL: bool, DType.SCORE: float,
}


def cell_type(field: Field) -> Any:
    """The annotated type of one field in RegisterRow: its Python type plus the cell validator."""
    base: Any = _PYTHON_TYPE[field.dtype]
    if not field.required:
        base = base | None
    return Annotated[base, BeforeValidator(_cell_validator(field))]


class _RowRules(BaseModel):
    """Checks across the cells of one row, shared by every RegisterRow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> _RowRules:
        for part_id, whole_id in NOT_ABOVE:
            part, whole = getattr(self, part_id), getattr(self, whole_id)
            if part is not None and whole is not None and part > whole:
                whole_field = BY_ID[whole_id]
                raise _refuse(
                    f"{BY_ID[part_id].label} {display(part)} "
                    + not_above(BY_ID[part_id], whole_field, whole_field.label, display(whole))
                )
        return self


RegisterRow: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RegisterRow",
    __base__=_RowRules,
    __module__=__name__,
    __doc__=(
        "One firm-year of a register, keyed by field id. Validate with "
        '``RegisterRow.model_validate(cells, context={"money_units": {"revenue": "元"}})``; every field of '
        "tiering.fields.FIELDS is here, uscc/name/year required. Money is returned in 万元."
    ),
    **{
        f.id: (
            cell_type(f),
            PydanticField(... if f.required else None, title=f.label, description=f.meaning),
        )
        for f in FIELDS
    },
)


@cache
def _adapter(field_id: str) -> TypeAdapter[Any]:
    return TypeAdapter(cell_type(BY_ID[field_id]))


# --- the vectorised pass ---------------------------------------------------------------------------------------


def validate(raw: RawTable, columns: ColumnMap) -> tuple[pd.DataFrame, list[Refusal], list[str]]:
    """Parse and check every mapped column of ``raw``; return the accepted panel frame, refusals and warnings."""
    context = {"money_units": columns.money_units, "percent": columns.percent}
    problems: list[tuple[int, int, str, str]] = []  # (row, column position, value, reason)

    def parse(field_id: str, position: int) -> pd.Series:
        field, cells = BY_ID[field_id], raw.frame[position]
        values, clean = fast_parse(field, cells, context)
        return _settle_suspicious(field, cells, values, clean, position, context, problems)

    # columns parse independently and NumPy/arrow drop the GIL in their loops: two threads, two cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        parsed = dict(zip(columns.positions, pool.map(parse, columns.positions, columns.positions.values()),
                          strict=True))
    # one numbering of the firms, in code order, and one sort by (firm, year) serve the duplicate check and
    # harmonising; the panel keeps the file's row order (moving every column of millions of rows costs seconds)
    years = parsed["year"].to_numpy(dtype=float, na_value=np.nan)
    known, firm = sort_rows(parsed["uscc"], years)
    key = firm * (YEAR_RANGE[1] - YEAR_RANGE[0] + 1) + (years[known] - YEAR_RANGE[0]).astype(np.int64)
    _check_parts(raw, columns, parsed, problems)
    _check_duplicates(raw, columns, known, key, problems)
    refusals = [
        Refusal(raw.path.name, row, raw.headers[position], value, reason)
        for row, position, value, reason in sorted(problems, key=lambda p: (p[0], p[1]))
    ]
    refused = np.isin(raw.frame.index.to_numpy(), [p[0] for p in problems])
    accepted = ~refused[known]  # rows without a firm or year are refused, so ``known`` holds every accepted row
    by_firm = known[accepted]
    kept = np.zeros(len(raw.frame), dtype=bool)
    kept[by_firm] = True
    rows = np.flatnonzero(kept)
    frame = _assemble(raw, parsed, rows)
    position = np.empty(len(raw.frame), dtype=np.int64)
    position[rows] = np.arange(len(rows))
    frame, warnings = harmonise_firm_fields(
        frame, [f for f in columns.positions if BY_ID[f].kind is Kind.FIRM], position[by_firm], firm[accepted]
    )
    return frame, refusals, warnings


def _settle_suspicious(
    field: Field, cells: pd.Series, values: pd.Series, clean: np.ndarray, position: int,
    context: dict[str, Any], problems: list[tuple[int, int, str, str]],
) -> pd.Series:
    if clean.all():
        return values
    adapter = _adapter(field.id)
    rows: list[int] = []
    accepted: list[object] = []
    for row, cell in cells[~clean].items():
        try:
            value = adapter.validate_python(cell, context=context)
        except ValidationError as error:
            problems.extend((int(row), position, display(cell), e["msg"]) for e in error.errors())
            value = None
        rows.append(int(row))
        accepted.append(_frame_value(field, value))
    values = values.copy()
    values.loc[rows] = pd.Series(accepted, index=rows, dtype=values.dtype)
    return values


def _frame_value(field: Field, value: object) -> object:
    if value is None:
        return pd.NaT if field.dtype is DType.DATE else np.nan
    if field.dtype is DType.DATE:
        return pd.Timestamp(value)
    if field.dtype is DType.TEXT:
        return value
    return float(value)  # type: ignore[arg-type]


def fast_parse(field: Field, cells: pd.Series, context: dict[str, Any]) -> tuple[pd.Series, np.ndarray]:
    """Values for the cells that are plainly valid, and a mask of those cells (blank counts as plainly valid
    unless the field is required). Everything else goes to the row model for a value or a reason."""
    if field.dtype in (DType.INT, DType.MONEY, DType.RATIO, DType.SCORE):
        values, clean = _fast_numbers(field, cells, context)
    elif field.dtype is DType.BOOL:
        values, clean = _fast_bools(cells)
    elif field.dtype is DType.DATE:
        values, clean = _fast_dates(cells)
    else:
        values, clean = _fast_text(field, cells)
    return values, np.asarray(clean, dtype=bool)


def _fast_numbers(field: Field, cells: pd.Series, context: dict[str, Any]) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        number = cells.astype("float64")
        x = number.to_numpy()
        blank = np.isnan(x)
        ok = ~np.isinf(x)
    else:
        text = cells.astype("str").str.strip()
        matched = text.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)
        number = _to_float(text.where(matched).str.replace(",", "", regex=False))
        x = number.to_numpy()
        blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
        ok = blank | (matched & np.isfinite(x))
    # NumPy on the plain array: comparisons with a missing value are False, and blank cells stay acceptable
    if field.id == "year":
        ok &= blank | ((np.floor(x) == x) & (x >= YEAR_RANGE[0]) & (x <= YEAR_RANGE[1]))
    elif field.dtype is DType.INT:
        ok &= blank | (np.floor(x) == x)
    if field.dtype in (DType.INT, DType.MONEY, DType.SCORE) and field.id not in SIGNED:
        ok &= blank | (x >= 0)
    if field.max_value is not None:
        ok &= blank | (x <= field.max_value)
    if field.required:
        ok &= ~blank
    # every step that would copy a column is skipped when it would change nothing: at millions of rows each
    # copy of each column costs
    if field.dtype is DType.MONEY and _divisor(field, context) != 1.0:
        number = number / _divisor(field, context)
    elif field.dtype is DType.RATIO and field.id in context["percent"]:
        number = number / 100
    return (number if ok.all() else number.where(ok)).astype("float64"), ok


def _to_float(text: pd.Series) -> pd.Series:
    """Text already matched against _NUMBER (others missing) as float64; arrow's cast is ~10x pandas' to_numeric."""
    try:
        return pd.Series(pc.cast(pa.array(text, type=pa.string()), pa.float64()), index=text.index).astype("float64")
    except pa.ArrowInvalid:
        return pd.to_numeric(text, errors="coerce").astype("float64")


def _fast_bools(cells: pd.Series) -> tuple[pd.Series, pd.Series | np.ndarray]:
    if pd.api.types.is_bool_dtype(cells) or pd.api.types.is_numeric_dtype(cells):
        number = cells.astype("float64")
        x = number.to_numpy()
        ok = np.isnan(x) | (x == 0.0) | (x == 1.0)
        return (number if ok.all() else number.where(ok)), ok
    text = cells.astype("str").str.strip().str.lower()
    blank = text.isna() | (text == "")
    values = text.map(BOOL_WORDS).astype("float64")
    return values, blank | values.notna()


def _fast_dates(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(cells):
        stamps = cells.dt.tz_localize(None) if cells.dt.tz is not None else cells
        stamps = stamps.dt.normalize().astype("datetime64[ns]")
    else:
        objects = cells.where(cells.map(lambda v: isinstance(v, date)))
        stamps = _date_texts(cells.where(_is_str(cells)).astype("str").str.strip())
        # datetime/date objects (Excel date cells, parquet date32) need no text parsing
        stamps = stamps.fillna(pd.to_datetime(objects, errors="coerce").dt.normalize().astype("datetime64[ns]"))
    years = stamps.dt.year
    ok = stamps.notna() & years.between(*DATE_YEARS)
    return stamps.where(ok), cells.isna() | ok


def _date_texts(text: pd.Series) -> pd.Series:
    """Parse date strings once per distinct value: ISO dates by pandas' C parser, other layouts by DATE_RE."""
    codes, distinct = pd.factorize(text)
    distinct = pd.Series(distinct, dtype="str")
    iso = distinct.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    parsed = pd.to_datetime(distinct.where(iso), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    rest = distinct[~iso]
    if len(rest):
        parts = rest.str.extract(DATE_RE.pattern)
        parsed[~iso] = pd.to_datetime(
            pd.DataFrame({
                "year": parts["year"],
                "month": parts["month"].fillna(parts["month2"]),
                "day": parts["day"].fillna(parts["day2"]),
            }).astype("float64"),
            errors="coerce",
        ).astype("datetime64[ns]")
    # code -1 (a missing cell) picks the NaT appended at the end
    values = np.append(parsed.to_numpy(), np.datetime64("NaT", "ns"))
    return pd.Series(values[codes], index=text.index, dtype="datetime64[ns]")


def _is_str(cells: pd.Series) -> pd.Series:
    if cells.dtype == object:
        return cells.map(lambda v: isinstance(v, str)).astype(bool)
    return cells.notna() if pd.api.types.is_string_dtype(cells) else pd.Series(False, index=cells.index)


def _fast_text(field: Field, cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    is_text = _is_str(cells)
    text = cells.where(is_text).astype("str").str.strip()
    if field.id == "uscc" and _has_ascii_lowercase(text):
        text = text.str.upper()
    text = text.where(text != "")
    blank = cells.isna() | (is_text & text.isna())
    ok = blank | is_text
    if field.id == "uscc":
        ok &= blank | _uscc_valid(text)
    if field.required:
        ok &= ~blank
    return text.where(ok), ok


def _has_ascii_lowercase(text: pd.Series) -> bool:
    """Whether any cell holds a letter a–z, read from arrow's character buffers: upper-casing millions of codes
    that are already upper case costs a fifth of a second. Other lower-case letters never make a valid code."""
    array = pa.array(text, type=pa.large_string())
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        data = chunk.buffers()[2]
        if data is not None and bool((np.frombuffer(data, dtype=np.uint8) - np.uint8(ord("a")) < 26).any()):
            return True
    return False


def _uscc_valid(codes: pd.Series) -> pd.Series:
    """Vectorised GB 32100 check; agrees with tiering.uscc.problem(code) is None."""
    chars = fixed_width_bytes(codes)
    # the usual register: every code present and 18 bytes long, checked straight from arrow's bytes
    if chars is not None and chars.shape[1] == 18:
        return pd.Series(uscc_code.valid_bytes(chars), index=codes.index)
    positions, distinct = pd.factorize(codes)
    distinct = np.asarray(distinct, dtype=object)
    good = np.zeros(len(distinct) + 1, dtype=bool)  # the extra last slot answers for missing codes (-1)
    sized = np.flatnonzero([len(c) == 18 for c in distinct])
    if len(sized):
        points = np.array(distinct[sized], dtype="U18").view(np.uint32).reshape(-1, 18)
        good[sized] = uscc_code.valid_bytes(points)
    return pd.Series(good[positions], index=codes.index)


def _check_parts(
    raw: RawTable, columns: ColumnMap, parsed: dict[str, pd.Series], problems: list[tuple[int, int, str, str]]
) -> None:
    for part_id, whole_id in NOT_ABOVE:
        if part_id not in parsed or whole_id not in parsed:
            continue
        over = parsed[part_id] > parsed[whole_id]
        part_position, whole_position = columns.positions[part_id], columns.positions[whole_id]
        for row in over[over].index:
            problems.append((
                int(row), part_position, display(raw.frame.at[row, part_position]),
                not_above(
                    BY_ID[part_id], BY_ID[whole_id], columns.headers[whole_id],
                    display(raw.frame.at[row, whole_position]),
                ),
            ))


def _check_duplicates(
    raw: RawTable, columns: ColumnMap, rows: np.ndarray, key: np.ndarray, problems: list[tuple[int, int, str, str]]
) -> None:
    """Refuse every row of a repeated (firm, year); ``key`` numbers the pair of each of ``rows``, in sorted order."""
    same = key[1:] == key[:-1]
    repeated = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
    position = columns.positions["uscc"]
    row_numbers = raw.frame.index.to_numpy()
    for _, group in groupby(repeated.tolist(), key=lambda i: key[i]):
        numbers = [int(row_numbers[rows[i]]) for i in group]
        for row in numbers:
            others = [r for r in numbers if r != row]
            problems.append((row, position, display(raw.frame.at[row, position]), duplicate(others)))


def _empty_columns(length: int) -> dict[DType, pd.Series]:
    """One all-missing column per kind, shared by every field the register lacks (read-only, so never altered)."""
    nothing = np.full(length, np.nan)
    nothing.flags.writeable = False
    never = np.full(length, np.datetime64("NaT"), dtype="datetime64[ns]")
    never.flags.writeable = False
    index = pd.RangeIndex(length)
    return {DType.DATE: pd.Series(never, index=index, copy=False),
            DType.TEXT: pd.Series(np.nan, index=index, dtype="str"),
            DType.BOOL: pd.Series(nothing, index=index, copy=False)}


def _assemble(raw: RawTable, parsed: dict[str, pd.Series], rows: np.ndarray) -> pd.DataFrame:
    """The panel frame: every field (absent ones empty), the ``rows`` (ascending: file order), and ``_row``
    (spreadsheet row)."""
    index = pd.RangeIndex(len(rows))
    empty = _empty_columns(len(rows))
    every_row = len(rows) == len(raw.frame)

    def keep(values: pd.Series) -> pd.Series:
        if every_row:
            return values.set_axis(index)
        # the array's own take: Series.iloc would also take (and build) a 4-million-entry index per column
        return pd.Series(values.array.take(rows), index=index, copy=False)

    present = [f.id for f in FIELDS if f.id in parsed]
    # NumPy and arrow take without the GIL, so two threads take two columns at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        kept = dict(zip(present, pool.map(keep, (parsed[f] for f in present)), strict=True))
    data: dict[str, pd.Series] = {}
    for field in FIELDS:
        if field.id not in parsed:
            data[field.id] = empty.get(field.dtype, empty[DType.BOOL])
            continue
        column = kept[field.id]
        if field.dtype is DType.TEXT:
            column = column.astype("str")
        elif field.dtype is DType.DATE:
            column = column.astype("datetime64[ns]")
        else:
            column = column.astype("float64")
        data[field.id] = column
    data["year"] = data["year"].astype("int64")
    data["_row"] = pd.Series(raw.frame.index.to_numpy()[rows], index=index, dtype="int64")
    # copy=False keeps one block per column: stacking 70-odd columns of millions of rows into one block costs seconds
    return pd.DataFrame(data, copy=False)


def harmonise_firm_fields(
    frame: pd.DataFrame, field_ids: list[str], order: np.ndarray, firms: np.ndarray
) -> tuple[pd.DataFrame, list[str]]:
    """Give every year of a firm the firm-level value of its latest year that has one; warn where years disagree.

    ``order`` lists the positions of the frame's rows sorted by (uscc, year) and ``firms`` the firm number of each
    of them (non-decreasing), as :func:`tiering.numbering.sort_rows` gives them. A firm-level fact (注册日期,
    所在区 …) cannot differ between years, so a disagreement is a data-entry problem worth a warning, but the
    newest value is the best one to keep.
    """
    warnings: list[str] = []
    if len(order) == 0:
        return frame, warnings
    firm_of_row = np.full(len(frame), -1, dtype=np.int64)
    firm_of_row[order] = firms
    fields = [f for f in field_ids if f != "uscc"]

    def latest(field_id: str) -> tuple[pd.Series | None, np.ndarray]:
        return _latest_values(frame[field_id], order, firms, firm_of_row)

    # arrow's take and compare run without the GIL: two fields at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(latest, fields))
    for field_id, (values, differs) in zip(fields, results, strict=True):
        if values is None:
            continue
        if differs.any():
            conflicted = np.isin(firms, np.unique(firm_of_row[differs]))
            warnings.extend(_disagreements(frame.iloc[order[conflicted]], field_id, values))
        frame[field_id] = values
    return frame, warnings


def _latest_values(column: pd.Series, order: np.ndarray, firms: np.ndarray,
                   firm_of_row: np.ndarray) -> tuple[pd.Series | None, np.ndarray]:
    """Each row's value of its firm's latest year with one (None when that changes nothing), and the rows whose
    own value differs from it."""
    present = column.notna().to_numpy(dtype=bool)
    with_value = present[order]
    rows, firm = order[with_value], firms[with_value]
    if len(rows) == 0:
        return None, present
    ends = np.flatnonzero(np.r_[firm[1:] != firm[:-1], True])  # each firm's last year with a value
    last_row = np.full(int(firms[-1]) + 1, -1, dtype=np.int64)
    last_row[firm[ends]] = rows[ends]
    latest = pd.Series(column.array.take(last_row[firm_of_row], allow_fill=True), index=column.index)
    differs = present & (column != latest).to_numpy(dtype=bool)
    if not differs.any() and present.all():
        return None, differs
    return latest, differs


def _disagreements(rows: pd.DataFrame, field_id: str, latest: pd.Series) -> list[str]:
    label = BY_ID[field_id].label
    records = zip(
        rows["uscc"].tolist(), rows["name"].tolist(), rows["_row"].tolist(), rows["year"].tolist(),
        rows[field_id].tolist(), latest[rows.index].tolist(), strict=True,
    )
    notes = []
    # plain lists and itertools: a pandas groupby loop over thousands of firms costs seconds
    for firm, group in groupby(records, key=itemgetter(0)):
        members = list(group)
        seen = "；".join(f"第 {row} 行（{year} 年）{display(value) or '空'}" for _, _, row, year, value, _ in members)
        name, keep = members[-1][1], display(members[-1][5])
        notes.append(
            f"企业 {firm}（{name}）的 {label} 在不同年度不一致：{seen}。已对该企业所有年度采用最新年度的值 {keep}"
        )
    return notes
