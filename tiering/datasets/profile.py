"""What a firm's business looks like beyond its accounts: technology field, niche market, brand, systems.

Fixed traits (高新技术领域, 战略性新兴产业, 产业链关键环节, 重点领域) are drawn once per firm from its industry and
innovation; capabilities (信息系统, 管理体系认证, 自主品牌) are gained over the years and kept.
"""

from __future__ import annotations

import numpy as np

from tiering.datasets.population import Firms
from tiering.datasets.sampling import LN_1000, Seed, sigmoid, stream

NICHE_MARKET_MEDIAN = 500_000.0
"""Median size (万元) of the national niche market a firm's lead product sells into."""
DIGITAL_MIDPOINT = 2016
"""Calendar year in which a median firm's yearly chance of running its core business on a system is 1/2 of its
long-run level; adoption spreads over time."""


def business_profile(
    f: Firms, years: np.ndarray, age: np.ndarray, level: np.ndarray, revenue: np.ndarray, seed: Seed
) -> dict[str, np.ndarray]:
    """Grids of hitech_field, strategic_emerging, key_chain, key_sector, info_system, quality_cert, own_brand,
    niche_market_years and market_share."""
    rng = stream(seed, "profile")
    n, span = age.shape
    z = f.innovation
    size = level - LN_1000
    manufacturing = ~np.isin(f.industry, ["现代服务业", "批发和零售业", "高技术服务业", "影音艺媒"])

    def fixed(probability: np.ndarray) -> np.ndarray:
        return np.repeat((rng.uniform(size=n) < probability)[:, None], span, axis=1).astype(float)

    def gained(score: np.ndarray) -> np.ndarray:
        draws = rng.uniform(size=(n, span)) < sigmoid(score)
        years_before = np.minimum(np.maximum(age[:, 0], 0), 10)
        start = rng.uniform(size=n) < 1 - (1 - sigmoid(score[:, 0])) ** years_before
        return (np.maximum.accumulate(draws, axis=1) | start[:, None]).astype(float)

    digital_trend = 0.25 * (years[None, :] - DIGITAL_MIDPOINT)
    niche_start = np.maximum(age - rng.integers(0, 4, size=n)[:, None], 0)
    niche_size = rng.lognormal(np.log(NICHE_MARKET_MEDIAN), 1.0, size=n)[:, None]
    return {
        "hitech_field": fixed(np.where(f.strategic, 0.95, sigmoid(-1.0 + 0.8 * z))),
        "strategic_emerging": fixed(np.where(f.strategic, 0.9, 0.08)),
        "key_chain": fixed(sigmoid(-4.0 + 0.8 * z + 0.8 * f.strategic)),
        "key_sector": fixed(np.where(f.strategic & manufacturing, 0.35, 0.05)),
        "info_system": gained(-2.0 + 0.3 * z[:, None] + 0.3 * size + digital_trend),
        "quality_cert": gained(-2.6 + 0.2 * z[:, None] + 0.4 * size),
        "own_brand": gained(-2.8 + 0.3 * z[:, None] + 0.3 * size),
        "niche_market_years": niche_start.astype(float),
        "market_share": np.round(np.minimum(revenue / niche_size, 0.6), 4),
    }
