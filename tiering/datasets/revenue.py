"""Revenue paths: the calibrated snapshot size distribution and persistent-but-noisy growth behind it.

A firm's revenue in its anchor year (the snapshot year, or its last year for firms that exit) is drawn from the
东丽 size distribution (REVENUE_KNOTS). Earlier years are filled backwards: yearly log growth = a young-firm
premium that fades with age + the firm's growth_potential + a permanent shock, and revenue deviates from that
level by a mean-reverting transient (one good year is partly given back). The registration year counts only the
months operated, and some firms sell nothing in it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tiering.datasets.calibration import DONGLI_FIRMS, REVENUE_CLASSES
from tiering.datasets.population import Firms
from tiering.datasets.sampling import Seed, money, stream

_P = np.cumsum([c for *_, c in reversed(REVENUE_CLASSES)]) / DONGLI_FIRMS
REVENUE_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 5.0), (0.10, 80.0), (float(_P[0]), 500.0), (0.70, 2_500.0), (float(_P[1]), 10_000.0),
    (float(_P[2]), 30_000.0), (float(_P[3]), 100_000.0), (1.0, 1_320_000.0),
)
"""Quantile function of snapshot revenue (cumulative share, 万元), log-linear between knots. The knots at
500万/1亿/3亿/10亿 sit at the published class shares; the top knot makes the expected total 362.71亿 for 520."""
G_MATURE = 0.04
"""Yearly log revenue growth of a mature firm (nominal)."""
G_YOUNG = 0.30
"""Extra growth in the second year of life, fading with AGE_DECAY."""
AGE_DECAY = 2.0
GROWTH_NOISE_SD = 0.25
"""Permanent yearly shocks to the revenue level."""
TRANSIENT_SD, TRANSIENT_RHO = 0.20, 0.5
"""Mean-reverting deviation of revenue from its level."""
ZERO_FIRST_YEAR = 0.25
"""Share of firms with no sales at all in their registration year."""


def revenue_at_quantile(quantile: np.ndarray) -> np.ndarray:
    """Snapshot revenue (万元) at the given quantiles of the calibrated 东丽 size distribution."""
    probs, values = zip(*REVENUE_KNOTS, strict=True)
    return np.exp(np.interp(quantile, probs, np.log(values)))


class RevenuePaths(NamedTuple):
    """(firms × years) grids of one simulation: what the panel shows and the hidden state behind it."""

    level: np.ndarray
    """Log revenue level (log 万元): the persistent part, moved each year by drift + potential + shock."""
    revenue: np.ndarray
    """Revenue in 万元, as the panel shows it."""
    transient: np.ndarray
    """Mean-reverting deviation of log revenue from its level (AR(1), TRANSIENT_RHO)."""
    part_year: np.ndarray
    """Log of the share of the registration year operated (0 in every other year)."""


def simulate_revenue(f: Firms, years: np.ndarray, seed: Seed) -> RevenuePaths:
    """Revenue paths as (firms × years) grids, built backwards from each anchor year."""
    rng = stream(seed, "revenue")
    n, span = len(f.survivor), len(years)
    anchor_revenue = np.log(revenue_at_quantile(f.size_quantile))
    transient = np.empty((n, span))
    transient[:, -1] = TRANSIENT_SD * rng.standard_normal(n)
    innovation_sd = np.sqrt(1 - TRANSIENT_RHO**2) * TRANSIENT_SD
    for j in range(span - 2, -1, -1):  # a stationary AR(1) runs the same backwards as forwards
        transient[:, j] = TRANSIENT_RHO * transient[:, j + 1] + innovation_sd * rng.standard_normal(n)
    shocks = GROWTH_NOISE_SD * rng.standard_normal((n, span))
    level = np.full((n, span), np.nan)
    current = np.full(n, np.nan)
    growth_into_next = np.zeros(n)
    for j in range(span - 1, -1, -1):
        at_anchor = f.anchor_year == years[j]
        current = np.where(at_anchor, anchor_revenue - transient[:, j], current - growth_into_next)
        level[:, j] = current
        growth_into_next = drift(years[j] - f.reg_year) + f.growth_potential + shocks[:, j]
    first_year = (years[None, :] == f.reg_year[:, None]) & (years[None, :] < f.anchor_year[:, None])
    part_year = np.where(first_year, np.log(f.reg_fraction)[:, None], 0.0)
    log_revenue = level + transient + part_year
    no_sales = first_year & (rng.uniform(size=n) < ZERO_FIRST_YEAR)[:, None]
    return RevenuePaths(level, np.where(no_sales, 0.0, money(np.exp(log_revenue))), transient, part_year)


def drift(age: np.ndarray) -> np.ndarray:
    """Expected yearly log revenue growth into a year at ``age`` (years since registration), before potential."""
    return G_MATURE + G_YOUNG * np.exp(-(np.maximum(age, 1) - 1) / AGE_DECAY)
