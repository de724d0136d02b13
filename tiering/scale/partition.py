"""Which partition a firm belongs to: a fixed hash of its 统一社会信用代码 as the register checks will read it."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from tiering.register.cells import INVISIBLE

DEFAULT_PARTITION_SIZE = 50_000
"""Firms per partition: a whole classify (every program in force, reasons, 尚缺, trace) held about 34 KB per firm
in a single run, so an estimated 1.5–2 GB per partition in work; see the README's section on large registers."""


def firm_hash(cells: pd.Series | np.ndarray) -> np.ndarray:
    """A fixed 64-bit hash of each 统一社会信用代码 cell as the checks read it (invisible characters dropped,
    full-width forms read as half-width, spaces around it trimmed, letters upper-cased), so that every row of a
    firm — whichever file or piece it is in, however its code was typed — gets the same hash. Blank cells share
    one hash."""
    text = pd.Series(cells, dtype=object).map(lambda v: v if isinstance(v, str) or v is None else str(v))
    text = text.astype("str")
    plain = (text.str.isascii() & text.str.isalnum()).fillna(True).to_numpy(dtype=bool)
    if not plain.all():
        odd = text[~plain].map(lambda t: unicodedata.normalize("NFKC", INVISIBLE.sub("", t)).strip())
        text = text.astype(object)
        text[~plain] = odd.to_numpy(dtype=object)
        text = text.astype("str")
    codes = text.str.upper().replace("", None).to_numpy(dtype=object, na_value=None)
    return pd.util.hash_array(codes, categorize=False)


def partition_of(uscc: pd.Series | np.ndarray, partitions: int) -> np.ndarray:
    """The partition (0 … partitions−1) of each 统一社会信用代码: a fixed hash, so a firm lands in the same
    partition on every machine and in every run, whatever the order of the register. Partition ``k`` holds the
    hashes from ``hash_bounds(partitions)[k]`` up to the next bound."""
    return np.searchsorted(hash_bounds(partitions), firm_hash(uscc), side="right") - 1


def hash_bounds(partitions: int) -> np.ndarray:
    """The lowest hash of each of ``partitions`` equal ranges of the 64-bit hashes, in order (the first is 0)."""
    return np.array([(k << 64) // partitions for k in range(partitions)], dtype=np.uint64)
