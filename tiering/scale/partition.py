"""Which partition a firm belongs to, and the register cut into partition files that workers read themselves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_PARTITION_SIZE = 50_000
"""Firms per partition: a whole classify (every program in force, reasons, 尚缺, trace) held about 34 KB per firm
in a single run, so an estimated 1.5–2 GB per partition in work; see the README's section on large registers."""


def partition_of(uscc: pd.Series | np.ndarray, partitions: int) -> np.ndarray:
    """The partition (0 … partitions−1) of each 统一社会信用代码: a fixed hash, so a firm lands in the same
    partition on every machine and in every run, whatever the order of the register."""
    codes = pd.util.hash_array(np.asarray(uscc, dtype=object), categorize=False)
    return (codes % np.uint64(partitions)).astype(np.int64)


@dataclass(frozen=True)
class PartitionFile:
    """One partition of the register on disk: its number, path and firms."""

    index: int
    path: Path
    firms: int


def write_partitions(frame: pd.DataFrame, folder: Path, partition_size: int) -> list[PartitionFile]:
    """Cut the accepted rows of a register (the internal frame) into partitions of about ``partition_size`` firms,
    every year of a firm in the same one, each written as ``folder/part-NNNNN.parquet`` in the register's row
    order. Empty partitions are not written."""
    if partition_size < 1:
        raise ValueError(f"partition_size 应为正整数，实为 {partition_size}")
    folder.mkdir(parents=True, exist_ok=True)
    firms = frame["uscc"].nunique()
    count = max(1, math.ceil(firms / partition_size))
    which = partition_of(frame["uscc"], count)
    out = []
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(count + 1))
    for k in range(count):
        rows = order[bounds[k]:bounds[k + 1]]
        if not len(rows):
            continue
        part = frame.iloc[rows]
        path = folder / f"part-{k:05d}.parquet"
        part.to_parquet(path, index=False)
        out.append(PartitionFile(k, path, int(part["uscc"].nunique())))
    return out
