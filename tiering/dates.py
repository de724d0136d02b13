"""Date and age arithmetic, in one place: dates are compared as day numbers (days since 1970-01-01, NaN when
missing), ages in years divide days by 365.25."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25


def day_number(d: dt.date) -> float:
    """Days since 1970-01-01, the scale dates are compared on."""
    return float((d - EPOCH).days)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Each date of a column as a day number (NaN where it is missing or not a date)."""
    import pandas as pd  # only with a pandas column in hand: one firm's explanation does not load pandas

    values = pd.to_datetime(dates, errors="coerce").to_numpy(dtype="datetime64[D]")
    out = values.astype("int64").astype(float)
    out[np.isnat(values)] = np.nan
    return out


def year_of_day(day: float) -> int:
    """The calendar year of a day number."""
    return (EPOCH + dt.timedelta(days=int(day))).year


def years_of_days(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day number, as floats; NaN where the date is missing.

    Integer arithmetic on the proleptic Gregorian calendar (H. Hinnant's civil_from_days), the same years as
    NumPy's datetime64[D] -> [Y] cast at a third of its cost: the 尚缺 searches ask this of the same dates again
    on every step."""
    days = np.asarray(days, dtype=float)
    missing = np.isnan(days)
    z = np.where(missing, 0, days).astype(np.int64) + 719468  # days since 0000-03-01
    era = z // 146097  # 400-year cycles
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # year of the cycle, years starting in March
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    march_based_month = (5 * doy + 2) // 153  # 0 = March … 9 = December, 10 = January, 11 = February
    years = yoe + era * 400 + (march_based_month >= 10)
    return np.where(missing, np.nan, years.astype(float))
