"""The future-growth label: did a firm grow fast enough over the next ``horizon`` years?

The label for cohort year T compares a measure in T with the same measure in T + horizon, as a compound
annual growth rate. Statistical definitions it can express (parameters, not programme rules):

* OECD–Eurostat Manual on Business Demography Statistics (2007): employees, > 20 % a year over three
  years, at least 10 employees at the start — ``LabelSpec("employees", 0.20, 3, strict=True, size_floor=10)``.
* Eurostat since about 2014: the same with ≥ 10 % — ``threshold=0.10``.
* The revenue analogue closest to Chinese 瞪羚 programmes: revenue, ≥ 20 % a year over three years —
  ``LabelSpec("revenue", 0.20, 3)``.

Revenue is a flow: a firm registered in July books half a year of revenue in its base year, and growth from that
base is high only because the base year was short. When the panel has a registration date, the base-year revenue
of the registration year is annualised (divided by :func:`year_share`, the share of the year operated) before the
growth is measured, so the label rewards growth, not a part year. Employees are a stock and are not annualised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tiering.errors import PanelUnusable
from tiering.fields import BY_ID

LABEL_COLUMNS = ("uscc", "year", "base", "end", "cagr", "label")
FLOW_MEASURES = ("revenue",)
"""Measures summed over the year, whose registration-year value is annualised in the label's base."""
ANNUALISED_TEXT = "注册当年的基期值按经营天数折成全年"


def _label(field_id: str) -> str:
    return BY_ID[field_id].label if field_id in BY_ID else field_id


@dataclass(frozen=True)
class LabelSpec:
    """How the growth label is defined.

    ``measure`` is a panel field (``revenue`` or ``employees``); ``threshold`` the annual compound growth
    rate to reach; ``strict`` chooses ``>`` (OECD wording) over ``>=``; ``size_floor`` is the minimum of
    ``size_field`` in the base year below which a firm is outside the population (label missing).
    """

    measure: str = "revenue"
    threshold: float = 0.20
    horizon: int = 3
    strict: bool = False
    size_floor: float | None = None
    size_field: str = "employees"

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"horizon must be a whole number of years ≥ 1; got {self.horizon}")
        if not np.isfinite(self.threshold) or self.threshold <= -1:
            raise ValueError(f"threshold must be an annual growth rate above -1 (0.2 = 20 %); got {self.threshold}")

    def describe(self) -> str:
        """A one-line Chinese description, for cards and tables."""
        op = ">" if self.strict else "≥"
        text = f"未来{self.horizon}年{_label(self.measure)}年均复合增长率 {op} {self.threshold:.0%}"
        if self.measure in FLOW_MEASURES:
            text += f"（{ANNUALISED_TEXT}）"
        if self.size_floor is not None:
            text += f"，且基期{_label(self.size_field)} ≥ {self.size_floor:g}"
        return text

    def to_dict(self) -> dict[str, object]:
        """Plain values, for the model card."""
        return asdict(self)


def year_share(panel: pd.DataFrame) -> pd.Series:
    """Share of the year the firm operated (``registration_date``, ``year``): from its registration date to year end
    in the registration year, 1 after it; missing before it or without a date."""
    registered = pd.to_datetime(panel["registration_date"])
    days = np.where(registered.dt.is_leap_year, 366.0, 365.0)
    first = (days - registered.dt.day_of_year + 1) / days
    year = panel["year"].to_numpy()
    reg_year = registered.dt.year.to_numpy("float64")
    return pd.Series(np.where(year == reg_year, first, np.where(year > reg_year, 1.0, np.nan)), index=panel.index)


def annualised(panel: pd.DataFrame, values: pd.Series) -> pd.Series:
    """A yearly flow (e.g. revenue) scaled to a whole year in the registration year (÷ :func:`year_share`); as it is
    without a registration date, or where the share is unknown."""
    if "registration_date" not in panel.columns:
        return values
    return values / year_share(panel).fillna(1.0)


def growth_label(panel: pd.DataFrame, spec: LabelSpec | None = None) -> pd.DataFrame:
    """Label every (uscc, year) of ``panel`` with the growth over ``year → year + horizon``.

    Returns one row per panel row with columns ``uscc, year, base, end, cagr, label``; ``label`` is 1.0, 0.0
    or NaN. The label is missing when the firm has no row for year + horizon (gaps are never bridged), when
    either value is missing, when the base is 0 or negative, or when the base-year size is below the floor
    (or unknown). An end value of 0 or below counts as a 100 % fall (``cagr = -1``), which is not growth.
    With a ``registration_date`` column, a flow measure's base in the registration year is annualised (module
    docstring): ``base`` is then the annualised value; the size floor is tested on the field as reported.
    """
    spec = spec or LabelSpec()
    needed = ["uscc", "year", spec.measure] + ([spec.size_field] if spec.size_floor is not None else [])
    absent = [c for c in needed if c not in panel.columns]
    if absent:
        raise PanelUnusable(f"无法计算成长标签：面板缺少列 {absent}（cannot build the growth label）；"
                            f"现有列：{sorted(map(str, panel.columns))}")
    keys = panel[["uscc", "year"]]
    duplicated = keys.duplicated()
    if duplicated.any():
        first = keys[duplicated].iloc[0]
        raise PanelUnusable(f"面板有 {int(duplicated.sum())} 行重复的（企业，年度），如 {first['uscc']} "
                            f"{first['year']} 年（duplicate (uscc, year) rows）", hint="每家企业每年只保留一行")

    base_value = panel[spec.measure].astype("float64")
    if spec.measure in FLOW_MEASURES:
        base_value = annualised(panel, base_value)
    base = panel[["uscc", "year"]].assign(base=base_value)
    if spec.size_floor is not None:
        base = base.assign(size=panel[spec.size_field])
    end = panel[["uscc", "year", spec.measure]].rename(columns={spec.measure: "end"})
    end = end.assign(year=end["year"] - spec.horizon)
    out = base.merge(end, on=["uscc", "year"], how="left", validate="one_to_one")

    b = out["base"].astype("float64")
    e = out["end"].astype("float64")
    valid = b.notna() & e.notna() & (b > 0)
    if spec.size_floor is not None:
        valid &= out["size"].astype("float64") >= spec.size_floor
    ratio = (e / b.where(b > 0)).clip(lower=0.0)
    cagr = (ratio ** (1.0 / spec.horizon) - 1.0).where(valid)
    # A tolerance keeps exact hand-computed cases (e.g. 100 → 172.8 is exactly 20 %) on the side they belong.
    tol = 1e-12
    hit = cagr > spec.threshold + tol if spec.strict else cagr >= spec.threshold - tol
    label = hit.astype("float64").where(valid)
    return pd.DataFrame({
        "uscc": out["uscc"].to_numpy(), "year": out["year"].to_numpy(), "base": b.to_numpy(),
        "end": e.to_numpy(), "cagr": cagr.to_numpy(), "label": label.to_numpy(),
    }, index=panel.index)
