"""Who is on the register: births, exits, districts, industries and the hidden traits of each firm.

``firms`` firms are on the register in the last year (the snapshot year); firms that exited earlier are added on
top, about EXIT_RATE of the snapshot count per year. Each firm gets a registration date, a district, an industry
cluster and two hidden traits: ``innovation`` (drives R&D, staff, IP, certificates) and ``growth_potential`` (a
persistent premium on yearly log revenue growth, correlated with innovation). Both stay out of the panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tiering.datasets import districts as dist
from tiering.datasets.sampling import LN_1000, dates, stream

EXIT_RATE = 0.025
"""Firms that leave the register per year, as a share of the snapshot count (exits come on top of ``firms``)."""
AGE_SCALE_SURVIVOR = 8.0
"""Mean age (years) at the snapshot of firms still on the register; 东丽's register grew 5x in five years."""
AGE_SCALE_EXIT = 5.0
"""Mean age at exit: young firms leave more often."""
MAX_AGE = 30
GROWTH_POTENTIAL_SD = 0.09
"""Spread of the persistent growth premium across firms (log points a year)."""
SIZE_AGE_WEIGHT = 1.1
"""Weight of log(1+age) in the score that orders firms by snapshot size: older firms are larger."""
SIZE_INNOVATION_WEIGHT = 0.3

Places = tuple[tuple[dist.District, float], ...]


@dataclass
class Firms:
    """Firm-level arrays, one entry per firm, in order of registration date."""

    survivor: np.ndarray
    anchor_year: np.ndarray
    """The snapshot year for firms still on the register, the last year on it for the others."""
    reg_year: np.ndarray
    reg_date: np.ndarray
    reg_fraction: np.ndarray
    """Share of the registration year the firm operated."""
    district: np.ndarray
    """Index into the Places the firms were drawn for."""
    industry: np.ndarray
    strategic: np.ndarray
    innovation: np.ndarray
    growth_potential: np.ndarray
    size_quantile: np.ndarray
    """Quantile of the firm's revenue in its anchor year within the calibrated size distribution."""

    def subset(self, part: slice) -> Firms:
        """The same arrays for a consecutive run of firms."""
        return Firms(**{name: values[part] for name, values in vars(self).items()})


class Drivers(NamedTuple):
    """What raises a firm's yearly odds of an event (financing, awards, titles …), firm × year."""

    innovation: np.ndarray
    size: np.ndarray
    """Log revenue above 1,000万元."""
    young: np.ndarray
    """exp(-age / 3): near 1 in the first years, fading after."""
    potential: np.ndarray
    """Latent growth potential in standard deviations."""


def drivers(f: Firms, age: np.ndarray, level: np.ndarray) -> Drivers:
    """The event drivers of firms ``f`` at ages ``age`` and log revenue ``level`` (both firm × year)."""
    return Drivers(
        f.innovation[:, None], level - LN_1000, np.exp(-np.maximum(age, 0) / 3.0),
        (f.growth_potential / GROWTH_POTENTIAL_SD)[:, None],
    )


def places_for(district: str | None) -> Places:
    """The districts to draw firms from, with their shares: one named district, or the default Tianjin mix."""
    if district is None:
        return tuple((dist.BY_NAME[name], share) for name, share in dist.DEFAULT_MIX)
    return ((dist.resolve_district(district), 1.0),)


def draw_firms(survivors: int, years: np.ndarray, seed: int, places: Places) -> Firms:
    """``survivors`` firms on the register in the last of ``years`` plus the firms that left before."""
    rng = stream(seed, "firms")
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
    reg_date = dates(reg_year, month, day)
    # firms are kept in order of registration from here on, which is also the order of the panel's rows
    order = np.argsort(reg_date, kind="stable")
    survivor, anchor_year, age, reg_year = survivor[order], anchor_year[order], age[order], reg_year[order]
    month, day, reg_date = month[order], day[order], reg_date[order]
    reg_fraction = (13 - month - day / 31) / 12

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

    traits = stream(seed, "traits")
    base_innovation = traits.standard_normal(n)
    innovation = base_innovation + 0.35 * strategic - 0.2 * ~survivor
    independent = traits.standard_normal(n)
    growth_potential = (
        GROWTH_POTENTIAL_SD * (0.5 * base_innovation + np.sqrt(0.75) * independent)
        + 0.02 * strategic - 0.06 * ~survivor
    )
    size_quantile = _size_quantiles(survivor, age, innovation, stream(seed, "size"))
    return Firms(
        survivor=survivor, anchor_year=anchor_year, reg_year=reg_year, reg_date=reg_date,
        reg_fraction=reg_fraction, district=district, industry=industry.astype(str), strategic=strategic,
        innovation=innovation, growth_potential=growth_potential, size_quantile=size_quantile,
    )


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
