"""Opening the audit database: schema, WAL mode, a busy timeout for concurrent writers, append-only triggers."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

DEFAULT_STORE = Path("out") / "audit.sqlite"
"""Where the store lives unless ``--store`` or ``TIERING_AUDIT_STORE`` says otherwise (relative to the CWD)."""

BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another writer's transaction before giving up with a clear error."""

_TABLES = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    run_id TEXT NOT NULL,
    i INTEGER NOT NULL,
    year INTEGER NOT NULL,
    uscc TEXT NOT NULL,
    name TEXT NOT NULL,
    program TEXT NOT NULL,
    ruleset_id TEXT NOT NULL,
    version TEXT NOT NULL,
    outcome TEXT NOT NULL,
    score_min REAL,
    score_max REAL,
    path TEXT,
    failed TEXT,
    missing TEXT,
    PRIMARY KEY (run_id, i)
);
CREATE INDEX IF NOT EXISTS decisions_uscc ON decisions (uscc, year);
CREATE TABLE IF NOT EXISTS rule_texts (
    sha256 TEXT PRIMARY KEY,
    ruleset_id TEXT NOT NULL,
    content BLOB NOT NULL
);
"""

_GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the audit store is append-only: {table} rows cannot be {verb}d'); END;"
    for table in ("records", "decisions", "rule_texts") for verb in ("update", "delete")
]


def store_path(option: Path | None) -> Path:
    """The store to use: the ``--store`` option, else ``$TIERING_AUDIT_STORE``, else ``out/audit.sqlite``."""
    if option is not None:
        return option
    env = os.environ.get("TIERING_AUDIT_STORE")
    return Path(env) if env else DEFAULT_STORE


def traces_dir(store: Path) -> Path:
    """The folder beside the database that holds one ``<run id>.parquet`` trace per run."""
    return store.parent / f"{store.stem}.traces"


def connect(store: Path, create: bool = True) -> sqlite3.Connection:
    """Open (and, if ``create``, initialise) the store; autocommit mode so callers control transactions."""
    if not create and not store.exists():
        raise FileNotFoundError(f"no audit store at {store}; run `tiering classify` first or pass --store PATH")
    store.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(store, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(_TABLES + "\n".join(_GUARDS))
    return conn
