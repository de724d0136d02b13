"""Is this the folder that run wrote? A partitioned run's output folder checked against the SHA-256 of every part
(``part 结果/part-00000.parquet``) and file (``file 汇总.csv``) its audit record lists: an auditor years later
holds the folder, not the store's copy."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiering.audit.db import connect
from tiering.audit.store import load_records, run_record
from tiering.errors import NotFound, Where
from tiering.register.stream import file_sha256

PART, FILE = "part ", "file "
"""How a record's attachments name the run's part files and its other files (relative paths in the folder)."""


class OutFolderUnmatched(NotFound, error_id="out-folder-unmatched"):
    """No recorded run (or more than one) can be the one that wrote the folder, or the run recorded no hashes of
    its files."""


@dataclass
class FolderCheck:
    """What ``audit verify --out`` found: the run, how many recorded files hold, and what differs."""

    run_id: str
    command: list[str] = field(default_factory=list)
    """The run's command line, as recorded."""
    held: int = 0
    differ: list[str] = field(default_factory=list)
    """``name (changed|missing|not recorded)`` for every part or file that is not as the run wrote it."""
    uncovered: list[str] = field(default_factory=list)
    """Files beside the datasets the record has no hash of (a select run's, or a run recorded before they were
    hashed)."""

    @property
    def ok(self) -> bool:
        return not self.differ


def recorded_parts(attachments: dict[str, str], dataset: str = "") -> dict[str, str]:
    """Relative path -> SHA-256 of every part a run record's ``attachments`` list; with ``dataset`` (``trace``),
    of that dataset's parts only, by their names in it."""
    prefix = f"{PART}{dataset}/" if dataset else PART
    return {name.removeprefix(prefix): sha for name, sha in attachments.items() if name.startswith(prefix)}


def recorded_files(body: dict[str, Any]) -> dict[str, str]:
    """Relative path -> SHA-256 of every part and file a run record lists."""
    return {name.removeprefix(PART).removeprefix(FILE): sha for name, sha in body.get("attachments", {}).items()
            if name.startswith((PART, FILE))}


def check_out_folder(store: Path, folder: Path, run_id: str | None = None) -> FolderCheck:
    """Compare ``folder`` with the record of ``run_id``, or of the run found from the folder's provenance.json
    (:func:`_runs_of`; of several such runs — the same register classified and selected in the same partitions —
    the one the folder agrees with): every recorded part and file hashed again, and any part in the folder's
    datasets the record does not list."""
    conn = connect(store, create=False)
    try:
        bodies = [run_record(conn, run_id)] if run_id else _runs_of(conn, folder)
    finally:
        conn.close()
    checks = [_compare(body, folder) for body in bodies]
    held = [check for check in checks if check.ok]
    if held or len(checks) == 1:
        # the run that covers most of the folder (a classify's record lists 汇总.csv …); of runs that wrote the
        # same bytes (the same register run twice), the one whose --out was this folder's name
        return max(held or checks, key=lambda check: (check.held, _out_of(check.command) == folder.resolve().name))
    raise OutFolderUnmatched(f"审计库中有 {len(checks)} 次运行（{'、'.join(c.run_id for c in checks)}）与 "
                             f"{folder}/provenance.json 的名录、年度、评价日期和分区相符，"
                             "而文件夹与其中任何一次都不完全一致",
                             where=Where(file=str(folder)),
                             hint="用 --run RUN_ID 指明运行，看改动了哪些文件（tiering audit runs 列出各次运行）")


def _compare(body: dict[str, Any], folder: Path) -> FolderCheck:
    recorded = recorded_files(body)
    found = body["run_id"]
    if not recorded_parts(body.get("attachments", {})):
        raise OutFolderUnmatched(f"运行 {found} 不是分区运行，审计记录中没有其输出文件的哈希，无法核对文件夹"
                                 f"（run {found} recorded no hash of its output files）", where=Where(file=str(folder)),
                                 hint="整体运行的追溯由 tiering audit verify 核对；结果表请与运行时归档的副本比对")
    check = FolderCheck(found, command=list(body.get("command", [])))
    present = _files(folder, {name.split("/")[0] for name in recorded if "/" in name})
    for name in sorted(recorded.keys() | present):
        if name not in recorded:
            if "/" in name:
                check.differ.append(f"{name} (not recorded)")
            continue
        path = folder / name
        if not path.is_file():
            check.differ.append(f"{name} (missing)")
        elif file_sha256(path) != recorded[name]:
            check.differ.append(f"{name} (changed)")
        else:
            check.held += 1
    if not any(name.startswith(FILE) for name in body.get("attachments", {})):
        check.uncovered = sorted(name for name in present if "/" not in name)
    return check


def _out_of(command: list[str]) -> str | None:
    """The last name of the --out folder a recorded command line gave, if any."""
    for option, value in zip(command, command[1:], strict=False):
        if option == "--out":
            return Path(value).name
    return next((Path(arg.removeprefix("--out=")).name for arg in command if arg.startswith("--out=")), None)


def _files(folder: Path, datasets: set[str]) -> set[str]:
    """The run's files in ``folder``: every file of its datasets (结果/, 层级/, trace/; hidden ones too: a
    part is a part whatever its name) and the files beside them (not the folder's sub-folders of other runs)."""
    out = {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
    for name in datasets:
        if (folder / name).is_dir():
            out |= {p.relative_to(folder).as_posix() for p in (folder / name).rglob("*") if p.is_file()}
    return out


def _runs_of(conn: sqlite3.Connection, folder: Path) -> list[dict[str, Any]]:
    """The partitioned runs whose register, year, date and part names are those of the folder's provenance.json;
    OutFolderUnmatched when there is none."""
    try:
        about = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        key = (about["input_sha256"], about["year"], about["eval_date"], set(about["parts"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutFolderUnmatched(f"{folder} 中没有可读的分区运行 provenance.json（{type(exc).__name__}），"
                                 "找不出是哪次运行写的",
                                 where=Where(file=str(folder)),
                                 hint="用 --run RUN_ID 指明运行（tiering audit runs 列出各次运行）") from exc
    runs = [r for r in load_records(conn, "run") if key == (r.get("input", {}).get("sha256"), r.get("year"),
                                                            r.get("eval_date"), _parts(r))]
    if not runs:
        raise OutFolderUnmatched(f"审计库中没有一次记录的运行与 {folder}/provenance.json 的名录、年度、评价日期和"
                                 "分区相符",
                                 where=Where(file=str(folder)),
                                 hint="用 --run RUN_ID 指明运行（tiering audit runs 列出各次运行）")
    return runs


def _parts(body: dict[str, Any]) -> set[str]:
    return set(recorded_parts(body.get("attachments", {})))
