"""Day numbers to calendar years: the arithmetic agrees with NumPy's calendar on every day of ±2,000 years."""

import datetime as dt

import numpy as np

from tiering.dates import day_number, years_of_days


def test_years_of_days_agree_with_numpy_calendar() -> None:
    days = np.arange(-730_000, 730_000, dtype=float)
    days[::97] = np.nan
    whole = np.where(np.isnan(days), 0, days).astype("int64").astype("datetime64[D]")
    expected = np.where(np.isnan(days), np.nan, whole.astype("datetime64[Y]").astype("int64") + 1970.0)
    assert np.array_equal(years_of_days(days), expected, equal_nan=True)


def test_years_of_days_at_year_edges() -> None:
    edges = [dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(2000, 2, 29), dt.date(2000, 3, 1),
             dt.date(1900, 3, 1), dt.date(1969, 12, 31), dt.date(1970, 1, 1)]
    got = years_of_days(np.array([day_number(d) for d in edges]))
    assert got.tolist() == [float(d.year) for d in edges]
