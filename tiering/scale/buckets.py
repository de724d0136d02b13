"""The register cut into partitions of whole firms in one streaming pass, never held whole.

Every file of the register (one file, or every file of a register folder) is read a piece at a time
(:mod:`tiering.register.stream`); each row goes, as its cells were read, to a bucket chosen by the fixed hash of its
统一社会信用代码 (:func:`tiering.scale.partition.firm_hash`), and each bucket's rows of each file are spilled to a
temporary file. Buckets are many (about one per ``partition_size`` rows); once the firms are counted, consecutive
buckets make one partition of about ``partition_size`` firms. All years of a firm, from every file, are in one
partition, so a partition read back and checked as its files (:func:`read_partition`) refuses exactly what a
whole read would: a repeated firm-year — in one file or across files — lands in the same partition.

Memory is that of one piece (plus 8 bytes per firm-year of hashes to count the firms), whatever the register's
size; Excel workbooks are read whole (see tiering.register.stream).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tiering.errors import Where
from tiering.register.dataset import checked_table, combine_parts, dataset_parts, folder_keys, folder_sha256
from tiering.register.read import RawTable, rejected_cells
from tiering.register.refusals import Refusal, Register, RegisterError, rejects_frame
from tiering.register.stream import PARQUET_ROWS, PIECE_BYTES, StreamedFile, open_file
from tiering.scale.partition import firm_hash

Flag = tuple[int, int, str, str]


@dataclass(frozen=True)
class ReadOptions:
    """How the register's files are read (the command line's register options)."""

    money_unit: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    piece_bytes: int = PIECE_BYTES
    piece_rows: int = PARQUET_ROWS


@dataclass(frozen=True)
class FileRows:
    """One file's rows of one partition: where they wait and how to read them as that file's rows."""

    name: str
    sha256: str
    headers: tuple[str, ...]
    sheets: tuple[str, ...]
    spills: tuple[Path, ...]
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class PartitionFiles:
    """One partition on disk: its number and its rows, file by file (paths, never rows, travel to a worker)."""

    index: int
    files: tuple[FileRows, ...]
    money_unit: str | None = None
    rows: int = 0
    """Rows of the register in it: what the partition costs, to start the largest first."""


@dataclass
class Bucketed:
    """The register cut: its description (as a whole read would give it, without rows) and its partitions."""

    path: Path
    sha256: str
    rows_read: int
    firms: int
    partitions: list[PartitionFiles]
    money_units: dict[str, str]
    columns: dict[str, str]
    unused_columns: list[str]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


Reading = Callable[[int, int], None]
"""``reading(files done, files)``: called before the first file and as each file of the register has been cut."""


def bucket_register(path: Path, work: Path, partition_size: int, read: ReadOptions,
                    reading: Reading | None = None, slots: int = 1) -> Bucketed:
    """Cut the register at ``path`` (a file or a register folder) into partitions of about ``partition_size``
    firms under ``work`` (see the module text). ``slots`` is how many partitions run at once: their number is
    made a multiple of it, so that the workers get the same share of firms and none idles at the end while
    another finishes a last partition (partitions are a little smaller than ``partition_size`` then). RegisterError
    when a file cannot be a register, before any row is cut."""
    if partition_size < 1:
        raise ValueError(f"partition_size 应为正整数，实为 {partition_size}")
    files = _opened(path, read)
    units: dict[str, str] = {}
    for f in files:
        for key, unit in f.columns.money_units.items():
            if units.setdefault(key, unit) != unit:
                header = f.columns.headers[key]
                raise RegisterError(f"列 {header} 的金额单位为{unit}，而其他文件为{units[key]}：同一名录的各文件应使用"
                                    "同一单位", where=Where(file=f.name, column=header, field=key))
    buckets = max(1, math.ceil(sum(f.rows_bound for f in files) / partition_size))
    work.mkdir(parents=True, exist_ok=True)
    spills: dict[tuple[int, int], Path] = {}
    flags: dict[tuple[int, int], list[Flag]] = {}
    hashes: list[np.ndarray] = []
    sizes = np.zeros(buckets, dtype=np.int64)
    rows_read = 0
    notes = [f"读入文件夹 {path} 的 {len(files)} 个文件"] if path.is_dir() else []
    if reading is not None:
        reading(0, len(files))
    for number, f in enumerate(files):
        notes += _named(f, f.notes)
        for table in f.pieces():
            notes += _named(f, table.notes)
            rows_read += len(table.frame)
            _spill(table, f, number, work, spills, flags, hashes, sizes)
        if reading is not None:
            reading(number + 1, len(files))
    firms = len(np.unique(np.concatenate(hashes))) if hashes else 0
    count = max(1, min(buckets, math.ceil(math.ceil(firms / partition_size) / slots) * slots))
    partitions = []
    for k in range(count):
        mine = range(math.ceil(k * buckets / count), math.ceil((k + 1) * buckets / count))
        rows = tuple(
            FileRows(f.name, f.sha256, tuple(f.headers), tuple(f.sheets),
                     tuple(spills[(n, b)] for b in mine if (n, b) in spills),
                     tuple(x for b in mine for x in flags.get((n, b), [])))
            for n, f in enumerate(files) if any((n, b) in spills for b in mine))
        if rows:
            partitions.append(PartitionFiles(k, rows, read.money_unit, int(sizes[mine.start:mine.stop].sum())))
    first = files[0]
    return Bucketed(
        path=path, sha256=_register_sha(path, files), rows_read=rows_read, firms=firms, partitions=partitions,
        money_units=units, columns={k: v for f in reversed(files) for k, v in f.columns.headers.items()},
        unused_columns=sorted({c for f in files for c in f.columns.unused}) if path.is_dir() else first.columns.unused,
        notes=list(dict.fromkeys(notes)), warnings=list(dict.fromkeys(w for f in files for w in _named(
            f, f.columns.warnings))),
    )


def _opened(path: Path, read: ReadOptions) -> list[StreamedFile]:
    options = {"money_unit": read.money_unit, "encoding": read.encoding, "sheet": read.sheet,
               "header_row": read.header_row, "piece_bytes": read.piece_bytes, "piece_rows": read.piece_rows}
    if not path.is_dir():
        return [open_file(path, path.name, {}, **options)]  # type: ignore[arg-type]
    files = []
    for part in dataset_parts(path):
        name = part.relative_to(path).as_posix()
        try:
            files.append(open_file(part, name, folder_keys(path, part), **options))  # type: ignore[arg-type]
        except RegisterError as exc:
            raise exc.located(Where(file=str(part))) from None
    return files


def _named(f: StreamedFile, lines: list[str]) -> list[str]:
    """Lines about one file of a register folder, prefixed with its name unless they name it."""
    if f.name == f.path.name:
        return list(lines)
    return [line if f.name in line else f"{f.name}：{line}" for line in lines]


def _register_sha(path: Path, files: list[StreamedFile]) -> str:
    """The register's SHA-256 as a whole read gives it: the file's, or the folder's over every part's path and
    contents (tiering.register.dataset)."""
    if not path.is_dir():
        return files[0].sha256
    return folder_sha256((f.name, f.sha256) for f in files)


def _spill(table: RawTable, f: StreamedFile, number: int, work: Path, spills: dict[tuple[int, int], Path],
           flags: dict[tuple[int, int], list[Flag]], hashes: list[np.ndarray], sizes: np.ndarray) -> None:
    """Append each bucket's rows of one piece to that bucket's spill file of this file (``sizes``: rows per
    bucket so far)."""
    frame = table.frame
    if frame.empty:
        return
    buckets = len(sizes)
    hashed = firm_hash(frame[f.columns.positions["uscc"]])
    hashes.append(np.unique(hashed))
    which = (hashed % np.uint64(buckets)).astype(np.int64)
    sizes += np.bincount(which, minlength=buckets)
    for key, column, value, reason in table.flags:
        at = frame.index.get_loc(key)
        flags.setdefault((number, int(which[at])), []).append((key, column, value, reason))
    order = np.argsort(which, kind="stable")
    present = np.unique(which)
    bounds = np.searchsorted(which[order], np.r_[present, buckets])
    for k, bucket in enumerate(present.tolist()):
        target = spills.setdefault((number, bucket), work / f"b{bucket:05d}-f{number:05d}.pkl")
        with target.open("ab") as out:
            pickle.dump(frame.iloc[order[bounds[k]:bounds[k + 1]]], out, protocol=pickle.HIGHEST_PROTOCOL)


def _spilled(path: Path) -> Iterator[pd.DataFrame]:
    with path.open("rb") as f:
        while True:
            try:
                yield pickle.load(f)
            except EOFError:
                return


@dataclass
class PartitionRows:
    """One partition read back and checked: its register (accepted rows, refusals, warnings, notes) and the
    rejects table of its refused rows (reasons and original cells)."""

    register: Register
    rejects: pd.DataFrame


def read_partition(partition: PartitionFiles, path: Path) -> PartitionRows:
    """The rows of ``partition`` read back file by file, in each file's order, and checked as that file's rows
    (the row contract, repeated firm-years within a file and across files); ``path`` is the register's."""
    loaded: list[tuple[str, Register]] = []
    raws = []
    for f in partition.files:
        pieces = [piece for spill in f.spills for piece in _spilled(spill)]
        frame = pd.concat(pieces).sort_index(kind="stable") if len(pieces) > 1 else pieces[0]
        raw = RawTable(frame=frame, headers=list(f.headers), path=Path(f.name), sha256=f.sha256,
                       sheets=list(f.sheets), flags=list(f.flags))
        raws.append(raw)
        loaded.append((f.name, checked_table(raw, path, partition.money_unit)))
    if len(loaded) == 1:
        register = loaded[0][1]
        repeated: list[Refusal] = []
    else:
        register = combine_parts(path, loaded)
        repeated = register.refusals[sum(len(r.refusals) for _, r in loaded):]
    tables = []
    for raw, (name, own) in zip(raws, loaded, strict=True):
        refusals = [*own.refusals, *(r for r in repeated if r.file == name)]
        if refusals:
            keys = sorted({raw.key_of(r.sheet, r.row) for r in refusals})
            tables.append(rejects_frame(Register(frame=own.frame.iloc[:0], refusals=refusals, rows_read=0, path=path,
                                                 sha256="", money_units={}, columns={}, warnings=[],
                                                 rejected=rejected_cells(raw, keys))))
    rejects = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return PartitionRows(register, rejects)
