"""Helpers every part of the generator shares: named random streams, the logistic link, money rounding."""

from __future__ import annotations

import zlib

import numpy as np

MONEY_DECIMALS = 2
"""Amounts are rounded to 0.01 万元 (100 元)."""
LN_1000 = float(np.log(1000.0))
"""Sizes enter the formulas as log(revenue ÷ 1000万), so every base constant describes a 1000万 firm."""
NONE = -9999
"""Marks "no such year" in integer arrays of event years (no certificate yet, no award yet)."""


Seed = int | tuple[int, ...]
"""The run's seed, or the run's seed and a chunk number for parts simulated chunk by chunk."""


def stream(seed: Seed, part: str) -> np.random.Generator:
    """An independent generator per part, so that changing one part leaves the others' draws unchanged."""
    key = list(seed) if isinstance(seed, tuple) else [seed]
    return np.random.default_rng([*key, zlib.crc32(part.encode("utf-8"))])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function: turns a score into a probability."""
    return 1.0 / (1.0 + np.exp(-x))


def money(x: np.ndarray) -> np.ndarray:
    """Amounts in 万元 rounded to MONEY_DECIMALS."""
    return np.round(x, MONEY_DECIMALS)


def dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] dates from year, month and day arrays."""
    months = (np.asarray(year) - 1970) * 12 + (np.asarray(month) - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (np.asarray(day) - 1)
