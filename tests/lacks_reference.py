"""The lever search as first written, kept only to check the product's faster one against: double the change until
the condition holds, then bisect, evaluating the rule for every row at every step (no first guess, no row left out
once its answer is settled)."""

from __future__ import annotations

import math

import numpy as np

from tiering.ladder import levers


def exhaustive_run(search: levers._Search) -> np.ndarray:
    """What ``search.run()`` must return: the changes found by evaluating every step (NaN = none)."""
    out = np.full(len(search.base), math.nan)
    sel = np.flatnonzero(search.cap > 0)  # nothing to decrease: no change within reach
    if not len(sel):
        return out
    step, base, sign, cap = search.step, search.base[sel], search.sign[sel], search.cap[sel]
    scale = np.maximum(np.abs(base), step)

    def test(d: np.ndarray) -> np.ndarray:
        return search.test(sel, d)

    lo = np.zeros(len(base))
    hi = np.minimum(np.where(sign < 0, cap, scale / 64.0), cap)
    ok = test(hi)
    for _ in range(levers._EXPAND):
        grow = ~ok & (hi < cap)
        if not grow.any():
            break
        lo = np.where(grow, hi, lo)
        hi = np.where(grow, np.minimum(hi * 2.0, cap), hi)
        ok = np.where(grow, test(hi), ok)
    for _ in range(levers._BISECT):
        if not (ok & (hi - lo > step / 4)).any():
            break
        mid = (lo + hi) / 2.0
        m_ok = test(mid)
        hi = np.where(ok & m_ok, mid, hi)
        lo = np.where(ok & ~m_ok, mid, lo)
    rounded = np.maximum(np.ceil(lo / step - 1e-6), 1.0) * step
    if sign.min() < 0:
        rounded = np.where(sign < 0, np.minimum(rounded, cap), rounded)
    again = ok & ~test(rounded)
    rounded = np.where(again, rounded + step, rounded)
    ok = ok & test(rounded)
    out[sel] = np.where(ok, sign * rounded, math.nan)
    return out
