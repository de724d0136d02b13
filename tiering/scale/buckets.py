"""The register cut into partitions of whole firms, the cutting shared out over the run's workers, never held whole.

The driver only plans (:func:`plan_slices`): it lists the register's files and cuts each into slices — a Parquet
file into runs of its row groups (from its metadata), any other file whole. Workers cut the slices at once
(:func:`cut_slice`): each reads its slice a piece at a time (:mod:`tiering.register.stream`) and sends each row, as
its cells were read, to a bucket chosen by the top bits of the fixed hash of its 统一社会信用代码
(:func:`tiering.scale.partition.firm_hash`), spilled with the rows' hashes and flags to that slice's file of the
bucket. Paths, never rows, travel back. Once every slice is cut and the firms counted (:func:`bucket_register`),
partition k is the k-th of equal ranges of the hashes (:func:`tiering.scale.partition.hash_bounds`): it reads, from
every slice, the buckets that overlap its range and keeps the rows in it (:func:`read_partition`). All years of a
firm, from every file, are in one partition, so a partition read back and checked as its files refuses exactly what
a whole read would: a repeated firm-year — in one file or across files — lands in the same partition.

Memory is that of one piece per worker (plus 8 bytes per firm-year of hashes in the driver, to count the firms and
size the partitions), whatever the register's size; Excel workbooks are read whole (see tiering.register.stream).
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tiering.errors import Where
from tiering.register.dataset import (
    HEADER_ONLY,
    checked_table,
    combine_parts,
    dataset_parts,
    folder_keys,
    folder_notes,
    folder_sha256,
    refusal_order,
)
from tiering.register.read import ColumnMap, RawTable, rejected_cells
from tiering.register.refusals import Refusal, Register, RegisterError, rejects_frame
from tiering.register.stream import PARQUET_ROWS, PIECE_BYTES, StreamedFile, file_sha256, open_file
from tiering.scale.partition import firm_hash, hash_bounds
from tiering.scale.runner import Map

Flag = tuple[int, int, str, str]
BYTES_PER_ROW = 100
"""A guess at a register row's bytes in a file that is not Parquet (whose rows are known before reading them): it
only sets how finely the slices are bucketed, never which partition a row is in."""
HASHES = 1 << 64
"""One past the largest 64-bit hash."""


@dataclass(frozen=True)
class ReadOptions:
    """How the register's files are read (the command line's register options)."""

    money_unit: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    piece_bytes: int = PIECE_BYTES
    piece_rows: int = PARQUET_ROWS


@dataclass
class Slice:
    """Some rows of one register file, cut by one worker: the whole file, or a run of a Parquet file's row groups."""

    number: int
    """Its place among the register's slices, in file order, then row order."""
    file: int
    path: Path
    name: str
    """How refusals name the file: its name, or its path inside the register folder."""
    keys: dict[str, str]
    """The ``key=value`` folder names above the file (put back as columns)."""
    row_groups: tuple[int, ...] | None
    """The Parquet row groups of the slice; None: the whole file."""
    hashes_file: bool
    """Whether this slice also hashes the whole file: the first of a Parquet file cut in several slices."""
    in_folder: bool
    read: ReadOptions
    work: Path
    bits: int
    """The buckets are the top ``bits`` bits of a firm's hash (one bucket when 0)."""


@dataclass
class SliceCut:
    """What a worker sends back of a slice it cut: the file's description, its rows' hashes and its spill files."""

    number: int
    file: int
    name: str
    sha256: str
    """The file's SHA-256; empty for a Parquet file's slices after the first."""
    headers: tuple[str, ...]
    sheets: tuple[str, ...]
    columns: ColumnMap
    notes: list[str]
    warnings: list[str]
    rows: int
    hashes: np.ndarray
    """The hash of every row's firm, sorted."""
    spills: dict[int, Path]
    """Bucket -> its spill file (buckets with rows only)."""
    bits: int


Cut = SliceCut | RegisterError
"""A slice cut, or why its file cannot be a register (raised by the driver, the first in file order)."""


@dataclass(frozen=True)
class FileRows:
    """One file's rows of one partition: where they wait and how to read them as that file's rows."""

    name: str
    sha256: str
    headers: tuple[str, ...]
    sheets: tuple[str, ...]
    spills: tuple[Path, ...]
    """The buckets of the file's slices that overlap the partition's hashes, in file order."""
    file: int = 0
    """The file's place in the register folder (0 for a register of one file)."""


@dataclass(frozen=True)
class PartitionFiles:
    """One partition on disk: its number, its range of hashes and its rows, file by file (paths, never rows,
    travel to a worker)."""

    index: int
    files: tuple[FileRows, ...]
    low: int
    high: int
    """The partition holds the firms whose hash is at least ``low`` and below ``high``."""
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
"""``reading(slices done, slices)``: called before the first slice and as each slice of the register has been cut."""


def plan_slices(path: Path, work: Path, partition_size: int, read: ReadOptions) -> list[Slice]:
    """The slices of the register at ``path`` (a file or a register folder), from file names and Parquet metadata
    only: a Parquet file is cut between row groups into runs of at least a piece (``read.piece_rows``), any other
    file is one slice. RegisterError when a folder holds no register file."""
    files = [(path, path.name, {})] if not path.is_dir() else [
        (part, part.relative_to(path).as_posix(), folder_keys(path, part)) for part in dataset_parts(path)]
    groups = [_row_groups(f) for f, _, _ in files]
    estimate = sum(f.stat().st_size // BYTES_PER_ROW if g is None else sum(g) for (f, _, _), g in zip(files, groups,
                                                                                                       strict=True))
    bits = (max(1, math.ceil(estimate / partition_size)) - 1).bit_length()
    slices: list[Slice] = []
    for number, ((file, name, keys), rows) in enumerate(zip(files, groups, strict=True)):
        runs = _runs(rows or [], read.piece_rows)
        for k, run in enumerate(runs if len(runs) > 1 else [None]):
            slices.append(Slice(len(slices), number, file, name, keys, run, run is not None and k == 0,
                                path.is_dir(), read, work, bits))
    return slices


def _row_groups(path: Path) -> list[int] | None:
    """Rows of each row group of a Parquet file; None for another file, or one that cannot be read (its slice's
    worker says why, as a whole read would)."""
    if path.suffix.lower() != ".parquet":
        return None
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # pyarrow raises several unrelated types for a damaged file
        return None
    return [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]


def _runs(rows: list[int], least: int) -> list[tuple[int, ...]]:
    """Consecutive row groups in runs of at least ``least`` rows (the last run may be shorter)."""
    runs: list[tuple[int, ...]] = []
    run: list[int] = []
    held = 0
    for group, n in enumerate(rows):
        run.append(group)
        held += n
        if held >= least:
            runs.append(tuple(run))
            run, held = [], 0
    if run:
        runs.append(tuple(run))
    return runs


def cut_slice(task: Slice) -> Cut:
    """Read one slice a piece at a time and spill each piece's rows, bucket by bucket, to the slice's spill files
    (each written under a temporary name, then renamed, so that a retried slice writes them afresh); the
    RegisterError that stops it is returned, to be raised in file order by the driver."""
    read = task.read
    try:
        try:
            f = open_file(task.path, task.name, task.keys, money_unit=read.money_unit, encoding=read.encoding,
                          sheet=read.sheet, header_row=read.header_row, piece_bytes=read.piece_bytes,
                          piece_rows=read.piece_rows, row_groups=task.row_groups)
        except RegisterError as exc:
            raise exc.located(Where(file=str(task.path))) if task.in_folder else exc from None
        notes = _named(f, f.notes, task.in_folder)
        touched: set[int] = set()
        hashes = []
        rows = 0
        for table in f.pieces():
            notes += _named(f, table.notes, task.in_folder)
            rows += len(table.frame)
            hashes.append(_spill(table, f, task, touched))
        if not rows and task.in_folder:
            notes.append(f"{f.name}：{HEADER_ONLY}")
    except RegisterError as exc:
        return exc
    spills = {}
    for bucket in sorted(touched):
        spills[bucket] = _spill_path(task, bucket)
        _spill_path(task, bucket, partial=True).replace(spills[bucket])
    warnings = _named(f, f.columns.warnings, task.in_folder)
    return SliceCut(task.number, task.file, task.name, f.sha256 or (file_sha256(task.path) if task.hashes_file else ""),
                    tuple(f.headers), tuple(f.sheets), f.columns, notes, warnings, rows,
                    np.sort(np.concatenate(hashes)) if hashes else np.empty(0, dtype=np.uint64), spills, task.bits)


def _spill_path(task: Slice, bucket: int, partial: bool = False) -> Path:
    name = f"s{task.number:05d}-b{bucket:05d}.spill"
    return task.work / (f".{name}.partial" if partial else name)


def bucket_of(hashes: np.ndarray, bits: int) -> np.ndarray:
    """The bucket of each hash: its top ``bits`` bits."""
    if bits == 0:
        return np.zeros(len(hashes), dtype=np.int64)
    return (hashes >> np.uint64(64 - bits)).astype(np.int64)


def bucket_register(path: Path, work: Path, partition_size: int, read: ReadOptions, cut: Map,
                    reading: Reading | None = None, slots: int = 1) -> Bucketed:
    """Cut the register at ``path`` (a file or a register folder) into partitions of about ``partition_size``
    firms under ``work`` (see the module text), its slices cut by ``cut`` (a runner's ``map``). ``slots`` is how
    many partitions run at once: their number is made a multiple of it, so that the workers get the same share of
    firms and none idles at the end while another finishes a last partition (partitions are a little smaller than
    ``partition_size`` then). RegisterError when a file cannot be a register (the first such file), before any
    partition is classified."""
    slices = plan_slices(path, work, partition_size, read)
    work.mkdir(parents=True, exist_ok=True)
    done = iter(range(1, len(slices) + 1))
    if reading is not None:
        reading(0, len(slices))
    cuts = sorted(cut(cut_slice, slices, lambda _c: reading and reading(next(done), len(slices))),
                  key=lambda c: c.number if isinstance(c, SliceCut) else -1)
    for c in cuts:
        if isinstance(c, RegisterError):
            raise c
    cuts_of: dict[int, list[SliceCut]] = {}
    for c in cuts:
        cuts_of.setdefault(c.file, []).append(c)  # type: ignore[union-attr]
    files = [of[0] for of in cuts_of.values()]
    units: dict[str, str] = {}
    for f in files:
        for key, unit in f.columns.money_units.items():
            if units.setdefault(key, unit) != unit:
                header = f.columns.headers[key]
                raise RegisterError(f"列 {header} 的金额单位为{unit}，而其他文件为{units[key]}：同一名录的各文件应使用"
                                    "同一单位", where=Where(file=f.name, column=header, field=key))
    everything = np.sort(np.concatenate([c.hashes for c in cuts]))  # type: ignore[union-attr]
    firms = int(np.count_nonzero(np.diff(everything))) + 1 if len(everything) else 0
    count = max(1, math.ceil(math.ceil(firms / partition_size) / slots) * slots)
    bounds = [*(int(b) for b in hash_bounds(count)), HASHES]
    partitions = []
    for k in range(count):
        rows = _between(everything, bounds[k], bounds[k + 1])
        if rows:
            partitions.append(PartitionFiles(k, tuple(_file_rows(of, bounds[k], bounds[k + 1])
                                                      for of in cuts_of.values()
                                                      if any(_between(c.hashes, bounds[k], bounds[k + 1]) for c in of)),
                                             bounds[k], bounds[k + 1], read.money_unit, rows))
    notes = folder_notes(path, len(files)) if path.is_dir() else []
    shas = [next((c.sha256 for c in of if c.sha256), "") for of in cuts_of.values()]
    return Bucketed(
        path=path, sha256=folder_sha256(zip((f.name for f in files), shas, strict=True)) if path.is_dir() else shas[0],
        rows_read=sum(c.rows for c in cuts), firms=firms, partitions=partitions,  # type: ignore[union-attr]
        money_units=units, columns={k: v for f in reversed(files) for k, v in f.columns.headers.items()},
        unused_columns=sorted({c for f in files for c in f.columns.unused}) if path.is_dir() else
        files[0].columns.unused,
        notes=list(dict.fromkeys([*notes, *(n for c in cuts for n in c.notes)])),  # type: ignore[union-attr]
        warnings=list(dict.fromkeys(w for f in files for w in f.warnings)),
    )


def _between(hashes: np.ndarray, low: int, high: int) -> int:
    """How many of the sorted ``hashes`` are at least ``low`` and below ``high``."""
    end = len(hashes) if high == HASHES else int(np.searchsorted(hashes, np.uint64(high)))
    return end - int(np.searchsorted(hashes, np.uint64(low)))


def _file_rows(cuts: list[SliceCut], low: int, high: int) -> FileRows:
    """One file's share of the partition of hashes ``low`` … ``high``: its slices' buckets that overlap them."""
    first = cuts[0]
    spills = []
    for c in cuts:
        shift = 64 - c.bits
        top = range(0, 1) if shift == 64 else range(low >> shift, ((high - 1) >> shift) + 1)
        spills += [c.spills[b] for b in top if b in c.spills]
    return FileRows(first.name, next((c.sha256 for c in cuts if c.sha256), ""), first.headers, first.sheets,
                    tuple(spills), first.file)


def _named(f: StreamedFile, lines: list[str], in_folder: bool) -> list[str]:
    """Lines about one file of a register folder, prefixed with its name unless they name it, as a whole read of
    the folder names them (a register of one file is not named)."""
    if not in_folder:
        return list(lines)
    return [line if f.name in line else f"{f.name}：{line}" for line in lines]


def _spill(table: RawTable, f: StreamedFile, task: Slice, touched: set[int]) -> np.ndarray:
    """Append each bucket's rows of one piece, with their hashes and flags, to that bucket's spill file of the
    slice (``touched``: buckets written so far); the hash of every row."""
    frame = table.frame
    if frame.empty:
        return np.empty(0, dtype=np.uint64)
    hashed = firm_hash(frame[f.columns.positions["uscc"]])
    which = bucket_of(hashed, task.bits)
    flags: dict[int, list[Flag]] = {}
    for key, column, value, reason in table.flags:
        flags.setdefault(int(which[frame.index.get_loc(key)]), []).append((key, column, value, reason))
    typed = not table.flags and _arrow_holds(frame)
    order = np.argsort(which, kind="stable")
    present = np.unique(which)
    bounds = np.searchsorted(which[order], np.r_[present, which.max() + 1])
    for k, bucket in enumerate(present.tolist()):
        mine = order[bounds[k]:bounds[k + 1]]
        with _spill_path(task, bucket, partial=True).open("r+b" if bucket in touched else "wb") as out:
            # the chunk goes straight to the file and its length is filled in after: a piece is a few hundred MB
            # of columns, and every copy of it in memory costs fresh pages (most of the cutting's system time)
            start = out.seek(0, os.SEEK_END)
            out.write(bytes(8))
            if typed:
                out.write(ARROW)
                _write_arrow(out, frame.iloc[mine], hashed[mine])
            else:
                out.write(PICKLED)
                pickle.dump((frame.iloc[mine], hashed[mine], flags.get(bucket, [])), out,
                            protocol=pickle.HIGHEST_PROTOCOL)
            end = out.tell()
            out.seek(start)
            out.write((end - start - 8).to_bytes(8, "little"))
        touched.add(bucket)
    return hashed


ARROW, PICKLED = b"A", b"P"
"""How a chunk of a spill file is kept (after its length): Arrow IPC when Arrow gives the piece's columns back as
they are (typed columns, as a Parquet register's and most CSV pieces'), else a pickled frame — a column of Python
objects holding text or mixed cells (an Excel sheet's numbers beside text, dates beside 2015年3月1日), which Arrow
would read back as another type or refuses, or a piece with flagged cells (kept beside the rows)."""
HASH_COLUMN = "hash"
"""The rows' hashes, beside the columns (named by position, "0", "1", …) of an Arrow chunk."""
SAME_OBJECTS = (pa.null(), pa.date32())
"""Arrow types that come back as the same Python objects in a column of objects (None, datetime.date)."""


def _arrow_holds(frame: pd.DataFrame) -> bool:
    """Whether the piece's columns come back from Arrow as they are: every column of Python objects is all blank
    or all dates (Arrow would read text back as a string column, and refuses mixed cells)."""
    objects = [c for c in frame.columns if frame[c].dtype == object]
    try:
        schema = pa.Schema.from_pandas(frame[objects].set_axis([str(c) for c in objects], axis=1),
                                       preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return all(t in SAME_OBJECTS for t in schema.types)


def _write_arrow(out: BinaryIO, frame: pd.DataFrame, hashes: np.ndarray) -> None:
    named = frame.set_axis([str(c) for c in frame.columns], axis=1)
    named[HASH_COLUMN] = hashes
    table = pa.Table.from_pandas(named, preserve_index=True)
    with pa.ipc.new_stream(out, table.schema) as writer:
        writer.write_table(table)


def _spilled(path: Path) -> Iterator[tuple[pd.DataFrame, np.ndarray, list[Flag]]]:
    # mapped, not read: Arrow reads its chunks in place instead of from a copy of them in fresh memory
    with pa.memory_map(str(path)) as source:
        whole = source.read_buffer()
    at = 0
    while at < whole.size:
        size = int.from_bytes(whole.slice(at, 8).to_pybytes(), "little")
        kind, chunk = whole.slice(at + 8, 1).to_pybytes(), whole.slice(at + 9, size - 1)
        at += 8 + size
        if kind == PICKLED:
            yield pickle.loads(chunk)
            continue
        named = pa.ipc.open_stream(chunk).read_all().to_pandas()
        hashes = named.pop(HASH_COLUMN).to_numpy(dtype=np.uint64)
        yield named.set_axis([int(c) for c in named.columns], axis=1), hashes, []


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
        pieces, flags = [], []
        for spill in f.spills:
            for frame, hashes, spilled_flags in _spilled(spill):
                inside = hashes >= np.uint64(partition.low)
                if partition.high < HASHES:
                    inside &= hashes < np.uint64(partition.high)
                if inside.any():
                    pieces.append(frame if inside.all() else frame.iloc[np.flatnonzero(inside)])
                    if spilled_flags:
                        kept = set(pieces[-1].index)
                        flags += [x for x in spilled_flags if x[0] in kept]
        frame = pd.concat(pieces).sort_index(kind="stable") if len(pieces) > 1 else pieces[0]
        raw = RawTable(frame=frame, headers=list(f.headers), path=Path(f.name), sha256=f.sha256,
                       sheets=list(f.sheets), flags=sorted(flags, key=lambda x: x[0]))
        raws.append(raw)
        loaded.append((f.name, checked_table(raw, path, partition.money_unit)))
    if len(loaded) == 1:
        register = loaded[0][1]
        repeated: list[Refusal] = []
    else:
        register = combine_parts(path, loaded, {f.name: f.sheets for f in partition.files})
        repeated = register.refusals[sum(len(r.refusals) for _, r in loaded):]
    tables = []
    for f, raw, (name, own) in zip(partition.files, raws, loaded, strict=True):
        refusals = [*own.refusals, *(r for r in repeated if r.file == name)]
        if refusals:
            keys = sorted({raw.key_of(r.sheet, r.row) for r in refusals})
            table = rejects_frame(Register(frame=own.frame.iloc[:0], refusals=refusals, rows_read=0, path=path,
                                           sha256="", money_units={}, columns={}, warnings=[],
                                           rejected=rejected_cells(raw, keys)))
            tables.append(table.assign(**refusal_order(table, f.file, f.sheets)))
    rejects = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return PartitionRows(register, rejects)
