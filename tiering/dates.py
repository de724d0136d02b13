"""Date and age arithmetic, in one place: dates are compared as day numbers (days since 1970-01-01, NaN when
missing), ages in years divide days by 365.25."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25


def day_number(d: dt.date) -> float:
    """Days since 1970-01-01, the scale dates are compared on."""
    return float((d - EPOCH).days)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Each date of a column as a day number (NaN where it is missing or not a date)."""
    values = pd.to_datetime(dates, errors="coerce").to_numpy(dtype="datetime64[D]")
    out = values.astype("int64").astype(float)
    out[np.isnat(values)] = np.nan
    return out


def year_of_day(day: float) -> int:
    """The calendar year of a day number."""
    return (EPOCH + dt.timedelta(days=int(day))).year


def years_of_days(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day number, as floats; NaN where the date is missing."""
    days = np.asarray(days, dtype=float)
    whole = np.where(np.isnan(days), 0, days).astype("int64").astype("datetime64[D]")
    years = whole.astype("datetime64[Y]").astype("int64") + 1970
    return np.where(np.isnan(days), np.nan, years.astype(float))
