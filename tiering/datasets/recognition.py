"""Certificates, awards, platforms, standards, competitions and titles a firm earns over the years.

Each is an event process whose yearly probability rises with innovation and size. A flag either stays on once
earned ("获得过"), or for a window of years after the latest event ("近三年", "近五年", a certificate's term).
Events before the panel starts are drawn from the firm's age, so old firms arrive with their history.
"""

from __future__ import annotations

import numpy as np

from tiering.datasets import districts as dist
from tiering.datasets.population import Firms, drivers
from tiering.datasets.sampling import NONE, Seed, dates, sigmoid, stream

HITECH_TERM = 3
"""Years a 高企 certificate covers: the grant year and the two after."""
HITECH_RENEWAL_BONUS = 2.5
"""Added to the logit of a grant in the year a certificate runs out: holders usually re-apply at once."""


def hitech_certificates(
    f: Firms, years: np.ndarray, age: np.ndarray, size: np.ndarray, ip1: np.ndarray, ip2: np.ndarray,
    active: np.ndarray, seed: Seed,
) -> tuple[np.ndarray, np.ndarray]:
    """(hitech_cert grid, expiry date of each firm's latest certificate). Certificates are issued in the last
    quarter; the expiry is three years after the grant, less a day."""
    rng = stream(seed, "certificates")
    n, span = age.shape
    logit = (
        -3.3 + 1.1 * f.innovation[:, None] + 0.7 * np.log1p(2 * ip1 + ip2) + 0.15 * size
        - 2.5 * np.exp(-np.maximum(age, 0).astype(float))
    )
    held_before = (rng.uniform(size=n) < sigmoid(logit[:, 0] + 1.0)) & (age[:, 0] > HITECH_TERM)
    grant_year = np.where(held_before, years[0] - rng.integers(1, HITECH_TERM + 1, size=n), NONE)
    grant_month = rng.integers(10, 13, size=n)
    grant_day = rng.integers(1, 29, size=n)
    valid = np.zeros((n, span))
    draws = rng.uniform(size=(n, span))
    for j in range(span):
        covered = years[j] - grant_year < HITECH_TERM
        renewing = years[j] - grant_year == HITECH_TERM
        p = sigmoid(logit[:, j] + HITECH_RENEWAL_BONUS * renewing)
        granted = active[:, j] & ~covered & (draws[:, j] < p)
        grant_year = np.where(granted, years[j], grant_year)
        valid[:, j] = years[j] - grant_year < HITECH_TERM
    certified = grant_year != NONE
    expiry = dates(np.where(certified, grant_year + HITECH_TERM, 1970), grant_month, grant_day) - 1
    return valid, np.where(certified, expiry, np.datetime64("NaT"))


def _last_events(hazard: np.ndarray, age: np.ndarray, active: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Column of each firm's latest event up to each year (NONE before the first)."""
    n, span = hazard.shape
    first_col = np.argmax(active, axis=1)
    rows = np.arange(n)
    h0, age0 = hazard[rows, first_col], np.maximum(age[rows, first_col], 0)
    before = rng.uniform(size=n) < 1 - (1 - h0) ** age0
    lag = 1 + np.floor(rng.uniform(size=n) * np.minimum(age0, 10)).astype(np.int64)
    last = np.where(before, first_col - lag, NONE)
    events = rng.uniform(size=(n, span)) < hazard
    history = np.empty((n, span), dtype=np.int64)
    for j in range(span):
        last = np.where(events[:, j] & (j >= first_col), j, last)
        history[:, j] = last
    return history


def _ever(history: np.ndarray) -> np.ndarray:
    return (history != NONE).astype(float)


def _within(history: np.ndarray, window: int) -> np.ndarray:
    columns = np.arange(history.shape[1])[None, :]
    return ((history != NONE) & (columns - history < window)).astype(float)


def _holding(gain: np.ndarray, keep: float, rng: np.random.Generator) -> np.ndarray:
    """A status gained with yearly probability ``gain`` (firms × years) and kept with probability ``keep``
    (a certificate re-examined every year); the first year starts from the long-run share."""
    n, span = gain.shape
    holds = rng.uniform(size=n) < gain[:, 0] / (gain[:, 0] + 1 - keep)
    flags = np.zeros((n, span))
    draws = rng.uniform(size=(n, span))
    for j in range(span):
        holds = np.where(holds, draws[:, j] < keep, draws[:, j] < gain[:, j])
        flags[:, j] = holds
    return flags


def recognition(
    f: Firms, places_province: np.ndarray, age: np.ndarray, level: np.ndarray, ip1: np.ndarray, ip2: np.ndarray,
    active: np.ndarray, seed: Seed,
) -> dict[str, np.ndarray]:
    """Awards, platforms, standards, competitions, titles and the software and Tianjin certificates."""
    rng = stream(seed, "recognition")
    n, span = age.shape
    z, size, young, potential = drivers(f, age, level)
    ip = np.log1p(2 * ip1 + ip2)

    def history(score: np.ndarray) -> np.ndarray:
        return _last_events(sigmoid(score), age, active, rng)

    provincial = history(-5.8 + 0.8 * z + 0.3 * size)
    national = history(-9.5 + 1.0 * z + 0.5 * size)  # national awards ranked in the first three
    any_award = np.maximum(provincial, national)
    top_ranked = (rng.uniform(size=n) < 0.5)[:, None]  # on provincial awards, how highly the firm tends to rank
    institution = history(-5.7 + 0.9 * z + 0.4 * size)
    organisation = np.maximum(history(-2.6 + 0.8 * z + 0.3 * size), institution)
    top50 = history(-8.5 + 0.6 * z + 0.5 * potential + young)
    top500 = np.maximum(history(-6.3 + 0.6 * z + 0.5 * potential + young), top50)
    competition = np.maximum(history(-6.2 + 0.6 * z + 0.5 * potential + young), top500)

    software = np.isin(f.industry, list(dist.SOFTWARE))
    tianjin = places_province == "天津"
    tj_gain = np.where(tianjin[:, None], sigmoid(-3.8 + 0.9 * z + 0.5 * ip), 0.0)
    software_gain = sigmoid(np.where(software, -2.3, -7.0) + 0.8 * f.innovation)[:, None]
    return {
        "provincial_award": _ever(any_award),
        "recent_award": _within(any_award, 3),
        "national_award_top3": _within(national, 5),
        "award_top_rank": np.maximum(_within(national, 3), _within(provincial, 3) * top_ranked),
        "rd_institution": _ever(institution),
        "has_rd_org": _ever(organisation),
        "standard_participation": _ever(history(-4.9 + 0.7 * z + 0.3 * size)),
        "standard_lead": _within(history(-7.2 + 0.8 * z + 0.5 * size), 5),
        "competition_award": _ever(competition),
        "chuangke_top500": _within(top500, 3),
        "chuangke_top50": _within(top50, 3),
        "sci_project": _ever(history(-4.7 + 0.9 * z + 0.2 * size)),
        "innovation_demo": _within(history(-7.3 + 0.9 * z + 0.4 * ip + 0.3 * size), 3),
        "software_cert": _holding(np.broadcast_to(software_gain, (n, span)), 0.9, rng),
        "tj_hitech_cert": _holding(tj_gain, 0.85, rng),
    }

