"""Intellectual property that accumulates from R&D: valid Ⅰ类 and Ⅱ类 stocks, their sub-counts, conversions.

Ⅱ类 (utility models, designs, software copyrights) are granted in the year of the R&D; Ⅰ类 (inventions) come
IP1_LAG years later, after substantive examination, and are rarer. Each year a share of the valid stock lapses.
A firm older than the panel arrives with the stock its earlier years would have left.
"""

from __future__ import annotations

import numpy as np

from tiering.datasets.population import Firms
from tiering.datasets.sampling import Seed, stream

IP2_RATE, IP1_RATE = 0.23, 0.017
"""New Ⅱ类 / Ⅰ类 grants per year for a median-innovation firm spending 100万 on R&D; tuned to 东丽's 995
valid patents, 103 of them inventions."""
IP2_LAPSE, IP1_LAPSE = 0.15, 0.06
"""Yearly share of valid IP that lapses (fees not paid, term ends); utility models go faster."""
IP1_LAG = 2
"""Years between the R&D and the grant of an invention patent."""


def simulate_ip(
    f: Firms, rd_expense: np.ndarray, age: np.ndarray, active: np.ndarray, seed: Seed
) -> dict[str, np.ndarray]:
    """Grids of ip_class1, ip_class2, the Ⅰ类 sub-counts (own, applied, high value) and tech_conversions."""
    rng = stream(seed, "ip")
    n, span = age.shape
    rd = rd_expense / 100.0
    first_col = np.argmax(active, axis=1)
    taste = np.exp(0.4 * f.innovation)
    rate2 = IP2_RATE * taste[:, None] * np.sqrt(rd + 0.05)
    lagged = np.take_along_axis(rd, np.maximum(np.arange(span)[None, :] - IP1_LAG, first_col[:, None]), axis=1)
    rate1 = IP1_RATE * (taste**1.5)[:, None] * np.sqrt(lagged + 0.02)
    class1 = np.zeros((n, span))
    class2 = np.zeros((n, span))
    stock1 = np.zeros(n)
    stock2 = np.zeros(n)
    for j in range(span):
        starts = first_col == j
        past = np.maximum(age[:, j], 0)
        held2 = rate2[:, j] * (1 - (1 - IP2_LAPSE) ** past) / IP2_LAPSE
        held1 = rate1[:, j] * (1 - (1 - IP1_LAPSE) ** np.maximum(past - IP1_LAG, 0)) / IP1_LAPSE
        stock2 = np.where(starts, rng.poisson(held2), rng.binomial(stock2.astype(np.int64), 1 - IP2_LAPSE))
        stock1 = np.where(starts, rng.poisson(held1), rng.binomial(stock1.astype(np.int64), 1 - IP1_LAPSE))
        stock2 = stock2 + rng.poisson(rate2[:, j])
        stock1 = stock1 + rng.poisson(np.where(past >= IP1_LAG, rate1[:, j], 0.0))
        class1[:, j], class2[:, j] = stock1, stock2
    conversion_rate = np.exp(-1.3 + 0.5 * f.innovation[:, None] + 0.3 * np.log1p(class1 + class2))
    return {
        "ip_class1": class1,
        "ip_class2": class2,
        "ip_class1_own": _part(class1, rng.beta(8.0, 1.5, size=n), rng),
        "ip_class1_applied": _part(class1, rng.beta(4.0, 2.0, size=n), rng),
        "ip_class1_high_value": _part(class1, rng.beta(1.0, 6.0, size=n), rng),
        "tech_conversions": rng.poisson(conversion_rate).astype(float),
    }


def _part(stock: np.ndarray, share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A firm's fixed share of its stock, rounded with a fixed per-firm offset so that the part moves smoothly
    with the stock and never exceeds it."""
    offset = rng.uniform(size=len(share))
    return np.floor(stock * share[:, None] + offset[:, None])
