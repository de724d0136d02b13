"""Money raised and trouble met: venture rounds, equity financing, credit and safety events, restricted lines.

Venture capital finds firms with high growth potential more often (investors see part of what the panel hides);
credit and accident flags are rare and cluster in the last years of firms about to leave the register.
"""

from __future__ import annotations

import numpy as np

from tiering.datasets import districts as dist
from tiering.datasets.population import Firms, drivers
from tiering.datasets.sampling import Seed, money, sigmoid, stream

SERVICES = ("现代服务业", "批发和零售业", "高技术服务业", "影音艺媒")
"""Industries without production sites, where major accidents are rarer."""


def financing_and_incidents(
    f: Firms, years: np.ndarray, age: np.ndarray, level: np.ndarray, seed: Seed
) -> dict[str, np.ndarray]:
    """Grids of vc_investment, equity_financing, the credit/accident flags and restricted_industry."""
    rng = stream(seed, "events")
    n, span = age.shape
    z, size, young, potential = drivers(f, age, level)

    vc_round = rng.uniform(size=(n, span)) < sigmoid(
        -5.2 + 0.9 * potential + 0.4 * z + 1.2 * young + 0.3 * f.strategic[:, None]
    )
    vc_amount = rng.lognormal(np.log(300.0), 0.9, size=(n, span)) * np.exp(0.3 * np.clip(size, -3, 4))
    other_equity = rng.uniform(size=(n, span)) < 0.004
    equity = np.where(
        vc_round, money(vc_amount * rng.uniform(1.0, 2.2, size=(n, span))),
        np.where(other_equity, money(rng.lognormal(np.log(500.0), 0.8, size=(n, span))), 0.0),
    )

    leaving = (~f.survivor)[:, None] & (years[None, :] >= f.anchor_year[:, None] - 1)
    small = np.clip(-size, 0, 6)
    production = ~np.isin(f.industry, SERVICES)
    restricted = np.isin(f.industry, list(dist.RESTRICTED)) | (rng.uniform(size=n) < 0.004)

    def happens(probability: np.ndarray | float) -> np.ndarray:
        return (rng.uniform(size=(n, span)) < probability).astype(float)

    return {
        "vc_investment": np.where(vc_round, money(vc_amount), 0.0),
        "equity_financing": equity,
        "abnormal_operation": happens(0.006 + 0.003 * small + 0.2 * leaving),
        "serious_dishonesty": happens(0.0015 + 0.03 * leaving),
        "research_misconduct": happens(0.0005),
        "major_accident": happens(np.where(production, 0.003, 0.0008)[:, None]),
        "restricted_industry": np.repeat(restricted[:, None], span, axis=1).astype(float),
    }
