"""Band tables (points tables and threshold tables): tiling checks and lookup on both evaluation paths."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tiering.rules.schema import Band

MISSING = -2
"""Band index of a missing value."""
OUT_OF_DOMAIN = -3
"""Band index of a value outside the table's declared domain."""
PRECISION = 9
"""Values and thresholds are compared after rounding to this many decimals, so 0.05 computed as 5/100 or as
500000元/10000 lands on the 5 % edge however the floating point rounds. Declared in README.md."""


def tidy(x: np.ndarray | float) -> np.ndarray | float:
    """Round for comparison (see :data:`PRECISION`)."""
    if isinstance(x, float):
        return x if math.isnan(x) else round(x, PRECISION)
    return np.round(x, PRECISION)


@dataclass
class BandTable:
    """Bands that tile a domain, ordered by their lower edge."""

    bands: list[Band]
    order: list[int]
    left_closed: bool
    lo: float
    hi: float
    edges: np.ndarray
    open_edges: np.ndarray | None = None

    def index_vec(self, v: np.ndarray) -> np.ndarray:
        """Band index (into the declared list) of each value; MISSING or OUT_OF_DOMAIN where no band holds."""
        v = np.asarray(v, dtype=float)
        pos = np.searchsorted(self.edges, v, side="right" if self.left_closed else "left")
        if self.open_edges is not None:
            # a value on the lower edge of a min_open band belongs to the band below
            below = np.clip(pos - 1, 0, max(len(self.edges) - 1, 0))
            on_open = (pos >= 1) & (self.edges[below] == v) & self.open_edges[below]
            pos = np.where(on_open, pos - 1, pos)
        idx = np.asarray(self.order, dtype=np.int16)[np.clip(pos, 0, len(self.order) - 1)]
        idx = np.where((v < self.lo) | (v > self.hi), OUT_OF_DOMAIN, idx)
        return np.where(np.isnan(v), MISSING, idx).astype(np.int16)

    def index_one(self, v: float) -> int:
        """The same lookup for one value, written as the interval test each band states."""
        if math.isnan(v):
            return MISSING
        if v < self.lo or v > self.hi:
            return OUT_OF_DOMAIN
        for i, band in enumerate(self.bands):
            lo = -math.inf if band.min is None else band.min
            hi = math.inf if band.max is None else band.max
            inside = (lo <= v < hi or v == hi == self.hi) if self.left_closed else (lo < v <= hi or v == lo == self.lo)
            if inside and band.min_open and v == band.min:
                return next(j for j, b in enumerate(self.bands) if b.max is not None and b.max == v)
            if inside:
                return i
        return OUT_OF_DOMAIN


def build(bands: list[Band], intervals: str, domain: tuple[float | None, float | None]) -> tuple[BandTable, list[str]]:
    """Order the bands and check that they tile the domain with no gap or overlap; return the problems found."""
    lo = -math.inf if domain[0] is None else float(domain[0])
    hi = math.inf if domain[1] is None else float(domain[1])
    problems: list[str] = []

    def lower(i: int) -> float:
        return lo if bands[i].min is None else float(bands[i].min)

    def upper(i: int) -> float:
        return hi if bands[i].max is None else float(bands[i].max)

    for i, band in enumerate(bands):
        if lower(i) >= upper(i):
            problems.append(f"band {i + 1} is empty or reversed (min {band.min}, max {band.max})")
    order = sorted(range(len(bands)), key=lambda i: (lower(i), upper(i)))
    if order and lower(order[0]) != lo:
        problems.append(f"gap: no band covers the start of the domain ({_fmt(lo)} to {_fmt(lower(order[0]))})")
    if order and upper(order[-1]) != hi:
        problems.append(f"gap: no band covers the end of the domain ({_fmt(upper(order[-1]))} to {_fmt(hi)})")
    for a, b in zip(order, order[1:], strict=False):
        if upper(a) < lower(b):
            problems.append(f"gap between band {a + 1} (to {_fmt(upper(a))}) and band {b + 1} (from {_fmt(lower(b))})")
        elif upper(a) > lower(b):
            problems.append(f"bands {a + 1} and {b + 1} overlap ({_fmt(lower(b))} to {_fmt(min(upper(a), upper(b)))})")
    for i, band in enumerate(bands):
        if band.min_open and intervals != "left-closed":
            problems.append(f"band {i + 1}: min_open only makes sense in a left-closed table")
        elif band.min_open and order and i == order[0]:
            problems.append(f"band {i + 1}: min_open on the lowest band would leave its lower edge in no band")
    edges = np.array([lower(i) for i in order[1:]], dtype=float)
    opens = np.array([bands[i].min_open for i in order[1:]], dtype=bool)
    return BandTable(bands, order, intervals == "left-closed", lo, hi, edges, opens if opens.any() else None), problems


def _fmt(x: float) -> str:
    return "−∞" if x == -math.inf else "+∞" if x == math.inf else f"{x:g}"
