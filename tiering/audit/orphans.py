"""Trace folders no record points to: what a run killed before its commit leaves behind, and their removal.

A run writes its trace to ``.<run id>.tmp`` and renames it to ``<run id>`` just before its record commits
(:mod:`tiering.audit.store`); a process killed in between leaves a folder that belongs to no run. Such a folder is
never a run — runs are records — and ``tiering audit clean`` removes it. While a run is being written its writer
holds an exclusive lock on ``.<run id>.lock`` beside the folder, so a clean running at the same moment leaves the
folder of a run still in progress alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tiering.audit.db import traces_dir

_LOCK = ".lock"
_TMP = ".tmp"


def _lock_file(folder: Path, run_id: str) -> Path:
    return folder / f".{run_id}{_LOCK}"


def _run_id(entry: Path) -> str:
    """The run id an entry of the traces folder belongs to (``.<id>.tmp``, ``<id>``, ``.<id>.lock``)."""
    name = entry.name
    for suffix in (_TMP, _LOCK):
        if name.startswith(".") and name.endswith(suffix):
            return name[1:-len(suffix)]
    return name


@contextlib.contextmanager
def writing(store: Path, run_id: str) -> Iterator[None]:
    """Hold the lock that marks run ``run_id`` as being written, for the whole write; removed afterwards."""
    folder = traces_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    lock = _lock_file(folder, run_id)
    while True:
        handle = lock.open("a")
        fcntl.flock(handle, fcntl.LOCK_EX)
        # a clean may have removed the file while we waited for it: lock the file that is there now
        if lock.exists() and os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
            break
        handle.close()
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        handle.close()


def orphan_traces(store: Path, referenced: set[str]) -> list[Path]:
    """Entries of the traces folder that no run record names (lock files of runs being written excluded)."""
    folder = traces_dir(store)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name not in referenced and not p.name.endswith(_LOCK))


def _referenced(conn: sqlite3.Connection) -> set[str]:
    return {json.loads(body)["trace"]["file"] for (body,) in
            conn.execute("SELECT body FROM records WHERE kind = 'run'").fetchall()}


def remove_orphans(store: Path, conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """Remove the trace folders of killed runs; return (removed names, names left because their run is still
    being written). ``conn`` is an open connection to a store that verified."""
    removed: list[str] = []
    busy: list[str] = []
    folder = traces_dir(store)
    for entry in orphan_traces(store, _referenced(conn)):
        with _lock_file(folder, _run_id(entry)).open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy.append(entry.name)
                continue
            # re-read under the lock: the run may have committed between the listing and the lock
            if entry.name not in _referenced(conn) and entry.exists():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry.name)
            _lock_file(folder, _run_id(entry)).unlink(missing_ok=True)
    for lock in folder.glob(f".*{_LOCK}") if folder.is_dir() else []:
        with lock.open("a") as handle, contextlib.suppress(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            lock.unlink(missing_ok=True)
    return removed, busy
