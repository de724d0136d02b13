"""Texts of many firms at once, put together column by column: each piece is written once per distinct value and
the pieces of all rows are concatenated in one call.

A register's 尚缺 are tens of millions of characters; joining them string by string in Python was most of their
cost. :class:`ArrowTexts` keeps a column as an Arrow array and concatenates in Arrow; :class:`ListTexts` keeps it
as a Python list, for one firm's lacks (``tiering explain``), which must not load Arrow. Both hold the same texts:
the code that decides a text is the same, only the concatenation differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

Column = Any
"""One text per row: a ``list[str]`` of :class:`ListTexts` or a ``pyarrow.LargeStringArray`` of
:class:`ArrowTexts`; either kind accepts a plain list of strings wherever it takes a column."""


class Texts(Protocol):
    """The operations the 尚缺 texts are put together with."""

    def of(self, texts: Column) -> Column:
        """``texts`` (a list of strings or a column) as a column of this kind."""

    def cat(self, *parts: str | Column) -> Column:
        """Row by row, the parts concatenated; a ``str`` is the same in every row (at least one part is a
        column)."""

    def take(self, texts: Sequence[str] | Column, index: np.ndarray) -> Column:
        """Row i is ``texts[index[i]]``."""

    def numbers(self, values: np.ndarray) -> Column:
        """Non-negative integers in decimal digits ('12345')."""

    def concat(self, columns: Sequence[Column]) -> Column:
        """The rows of ``columns`` one after another."""

    def part(self, texts: Column, start: int, rows: int) -> Column:
        """Rows ``start`` to ``start + rows`` (without copying the texts where the kind allows it)."""

    def gather(self, columns: Sequence[Column], index: np.ndarray) -> Column:
        """Row i is row ``index[i]`` of the rows of ``columns`` one after another."""

    def lengths(self, texts: Column) -> np.ndarray:
        """Per row, a length that is equal for equal texts (0 exactly for the empty text)."""

    def starts_with(self, texts: Column, prefix: str) -> np.ndarray:
        """Per row, whether it starts with ``prefix``."""

    def equal(self, a: Column, b: Column) -> np.ndarray:
        """Per row, whether the two columns hold the same text."""

    def strings(self, texts: Column) -> list[str]:
        """The rows as Python strings."""

    def glue(self, texts: Column, starts: np.ndarray) -> Column:
        """Per group of consecutive rows (group g starts at row ``starts[g]``, increasing, the first at 0, none
        empty), its rows one after another."""


@dataclass
class Groups:
    """Texts to join: groups of rows of ``columns`` (their rows one after another), the rows named by ``index``,
    group g from entry ``starts[g]`` of it (increasing, the first at 0, none empty)."""

    columns: list[Column]
    index: np.ndarray
    starts: np.ndarray


def join(texts: Texts, parts: Sequence[Groups], sep: str) -> Column:
    """Per group of ``parts`` (one after another), its rows joined by ``sep``.

    One gather per part writes its texts: the separators are rows of their own between the rows of a group, and a
    group is then the run of gathered rows from its first. The parts' texts are then put one after another: a
    gather reads its part's columns alone (Arrow copies every column it reads into one array first, and a
    register's 尚缺 are tens of megabytes), and the memory of one part's gather serves the next."""
    joined = []
    for part in parts:
        every, first = part.index, part.starts
        # entry i moves behind the separators before it: one before each entry that does not start a group
        after = np.ones(len(every), dtype=np.int64)
        after[first] = 0
        at = np.arange(len(every)) + np.cumsum(after)
        rows = sum(len(c) for c in part.columns)
        gathered = np.full(len(every) + int(after.sum()), rows, dtype=np.int64)  # row `rows` is the separator
        gathered[at] = every
        joined.append(texts.glue(texts.gather([*part.columns, [sep]], gathered), at[first]))
    return joined[0] if len(joined) == 1 else texts.concat(joined)


def arranged(rows: int, pieces: Sequence[tuple[np.ndarray, Column]]) -> tuple[list[Column], np.ndarray]:
    """The pieces' columns and, per row of ``rows``, its row among their rows one after another: each piece's texts
    at its positions (increasing); a row no piece covers points one past their last row."""
    index = np.full(rows, -1, dtype=np.int64)
    start = 0
    for at, _ in pieces:
        index[at] = np.arange(start, start + len(at))
        start += len(at)
    index[index < 0] = start
    return [column for _, column in pieces], index


def place(texts: Texts, rows: int, pieces: Sequence[tuple[np.ndarray, Column]], fill: str = "") -> Column:
    """A column of ``rows`` rows: each piece's texts at its positions (increasing), ``fill`` elsewhere."""
    if len(pieces) == 1 and len(pieces[0][0]) == rows:
        return texts.of(pieces[0][1])  # one piece everywhere: nothing to move
    columns, index = arranged(rows, pieces)
    return texts.gather([*columns, [fill]], index)


def mend(texts: Texts, said: Column, sure: np.ndarray, redo: Callable[[np.ndarray], Column]) -> Column:
    """``said`` where ``sure``; elsewhere what ``redo`` writes for those positions (increasing), in one gather."""
    unsure = np.flatnonzero(~sure)
    if not len(unsure):
        return said
    index = np.arange(len(sure))
    index[unsure] = len(sure) + np.arange(len(unsure))
    return texts.gather([said, redo(unsure)], index)


class ListTexts:
    """Columns as Python lists."""

    def of(self, texts: Column) -> list[str]:
        return list(texts)

    def cat(self, *parts: str | Column) -> list[str]:
        rows = next(len(p) for p in parts if not isinstance(p, str))
        return ["".join(row) for row in zip(*[[p] * rows if isinstance(p, str) else p for p in parts], strict=True)]

    def take(self, texts: Sequence[str] | Column, index: np.ndarray) -> list[str]:
        return [texts[i] for i in np.asarray(index).tolist()]

    def numbers(self, values: np.ndarray) -> list[str]:
        return [str(v) for v in np.asarray(values).tolist()]

    def concat(self, columns: Sequence[Column]) -> list[str]:
        return [t for c in columns for t in c]

    def part(self, texts: Column, start: int, rows: int) -> list[str]:
        return list(texts[start:start + rows])

    def gather(self, columns: Sequence[Column], index: np.ndarray) -> list[str]:
        return self.take(self.concat(columns), index)

    def lengths(self, texts: Column) -> np.ndarray:
        return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))

    def starts_with(self, texts: Column, prefix: str) -> np.ndarray:
        return np.fromiter((t.startswith(prefix) for t in texts), dtype=bool, count=len(texts))

    def equal(self, a: Column, b: Column) -> np.ndarray:
        return np.fromiter(map(str.__eq__, a, b), dtype=bool, count=len(a))

    def strings(self, texts: Column) -> list[str]:
        return list(texts)

    def glue(self, texts: Column, starts: np.ndarray) -> list[str]:
        bounds = [*np.asarray(starts).tolist(), len(texts)]
        return ["".join(texts[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


class ArrowTexts:
    """Columns as Arrow large-string arrays, concatenated by Arrow."""

    def __init__(self) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.pa, self.pc = pa, pc
        self.type = pa.large_string()
        self._nothing = pa.scalar("", self.type)

    def of(self, texts: Column) -> pa.Array:
        if isinstance(texts, self.pa.Array):
            return texts if texts.type == self.type else texts.cast(self.type)
        return self.pa.array(list(texts), self.type)

    def cat(self, *parts: str | Column) -> pa.Array:
        args = [self.pa.scalar(p, self.type) if isinstance(p, str) else self.of(p) for p in parts]
        return self.pc.binary_join_element_wise(*args, self._nothing)

    def take(self, texts: Sequence[str] | Column, index: np.ndarray) -> pa.Array:
        return self.of(texts).take(np.asarray(index, dtype=np.int64))

    def numbers(self, values: np.ndarray) -> pa.Array:
        return self.pc.cast(self.pa.array(np.asarray(values, dtype=np.int64)), self.type)

    def concat(self, columns: Sequence[Column]) -> pa.Array:
        arrays = [self.of(c) for c in columns]
        return self.pa.concat_arrays(arrays) if arrays else self.pa.array([], self.type)

    def part(self, texts: Column, start: int, rows: int) -> pa.Array:
        return self.of(texts).slice(start, rows)

    def gather(self, columns: Sequence[Column], index: np.ndarray) -> pa.Array:
        arrays = [self.of(c) for c in columns]
        index = np.asarray(index, np.int64)
        sizes = [len(a) for a in arrays]
        if len(arrays) > 1 and 4 * len(index) < sum(sizes):
            # a few rows of many columns: Arrow takes from several arrays by first copying them all into one, so
            # each column gives only its own rows, and those few are put in order
            starts = np.cumsum([0, *sizes])
            which = np.searchsorted(starts, index, side="right") - 1
            order = np.argsort(which, kind="stable")
            used, first = np.unique(which[order], return_index=True)
            bounds = [*first.tolist(), len(order)]
            pieces = [arrays[c].take(index[order[a:b]] - starts[c])
                      for c, a, b in zip(used.tolist(), bounds[:-1], bounds[1:], strict=False)]
            back = np.empty(len(order), np.int64)
            back[order] = np.arange(len(order))
            return self.concat(pieces).take(back)
        taken = self.pa.chunked_array(arrays, self.type).take(index)
        return taken.chunk(0) if taken.num_chunks == 1 else taken.combine_chunks()

    def lengths(self, texts: Column) -> np.ndarray:
        return np.asarray(self.pc.binary_length(self.of(texts)), dtype=np.int64)

    def starts_with(self, texts: Column, prefix: str) -> np.ndarray:
        return np.asarray(self.pc.starts_with(self.of(texts), prefix), dtype=bool)

    def equal(self, a: Column, b: Column) -> np.ndarray:
        return np.asarray(self.pc.equal(self.of(a), self.of(b)), dtype=bool)

    def strings(self, texts: Column) -> list[str]:
        return self.of(texts).to_pylist()

    def glue(self, texts: Column, starts: np.ndarray) -> pa.Array:
        # a group's text is the bytes from its first row's start to the next group's: only the offsets are new
        texts = self.of(texts)
        offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
        bounds = offsets[np.append(np.asarray(starts, dtype=np.int64), len(texts))]
        return self.pa.Array.from_buffers(self.type, len(starts), [None, self.pa.py_buffer(bounds), texts.buffers()[2]])
