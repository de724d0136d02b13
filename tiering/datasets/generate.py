"""A realistic, seeded panel of technology SMEs, calibrated to the figures the seed documents publish.

How the panel is built (every step vectorised over firms; loops run over years only):

1. Firms. ``firms`` firms are on the register in the last year (the snapshot year); firms that exited earlier
   are added on top, about EXIT_RATE of the snapshot count per year. Each firm gets a registration date, a
   district, an industry cluster, an ownership type and two hidden traits: ``innovation`` (drives R&D, staff,
   IP, certificates) and ``growth_potential`` (a persistent premium on yearly log revenue growth, correlated
   with innovation). Both are returned in ``latent`` and never in ``panel``.
2. Revenue. A firm's revenue in its anchor year (the snapshot year, or its last year for firms that exit) is
   drawn from the 东丽 size distribution (REVENUE_KNOTS, fitted to the published class counts and total), larger
   for older and more innovative firms. Earlier years are filled backwards with yearly growth = a young-firm
   premium that fades with age + growth_potential + noise, plus a mean-reverting transient, so growth is
   persistent but mostly noise. The registration year counts only the months operated; some firms sell
   nothing in that first year.
3. Everything else follows size and the hidden traits with noise: staff, R&D, assets, profit, hi-tech revenue,
   IP stocks that accumulate from R&D (Ⅰ类 granted two years after the R&D, Ⅱ类 at once, both lapse), 高企
   certificates valid three years and renewed, awards, platforms, standards, VC rounds, rare credit events.

The cross-section of the last year reproduces the published 东丽 figures (see tiering.datasets.calibration).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiering.datasets import districts as dist
from tiering.datasets.calibration import DONGLI_FIRMS, REVENUE_CLASSES
from tiering.datasets.identity import NEW_STYLE_FROM, make_names, make_usccs
from tiering.fields import FIELDS

# --- population ---------------------------------------------------------------------------------------------
EXIT_RATE = 0.025
"""Firms that leave the register per year, as a share of the snapshot count (exits come on top of ``firms``)."""
AGE_SCALE_SURVIVOR = 8.0
"""Mean age (years) at the snapshot of firms still on the register; 东丽's register grew 5x in five years."""
AGE_SCALE_EXIT = 5.0
"""Mean age at exit: young firms leave more often."""
MAX_AGE = 30
OWNERSHIP = (("民营", 0.94), ("国有", 0.02), ("外资", 0.025), ("混合", 0.015))
"""民营 share from 蓟县 (seed 000: 94 %); the rest split by assumption."""

# --- revenue level and growth -------------------------------------------------------------------------------
_P = np.cumsum([c for *_, c in reversed(REVENUE_CLASSES)]) / DONGLI_FIRMS
REVENUE_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 5.0), (0.10, 80.0), (float(_P[0]), 500.0), (0.70, 2_500.0), (float(_P[1]), 10_000.0),
    (float(_P[2]), 30_000.0), (float(_P[3]), 100_000.0), (1.0, 1_320_000.0),
)
"""Quantile function of snapshot revenue (cumulative share, 万元), log-linear between knots. The knots at
500万/1亿/3亿/10亿 sit at the published class shares; the top knot makes the expected total 362.71亿 for 520."""
SIZE_AGE_WEIGHT = 1.1
"""Weight of log(1+age) in the score that orders firms by snapshot size: older firms are larger."""
SIZE_INNOVATION_WEIGHT = 0.3
G_MATURE = 0.04
"""Yearly log revenue growth of a mature firm (nominal)."""
G_YOUNG = 0.30
"""Extra growth in the second year of life, fading with AGE_DECAY."""
AGE_DECAY = 2.0
GROWTH_POTENTIAL_SD = 0.09
"""Spread of the persistent growth premium across firms."""
GROWTH_NOISE_SD = 0.25
"""Permanent yearly shocks to the revenue level."""
TRANSIENT_SD, TRANSIENT_RHO = 0.20, 0.5
"""Mean-reverting deviation of revenue from its level (one good year is partly given back)."""
ZERO_FIRST_YEAR = 0.25
"""Share of firms with no sales at all in their registration year."""

# --- staff, R&D and finance --------------------------------------------------------------------------------
EMPLOYEE_BASE, EMPLOYEE_ELASTICITY, EMPLOYEE_FIRM_SD = 3.75, 0.62, 0.45
"""log employees = BASE + ELASTICITY × log(revenue level / 1000万) + firm effect."""
TECH_SHARE_BASE = -0.72
"""Logit of the 科技人员 share of a median firm; tuned to the 25.92 % aggregate."""
RD_INTENSITY_BASE = -2.64
"""log R&D ÷ revenue of a median firm; tuned to the 4.86 % aggregate."""
RD_SIZE_ELASTICITY = -0.12
HIGHTECH_BASE = -0.85
"""Logit of the hi-tech revenue share of a median non-strategic firm; tuned to the 50.6 % aggregate."""
HIGHTECH_LARGE = 0.0
"""Logit that the share of the largest firms, with many product lines, tends to (0 = half of revenue)."""
ASSET_BASE = 0.24
"""log(assets ÷ revenue level) of a median firm; tuned to 491.46亿 against 362.71亿 revenue."""

# --- intellectual property ---------------------------------------------------------------------------------
IP2_RATE, IP1_RATE = 0.24, 0.017
"""New Ⅱ类 / Ⅰ类 grants per year for a median-innovation firm spending 100万 on R&D."""
IP2_LAPSE, IP1_LAPSE = 0.15, 0.06
"""Yearly share of valid IP that lapses (fees not paid, term ends); utility models go faster."""
IP1_LAG = 2
"""Years between the R&D and the grant of an invention patent (substantive examination)."""

MONEY_DECIMALS = 2
"""Amounts are rounded to 0.01 万元 (100 元)."""
LN_1000 = float(np.log(1000.0))
"""Sizes enter the formulas as log(revenue ÷ 1000万), so every base constant describes a 1000万 firm."""


@dataclass(frozen=True)
class GeneratedPanel:
    """A generated register and the hidden truth behind it.

    ``panel`` follows the internal panel frame contract: one row per (uscc, year), columns = field ids of
    tiering.fields, money in 万元. ``latent`` has one row per firm of the panel, in the same firm order:
    uscc, growth_potential (yearly log growth premium), innovation, size_quantile (revenue quantile in the
    anchor year), exit_year (last year on the register, NaN for firms still there).
    """

    panel: pd.DataFrame
    latent: pd.DataFrame


@dataclass
class _Firms:
    """Firm-level arrays, one entry per firm, in order of registration date."""

    survivor: np.ndarray
    anchor_year: np.ndarray
    reg_year: np.ndarray
    reg_date: np.ndarray
    reg_fraction: np.ndarray
    district: np.ndarray
    industry: np.ndarray
    strategic: np.ndarray
    innovation: np.ndarray
    growth_potential: np.ndarray
    size_quantile: np.ndarray


def _stream(seed: int, part: str) -> np.random.Generator:
    """An independent generator per part, so that changing one part leaves the others' draws unchanged."""
    return np.random.default_rng([seed, zlib.crc32(part.encode("utf-8"))])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _year_list(years: range | tuple[int, int]) -> np.ndarray:
    if isinstance(years, range):
        values = np.array(list(years), dtype=np.int64)
    else:
        first, last = years
        values = np.arange(int(first), int(last) + 1, dtype=np.int64)
    if len(values) == 0 or np.any(np.diff(values) != 1):
        raise ValueError(f"years 应为连续年度，如 (2015, 2025) 或 range(2015, 2026)，实为 {years!r}")
    return values


def generate_panel(
    firms: int, years: range | tuple[int, int], seed: int, district: str | None = None
) -> GeneratedPanel:
    """Generate a seeded register of ``firms`` firms (on the register in the last year) over ``years``.

    ``years`` is a range or an inclusive (first, last) pair. ``district`` puts every firm in one district
    (东丽区, 宝坻区, 蓟州区/蓟县, 包头市); None mixes the three Tianjin districts of the seeds. Firms that exited
    before the last year are added on top of ``firms``. The same arguments always give the same panel.
    """
    if firms < 1:
        raise ValueError(f"firms 应为正整数，实为 {firms}")
    year_values = _year_list(years)
    places = _districts(district)
    f = _draw_firms(firms, year_values, seed, places)
    active = (year_values[None, :] >= f.reg_year[:, None]) & (year_values[None, :] <= f.anchor_year[:, None])
    grids = _simulate(f, year_values, seed, active)
    return _assemble(f, places, year_values, active, grids, seed)


def _districts(district: str | None) -> tuple[tuple[dist.District, float], ...]:
    if district is None:
        return tuple((dist.BY_NAME[name], share) for name, share in dist.DEFAULT_MIX)
    return ((dist.resolve_district(district), 1.0),)


def _draw_firms(
    survivors: int, years: np.ndarray, seed: int, places: tuple[tuple[dist.District, float], ...]
) -> _Firms:
    rng = _stream(seed, "firms")
    first, last = int(years[0]), int(years[-1])
    exits = round(survivors * EXIT_RATE * (len(years) - 1))
    n = survivors + exits
    survivor = np.arange(n) < survivors
    anchor_year = np.where(survivor, last, rng.integers(first, max(last, first + 1), size=n))
    scale = np.where(survivor, AGE_SCALE_SURVIVOR, AGE_SCALE_EXIT)
    age = np.minimum(np.floor(rng.exponential(scale)), MAX_AGE).astype(np.int64)
    reg_year = anchor_year - age
    month = rng.integers(1, 13, size=n)
    day = rng.integers(1, 29, size=n)
    reg_date = _dates(reg_year, month, day)
    # firms are kept in order of registration from here on, which is also the order of the panel's rows
    order = np.argsort(reg_date, kind="stable")
    survivor, anchor_year, age, reg_year = survivor[order], anchor_year[order], age[order], reg_year[order]
    month, day, reg_date = month[order], day[order], reg_date[order]
    reg_fraction = (13 - month - day / 31) / 12  # share of the registration year the firm operated

    shares = np.array([s for _, s in places])
    district = rng.choice(len(places), size=n, p=shares / shares.sum())
    industry = np.empty(n, dtype=object)
    for k, (place, _) in enumerate(places):
        members = np.flatnonzero(district == k)
        names = [name for name, _ in place.industries]
        weights = np.array([w for _, w in place.industries])
        industry[members] = np.asarray(names, dtype=object)[
            rng.choice(len(names), size=len(members), p=weights / weights.sum())
        ]
    strategic = np.isin(industry, list(dist.STRATEGIC))

    traits = _stream(seed, "traits")
    base_innovation = traits.standard_normal(n)
    innovation = base_innovation + 0.35 * strategic - 0.2 * ~survivor
    independent = traits.standard_normal(n)
    growth_potential = (
        GROWTH_POTENTIAL_SD * (0.5 * base_innovation + np.sqrt(0.75) * independent)
        + 0.02 * strategic - 0.06 * ~survivor
    )
    size_quantile = _size_quantiles(survivor, age, innovation, _stream(seed, "size"))
    return _Firms(
        survivor=survivor, anchor_year=anchor_year, reg_year=reg_year, reg_date=reg_date,
        reg_fraction=reg_fraction, district=district, industry=industry.astype(str), strategic=strategic,
        innovation=innovation, growth_potential=growth_potential, size_quantile=size_quantile,
    )


def _dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    months = (np.asarray(year) - 1970) * 12 + (np.asarray(month) - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (np.asarray(day) - 1)


def _size_quantiles(
    survivor: np.ndarray, age: np.ndarray, innovation: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Revenue quantile in the anchor year: survivors are spread evenly over the distribution (so the snapshot
    matches the published class counts), ordered by a noisy score of age and innovation; leavers are small."""
    n = len(survivor)
    score = SIZE_AGE_WEIGHT * np.log1p(age) + SIZE_INNOVATION_WEIGHT * innovation + rng.standard_normal(n)
    quantile = rng.beta(1.3, 3.0, size=n)
    members = np.flatnonzero(survivor)
    rank = np.empty(len(members))
    rank[np.argsort(score[members], kind="stable")] = np.arange(len(members))
    quantile[members] = (rank + rng.uniform(size=len(members))) / len(members)
    return quantile


def revenue_at_quantile(quantile: np.ndarray) -> np.ndarray:
    """Snapshot revenue (万元) at the given quantiles of the calibrated 东丽 size distribution."""
    probs, values = zip(*REVENUE_KNOTS, strict=True)
    return np.exp(np.interp(quantile, probs, np.log(values)))


# --- yearly simulation -------------------------------------------------------------------------------------


def _simulate(f: _Firms, years: np.ndarray, seed: int, active: np.ndarray) -> dict[str, np.ndarray]:
    """All yearly fields as (firms × years) grids; cells outside a firm's life hold junk and are dropped."""
    g: dict[str, np.ndarray] = {}
    level, revenue = _revenue(f, years, seed)
    age = years[None, :] - f.reg_year[:, None]
    first_year = age == 0
    # staff follow the smooth level, not the transient, and only part of the first year is staffed
    staff_level = level - LN_1000 + np.where(first_year, 0.5 * np.log(f.reg_fraction)[:, None], 0.0)
    _staff(g, f, staff_level, seed)
    _rd_and_finance(g, f, level, revenue, seed)
    _ip(g, f, years, age, seed, active)
    _certificates(g, f, years, age, level, seed, active)
    _events(g, f, years, age, level, seed, active)
    return g



def _revenue(f: _Firms, years: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(log revenue level, revenue in 万元) grids, built backwards from each firm's anchor year."""
    rng = _stream(seed, "revenue")
    n, span = len(f.survivor), len(years)
    anchor_revenue = np.log(revenue_at_quantile(f.size_quantile))
    transient = np.empty((n, span))
    transient[:, -1] = TRANSIENT_SD * rng.standard_normal(n)
    for j in range(span - 2, -1, -1):
        transient[:, j] = TRANSIENT_RHO * transient[:, j + 1] + np.sqrt(1 - TRANSIENT_RHO**2) * TRANSIENT_SD * (
            rng.standard_normal(n)
        )
    shocks = GROWTH_NOISE_SD * rng.standard_normal((n, span))
    level = np.full((n, span), np.nan)
    current = np.full(n, np.nan)
    growth_into_next = np.zeros(n)
    for j in range(span - 1, -1, -1):
        at_anchor = f.anchor_year == years[j]
        current = np.where(at_anchor, anchor_revenue - transient[:, j], current - growth_into_next)
        level[:, j] = current
        age = np.maximum(years[j] - f.reg_year, 1)
        growth_into_next = (
            G_MATURE + G_YOUNG * np.exp(-(age - 1) / AGE_DECAY) + f.growth_potential + shocks[:, j]
        )
    log_revenue = level + transient
    first_year = (years[None, :] == f.reg_year[:, None]) & (years[None, :] < f.anchor_year[:, None])
    log_revenue = np.where(first_year, log_revenue + np.log(f.reg_fraction)[:, None], log_revenue)
    no_sales = first_year & (rng.uniform(size=n) < ZERO_FIRST_YEAR)[:, None]
    revenue = np.where(no_sales, 0.0, np.round(np.exp(log_revenue), MONEY_DECIMALS))
    return level, revenue


def _staff(g: dict[str, np.ndarray], f: _Firms, staff_level: np.ndarray, seed: int) -> None:
    rng = _stream(seed, "staff")
    n, span = staff_level.shape
    firm_effect = EMPLOYEE_FIRM_SD * rng.standard_normal(n)
    log_employees = (
        EMPLOYEE_BASE + EMPLOYEE_ELASTICITY * staff_level + firm_effect[:, None] + 0.08 * rng.standard_normal((n, span))
    )
    employees = np.maximum(1.0, np.round(np.exp(log_employees)))
    share_logit = (
        TECH_SHARE_BASE + 0.45 * f.innovation[:, None] - 0.30 * (np.log(employees) - np.log(30.0))
        + 0.5 * rng.standard_normal(n)[:, None] + 0.15 * rng.standard_normal((n, span))
    )
    tech_staff = np.minimum(employees, np.round(employees * _sigmoid(share_logit)))
    rd_ratio = np.clip(rng.beta(6.0, 3.0, size=n)[:, None] + 0.05 * rng.standard_normal((n, span)), 0.2, 1.0)
    g["employees"] = employees
    g["tech_staff"] = tech_staff
    g["rd_staff"] = np.minimum(tech_staff, np.round(tech_staff * rd_ratio))


def _money(x: np.ndarray) -> np.ndarray:
    return np.round(x, MONEY_DECIMALS)


def _rd_and_finance(
    g: dict[str, np.ndarray], f: _Firms, level: np.ndarray, revenue: np.ndarray, seed: int
) -> None:
    rng = _stream(seed, "finance")
    n, span = revenue.shape
    innovation = f.innovation[:, None]
    log_revenue = np.log(np.maximum(revenue, 1.0))
    # ratios of large firms scatter less: they average over many products and projects
    damp = 1.0 / (1.0 + np.maximum(level - LN_1000, 0.0) / 2.0)
    intensity = np.exp(
        RD_INTENSITY_BASE + RD_SIZE_ELASTICITY * (log_revenue - LN_1000)
        + damp * (0.45 * innovation + 0.35 * rng.standard_normal(n)[:, None] + 0.15 * rng.standard_normal((n, span)))
    )
    intensity = np.minimum(intensity, 1.5)
    startup_rd = np.exp(np.log(15.0) + 0.5 * innovation + 0.6 * rng.standard_normal((n, span)))
    no_rd = (rng.uniform(size=n) < np.where(f.strategic, 0.01, 0.06))[:, None]
    rd = np.where(no_rd, 0.0, np.where(revenue > 0, revenue * intensity, startup_rd))
    domestic_share = np.where(rng.uniform(size=n) < 0.88, 1.0, rng.beta(6.0, 1.5, size=n))[:, None]

    main_share = 1.0 - rng.beta(1.0, 15.0, size=n)[:, None]
    other_income = revenue * rng.exponential(0.015, size=(n, span)) + np.where(
        rng.uniform(size=(n, span)) < 0.2, rng.lognormal(np.log(10.0), 0.8, size=(n, span)), 0.0
    )
    hightech_logit = (
        (1.0 - damp) * HIGHTECH_LARGE + damp * (
            HIGHTECH_BASE + 1.6 * f.strategic[:, None] + 0.7 * innovation
            + 0.8 * rng.standard_normal(n)[:, None] + 0.25 * rng.standard_normal((n, span))
        )
    )

    smooth = np.exp(level)
    assets_ratio = ASSET_BASE + damp * (0.45 * rng.standard_normal(n)[:, None] + 0.05 * rng.standard_normal((n, span)))
    capital = rng.lognormal(np.log(100.0), 0.8, size=n)[:, None]
    assets = smooth * np.exp(assets_ratio) + capital
    leverage = np.clip(
        rng.beta(3.0, 3.5, size=n)[:, None] + 0.05 * rng.standard_normal((n, span)) + 0.1 * ~f.survivor[:, None],
        0.02, 0.98,
    )

    cost_ratio = np.clip(
        rng.normal(0.93, 0.06, size=n)[:, None] + 0.04 * rng.standard_normal((n, span)), 0.6, 1.5
    )
    overhead = rng.lognormal(np.log(20.0), 0.7, size=n)[:, None]
    cost = np.maximum(revenue * cost_ratio, rd * 1.25 + overhead)
    pre_tax = revenue + other_income - cost
    net_profit = np.where(pre_tax > 0, 0.85 * pre_tax, pre_tax)

    g["revenue"] = revenue
    g["operating_revenue"] = revenue
    g["main_revenue"] = _money(revenue * main_share)
    g["total_income"] = _money(revenue + other_income)
    g["hightech_revenue"] = _money(revenue * _sigmoid(hightech_logit))
    g["rd_expense"] = _money(rd)
    g["rd_expense_domestic"] = np.minimum(g["rd_expense"], _money(rd * domestic_share))
    g["total_assets"] = _money(assets)
    g["total_liabilities"] = _money(assets * leverage)
    g["cost_expense"] = _money(cost)
    g["net_profit"] = _money(net_profit)


def _ip(
    g: dict[str, np.ndarray], f: _Firms, years: np.ndarray, age: np.ndarray, seed: int, active: np.ndarray
) -> None:
    """Valid Ⅰ类/Ⅱ类 IP stocks: grants arrive with R&D (Ⅰ类 after IP1_LAG years), a share lapses each year."""
    rng = _stream(seed, "ip")
    n, span = age.shape
    rd = g["rd_expense"] / 100.0
    first_col = np.argmax(active, axis=1)
    taste = np.exp(0.4 * f.innovation)
    rate2 = IP2_RATE * taste[:, None] * np.sqrt(rd + 0.05)
    lagged = np.take_along_axis(
        rd, np.maximum(np.arange(span)[None, :] - IP1_LAG, first_col[:, None]), axis=1
    )
    rate1 = IP1_RATE * (taste**1.5)[:, None] * np.sqrt(lagged + 0.02)
    class1 = np.zeros((n, span))
    class2 = np.zeros((n, span))
    stock1 = np.zeros(n)
    stock2 = np.zeros(n)
    for j in range(span):
        starts = first_col == j
        past = np.maximum(age[:, j], 0)
        # a firm older than the panel arrives with the stock its earlier years would have left
        held2 = rate2[:, j] * (1 - (1 - IP2_LAPSE) ** past) / IP2_LAPSE
        held1 = rate1[:, j] * (1 - (1 - IP1_LAPSE) ** np.maximum(past - IP1_LAG, 0)) / IP1_LAPSE
        stock2 = np.where(starts, rng.poisson(held2), rng.binomial(stock2.astype(np.int64), 1 - IP2_LAPSE))
        stock1 = np.where(starts, rng.poisson(held1), rng.binomial(stock1.astype(np.int64), 1 - IP1_LAPSE))
        stock2 = stock2 + rng.poisson(rate2[:, j])
        stock1 = stock1 + rng.poisson(np.where(past >= IP1_LAG, rate1[:, j], 0.0))
        class1[:, j], class2[:, j] = stock1, stock2
    g["ip_class1"] = class1
    g["ip_class2"] = class2
    conversion_rate = np.exp(-1.3 + 0.5 * f.innovation[:, None] + 0.3 * np.log1p(class1 + class2))
    g["tech_conversions"] = rng.poisson(conversion_rate).astype(float)


def _certificates(
    g: dict[str, np.ndarray], f: _Firms, years: np.ndarray, age: np.ndarray, level: np.ndarray, seed: int,
    active: np.ndarray,
) -> None:
    """高企 certificates: granted in the last quarter, cover the grant year and the two after, often renewed."""
    rng = _stream(seed, "certificates")
    n, span = age.shape
    ip_points = np.log1p(2 * g["ip_class1"] + g["ip_class2"])
    logit = (
        -3.3 + 1.1 * f.innovation[:, None] + 0.7 * ip_points + 0.15 * (level - LN_1000)
        - 2.5 * np.exp(-np.maximum(age, 0).astype(float))
    )
    held_before = rng.uniform(size=n) < _sigmoid(logit[:, 0] + 1.0)
    grant_year = np.where(held_before & (age[:, 0] > 3), years[0] - rng.integers(1, 4, size=n), -9999)
    grant_month = rng.integers(10, 13, size=n)
    grant_day = rng.integers(1, 29, size=n)
    valid = np.zeros((n, span), dtype=bool)
    draws = rng.uniform(size=(n, span))
    for j in range(span):
        covered = years[j] - grant_year <= 2
        renewing = years[j] - grant_year == 3
        p = _sigmoid(logit[:, j] + 2.5 * renewing)
        granted = active[:, j] & ~covered & (draws[:, j] < p)
        grant_year = np.where(granted, years[j], grant_year)
        valid[:, j] = years[j] - grant_year <= 2
    g["hitech_cert"] = valid.astype(float)
    certified = grant_year > -9999
    expiry = _dates(np.where(certified, grant_year + 3, 1970), grant_month, grant_day) - 1
    g["_hitech_cert_expiry"] = np.where(certified, expiry, np.datetime64("NaT"))


def _cumulative(
    hazard: np.ndarray, age: np.ndarray, active: np.ndarray, rng: np.random.Generator, window: int | None = None
) -> np.ndarray:
    """A flag that turns on with an event and stays on (window=None) or stays on for ``window`` years."""
    n, span = hazard.shape
    first_col = np.argmax(active, axis=1)
    rows = np.arange(n)
    h0, age0 = hazard[rows, first_col], np.maximum(age[rows, first_col], 0)
    before = rng.uniform(size=n) < 1 - (1 - h0) ** np.minimum(age0, window or age0.max() + 1)
    last_event = np.where(before, first_col - rng.integers(1, (window or 5) + 1, size=n), -9999)
    flags = np.zeros((n, span))
    events = rng.uniform(size=(n, span)) < hazard
    for j in range(span):
        last_event = np.where(events[:, j] & (j >= first_col), j, last_event)
        on = last_event > -9999 if window is None else j - last_event < window
        flags[:, j] = on & (j >= first_col)
    return flags


def _events(
    g: dict[str, np.ndarray], f: _Firms, years: np.ndarray, age: np.ndarray, level: np.ndarray, seed: int,
    active: np.ndarray,
) -> None:
    rng = _stream(seed, "events")
    n, span = age.shape
    z = f.innovation[:, None]
    size = level - LN_1000
    young = np.exp(-np.maximum(age, 0) / 3.0)
    potential = (f.growth_potential / GROWTH_POTENTIAL_SD)[:, None]
    g["provincial_award"] = _cumulative(_sigmoid(-5.8 + 0.8 * z + 0.3 * size), age, active, rng)
    g["national_award_top3"] = _cumulative(_sigmoid(-9.5 + 1.0 * z + 0.5 * size), age, active, rng, window=5)
    g["rd_institution"] = _cumulative(_sigmoid(-5.7 + 0.9 * z + 0.4 * size), age, active, rng)
    g["standard_participation"] = _cumulative(_sigmoid(-4.9 + 0.7 * z + 0.3 * size), age, active, rng)
    g["standard_lead"] = _cumulative(_sigmoid(-7.2 + 0.8 * z + 0.5 * size), age, active, rng, window=5)
    g["competition_award"] = _cumulative(_sigmoid(-6.2 + 0.6 * z + 0.5 * potential + young), age, active, rng)
    g["sci_project"] = _cumulative(_sigmoid(-4.7 + 0.9 * z + 0.2 * size), age, active, rng)

    software = np.isin(f.industry, list(dist.SOFTWARE))
    gain = _sigmoid(np.where(software, -2.3, -7.0) + 0.8 * f.innovation)
    holds = rng.uniform(size=n) < gain * 3
    software_cert = np.zeros((n, span))
    draws = rng.uniform(size=(n, span))
    for j in range(span):
        holds = np.where(holds, draws[:, j] < 0.9, draws[:, j] < gain)
        software_cert[:, j] = holds
    g["software_cert"] = software_cert

    vc_p = _sigmoid(-5.2 + 0.9 * potential + 0.4 * z + 1.2 * young + 0.3 * f.strategic[:, None])
    vc_event = rng.uniform(size=(n, span)) < vc_p
    vc_amount = rng.lognormal(np.log(300.0), 0.9, size=(n, span)) * np.exp(0.3 * np.clip(size, -3, 4))
    g["vc_investment"] = np.where(vc_event, _money(vc_amount), 0.0)
    other_equity = rng.uniform(size=(n, span)) < 0.004
    g["equity_financing"] = np.where(
        vc_event, _money(vc_amount * rng.uniform(1.0, 2.2, size=(n, span))),
        np.where(other_equity, _money(rng.lognormal(np.log(500.0), 0.8, size=(n, span))), 0.0),
    )

    leaving = (~f.survivor)[:, None] & (years[None, :] >= f.anchor_year[:, None] - 1)
    small = np.clip(-size, 0, 6)
    g["abnormal_operation"] = (rng.uniform(size=(n, span)) < 0.006 + 0.003 * small + 0.2 * leaving).astype(float)
    g["serious_dishonesty"] = (rng.uniform(size=(n, span)) < 0.0015 + 0.03 * leaving).astype(float)
    g["research_misconduct"] = (rng.uniform(size=(n, span)) < 0.0005).astype(float)
    manufacturing = ~np.isin(f.industry, ["现代服务业", "批发和零售业", "高技术服务业", "影音艺媒"])
    g["major_accident"] = (rng.uniform(size=(n, span)) < np.where(manufacturing, 0.003, 0.0008)[:, None]).astype(
        float
    )
    restricted = np.isin(f.industry, list(dist.RESTRICTED)) | (rng.uniform(size=n) < 0.004)
    g["restricted_industry"] = np.repeat(restricted[:, None], span, axis=1).astype(float)


# --- assembly ----------------------------------------------------------------------------------------------


def _assemble(
    f: _Firms, places: tuple[tuple[dist.District, float], ...], years: np.ndarray, active: np.ndarray,
    grids: dict[str, np.ndarray], seed: int,
) -> GeneratedPanel:
    rng = _stream(seed, "identity")
    n = len(f.survivor)
    district_objects = [p for p, _ in places]
    admin = np.array([p.admin_code for p in district_objects])[f.district]
    for k, place in enumerate(district_objects):
        if place.old_admin_code and place.renamed_in:
            admin = np.where((f.district == k) & (f.reg_year < place.renamed_in), place.old_admin_code, admin)
    usccs = make_usccs(admin, f.reg_year >= NEW_STYLE_FROM, rng)
    words = np.empty(n, dtype=object)
    for industry, choices in dist.INDUSTRY_WORDS.items():
        members = np.flatnonzero(f.industry == industry)
        words[members] = np.asarray(choices, dtype=object)[rng.integers(0, len(choices), size=len(members))]
    prefixes = np.array([p.name_prefix for p in district_objects])[f.district]
    names = make_names(prefixes, words.astype(str), rng)
    owner_names, owner_p = zip(*OWNERSHIP, strict=True)
    ownership = np.asarray(owner_names)[rng.choice(len(owner_names), size=n, p=np.array(owner_p))]
    resident = (rng.uniform(size=n) < 0.99).astype(float)
    independent = (rng.uniform(size=n) < 0.99).astype(float)

    firm_rows, year_cols = np.nonzero(active)
    firm_level = {
        "uscc": usccs,
        "name": names,
        "registration_date": f.reg_date.astype("datetime64[ns]"),
        "province": np.array([p.province for p in district_objects])[f.district],
        "district": np.array([p.name for p in district_objects])[f.district],
        "industry": f.industry,
        "ownership": ownership,
        "resident_enterprise": resident,
        "independent_legal_person": independent,
        "hitech_cert_expiry": grids.pop("_hitech_cert_expiry").astype("datetime64[ns]"),
    }
    cells = firm_rows * len(years) + year_cols
    columns: dict[str, object] = {}
    for field in FIELDS:
        if field.id == "year":
            columns["year"] = years[year_cols].astype(np.int64)
        elif field.id in firm_level:
            values = firm_level[field.id]
            # convert each firm's text once and repeat it by position: far cheaper than per row
            columns[field.id] = (
                pd.array(values, dtype="str").take(firm_rows) if values.dtype.kind == "U" else values[firm_rows]
            )
        elif field.id in grids:
            columns[field.id] = grids[field.id].ravel().take(cells).astype(np.float64, copy=False)
    panel = pd.DataFrame(columns, copy=False)

    latent = pd.DataFrame({
        "uscc": pd.array(usccs, dtype="str"),
        "growth_potential": f.growth_potential,
        "innovation": f.innovation,
        "size_quantile": f.size_quantile,
        "exit_year": pd.array(np.where(f.survivor, np.nan, f.anchor_year.astype(float)), dtype="Int64"),
    })
    return GeneratedPanel(panel=panel, latent=latent)
