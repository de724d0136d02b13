"""The derived-metric language: what it refuses, and what it computes on both evaluation paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tiering.rules.expr import Compiler, ExprError


class Ctx:
    """A context over explicit columns; ``batch`` decides whether it returns arrays or floats."""

    def __init__(self, cols: dict[tuple[str, int], list[float]], batch: bool, i: int = 0) -> None:
        self.cols, self.batch, self.i = cols, batch, i
        self.size = len(next(iter(cols.values())))

    def col(self, field: str, lag: int):
        values = self.cols.get((field, lag), [math.nan] * self.size)
        return np.array(values, dtype=float) if self.batch else float(values[self.i])

    def text(self, field: str):
        return None

    def data_year_end(self, lag: int) -> float:
        return 19722.0 - 365 * lag  # 2023-12-31

    def eval_date(self) -> float:
        return 19904.0  # 2024-07-01


def both(expr: str, cols: dict[tuple[str, int], list[float]], metrics: dict[str, str] | None = None) -> list[float]:
    compiled = Compiler(metrics or {}).compile(expr)
    batch = compiled.vec(Ctx(cols, True), 0)
    n = len(next(iter(cols.values())))
    singles = [compiled.one(Ctx(cols, False, i), 0) for i in range(n)]
    assert np.allclose(np.broadcast_to(batch, n), singles, equal_nan=True)
    return singles


@pytest.mark.parametrize(("text", "message"), [
    ("revenu / employees", "unknown name 'revenu' (did you mean 'revenue'?)"),
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('ls')", "only the listed functions can be called"),
    ("revenue.real", "'revenue.real' is not allowed"),
    ("[revenue]", "'[revenue]' is not allowed"),
    ("lag(revenue, 1.5)", "lag's k must be a whole number of years from 1 to 20"),
    ("sum(revenue)", "sum(x, n) takes two arguments"),
    ("name * 2", "'name' is a text field; arithmetic needs a number"),
    ("age_years(revenue)", "age_years(d) takes one date field"),
    ("revenue +", "not a valid expression"),
    ("lambda: 1", "is not allowed"),
])
def test_refused_expressions_say_why(text: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        Compiler({}).compile(text)
    assert message in str(err.value)


def test_metric_cycle_is_refused() -> None:
    with pytest.raises(ExprError, match="cycle: a → b → a"):
        Compiler({"a": "b + 1", "b": "a * 2"}).metric("a")


def test_ratio_division_by_zero_and_missing_are_missing() -> None:
    got = both("rd_expense / revenue", {("rd_expense", 0): [30, 5, math.nan], ("revenue", 0): [600, 0, 10]})
    assert got[0] == 0.05 and math.isnan(got[1]) and math.isnan(got[2])


def test_windows_and_lags_read_earlier_years() -> None:
    cols = {("revenue", 0): [300, 300], ("revenue", 1): [200, math.nan], ("revenue", 2): [100, 100]}
    assert both("sum(revenue, 3)", cols)[0] == 600 and math.isnan(both("sum(revenue, 3)", cols)[1])
    assert both("sum_available(revenue, 3)", cols) == [600, 400]
    assert both("count_available(revenue, 3)", cols) == [3, 2]
    assert both("mean_available(revenue, 3)", cols) == [200, 200]
    assert both("max_available(revenue, 3)", {("revenue", 0): [1, math.nan], ("revenue", 1): [5, math.nan],
                                              ("revenue", 2): [math.nan, math.nan]})[0] == 5
    assert math.isnan(both("max_available(revenue, 2)", {("revenue", 0): [math.nan], ("revenue", 1): [math.nan]})[0])
    assert both("lag(revenue, 2)", cols) == [100, 100]
    assert both("(revenue / lag(revenue, 2)) ** (1 / 2) - 1", cols)[0] == pytest.approx(math.sqrt(3) - 1)


def test_conditionals_and_negative_fractional_power() -> None:
    cols = {("revenue", 0): [-8, 8], ("employees", 0): [1, 0]}
    assert math.isnan(both("revenue ** (1 / 3)", cols)[0])
    assert both("where(employees > 0, revenue, 0)", cols) == [-8, 0]
    assert both("coalesce(tech_staff, 7)", cols) == [7, 7]
    assert both("is_missing(tech_staff) + max(revenue, employees)", cols) == [2, 9]


def test_age_in_years_at_data_year_end() -> None:
    got = both("age_years(registration_date)", {("registration_date", 0): [19722.0 - 3 * 365.25, math.nan]})
    assert got[0] == pytest.approx(3.0) and math.isnan(got[1])
