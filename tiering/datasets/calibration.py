"""The published figures the panel generator is calibrated to, each quoted from its seed document.

Which year they describe: the 东丽 figures are a cross-section at the end of the 11th five-year plan — revenue,
R&D, staff and assets for fiscal 2009, valid patents at June 2010, the firm count at about 2010. The 蓟县
figures describe 2012. The generator maps this snapshot onto the LAST year of whatever panel it builds: in a
2015–2025 panel, the firms of 2025 look like 东丽's firms of 2009, in 2009 money. ``calibration_report``
compares any one year of a panel with them.

Counts and sums (firms per revenue class, total revenue, patents …) describe a district of 520 firms; the
report scales them to the number of firms in the year compared, so a 300-firm panel is held to 300/520 of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiering.datasets.districts import STRATEGIC
from tiering.datasets.refused import GenerateRefused

DONGLI_FIRMS = 520
"""Firms in 东丽区's register behind the 003 figures; counts and sums are per this many firms."""

_DONGLI = "seeds/003 东丽区科技小巨人成长计划——2011-2015科技型中小企业发展规划方案"
_JIXIAN = "seeds/000 蓟县科技小巨人发展三年（行动）计划（2013—2015）"

_Q_COUNT = (
    "全区有科技型中小企业520家,占全区中小企业的12.4%,是“十五”末的5倍,略高于全市平均水平。其中,年销售收入10亿元"
    "以上的企业3家,3-10亿元的企业14家,1-3亿元的企业31家, 500万元-1亿元的企业270家,500万元以下的企业202家。"
)
_Q_MONEY = (
    "全区科技型中小企业的资产总额为491.46亿元。2009年度实现销售收入362.71亿元,其中高新技术产品收入183.54亿元,"
    "占销售收入的50.6%;上缴税收35.6亿元,占全区科技型中小企业税收总额的51.95%;从业人员49676人,其中大专以上"
    "从业人员13033人。"
)
_Q_TECH = (
    "截止2010年6月,全部科技型中小企业拥有有效专利995件,其中发明专利103件,分别占到全区有效专利和发明专利的95%、"
    "98%。2009年,全区科技型中小企业科技活动经费支出17.63亿元,占销售收入的4.86%;从事科技活动的人员12875人,"
    "占全区科技型中小企业从业人员的25.92%。"
)
_Q_STRATEGIC = (
    "航空航天、半导体照明、先进装备制造、生物医药、新能源新材料、新一代信息技术、高技术服务业等战略性新兴产业领域"
    "企业达到211家,占全区科技型中小企业的40.58%"
)
_Q_PRIVATE = "目前，全县科技型中小企业中民营企业的比重达到94%，成为带动全县民营经济发展的生力军"
_Q_JIXIAN_RD = "企业科技投入占主营业务收入比重平均达到4.9%，比2010年提高了1.9个百分点。"

REVENUE_CLASSES: tuple[tuple[str, float, float, int], ...] = (
    ("revenue_10yi_plus", 100_000.0, np.inf, 3),
    ("revenue_3_10yi", 30_000.0, 100_000.0, 14),
    ("revenue_1_3yi", 10_000.0, 30_000.0, 31),
    ("revenue_500wan_1yi", 500.0, 10_000.0, 270),
    ("revenue_below_500wan", -np.inf, 500.0, 202),
)
"""(key, lower bound in 万元 inclusive, upper bound exclusive, firms of 520) for the 东丽 revenue classes."""

_CLASS_LABELS = {
    "revenue_10yi_plus": "年销售收入10亿元以上的企业数",
    "revenue_3_10yi": "年销售收入3-10亿元的企业数",
    "revenue_1_3yi": "年销售收入1-3亿元的企业数",
    "revenue_500wan_1yi": "年销售收入500万元-1亿元的企业数",
    "revenue_below_500wan": "年销售收入500万元以下的企业数",
}


@dataclass(frozen=True)
class Published:
    """One figure a seed document publishes, and how to compute its counterpart from one year of a panel."""

    key: str
    label: str
    value: float
    unit: str
    data_year: str
    document: str
    quote: str
    measure: Callable[[pd.DataFrame], float]
    """Computes the figure from the rows of one year (internal panel frame, money in 万元)."""
    scaled: bool
    """True for counts and sums over the district's firms: compared after scaling by firms / 520."""


def _class_count(low: float, high: float) -> Callable[[pd.DataFrame], float]:
    def count(rows: pd.DataFrame) -> float:
        revenue = rows["revenue"]
        return float(((revenue >= low) & (revenue < high)).sum())

    return count


def _ratio(numerator: str, denominator: str) -> Callable[[pd.DataFrame], float]:
    def ratio(rows: pd.DataFrame) -> float:
        return float(100 * rows[numerator].sum() / rows[denominator].sum())

    return ratio


def _total(column: str, factor: float = 1.0) -> Callable[[pd.DataFrame], float]:
    def total(rows: pd.DataFrame) -> float:
        return float(rows[column].sum() * factor)

    return total


def _share(column: str, values: frozenset[str]) -> Callable[[pd.DataFrame], float]:
    def share(rows: pd.DataFrame) -> float:
        return float(100 * rows[column].isin(values).mean())

    return share


PUBLISHED: tuple[Published, ...] = (
    *(
        Published(key, _CLASS_LABELS[key], count, "家", "十一五末（约2010）", _DONGLI, _Q_COUNT,
                  _class_count(low, high), scaled=True)
        for key, low, high, count in REVENUE_CLASSES
    ),
    Published("revenue_total", "销售收入合计", 362.71, "亿元", "2009", _DONGLI, _Q_MONEY,
              _total("revenue", 1e-4), scaled=True),
    Published("hightech_revenue_share", "高新技术产品收入占销售收入", 50.6, "%", "2009", _DONGLI, _Q_MONEY,
              _ratio("hightech_revenue", "revenue"), scaled=False),
    Published("assets_total", "资产总额合计", 491.46, "亿元", "十一五末（约2010）", _DONGLI, _Q_MONEY,
              _total("total_assets", 1e-4), scaled=True),
    Published("employees_total", "从业人员合计", 49676, "人", "2009", _DONGLI, _Q_MONEY,
              _total("employees"), scaled=True),
    Published("tech_staff_share", "科技活动人员占从业人员（科技人员占职工总数）", 25.92, "%", "2009", _DONGLI, _Q_TECH,
              _ratio("tech_staff", "employees"), scaled=False),
    Published("rd_intensity", "科技活动经费支出占销售收入（研发费用÷销售收入，合计口径）", 4.86, "%", "2009",
              _DONGLI, _Q_TECH, _ratio("rd_expense", "revenue"), scaled=False),
    Published("patents_valid", "有效专利（Ⅰ类+Ⅱ类知识产权）", 995, "件", "2010-06", _DONGLI, _Q_TECH,
              lambda rows: float(rows["ip_class1"].sum() + rows["ip_class2"].sum()), scaled=True),
    Published("patents_invention", "有效发明专利（Ⅰ类知识产权）", 103, "件", "2010-06", _DONGLI, _Q_TECH,
              _total("ip_class1"), scaled=True),
    Published("strategic_share", "战略性新兴产业领域企业占比", 40.58, "%", "十一五末（约2010）", _DONGLI, _Q_STRATEGIC,
              _share("industry", STRATEGIC), scaled=False),
    Published("private_share", "民营企业占比（蓟县）", 94.0, "%", "2012", _JIXIAN, _Q_PRIVATE,
              _share("ownership", frozenset({"民营"})), scaled=False),
    Published("rd_to_main_revenue", "科技投入占主营业务收入（蓟县，合计口径）", 4.9, "%", "2012", _JIXIAN, _Q_JIXIAN_RD,
              _ratio("rd_expense", "main_revenue"), scaled=False),
)
"""Every calibration target. Mapping notes: 科技活动经费支出 is broader than 研发费用 and is compared with
rd_expense; 从事科技活动的人员 with tech_staff; 有效专利 with Ⅰ类+Ⅱ类 IP (Ⅱ类 also counts software copyrights,
which the published patent count does not); 蓟县's "平均" 4.9 % is read as an aggregate ratio."""

BY_KEY: dict[str, Published] = {p.key: p for p in PUBLISHED}
MEASURED_COLUMNS = (
    "revenue", "hightech_revenue", "total_assets", "employees", "tech_staff", "rd_expense", "main_revenue",
    "ip_class1", "ip_class2", "industry", "ownership",
)
"""The panel columns the measures of PUBLISHED read: with ``year``, all calibration_report needs of a panel."""


def calibration_report(panel: pd.DataFrame, year: int) -> pd.DataFrame:
    """Published figures next to the same figures computed from ``panel``'s rows of ``year``.

    Columns: key, label, unit, published (scaled to the year's firm count where the figure is a count or sum),
    generated, rel_deviation ((generated − published) / published), data_year, source. ValueError when the
    panel has no rows for ``year``.
    """
    rows = panel[panel["year"] == year]
    if rows.empty:
        present = sorted(panel["year"].unique().tolist())
        raise GenerateRefused(f"面板中没有 {year} 年的数据：可选年度为 {present[0]}–{present[-1]}" if present
                         else "面板为空，无法计算校准表")
    scale = len(rows) / DONGLI_FIRMS
    records = []
    for figure in PUBLISHED:
        published = figure.value * scale if figure.scaled else figure.value
        generated = figure.measure(rows)
        records.append({
            "key": figure.key,
            "label": figure.label,
            "unit": figure.unit,
            "published": published,
            "generated": generated,
            "rel_deviation": (generated - published) / published,
            "data_year": figure.data_year,
            "source": figure.document,
        })
    return pd.DataFrame.from_records(records)
