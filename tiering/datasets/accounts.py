"""Staff and accounts that follow a firm's size and innovation: headcounts, R&D, income, assets, costs, profit.

Base constants describe a 1000万 firm of median innovation and were tuned so that a 520-firm district reproduces
the 东丽 aggregates (see tiering.datasets.calibration).
"""

from __future__ import annotations

import numpy as np

from tiering.datasets.population import Firms
from tiering.datasets.sampling import LN_1000, Seed, money, sigmoid, stream

EMPLOYEE_BASE, EMPLOYEE_ELASTICITY, EMPLOYEE_FIRM_SD = 3.75, 0.62, 0.45
"""log employees = BASE + ELASTICITY × log(revenue level / 1000万) + firm effect; tuned to 49,676 staff."""
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


def staff(f: Firms, level: np.ndarray, reg_year_cells: np.ndarray, seed: Seed) -> dict[str, np.ndarray]:
    """职工总数, 科技人员数 and 研发人员数 grids. Staff follow the smooth revenue level, not its transient, and
    only part of the registration year is staffed."""
    rng = stream(seed, "staff")
    n, span = level.shape
    size = level - LN_1000 + np.where(reg_year_cells, 0.5 * np.log(f.reg_fraction)[:, None], 0.0)
    firm_effect = EMPLOYEE_FIRM_SD * rng.standard_normal(n)
    log_employees = (
        EMPLOYEE_BASE + EMPLOYEE_ELASTICITY * size + firm_effect[:, None] + 0.08 * rng.standard_normal((n, span))
    )
    employees = np.maximum(1.0, np.round(np.exp(log_employees)))
    share_logit = (
        TECH_SHARE_BASE + 0.45 * f.innovation[:, None] - 0.30 * (np.log(employees) - np.log(30.0))
        + 0.5 * rng.standard_normal(n)[:, None] + 0.15 * rng.standard_normal((n, span))
    )
    tech_staff = np.minimum(employees, np.round(employees * sigmoid(share_logit)))
    rd_ratio = np.clip(rng.beta(6.0, 3.0, size=n)[:, None] + 0.05 * rng.standard_normal((n, span)), 0.2, 1.0)
    return {
        "employees": employees,
        "tech_staff": tech_staff,
        "rd_staff": np.minimum(tech_staff, np.round(tech_staff * rd_ratio)),
    }


def finances(f: Firms, level: np.ndarray, revenue: np.ndarray, seed: Seed) -> dict[str, np.ndarray]:
    """R&D, income, hi-tech revenue, assets, liabilities, costs and profit grids, in 万元."""
    rng = stream(seed, "finance")
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
    hightech_logit = (1.0 - damp) * HIGHTECH_LARGE + damp * (
        HIGHTECH_BASE + 1.6 * f.strategic[:, None] + 0.7 * innovation
        + 0.8 * rng.standard_normal(n)[:, None] + 0.25 * rng.standard_normal((n, span))
    )

    assets_ratio = ASSET_BASE + damp * (0.45 * rng.standard_normal(n)[:, None] + 0.05 * rng.standard_normal((n, span)))
    capital = rng.lognormal(np.log(100.0), 0.8, size=n)[:, None]
    assets = np.exp(level + assets_ratio) + capital
    leverage = np.clip(
        rng.beta(3.0, 3.5, size=n)[:, None] + 0.05 * rng.standard_normal((n, span)) + 0.1 * ~f.survivor[:, None],
        0.02, 0.98,
    )

    cost_ratio = np.clip(rng.normal(0.93, 0.06, size=n)[:, None] + 0.04 * rng.standard_normal((n, span)), 0.6, 1.5)
    overhead = rng.lognormal(np.log(20.0), 0.7, size=n)[:, None]
    cost = np.maximum(revenue * cost_ratio, rd * 1.25 + overhead)
    pre_tax = revenue + other_income - cost
    net_profit = np.where(pre_tax > 0, 0.85 * pre_tax, pre_tax)

    rd_expense = money(rd)
    return {
        "revenue": revenue,
        "operating_revenue": revenue,
        "main_revenue": money(revenue * main_share),
        "total_income": money(revenue + other_income),
        "hightech_revenue": money(revenue * sigmoid(hightech_logit)),
        "rd_expense": rd_expense,
        "rd_expense_domestic": np.minimum(rd_expense, money(rd * domestic_share)),
        "total_assets": money(assets),
        "total_liabilities": money(assets * leverage),
        "cost_expense": money(cost),
        "net_profit": money(net_profit),
    }
