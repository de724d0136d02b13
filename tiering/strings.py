"""Text columns of large tables made in Arrow, the way pandas keeps them, without converting string by string.

pandas holds text as Arrow strings; a frame made from an object array of Python strings converts every cell
(about 0.15 µs each: seconds for a million firms × 16 programmes, most of them the same few texts again). Columns
whose rows repeat a few texts — a programme's title on each of its rows, one firm's code on each of its programmes,
the reasons shared by every firm with one status pattern — are made here from their distinct texts and a number
per row, and the repeating is done by Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

STR = "str"
"""pandas' text dtype (Arrow strings, NaN for a missing text): what a frame made from Python strings gets."""


def texts(values: Sequence[object] | np.ndarray | pa.Array) -> pa.Array:
    """``values`` (strings; None or NaN for missing) as one Arrow array, converted once."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, list):  # Arrow reads a list of Python strings about ten times faster than an object array
        return pa.array(values, pa.large_string(), from_pandas=True)
    return pa.array(np.asarray(values, dtype=object), pa.large_string(), from_pandas=True)


def column(values: Sequence[object] | np.ndarray | pa.Array) -> pd.api.extensions.ExtensionArray:
    """A text column of ``values`` for a frame."""
    return pd.array(texts(values), dtype=STR)


def repeated(distinct: Sequence[object] | np.ndarray | pa.Array, index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column whose row i is ``distinct[index[i]]``."""
    return pd.array(texts(distinct).take(pa.array(np.asarray(index, dtype=np.int64))), dtype=STR)


def tiled(values: Sequence[object] | np.ndarray | pa.Array, times: int) -> pd.api.extensions.ExtensionArray:
    """A text column of ``values`` over and over, ``times`` times: every copy is the same Arrow array (a chunk of
    the column), so no text is copied however many times it appears."""
    return pd.array(pa.chunked_array([texts(values)] * times, pa.large_string()), dtype=STR)


def blocks(values: Sequence[str], size: int) -> pd.api.extensions.ExtensionArray:
    """A text column of ``size`` rows of ``values[0]``, then ``size`` rows of ``values[1]``, and so on: each block's
    bytes are its text laid side by side at once, where a gather would copy it row by row."""
    encoded = [np.frombuffer(value.encode(), dtype=np.uint8) for value in values]
    lengths = np.repeat(np.array([len(e) for e in encoded], dtype=np.int64), size)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    at = 0
    for e in encoded:
        data[at:at + len(e) * size].reshape(size, len(e))[:] = e
        at += len(e) * size
    return pd.array(pa.Array.from_buffers(pa.large_string(), len(lengths),
                                          [None, pa.py_buffer(offsets), pa.py_buffer(data)]), dtype=STR)


def spread(values: pd.api.extensions.ExtensionArray, at: np.ndarray, rows: int) -> pd.api.extensions.ExtensionArray:
    """A text column of ``rows`` rows: ``values[j]`` (texts, none missing) at row ``at[j]`` (increasing), the
    empty text elsewhere.

    The rows share ``values``' bytes: only the offsets are new, where a gather would copy every text again
    (about 6 µs per firm for the 尚缺 texts of 16 programmes)."""
    texts = pa.array(values, pa.large_string())
    if isinstance(texts, pa.ChunkedArray):  # a column put together from several pieces
        texts = texts.combine_chunks()
    assert texts.null_count == 0 and len(texts) == len(at)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    # row i ends where the texts placed at rows <= i end, so a row without a text is empty
    placed = np.zeros(rows + 1, dtype=np.int64)
    placed[np.asarray(at, dtype=np.int64) + 1] = 1
    ends = offsets[np.cumsum(placed)]
    return pd.array(pa.Array.from_buffers(pa.large_string(), rows, [None, pa.py_buffer(ends), texts.buffers()[2]]),
                    dtype=STR)

