"""Firms numbered in 统一社会信用代码 order, fast enough for registers of millions of rows.

Hashing or sorting millions of strings costs a second or more, so codes are sorted as integers. A valid code has
18 characters from a 31-character alphabet whose byte order is its value order: five bits per character put the
first twelve characters in one 64-bit word and the last six (30 bits) in a second. The first word is replaced by
its rank among the distinct first words (few: they hold the registration authority and region), which leaves
room for the second word in one 64-bit key; rows are sorted stably by year, then by that key. Codes of another
shape (other widths, other characters) are sorted by the big-endian integers of their bytes, eight at a time,
and codes of mixed widths by pandas' sorted factorize; all three give the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tiering.uscc import ALPHABET

_WORD = 8  # bytes per integer key
_NOT_ALLOWED = 1 << 10  # above any pair of 5-bit character values


def _pair_values() -> np.ndarray:
    """For two characters read as one little-endian 16-bit number: first value × 32 + second, or _NOT_ALLOWED."""
    value = np.full(256, _NOT_ALLOWED, dtype=np.uint16)
    value[[ord(c) for c in ALPHABET]] = np.arange(len(ALPHABET))
    first, second = value[np.arange(1 << 16) & 0xFF], value[np.arange(1 << 16) >> 8]
    return np.where((first | second) >= _NOT_ALLOWED, _NOT_ALLOWED, first << 5 | second).astype(np.uint16)


_PAIR_VALUES = _pair_values()


def sort_rows(codes: pd.Series, years: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows that have a code (and a year, when ``years`` is given) sorted by (code, year, row), and the firm
    number of each of those rows: 0, 1, 2 … in code order, equal for equal codes."""
    present = codes.notna().to_numpy(dtype=bool)
    if years is not None:
        present = present & ~np.isnan(years)
    rows = np.flatnonzero(present)
    known = codes if len(rows) == len(codes) else pd.Series(codes.array.take(rows), copy=False)
    known_years = None if years is None else years[rows]
    data = fixed_width_bytes(known)
    sorted_ = _packed_sort(data, known_years) if data is not None and data.shape[1] == 18 else None
    order, firm = sorted_ if sorted_ is not None else _lexsort(data, known, known_years)
    return rows[order], firm


def _packed_sort(data: np.ndarray, years: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(order, firm numbers) for 18-byte codes from the code alphabet, by one 64-bit key; None if they are not."""
    # the nine character pairs as contiguous rows: a lookup over a strided column is three times slower
    pairs = np.ascontiguousarray(np.ascontiguousarray(data).view("<u2").T)
    high, low = _pack(pairs[:6]), _pack(pairs[6:])
    if high is None or low is None:
        return None
    codes, distinct = pd.factorize(high)
    rank = np.empty(len(distinct), dtype=np.uint64)
    rank[np.argsort(distinct)] = np.arange(len(distinct), dtype=np.uint64)
    key = rank[codes] << np.uint64(30) | low
    # by year first, then stably by code: two stable integer sorts, and the year needs no room in the key
    order = np.arange(len(key)) if years is None else np.argsort(years, kind="stable")
    order = order[np.argsort(key[order], kind="stable")]
    firm_key = key[order]
    return order, _numbers(firm_key[1:] != firm_key[:-1], len(order))


def _pack(pairs: np.ndarray) -> np.ndarray | None:
    """Rows of character pairs as one integer per code, ten bits per pair; None if a character is outside the
    alphabet."""
    packed = np.zeros(pairs.shape[1], dtype=np.uint64)
    share = np.empty(pairs.shape[1], dtype=np.uint16)
    for row in pairs:
        np.take(_PAIR_VALUES, row, out=share)
        if len(share) and share.max() >= _NOT_ALLOWED:
            return None
        packed <<= np.uint64(10)
        packed |= share
    return packed


def _lexsort(data: np.ndarray | None, known: pd.Series,
             years: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    keys = _byte_words(data) if data is not None else [pd.factorize(known, sort=True)[0]]
    # np.lexsort sorts by its last key first, and is stable: equal (code, year) keep their row order
    order = np.lexsort(([years] if years is not None else []) + keys[::-1])
    new_firm = np.zeros(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        ordered = key[order]
        new_firm |= ordered[1:] != ordered[:-1]
    return order, _numbers(new_firm, len(order))


def _numbers(new_firm: np.ndarray, rows: int) -> np.ndarray:
    """Firm numbers of ``rows`` sorted rows from where a new firm starts (row 1 onwards; row 0 starts one)."""
    if rows == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(new_firm)]).astype(np.int64)


FirmNumbers = tuple[np.ndarray, np.ndarray]
"""Each row's firm number (0, 1, … in code order; -1 where the code is missing) and the codes by number."""


def number_firms(codes: pd.Series) -> FirmNumbers:
    """A firm number for every row (-1 where the code is missing) and the codes by number, in code order."""
    return numbers_of_sorted(*sort_rows(codes), codes)


def numbers_of_sorted(rows: np.ndarray, firm: np.ndarray, codes: pd.Series) -> FirmNumbers:
    """The numbering of ``codes`` from a sort already made: ``rows`` (positions in ``codes``) sorted by code, and
    their non-decreasing firm numbers ``firm``, which may skip numbers (firms whose rows were all refused)."""
    numbers = np.full(len(codes), -1, dtype=np.int64)
    starts = np.r_[True, firm[1:] != firm[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    numbers[rows] = np.cumsum(starts) - 1
    return numbers, codes.iloc[rows[starts]].to_numpy(dtype=object)


def _byte_words(data: np.ndarray) -> list[np.ndarray]:
    """Unsigned integer keys, most significant first, whose lexicographic order is the order of the byte rows of
    ``data`` (codes of one width in bytes; UTF-8 byte order is code point order)."""
    rows, width = data.shape
    keys = []
    for start in range(0, width, _WORD):
        chunk = np.zeros((rows, _WORD), dtype=np.uint8)  # a short last chunk is padded with zero bytes
        chunk[:, : min(_WORD, width - start)] = data[:, start: start + _WORD]
        keys.append(chunk.view(">u8").ravel().astype(np.uint64))
    return keys


def fixed_width_bytes(text: pd.Series) -> np.ndarray | None:
    """The UTF-8 bytes of ``text`` as a (rows, width) array, straight from arrow's buffer, when no cell is missing
    and every one has the same non-zero length in bytes; None otherwise."""
    try:
        array = pa.array(text, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if len(array) == 0 or array.null_count:
        return None
    lengths = pc.binary_length(array)
    width = pc.min(lengths).as_py()
    if width != pc.max(lengths).as_py() or width == 0:
        return None
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    return np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(len(array), width)
