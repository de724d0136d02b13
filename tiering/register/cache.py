"""A cache of read registers, keyed by the file's content hash and how it was read, stored as Parquet and JSON.

Reading a spreadsheet (finding the header, mapping columns, cleaning and checking every cell) costs far more than
explaining one firm of it; an analyst explains firm after firm of the same file. So a register read once is kept
as its accepted panel and refused cells (Parquet) and everything else it says (JSON) — never pickle — under the
SHA-256 of the file's bytes, the path as given (messages name the file), the reading options, and the source of
the code that reads it (so a changed reader never serves an old reading). The cache is only a shortcut: a
missing, unreadable or unwritable entry is ignored and the file is read.

The folder is ``register/`` inside the compiled-rule cache's folder (:func:`tiering.rules.cache.cache_dir`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from tiering import __version__
from tiering.register.refusals import Refusal, Register
from tiering.rules.cache import cache_dir

FORMAT = 1
"""Bumped whenever the stored form changes, so old entries are never read."""

_READER_SOURCES = ("register", "fields.py", "fields.yaml", "uscc.py", "industry.py", "numbering.py", "dates.py")
"""The code and data that decide what reading a register gives, hashed into every key (paths under tiering/)."""


@cache
def _reader_hash() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{FORMAT}|{__version__}|{pd.__version__}".encode())
    for name in _READER_SOURCES:
        target = root / name
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key_of(path: Path, options: dict[str, Any]) -> str:
    """The cache key of the register file at ``path`` read with ``options``."""
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


def _load(folder: Path, path: Path) -> Register | None:
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
            os.replace(tmp, folder)  # whole or not at all: another process may be reading the same key
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, ValueError, TypeError):
        return
