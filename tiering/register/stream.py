"""A register file read a piece at a time, so that a register larger than memory can be cut into partitions of
firms (tiering.scale) without ever being held whole.

Each piece is a :class:`~tiering.register.read.RawTable` of some of the file's rows, keyed as a whole read keys
them (the CSV line, the Parquet row + 1), so every refusal later names the row the analyst sees. The layout is
found on the first piece (header row, title and group rows, as for a whole read); 合计 lines are set aside in every
piece and remarks under the table in the last one; a malformed CSV line is flagged where it is read.

What is read whole (one piece): Excel workbooks (at most 1,048,576 rows a sheet), CSV files no larger than one
piece, UTF-16 CSV and CSV split by full-width semicolons (their lines cannot be cut on the byte of a line feed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tiering.errors import Where
from tiering.register.csvfile import DELIMITER_NAMES, csv_grid, encoding_of, sniff_delimiter
from tiering.register.dataset import add_folder_columns
from tiering.register.layout import data_rows
from tiering.register.read import (
    ColumnMap,
    RawTable,
    _drop_blank_rows,
    _from_grids,
    _header_text,
    _refuse_overlong_lines,
    map_columns,
    read_table,
)
from tiering.register.refusals import RegisterError

PIECE_BYTES = 64 << 20
"""Bytes of a CSV file read at a time (cut at the last whole line)."""
PARQUET_ROWS = 250_000
"""Rows of a Parquet file read at a time."""
SNIFF_BYTES = 1 << 16
"""Bytes looked at to tell a CSV file's encoding and delimiter."""


@dataclass
class StreamedFile:
    """One register file, opened: its description, and its rows piece by piece (:meth:`pieces`)."""

    path: Path
    name: str
    """How refusals name the file: its name, or its path inside the register folder."""
    sha256: str
    headers: list[str]
    columns: ColumnMap
    """The mapping of the headers to fields, made on the first piece (a header problem stops the run there)."""
    rows_bound: int
    """At most this many rows (known before reading them: Parquet metadata, CSV lines)."""
    sheets: list[str] = field(default_factory=lambda: [""])
    notes: list[str] = field(default_factory=list)
    _pieces: Callable[[], Iterator[RawTable]] = field(default=lambda: iter(()), repr=False)

    def pieces(self) -> Iterator[RawTable]:
        """The file's rows, a piece at a time, in file order (notes of pieces after the first are in each)."""
        return self._pieces()


def open_file(path: Path, name: str, keys: dict[str, str], *, money_unit: str | None = None,
              encoding: str | None = None, sheet: str | None = None, header_row: int | None = None,
              piece_bytes: int = PIECE_BYTES, piece_rows: int = PARQUET_ROWS,
              row_groups: tuple[int, ...] | None = None) -> StreamedFile:
    """Open a register file to be read piece by piece (see the module text); ``keys`` are the ``key=value`` folder
    names above it (put back as columns). ``row_groups``, for a Parquet file, reads only those row groups (one
    worker's slice of a large file, its rows keyed as in the whole file); the file is then not hashed (``sha256``
    is empty: the caller hashes it once). RegisterError when it cannot be a register (as a whole read would)."""
    if not path.is_file():
        raise RegisterError("找不到文件：请检查路径", where=Where(file=str(path)))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet(path, name, keys, money_unit, piece_rows, row_groups)
    if suffix == ".csv" and path.stat().st_size > piece_bytes:
        with path.open("rb") as f:
            head = _whole_lines(f.read(SNIFF_BYTES))
        detected = encoding_of(path, head, encoding)
        text = head.decode(detected, errors="replace")
        delimiter = sniff_delimiter(text[1:] if text.startswith("\ufeff") else text)
        if not detected.startswith("utf-16") and delimiter != "；":
            return _csv(path, name, keys, money_unit, detected, delimiter, header_row, piece_bytes)
    return _whole(path, name, keys, money_unit, encoding, sheet, header_row)


def _whole(path: Path, name: str, keys: dict[str, str], money_unit: str | None, encoding: str | None,
           sheet: str | None, header_row: int | None) -> StreamedFile:
    raw = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
    raw.path = Path(name)
    add_folder_columns(raw, keys)
    columns = map_columns(raw.headers, raw.frame, money_unit=money_unit)
    held = [raw]

    def pieces() -> Iterator[RawTable]:
        while held:  # handed over once: the file's rows are not kept after they are cut
            yield held.pop()

    notes, raw.notes = raw.notes, []
    return StreamedFile(path, name, raw.sha256, raw.headers, columns, len(raw.frame), raw.sheets, notes, pieces)


def _parquet(path: Path, name: str, keys: dict[str, str], money_unit: str | None, rows: int,
             row_groups: tuple[int, ...] | None) -> StreamedFile:
    try:
        file = pq.ParquetFile(path)
        # a pandas index written beside the columns (__index_level_0__) is not a column of the register
        index = {c for c in (file.schema_arrow.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
        names = [n for n in file.schema_arrow.names if n not in index]
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise RegisterError(f"不是可读的 parquet 文件（{exc}）", where=Where(file=str(path))) from exc
    headers = [_header_text(n) for n in names]
    sha = file_sha256(path) if row_groups is None else ""
    groups = range(file.num_row_groups) if row_groups is None else row_groups
    meta = file.metadata
    first = RawTable(frame=pd.DataFrame(columns=pd.RangeIndex(len(headers)), dtype=object), headers=list(headers),
                     path=Path(name), sha256=sha)
    add_folder_columns(first, keys)

    def pieces() -> Iterator[RawTable]:
        start = 2 + sum(meta.row_group(g).num_rows for g in range(groups[0] if groups else 0))
        try:
            for batch in file.iter_batches(rows, row_groups=list(groups), columns=names):
                frame = batch.to_pandas(split_blocks=True)
                frame = frame.set_axis(pd.RangeIndex(start, start + len(frame)), axis=0)
                frame = frame.set_axis(pd.RangeIndex(len(names)), axis=1)
                start += len(frame)
                for position in range(len(names), len(first.headers)):
                    frame[position] = keys[first.headers[position]]
                table = RawTable(frame=frame, headers=list(first.headers), path=Path(name), sha256=sha)
                _drop_blank_rows(table)
                yield table
        except (OSError, pa.ArrowException) as exc:
            raise RegisterError(f"不是可读的 parquet 文件（{exc}）", where=Where(file=str(path))) from exc

    columns = map_columns(first.headers, first.frame, money_unit=money_unit)
    return StreamedFile(path, name, sha, first.headers, columns, sum(meta.row_group(g).num_rows for g in groups),
                        notes=first.notes, _pieces=pieces)


def _csv(path: Path, name: str, keys: dict[str, str], money_unit: str | None, encoding: str, delimiter: str,
         header_row: int | None, piece_bytes: int) -> StreamedFile:
    sha, lines = _sha256_and_lines(path)
    notes = [] if encoding == "utf-8-sig" else [f"{path.name} 按 {encoding} 编码读入"]
    if delimiter != ",":
        notes.append(f"{path.name} 的分隔符是{DELIMITER_NAMES[delimiter]}")

    def tables() -> Iterator[RawTable]:
        headers: list[str] | None = None
        for first_line, data, last in _line_pieces(path, piece_bytes):
            grid = csv_grid(path, data, encoding, delimiter, first_line)
            if headers is None:
                if grid.empty:
                    raise RegisterError("是空文件：应有一行表头，其下每行一个企业年度", where=Where(file=str(path)))
                table = _from_grids(path, sha, [("", grid, [])], header_row, sheet_named=False, table_ends=last)
                table.notes[:0] = notes
            else:
                body, below = data_rows(grid, headers, last)
                wide = max(len(headers), body.shape[1])
                table = RawTable(frame=body.reindex(columns=pd.RangeIndex(wide)),
                                 headers=headers + [""] * (wide - len(headers)), path=path, sha256=sha, notes=below)
            _refuse_overlong_lines(table)
            if headers is None:
                headers = list(table.headers)
            table.frame = table.frame.reindex(columns=pd.RangeIndex(len(headers)))
            table.headers = list(headers)
            table.path = Path(name)
            add_folder_columns(table, keys)
            _drop_blank_rows(table)
            yield table

    first = next(tables())
    columns = map_columns(first.headers, first.frame, money_unit=money_unit)

    def pieces() -> Iterator[RawTable]:
        for k, table in enumerate(tables()):
            if k == 0:
                table.notes = []  # said once, as the file's notes
            yield table

    return StreamedFile(path, name, sha, first.headers, columns, lines + 1, notes=first.notes, _pieces=pieces)


def _whole_lines(data: bytes) -> bytes:
    """``data`` up to its last line feed (all of it when it has none)."""
    end = data.rfind(b"\n")
    return data[:end + 1] if end >= 0 else data


def _line_pieces(path: Path, piece_bytes: int) -> Iterator[tuple[int, bytes, bool]]:
    """(first line number, whole lines, whether it is the last piece): the file cut after a line feed that is not
    inside a quoted cell (an even number of quotes before it)."""
    with path.open("rb") as f:
        line, carry = 1, b""
        block = f.read(piece_bytes)
        while True:
            ahead = f.read(piece_bytes)
            data = carry + block
            if not ahead:
                if data:
                    yield line, data, True
                return
            cut = _cut(data)
            carry, block = data[cut:], ahead
            if cut:
                yield line, data[:cut], False
                line += data.count(b"\n", 0, cut)


def _cut(data: bytes) -> int:
    """The end of the last line of ``data`` that closes every quote it opens (0 when there is none)."""
    quotes = data.count(b'"')
    end = len(data)
    while (feed := data.rfind(b"\n", 0, end)) >= 0:
        if (quotes - data.count(b'"', feed + 1)) % 2 == 0:
            return feed + 1
        end = feed
    return 0


def _sha256_and_lines(path: Path) -> tuple[str, int]:
    digest, lines = hashlib.sha256(), 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
