"""Whether a cell holds no value, for code that looks at one firm's cells without loading pandas."""

from __future__ import annotations

import math
import sys


def is_missing(value: object) -> bool:
    """None, a float NaN, or pandas' NaT / NA. Those two only come out of a pandas frame, so pandas is then loaded
    already and is asked; a cell read without pandas (one firm from the register cache) never needs it."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    pandas = sys.modules.get("pandas")
    return pandas is not None and pandas.api.types.is_scalar(value) and bool(pandas.isna(value))
