"""The row contract: what one valid firm-year is, cell by cell, and the exact refusal reason for each bad cell.

``RegisterRow`` is the pydantic model of one row keyed by field id; its cell validators (``parse_cell``) are the
reference for every value the loader accepts. The fast column parser (tiering.register.columns) may only accept a
subset of what these validators accept, with the same value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationInfo, create_model, model_validator
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError

from tiering import industry
from tiering import uscc as uscc_code
from tiering.fields import BY_ID, FIELDS, DType, Field
from tiering.register.read import display

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
EXCEL_TEXT_LIMIT = 32_767
"""Characters an Excel cell can hold; a longer text could not be written back to the results workbook."""
TOO_LONG = f"文本超过 Excel 单元格上限 {EXCEL_TEXT_LIMIT} 个字符：请删减该单元格"
UNIT_IN_CELL = "数字后面带了单位“{unit}”：单元格里只填数字，单位写在表头，如 {label}({field_unit})"
EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system as Python counts it (Excel's serial 60 is the non-existent 1900-02-29)."""

# ASCII digits only: Python's \d also matches digits of other scripts, the regex engine behind pandas does not
_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
NUMBER_RE = re.compile(_NUMBER)
PERCENT_RE = re.compile(rf"(?P<number>{_NUMBER}) *[%％]")
UNIT_RE = re.compile(rf"(?P<number>{_NUMBER}) *(?P<unit>亿元|万元|千元|元|亿|万|千|人|名|项|个|件|年|分|%)")
YEAR_SUFFIX_RE = re.compile(r"(?P<year>[0-9]{4}) *年度?")
_DATE_SEP = r" *[-/.年] *(?P<month>[0-9]{1,2}) *[-/.月] *(?P<day>[0-9]{1,2}) *日?"
DATE_RE = re.compile(
    rf"^(?P<year>[0-9]{{4}})(?:{_DATE_SEP}|(?P<month2>[0-9]{{2}})(?P<day2>[0-9]{{2}}))"
    r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$"
)


def above_limit(field: Field, limit: float) -> str:
    """Reason for a value beyond its field's plausibility ceiling (tiering/fields.yaml), in the field's unit."""
    return f"超过合理上限 {limit:,.0f}{field.unit}：请检查是否多输了位数或单位填错（上限见 tiering/fields.yaml）"


def below_limit(field: Field, limit: float) -> str:
    """Reason for a value under its field's plausibility floor (tiering/fields.yaml)."""
    return f"低于合理下限 {limit:,.0f}{field.unit}：请检查是否多输了位数或单位填错（下限见 tiering/fields.yaml）"


def not_above(part: Field, whole: Field, whole_header: str, whole_value: str) -> str:
    """Reason for a part (科技人员数) larger than its whole (职工总数); names the other column."""
    return f'大于列 "{whole_header}" 的值 {whole_value}：{part.label}不能超过{whole.label}'


def before_registration(header: str, registered: str) -> str:
    """Reason for a fiscal year that ends before the firm was registered (列 "注册日期" on the same row)."""
    return f'早于列 "{header}" 的 {registered}：企业注册之前的年度不应有数据，请核对年度或注册日期'


def duplicate(others: str) -> str:
    """Reason for a row whose (统一社会信用代码, 年度) also appears on other rows (``others``: 第 4、6 行)."""
    return f"同一企业同一年度出现多次：另见{others}"



def _refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError("register_cell", reason)


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def divisor(field: Field, context: dict[str, Any] | None) -> float:
    """What an amount of ``field`` is divided by to give 万元 (10,000 when the column is in 元)."""
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
        if field.id == "year" and (year := YEAR_SUFFIX_RE.fullmatch(text)):
            text = year.group("year")
        if not NUMBER_RE.fullmatch(text):
            unit = UNIT_RE.fullmatch(text)
            if unit and field.dtype is not DType.RATIO:
                raise _refuse(UNIT_IN_CELL.format(unit=unit.group("unit"), label=field.label,
                                                  field_unit=field.unit or "单位"))
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
    if field.dtype is DType.MONEY:
        number = number / divisor(field, context)
    if field.max_value is not None and number > field.max_value:
        raise _refuse(above_limit(field, field.max_value))
    if field.min_value is not None and number < field.min_value:
        raise _refuse(below_limit(field, field.min_value))
    if field.dtype in (DType.INT, DType.MONEY):
        return int(number) if field.dtype is DType.INT else number
    if field.dtype is DType.RATIO and (percent or field.id in (context or {}).get("percent", ())):
        return number / 100
    return number


def parse_number(field: Field, value: object, context: dict[str, Any] | None = None) -> float | int | None:
    """A number for ``field`` as a register cell would give it, or ValueError with the cell's refusal reason.

    For readers other than the register (watch events) that must accept and refuse exactly what a cell does.
    """
    try:
        return _parse_number(field, value, context)
    except PydanticCustomError as exc:
        raise ValueError(exc.message()) from None


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
    if isinstance(value, str) and NUMBER_RE.fullmatch(value.strip()) and "," not in value:
        value = float(value)
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        parsed = _date_of_number(float(value))
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


def _date_of_number(number: float) -> date:
    """An 8-digit 20150301 as that day, else an Excel date serial (42064 = 2015-03-01)."""
    if not math.isfinite(number) or not number.is_integer():
        raise _refuse(BAD_DATE)
    if 19_000_101 <= number <= 21_001_231:
        text = str(int(number))
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise _refuse(BAD_DATE) from None
    if not 1 <= number <= 2_958_465:  # 9999-12-31, Excel's last day
        raise _refuse(BAD_DATE)
    return EXCEL_EPOCH + timedelta(days=int(number))


def _parse_text(field: Field, value: object) -> str:
    if field.id == industry.CODE_FIELD:
        try:
            return industry.classification().code_of(value)
        except industry.IndustryCodeError as error:
            raise _refuse(str(error)) from None
    if field.id == "uscc":
        if not isinstance(value, str):
            raise _refuse(USCC_AS_NUMBER)
        code = value.strip().upper()
        problem = uscc_code.problem(code)
        if problem:
            raise _refuse(problem)
        return code
    text = value.strip() if isinstance(value, str) else display(value)
    if len(text) > EXCEL_TEXT_LIMIT:
        raise _refuse(TOO_LONG)
    return text


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
def cell_adapter(field_id: str) -> TypeAdapter[Any]:
    """The cached pydantic adapter that validates one cell of a field (the row model's own cell validator)."""
    return TypeAdapter(cell_type(BY_ID[field_id]))

