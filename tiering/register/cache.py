"""A cache of read registers, keyed by the file's content hash and how it was read, stored as Parquet, JSON and
SQLite.

Reading a spreadsheet (finding the header, mapping columns, cleaning and checking every cell) costs far more than
explaining one firm of it; an analyst explains firm after firm of the same file. So a register read once is kept
as its accepted panel and refused cells (Parquet) and everything else it says (JSON) — never pickle — under the
SHA-256 of the file's bytes, the path as given (messages name the file), the reading options, and the source of
the code that reads it (so a changed reader never serves an old reading). The cache is only a shortcut: a
missing, unreadable or unwritable entry is ignored and the file is read.

Beside them, ``firms.sqlite`` holds every accepted row (one column per field; dates as ISO text, blank cells
NULL), indexed by 统一社会信用代码 and name: :func:`cached_firm` finds one firm's rows in it without loading
pandas or reading the whole panel, which is most of what a cold ``tiering explain`` would otherwise cost.

The folder is ``register/`` inside the compiled-rule cache's folder (:func:`tiering.rules.cache.cache_dir`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tiering import __version__
from tiering.missing import is_missing
from tiering.register.refusals import Refusal, Register
from tiering.rules.cache import cache_dir

FORMAT = 2
"""Bumped whenever the stored form changes, so old entries are never read."""

_READER_SOURCES = ("register", "fields.py", "fields.yaml", "uscc.py", "industry.py", "numbering.py", "dates.py")
"""The code and data that decide what reading a register gives, hashed into every key (paths under tiering/)."""


def _pandas_version() -> bytes:
    """pandas' version module(s): pandas reads the register and the cached frames, and asking its version by
    importing it would cost a one-firm lookup more than the lookup."""
    spec = importlib.util.find_spec("pandas")
    if spec is None or spec.origin is None:
        return b""
    return b"".join(path.read_bytes() for path in sorted(Path(spec.origin).parent.glob("_version*.py")))


@cache
def _reader_hash() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{FORMAT}|{__version__}|".encode() + _pandas_version())
    for name in _READER_SOURCES:
        target = root / name
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key_of(path: Path, options: dict[str, Any]) -> str:
    """The cache key of the register file at ``path`` read with ``options``; of a register folder, over every file
    under it (its path in the folder and bytes; any change to any of them, even one the read leaves out, is a new
    key)."""
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            name = file.relative_to(path).as_posix().encode()
            digest.update(name + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    else:
        digest = hashlib.sha256(path.read_bytes())
    digest.update(json.dumps([str(path), options, _reader_hash()], ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def cached_register(path: Path, options: dict[str, Any], read: Callable[[], Register]) -> Register:
    """The register at ``path`` as ``read()`` gives it (``options``: how it is read), from the cache when this very
    content was read the same way before; a fresh reading is stored. A RegisterError of ``read`` passes through and
    nothing is stored."""
    try:
        key = key_of(path, options)
    except OSError:
        return read()
    folder = cache_dir() / "register" / key
    found = _load(folder, path)
    if found is not None:
        return found
    register = read()
    _store(folder, register)
    return register


@dataclass(frozen=True)
class CachedFirm:
    """One firm's accepted rows as the register cache keeps them (see :func:`cached_firm`)."""

    sha256: str
    """The register file's SHA-256."""
    uscc: str
    name: str
    """Its name in the data year's row."""
    rows: list[dict[str, Any]]
    """One mapping per firm-year, in the register's order: field id -> cell (dates as ISO text; blank cells left
    out)."""


def cached_firm(path: Path, options: dict[str, Any], firm_id: str, data_year: int) -> CachedFirm | None:
    """The rows of the firm ``firm_id`` names in the register at ``path`` read with ``options``, from the cache
    alone (no pandas), matched as :func:`tiering.app.firm.firm_rows` matches them: the rows whose code or exact
    name it is, else the rows whose name contains it. None when this content was not read this way before, or when
    those rows are not one firm's with a row of ``data_year`` — the caller then reads the register, whose lookup
    says what is wrong."""
    try:
        folder = cache_dir() / "register" / key_of(path, options)
        if not (folder / "firms.sqlite").is_file():
            return None
        conn = sqlite3.connect(f"{(folder / 'firms.sqlite').as_uri()}?mode=ro", uri=True)
        try:
            cursor = conn.execute("SELECT * FROM rows WHERE uscc = ? OR name = ? ORDER BY rowid", (firm_id, firm_id))
            found = cursor.fetchall()
            if not found:
                cursor = conn.execute("SELECT * FROM rows WHERE instr(name, ?) > 0 ORDER BY rowid", (firm_id,))
                found = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
            (sha256,) = conn.execute("SELECT sha256 FROM register").fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error, TypeError, ValueError):
        return None
    rows = [{c: v for c, v in zip(columns, row, strict=True) if v is not None} for row in found]
    names = [r["name"] for r in rows if r["year"] == data_year]
    if len({r["uscc"] for r in rows}) != 1 or not names:
        return None
    return CachedFirm(sha256, rows[0]["uscc"], names[0], rows)


def _load(folder: Path, path: Path) -> Register | None:
    import pandas as pd

    try:
        meta = json.loads((folder / "register.json").read_text(encoding="utf-8"))
        frame = pd.read_parquet(folder / "frame.parquet")
        rejected = pd.read_parquet(folder / "rejected.parquet")
        return Register(frame=frame, rejected=rejected, path=path,
                        refusals=[Refusal(**r) for r in meta.pop("refusals")], **meta)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(folder: Path, register: Register) -> None:
    # fields left out of comparison (the firm numbering) are derived from the frame and made again on use
    meta = {f.name: getattr(register, f.name) for f in dataclasses.fields(register)
            if f.compare and f.name not in ("frame", "rejected", "path", "refusals")}
    meta["refusals"] = [dataclasses.asdict(r) for r in register.refusals]
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, suffix=".tmp"))
        try:
            register.frame.to_parquet(tmp / "frame.parquet")
            register.rejected.to_parquet(tmp / "rejected.parquet")
            (tmp / "register.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            _store_firms(tmp / "firms.sqlite", register)
            os.replace(tmp, folder)  # whole or not at all: another process may be reading the same key
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, ValueError, TypeError, sqlite3.Error):
        return


def _store_firms(target: Path, register: Register) -> None:
    """Every accepted row in an SQLite table, one column per field, indexed by code and name (see
    :func:`cached_firm`); written column by column, so a large register costs seconds, not a JSON text per row."""
    frame = register.frame
    names = ", ".join(_quoted(c) for c in frame.columns)
    conn = sqlite3.connect(target)
    try:
        with conn:
            conn.execute("CREATE TABLE register (sha256 TEXT NOT NULL)")
            conn.execute("INSERT INTO register VALUES (?)", (register.sha256,))
            conn.execute(f"CREATE TABLE rows ({names})")
            conn.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * len(frame.columns))})",
                             zip(*(_column(frame[c]) for c in frame.columns), strict=True))
            conn.execute("CREATE INDEX rows_uscc ON rows (uscc)")
            conn.execute("CREATE INDEX rows_name ON rows (name)")
    finally:
        conn.close()


def _quoted(name: object) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _column(values: Any) -> list[Any]:
    """A column of the panel as SQLite values: NULL for a blank cell (SQLite stores NaN as NULL), dates as ISO
    text, numbers and texts as they are."""
    kind = values.dtype.kind
    if kind in "fiub":
        return values.tolist()  # type: ignore[no-any-return]
    if kind == "M":
        values = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return [None if is_missing(v) else _cell(v) for v in values.tolist()]


def _cell(value: Any) -> Any:
    """A cell of a column of mixed values: a date or timestamp as ISO text, a NumPy number as a Python one."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
