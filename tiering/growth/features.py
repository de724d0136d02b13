"""Growth features built from a panel in the internal contract (one row per uscc and year).

Each feature declares the panel fields it needs, its unit and its Chinese wording for reason texts; the
direction it may push a score is declared apart, in YAML beside the model (:mod:`tiering.growth.directions`).
Besides size, age, years observed, past growth and the register's R&D, staff and IP measures, every amount of
the catalogue ``amounts.yaml`` that a panel carries gives its ratio to total assets, to revenue and its
one-year change. A data set that lacks a field simply lacks the features
that need it: :func:`build_features` reports what it dropped and why, and the model card records it.
Past values are looked up by exact year (year − 1, year − 3), so a gap in a firm's years gives a missing
feature, never a value from the wrong year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from tiering.dates import day_numbers, years_of_days
from tiering.errors import PanelUnusable
from tiering.growth.labels import annualised, year_share

INCREASING, DECREASING, AUTO = "increasing", "decreasing", "auto"
DIRECTIONS = (INCREASING, DECREASING, AUTO)
ID_COLUMNS = ("uscc", "year")


class _Lags:
    """Values of panel fields in earlier years of the same firm, matched on the exact year."""

    def __init__(self, panel: pd.DataFrame) -> None:
        self._panel = panel
        self._cache: dict[tuple[str, int], pd.Series] = {}

    def now(self, field: str) -> pd.Series:
        return self._panel[field].astype("float64")

    def ago(self, field: str, years: int) -> pd.Series:
        key = (field, years)
        if key not in self._cache:
            self._cache[key] = self.shifted(self.now(field), years)
        return self._cache[key]

    def shifted(self, values: pd.Series, years: int) -> pd.Series:
        """``values`` (one per panel row) of the same firm ``years`` earlier; missing where that year is absent."""
        keys = self._panel[["uscc", "year"]]
        past = keys.assign(year=keys["year"] + years, value=values.to_numpy("float64"))
        merged = keys.merge(past, on=["uscc", "year"], how="left")
        return pd.Series(merged["value"].to_numpy("float64"), index=self._panel.index)


def format_number(value: float) -> str:
    """A number as staff read it: thousands separated above 1000, three significant digits below."""
    if value is None or not np.isfinite(value):
        return "缺失"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den > 0)


def _cagr(now: pd.Series, past: pd.Series, years: int) -> pd.Series:
    ok = (past > 0) & now.notna()
    return ((now.clip(lower=0) / past.where(ok)) ** (1.0 / years) - 1.0).where(ok)


def _log(x: pd.Series) -> pd.Series:
    return np.log(x.where(x > 0))


def _age(panel: pd.DataFrame, lags: _Lags) -> pd.Series:
    registered = years_of_days(day_numbers(panel["registration_date"]))
    age = panel["year"].astype("float64") - registered
    return age.where(age >= 0)


@dataclass(frozen=True)
class FeatureDef:
    """One growth feature: what it needs, how it is computed and how it is worded."""

    id: str
    label: str
    unit: str
    fields: tuple[str, ...]
    compute: Callable[[pd.DataFrame, _Lags], pd.Series]
    definition: str
    percent: bool = False
    amount: str | None = None
    """The catalogue amount a generated feature is built from (None for the hand-made ones)."""
    past: bool = False
    """True when the feature needs an earlier year, so a firm new to the data has no value."""

    def format_value(self, value: float) -> str:
        """The value as staff read it: ``35%``, ``12.3万元``, ``8年``; ``缺失`` when missing."""
        if value is None or not np.isfinite(value):
            return "缺失"
        if self.percent:
            if 0.995 <= value < 1.0:  # not "100%" for a share short of a whole (e.g. a year not operated in full)
                return f"{np.floor(value * 1000) / 10:.1f}%"
            return f"{value:.0%}"
        if self.unit.startswith("ln"):
            return f"{np.exp(value):,.0f}{self.unit[3:-1]}"
        return f"{value:,.4g}{self.unit}"


def _amount_catalogue() -> dict[str, dict[str, object]]:
    text = resources.files("tiering.growth").joinpath("amounts.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["amounts"]


AMOUNTS: dict[str, dict[str, object]] = _amount_catalogue()
"""Every amount the model knows (id → label, kind, signed), from ``amounts.yaml``."""

# Established names for ratios staff know by name; every other amount gets a generic id and wording.
_NAMED = {
    "total_liabilities_to_assets": ("leverage", "资产负债率"),
    "net_profit_to_assets": ("roa", "总资产收益率"),
    "net_profit_to_revenue": ("net_margin", "销售净利率"),
    "rd_expense_to_revenue": ("rd_intensity", "研发投入强度"),
    "revenue_to_assets": ("asset_turnover", "总资产周转率"),
    "total_assets_growth_1y": ("asset_growth_1y", "上年资产增长"),
    "revenue_growth_1y": ("revenue_growth_1y", "上年营收增长"),
    "operating_profit_to_revenue": ("operating_margin", "营业利润率"),
    "equity_to_assets": ("equity_ratio", "所有者权益比率"),
}
# Cost shares of revenue read better as the margin they leave (see gross_margin below).
_NO_REVENUE_RATIO = {"revenue", "operating_cost", "main_cost"}


def _named(key: str, label: str) -> tuple[str, str]:
    return _NAMED.get(key, (key, label))


def _amount_features() -> list[FeatureDef]:
    """Ratio to total assets, ratio to revenue and one-year change of every amount in the catalogue."""
    out: list[FeatureDef] = []
    for amount, info in AMOUNTS.items():
        name = str(info["label"])
        if amount != "total_assets":
            fid, label = _named(f"{amount}_to_assets", f"{name}占总资产比")
            out.append(FeatureDef(fid, label, "比例", (amount, "total_assets"),
                                  lambda p, g, a=amount: _ratio(g.now(a), g.now("total_assets")),
                                  f"{name} / 资产总额", percent=True, amount=amount))
        if amount not in _NO_REVENUE_RATIO and amount != "total_assets":
            fid, label = _named(f"{amount}_to_revenue", f"{name}占收入比")
            out.append(FeatureDef(fid, label, "比例", (amount, "revenue"),
                                  lambda p, g, a=amount: _ratio(g.now(a), g.now("revenue")),
                                  f"{name} / 销售收入", percent=True, amount=amount))
        if info["signed"]:
            fid, label = _named(f"{amount}_change_1y", f"上年{name}增加额占总资产比")
            out.append(FeatureDef(fid, label, "比例", (amount, "total_assets"),
                                  lambda p, g, a=amount: _ratio(g.now(a) - g.ago(a, 1), g.ago("total_assets", 1)),
                                  f"({name}_t − {name}_t−1) / 资产总额_t−1（缺上一年则缺失）", percent=True,
                                  amount=amount, past=True))
        else:
            fid, label = _named(f"{amount}_growth_1y", f"上年{name}增长")
            out.append(FeatureDef(fid, label, "比例", (amount,),
                                  lambda p, g, a=amount: _cagr(g.now(a), g.ago(a, 1), 1),
                                  f"{name}_t / {name}_t−1 − 1（缺上一年则缺失）", percent=True,
                                  amount=amount, past=True))
    return out


def _recent_mean(lags: _Lags, values: pd.Series, span: int) -> pd.Series:
    """Mean of ``values`` over the firm's years t − span + 1 … t, matched on the exact year; absent years skipped."""
    columns = [values.to_numpy("float64"), *(lags.shifted(values, back).to_numpy() for back in range(1, span))]
    return pd.Series(pd.DataFrame(np.column_stack(columns)).mean(axis=1).to_numpy(), index=values.index)


def _size_over_years(panel: pd.DataFrame, lags: _Lags) -> pd.Series:
    """ln of the firm's mean yearly revenue over the last three years, a registration year scaled to a full year.

    This year's revenue alone carries this year's ups and downs: ranking small revenue first would then reward a
    bad year. The mean over three years keeps the size and damps the year's deviation."""
    return _log(_recent_mean(lags, annualised(panel, lags.now("revenue")), 3))


def _years_observed(panel: pd.DataFrame, lags: _Lags) -> pd.Series:
    """How many years the firm has been in the panel up to this year (this year included)."""
    return panel.groupby("uscc")["year"].rank(method="first").astype("float64")


FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef("log_revenue", "营业收入规模", "ln(万元)", ("revenue",),
               lambda p, g: _log(g.now("revenue")), "ln(当年销售收入, 万元)"),
    FeatureDef("log_revenue_mean3", "近三年平均营业收入规模", "ln(万元)", ("revenue",), _size_over_years,
               "ln(t−2…t 年销售收入的平均值, 万元)；注册当年按经营天数折成全年，数据中没有的年份不计"),
    FeatureDef("log_employees", "职工规模", "ln(人)", ("employees",),
               lambda p, g: _log(g.now("employees")), "ln(当年职工总数)"),
    FeatureDef("log_assets", "资产规模", "ln(万元)", ("total_assets",),
               lambda p, g: _log(g.now("total_assets")), "ln(年末资产总额, 万元)"),
    FeatureDef("age", "企业年龄", "年", ("registration_date",), _age,
               "年度 − 注册年份"),
    FeatureDef("year_share", "当年经营时间占比", "比例", ("registration_date",), lambda p, g: year_share(p),
               "注册当年：注册日至年末的天数 / 全年天数；以后各年为 1", percent=True),
    FeatureDef("years_observed", "在册（在库）年数", "年", (), _years_observed,
               "该企业在数据中已出现的年数（含当年）"),
    FeatureDef("revenue_growth_3y", "近三年营收年均增长", "比例", ("revenue",),
               lambda p, g: _cagr(g.now("revenue"), g.ago("revenue", 3), 3),
               "(revenue_t / revenue_{t-3})^(1/3) − 1（缺t−3年则缺失）", percent=True, past=True),
    FeatureDef("employee_growth_1y", "上年职工增长", "比例", ("employees",),
               lambda p, g: _cagr(g.now("employees"), g.ago("employees", 1), 1),
               "employees_t / employees_{t-1} − 1", percent=True, past=True),
    FeatureDef("gross_margin", "毛利率", "比例", ("revenue", "operating_cost"),
               lambda p, g: _ratio(g.now("revenue") - g.now("operating_cost"), g.now("revenue")),
               "(销售收入 − 营业成本) / 销售收入", percent=True),
    FeatureDef("main_gross_margin", "主营业务毛利率", "比例", ("main_revenue", "main_cost"),
               lambda p, g: _ratio(g.now("main_revenue") - g.now("main_cost"), g.now("main_revenue")),
               "(主营业务收入 − 主营业务成本) / 主营业务收入", percent=True),
    FeatureDef("tech_staff_share", "科技人员占比", "比例", ("tech_staff", "employees"),
               lambda p, g: _ratio(g.now("tech_staff"), g.now("employees")),
               "科技人员数 / 职工总数", percent=True),
    FeatureDef("rd_staff_share", "研发人员占比", "比例", ("rd_staff", "employees"),
               lambda p, g: _ratio(g.now("rd_staff"), g.now("employees")),
               "研发人员数 / 职工总数", percent=True),
    FeatureDef("ip_class1_stock", "Ⅰ类知识产权存量", "项", ("ip_class1",),
               lambda p, g: g.now("ip_class1"), "有效Ⅰ类知识产权数量"),
    FeatureDef("ip_stock", "知识产权存量", "项", ("ip_class1", "ip_class2"),
               lambda p, g: g.now("ip_class1") + g.now("ip_class2"), "有效Ⅰ类 + Ⅱ类知识产权数量"),
    FeatureDef("ip_flow", "上年新增知识产权", "项", ("ip_class1", "ip_class2"),
               lambda p, g: (g.now("ip_class1") + g.now("ip_class2"))
               - (g.ago("ip_class1", 1) + g.ago("ip_class2", 1)),
               "(Ⅰ类 + Ⅱ类)_t − (Ⅰ类 + Ⅱ类)_{t-1}", past=True),
    *_amount_features(),
)

BY_ID: dict[str, FeatureDef] = {f.id: f for f in FEATURES}


@dataclass(frozen=True)
class FeatureSet:
    """Features built from one panel: the frame (uscc, year, features) and what was dropped, with reasons."""

    frame: pd.DataFrame
    used: tuple[str, ...]
    dropped: dict[str, str]


def missing_fields(panel: pd.DataFrame, feature: FeatureDef) -> list[str]:
    """The panel fields ``feature`` needs that ``panel`` has no column for."""
    return [f for f in feature.fields if f not in panel.columns]


def build_features(panel: pd.DataFrame, only: tuple[str, ...] | None = None) -> FeatureSet:
    """Compute every feature the panel's columns allow (or only the features named in ``only``).

    A feature is dropped when a field it needs has no column or when it has no value in any row; the
    reason is kept in ``FeatureSet.dropped`` (features of a catalogue amount the panel lacks entirely are
    skipped without a note). Rows keep the panel's order; index is reset.
    """
    absent_ids = [c for c in ID_COLUMNS if c not in panel.columns]
    if absent_ids:
        raise PanelUnusable(f"面板缺少列 {absent_ids}（the panel needs columns {list(ID_COLUMNS)}）")
    unknown = sorted(set(only or ()) - set(BY_ID))
    if unknown:
        raise PanelUnusable(f"未知特征 {unknown}（unknown feature）；已知：{sorted(BY_ID)}")
    duplicated = panel.duplicated(list(ID_COLUMNS))
    if duplicated.any():
        raise PanelUnusable(f"面板有 {int(duplicated.sum())} 行重复的（企业，年度）（duplicate (uscc, year) rows）",
                             hint="每家企业每年只保留一行")
    panel = panel.reset_index(drop=True)
    lags = _Lags(panel)
    frame = panel[list(ID_COLUMNS)].copy()
    dropped: dict[str, str] = {}
    for feature in FEATURES:
        if only is not None and feature.id not in only:
            continue
        absent = missing_fields(panel, feature)
        if absent:
            # An amount the panel does not carry at all is not news; a feature half-supplied is.
            if feature.amount is None or feature.amount in panel.columns:
                dropped[feature.id] = f"数据无字段 {', '.join(absent)}"
            continue
        values = feature.compute(panel, lags).astype("float64").replace([np.inf, -np.inf], np.nan)
        if values.notna().sum() == 0:
            dropped[feature.id] = "字段全部缺失"
            continue
        frame[feature.id] = values.to_numpy()
    used = tuple(c for c in frame.columns if c not in ID_COLUMNS)
    return FeatureSet(frame=frame, used=used, dropped=dropped)
