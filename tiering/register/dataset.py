"""A register kept as many files: a folder of parts (a Parquet dataset partitioned by year or region, e.g.
``year=2024/part-0.parquet``, or monthly CSV exports side by side), read part by part into one register.

Each part goes through the same reading and row checks as a single file; what only the whole can show is checked
after: a firm-year that appears in more than one part is refused in every part, as a repeat inside one file is.
A column a part holds only in its folder name (``year=2024`` when the dataset was written partitioned by year) is
put back before the part is read. ``rows read = rows classified + rows refused`` holds over the whole folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tiering.errors import Where
from tiering.register.cells import clean_cells
from tiering.register.read import READABLE, ROW_KEY, RawTable, map_columns, read_table, rejected_cells
from tiering.register.refusals import Refusal, Register, RegisterError
from tiering.register.validate import validate


def dataset_parts(folder: Path) -> list[Path]:
    """The register files under ``folder`` (any depth), in path order; hidden files and folders (``.x``,
    ``_SUCCESS``-style markers), the owner files Excel keeps beside an open workbook (``~$名录.xlsx``, no rows), the
    output folders of runs and blank files (both named in the run's notes, :func:`folder_notes`) are not parts.
    RegisterError when there is none."""
    _, files = _listing(folder)
    parts = [p for p in files if not _blank(p)]
    if not parts:
        what = "都是空文件（0 字节）" if files else "没有名录文件（.xlsx、.csv 或 .parquet）"
        raise RegisterError(f"文件夹中{what}：请检查路径", where=Where(file=str(folder)))
    return parts


def folder_notes(folder: Path, files: int) -> list[str]:
    """The notes on a register folder as a whole, the same whether it is read whole or cut into partitions: how
    many files were read, then each output folder of a run inside it (``--out`` put beside the register's files)
    and each blank file (no header, no row: an export that failed), which the run leaves out and goes on without,
    as the reader of its provenance must be told."""
    runs, register_files = _listing(folder)
    return [f"读入文件夹 {folder} 的 {files} 个文件",
            *(f"{run.relative_to(folder).as_posix()}/：是一次运行的输出文件夹（其中有 provenance.json），未作为名录读入"
              for run in runs),
            *(f"{p.relative_to(folder).as_posix()}：是空文件（没有表头，也没有数据行），未读入；若应有数据，请重新导出"
              for p in register_files if _blank(p))]


HEADER_ONLY = "只有表头，没有数据行（0 个企业年度）"
"""The note on a file of a register folder that holds its header row and nothing else."""


def _listing(folder: Path) -> tuple[list[Path], list[Path]]:
    """From one walk of ``folder``: the folders below it that a classify, select or report run wrote (its
    provenance.json in them), and the register files outside those, in path order."""
    found = [p for p in folder.rglob("*") if p.is_file()]
    runs = {p.parent for p in found if p.name == "provenance.json" and p.parent != folder}
    files = sorted(p for p in found if p.suffix.lower() in READABLE and not p.name.startswith("~$")
                   and not any(s.startswith((".", "_")) for s in p.relative_to(folder).parts)
                   and runs.isdisjoint(p.parents))
    return sorted(runs), files


def _blank(path: Path) -> bool:
    """No byte, or (a CSV file) nothing but a byte-order mark and blank lines."""
    size = path.stat().st_size
    if not size or path.suffix.lower() != ".csv" or size > 4096:
        return not size
    return not path.read_bytes().replace(b"\xef\xbb\xbf", b"").strip()


def folder_keys(folder: Path, part: Path) -> dict[str, str]:
    """The ``key=value`` folder names between ``folder`` and ``part`` (Hive-style partitioning)."""
    keys = {}
    for name in part.relative_to(folder).parts[:-1]:
        key, sep, value = name.partition("=")
        if sep and key:
            keys[key] = value
    return keys


def load_dataset(
    folder: str | Path, *, money_unit: str | None = None, encoding: str | None = None, sheet: str | None = None,
    header_row: int | None = None,
) -> Register:
    """Load every part of the register folder ``folder`` into one register (see the module text).

    Refusals name the part as their file (its path inside the folder). The register's ``sha256`` covers every
    part's path and contents; ``rejected`` keeps the original cells of every refused row, indexed by (file, sheet,
    row number), as a single file's read keeps them.
    """
    root = Path(folder)
    if not root.is_dir():
        raise RegisterError("找不到文件夹：请检查路径", where=Where(file=str(root)))
    parts = dataset_parts(root)
    loaded: list[tuple[str, Register]] = []
    sheets: dict[str, Sequence[str]] = {}
    for part in parts:
        name = part.relative_to(root).as_posix()
        try:
            raw = _read_part(root, part, name, encoding, sheet, header_row)
        except RegisterError as exc:
            raise exc.located(Where(file=str(part))) from None
        sheets[name] = list(raw.sheets)
        own = checked_table(raw, part, money_unit, keep_cells=True)
        if not own.rows_read:
            own.notes.append(HEADER_ONLY)
        loaded.append((name, own))
    register = combine_parts(root, loaded, sheets)
    register.refusals = in_file_order(register.refusals, [name for name, _ in loaded], sheets)
    register.notes[:0] = folder_notes(root, len(loaded))
    tables = []
    for part, (name, own) in zip(parts, loaded, strict=True):
        refusals = [r for r in register.refusals if r.file == name]
        if len(refusals) == len(own.refusals):
            cells = own.rejected
        else:  # rows also refused as a firm-year found in another part: read again for their cells
            raw = _read_part(root, part, name, encoding, sheet, header_row)
            cells = rejected_cells(raw, sorted({raw.key_of(r.sheet, r.row) for r in refusals}))
        if refusals:
            tables.append(pd.concat({name: cells}))
    if tables:
        register.rejected = pd.concat(tables)
    return register


ORDER_COLUMNS = ("_file", "_sheet")
"""Columns a partition's rejects carry so that the run lists them as a whole read does (removed before writing)."""


def refusal_order(rejects: pd.DataFrame, file: int, sheets: Sequence[str]) -> dict[str, Any]:
    """The :data:`ORDER_COLUMNS` of one file's rejects: its place in the folder and each row's sheet's place in the
    workbook, by which (then 行号) a whole read lists its refusals."""
    place = {sheet: k for k, sheet in enumerate(sheets)}
    return {"_file": file, "_sheet": rejects["工作表"].map(lambda sheet: place.get(sheet, 0)).astype(int)}


def in_file_order(refusals: list[Refusal], names: list[str], sheets: dict[str, Sequence[str]]) -> list[Refusal]:
    """The refusals file by file (in folder order), sheet by sheet, row by row: a firm-year found in two files
    refused where its row is, not after every other refusal."""
    files = {name: k for k, name in enumerate(names)}
    return sorted(refusals, key=lambda r: (files.get(r.file, 0), _place(sheets.get(r.file, ()), r.sheet), r.row))


def _place(sheets: Sequence[str], sheet: str) -> int:
    return sheets.index(sheet) if sheet in sheets else 0


def _read_part(root: Path, part: Path, name: str, encoding: str | None, sheet: str | None,
               header_row: int | None) -> RawTable:
    raw = read_table(part, encoding=encoding, sheet=sheet, header_row=header_row)
    raw.path = Path(name)
    add_folder_columns(raw, folder_keys(root, part))
    return raw


def checked_table(raw: RawTable, path: Path, money_unit: str | None, keep_cells: bool = False) -> Register:
    """The rows of one file (all of them, or some firms' rows of a file read in pieces) read as a register: headers
    mapped, cells cleaned, rows checked; ``keep_cells`` keeps the refused rows' original cells (``rejected``)."""
    columns = map_columns(raw.headers, raw.frame, money_unit=money_unit)
    cleaned, found = clean_cells(raw, columns)
    frame, refusals, warnings, numbering = validate(raw, columns, found)
    rejected = (rejected_cells(raw, sorted({raw.key_of(r.sheet, r.row) for r in refusals})) if keep_cells
                else pd.DataFrame())
    return Register(frame=frame, refusals=refusals, rows_read=len(raw.frame), path=path, sha256=raw.sha256,
                    money_units=columns.money_units, columns=columns.headers, warnings=[*columns.warnings, *warnings],
                    rejected=rejected, notes=[*raw.notes, *cleaned], unused_columns=columns.unused,
                    numbering=(frame, *numbering))


def add_folder_columns(raw: RawTable, keys: dict[str, str]) -> None:
    """Append, as a constant column, each folder key the part does not hold itself."""
    for key, value in keys.items():
        if key in raw.headers:
            continue
        raw.frame[len(raw.headers)] = value
        raw.headers.append(key)
        raw.notes.append(f"{raw.path.as_posix()}：列 {key} 取自文件夹名 {key}={value}")


def folder_sha256(parts: Iterable[tuple[str, str]]) -> str:
    """A register folder's SHA-256 over each part's (path within the folder, SHA-256), in file order: the same
    whether the folder is read whole or in pieces (tiering.scale.buckets)."""
    digest = hashlib.sha256()
    for name, sha in parts:
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def combine_parts(root: Path, loaded: list[tuple[str, Register]],
                  sheets: dict[str, Sequence[str]] | None = None) -> Register:
    """The registers of the files of ``root`` as one: a firm-year found in more than one file refused in each
    (those refusals last), the other rows in file order; the refused rows' cells (``rejected``) are left to the
    caller, who has the files, and so are the notes on the folder as a whole. ``sheets``: each file's sheets, when
    it stacks year sheets (its rows are keyed by sheet, see :class:`tiering.register.read.RawTable`)."""
    frames = [r.frame.assign(_part=i) for i, (_, r) in enumerate(loaded)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    refusals = [f for _, r in loaded for f in r.refusals]
    repeated = across_parts(frame, loaded, sheets or {})
    refusals += repeated
    if repeated:
        spread = frame.groupby(["uscc", "year"], sort=False)["_part"].transform("nunique")
        frame = frame[spread.to_numpy() == 1].reset_index(drop=True)
    frame = frame.drop(columns="_part")
    units = _agreed(loaded, "money_units")
    return Register(
        frame=frame, refusals=refusals, rows_read=sum(r.rows_read for _, r in loaded), path=root,
        sha256=folder_sha256((name, r.sha256) for name, r in loaded), money_units=units,
        columns=_agreed(loaded, "columns"),
        warnings=[w for name, r in loaded for w in _named(name, r.warnings)],
        notes=[n for name, r in loaded for n in _named(name, r.notes)],
        unused_columns=sorted({c for _, r in loaded for c in r.unused_columns}),
    )


def _named(name: str, lines: list[str]) -> list[str]:
    return [line if name in line else f"{name}：{line}" for line in lines]


def _agreed(loaded: list[tuple[str, Register]], attribute: str) -> dict[str, str]:
    """A per-column map (money units, headers) that every part must agree on: parts of one register are kept
    alike, and one unit per column is what the results can state."""
    merged: dict[str, str] = {}
    for name, register in loaded:
        for key, value in getattr(register, attribute).items():
            if merged.setdefault(key, value) != value and attribute == "money_units":
                raise RegisterError(f"列 {register.columns[key]} 的金额单位为{value}，而其他文件为{merged[key]}："
                                    "同一名录的各文件应使用同一单位",
                                    where=Where(file=name, column=register.columns[key], field=key))
    return merged


def across_parts(frame: pd.DataFrame, loaded: list[tuple[str, Register]],
                 sheets: dict[str, Sequence[str]]) -> list[Refusal]:
    """Every row of a firm-year found in more than one part, refused with where else it is (the sheet too, in a
    workbook of year sheets: ``sheets`` by file)."""
    if frame.empty:
        return []
    spread = frame.groupby(["uscc", "year"], sort=False)["_part"].transform("nunique")
    columns = ["uscc", "year", "_part", "_row"]
    hit = frame.loc[spread.to_numpy() > 1, columns].sort_values(columns)
    out = []
    for (uscc, year), group in hit.groupby(["uscc", "year"], sort=False):
        places = [(int(p), int(k)) for p, k in zip(group["_part"].tolist(), group["_row"].tolist(), strict=True)]
        for part, key in places:
            others = "、".join(f"{loaded[p][0]} {_row_text(sheets.get(loaded[p][0], ()), k)}" for p, k in places
                              if (p, k) != (part, key))
            name, register = loaded[part]
            own = sheets.get(name, ())
            out.append(Refusal(file=name, row=key % ROW_KEY, column=register.columns.get("uscc", "统一社会信用代码"),
                               value=str(uscc), reason=f"同一企业同一年度（{year}）出现在多个文件中：另见 {others}",
                               sheet=own[key // ROW_KEY] if len(own) > 1 else "", field="uscc"))
    return out


def _row_text(sheets: Sequence[str], key: int) -> str:
    if len(sheets) > 1:
        return f"工作表“{sheets[key // ROW_KEY]}”第 {key % ROW_KEY} 行"
    return f"第 {key % ROW_KEY} 行"
