"""The fast column parser: whole columns parsed with pandas, NumPy and arrow, the row contract deciding the rest.

Loading a million rows cell by cell through pydantic would take minutes, so every column is first parsed as a
whole; any cell the fast path does not accept as plainly valid is handed to the row model's own cell validator
(tiering.register.row), which either accepts it (its value wins) or gives the refusal reason. The fast path may
only ever accept a subset of what the row model accepts, with the same value; tests/test_register.py checks that.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from tiering import industry
from tiering import uscc as uscc_code
from tiering.fields import DType, Field
from tiering.numbering import fixed_width_bytes
from tiering.register.read import display
from tiering.register.row import (
    _NUMBER,
    BOOL_WORDS,
    DATE_RE,
    DATE_YEARS,
    EXCEL_TEXT_LIMIT,
    SIGNED,
    YEAR_RANGE,
    cell_adapter,
    divisor,
)

Problem = tuple[int, int, str, str]
"""(spreadsheet row, column position, value as shown, reason)."""


def parse_column(
    field: Field, cells: pd.Series, position: int, context: dict[str, Any], problems: list[Problem]
) -> pd.Series:
    """The parsed values of one column; every refused cell is added to ``problems`` and left missing."""
    values, clean = fast_parse(field, cells, context)
    return _settle_suspicious(field, cells, values, clean, position, context, problems)


def _settle_suspicious(
    field: Field, cells: pd.Series, values: pd.Series, clean: np.ndarray, position: int,
    context: dict[str, Any], problems: list[Problem],
) -> pd.Series:
    if clean.all():
        return values
    adapter = cell_adapter(field.id)
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
    scale = divisor(field, context) if field.dtype is DType.MONEY else 1.0
    if field.max_value is not None:
        ok &= blank | (x <= field.max_value * scale)
    if field.min_value is not None:
        ok &= blank | (x >= field.min_value * scale)
    if field.required:
        ok &= ~blank
    # every step that would copy a column is skipped when it would change nothing: at millions of rows each
    # copy of each column costs
    if field.dtype is DType.MONEY and divisor(field, context) != 1.0:
        number = number / divisor(field, context)
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
    # a column holds a handful of distinct cells: trim, lower and look up each once, not once per row
    codes, distinct = pd.factorize(cells.astype("str"))
    text = pd.Series(distinct, dtype="str").str.strip().str.lower()
    words = np.array([BOOL_WORDS.get(word, np.nan) for word in text] + [np.nan], dtype="float64")
    blank = np.append((text == "").to_numpy(dtype=bool), True)  # code -1: a missing cell
    values = pd.Series(words[codes], index=cells.index, name=cells.name)
    return values, blank[codes] | values.notna().to_numpy()


def _in_range_ns(stamps: pd.Series) -> pd.Series:
    """Stamps as nanosecond datetimes, years outside DATE_YEARS as NaT first: pandas parses years up to 9999 at
    coarser units, which nanoseconds cannot hold (those cells go to the row contract, which says why)."""
    return stamps.where(stamps.dt.year.between(*DATE_YEARS)).astype("datetime64[ns]")


def _fast_dates(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(cells):
        stamps = cells.dt.tz_localize(None) if cells.dt.tz is not None else cells
        stamps = _in_range_ns(stamps.dt.normalize())
    else:
        stamps = _date_texts(cells.where(_is_str(cells)).astype("str").str.strip())
        if cells.dtype == object:  # only an object column can hold them: a string column holds none
            # datetime/date objects (Excel date cells, parquet date32) need no text parsing
            objects = cells.where(cells.map(lambda v: isinstance(v, date)))
            stamps = stamps.fillna(_in_range_ns(pd.to_datetime(objects, errors="coerce").dt.normalize()))
    years = stamps.dt.year
    ok = stamps.notna() & years.between(*DATE_YEARS)
    return stamps.where(ok), cells.isna() | ok


def _date_texts(text: pd.Series) -> pd.Series:
    """Parse date strings once per distinct value: ISO dates by pandas' C parser, other layouts by DATE_RE."""
    codes, distinct = pd.factorize(text)
    distinct = pd.Series(distinct, dtype="str")
    iso = distinct.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    parsed = _in_range_ns(pd.to_datetime(distinct.where(iso), format="%Y-%m-%d", errors="coerce"))
    rest = distinct[~iso]
    if len(rest):
        parts = rest.str.extract(DATE_RE.pattern)
        parsed[~iso] = _in_range_ns(pd.to_datetime(
            pd.DataFrame({
                "year": parts["year"],
                "month": parts["month"].fillna(parts["month2"]),
                "day": parts["day"].fillna(parts["day2"]),
            }).astype("float64"),
            errors="coerce",
        ))
    # code -1 (a missing cell) picks the NaT appended at the end
    values = np.append(parsed.to_numpy(), np.datetime64("NaT", "ns"))
    return pd.Series(values[codes], index=text.index, dtype="datetime64[ns]")


def _is_str(cells: pd.Series) -> pd.Series:
    if cells.dtype == object:
        return cells.map(lambda v: isinstance(v, str)).astype(bool)
    return cells.notna() if pd.api.types.is_string_dtype(cells) else pd.Series(False, index=cells.index)


def _fast_text(field: Field, cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    if field.id == industry.CODE_FIELD:
        return industry.codes_of(cells)
    is_text = _is_str(cells)
    text = cells.where(is_text).astype("str").str.strip()
    if field.id == "uscc" and _has_ascii_lowercase(text):
        text = text.str.upper()
    text = text.where(text != "")
    blank = cells.isna() | (is_text & text.isna())
    ok = blank | is_text
    if field.id == "uscc":
        ok &= blank | _uscc_valid(text)
    elif _longest_bytes(text) > EXCEL_TEXT_LIMIT:  # bytes >= characters: only then count characters
        ok &= blank | (text.str.len() <= EXCEL_TEXT_LIMIT).fillna(True)
    if field.required:
        ok &= ~blank
    return text.where(ok), ok


def _longest_bytes(text: pd.Series) -> int:
    """The longest cell in UTF-8 bytes, from arrow's offsets (no pass over the characters)."""
    array = pa.array(text, type=pa.large_string())
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    longest = 0
    for chunk in chunks:
        if len(chunk):
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
            longest = max(longest, int(np.diff(offsets).max()))
    return longest


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

