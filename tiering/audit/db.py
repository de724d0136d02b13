"""Opening the audit database: schema, WAL mode, a busy timeout for concurrent writers, append-only triggers.

Decisions are one row per firm × rule set per run, millions per large run, so their repeated texts (rule-set
id, outcome, reason texts) are stored once in ``texts`` and referenced by number; ``decision_view`` shows them
as text again, and everything that reads decisions reads the view. ``firms`` holds one row per firm per run
(runs recorded before it have none): its 所在区, 行业 and highest rung, what the review desk filters a run by.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from pathlib import Path

from tiering import exit_codes
from tiering.errors import NotFound, TieringError, Where

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
CREATE TABLE IF NOT EXISTS texts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS decisions (
    run INTEGER NOT NULL REFERENCES records (seq),
    i INTEGER NOT NULL,
    year INTEGER NOT NULL,
    uscc TEXT NOT NULL,
    name TEXT NOT NULL,
    program INTEGER REFERENCES texts (id),
    ruleset_id INTEGER REFERENCES texts (id),
    version INTEGER REFERENCES texts (id),
    outcome INTEGER REFERENCES texts (id),
    score_min REAL,
    score_max REAL,
    path INTEGER REFERENCES texts (id),
    failed INTEGER REFERENCES texts (id),
    missing INTEGER REFERENCES texts (id),
    PRIMARY KEY (run, i)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_uscc ON decisions (uscc, year);
CREATE VIEW IF NOT EXISTS decision_view AS
SELECT r.ref AS run_id, d.run AS run, d.i AS i, d.year AS year, d.uscc AS uscc, d.name AS name,
       t1.text AS program, t2.text AS ruleset_id, t3.text AS version, t4.text AS outcome,
       d.score_min AS score_min, d.score_max AS score_max, t5.text AS path, t6.text AS failed, t7.text AS missing
FROM decisions d
JOIN records r ON r.seq = d.run
LEFT JOIN texts t1 ON t1.id = d.program LEFT JOIN texts t2 ON t2.id = d.ruleset_id
LEFT JOIN texts t3 ON t3.id = d.version LEFT JOIN texts t4 ON t4.id = d.outcome
LEFT JOIN texts t5 ON t5.id = d.path LEFT JOIN texts t6 ON t6.id = d.failed
LEFT JOIN texts t7 ON t7.id = d.missing;
CREATE INDEX IF NOT EXISTS decisions_filter ON decisions (run, program, outcome, uscc);
CREATE TABLE IF NOT EXISTS firms (
    run INTEGER NOT NULL REFERENCES records (seq),
    i INTEGER NOT NULL,
    uscc TEXT NOT NULL,
    name TEXT NOT NULL,
    district TEXT,
    industry TEXT,
    rung INTEGER NOT NULL,
    highest TEXT NOT NULL,
    programs TEXT NOT NULL,
    PRIMARY KEY (run, i)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS firms_uscc ON firms (run, uscc);
CREATE TABLE IF NOT EXISTS rule_texts (
    sha256 TEXT PRIMARY KEY,
    ruleset_id TEXT NOT NULL,
    content BLOB NOT NULL
);
"""

_GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the audit store is append-only: {table} rows cannot be {verb}d'); END;"
    for table in ("records", "decisions", "texts", "rule_texts", "firms") for verb in ("update", "delete")
]


class StoreTampered(TieringError, error_id="store-tampered", exit_code=exit_codes.CHECK_FAILED):
    """The store's content or layout is not what the tool wrote: a table's columns or types, a value's type, a
    record that cannot be read. Reported as tampering (exit 4), never as a crash."""


def _layout(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Each table's columns (name, declared type, NOT NULL, key position) and each view's SQL, by name."""
    out: dict[str, list[tuple]] = {}
    for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') "
                                        "AND name NOT LIKE 'sqlite_%'").fetchall():
        if kind == "view":
            out[name] = [(" ".join(str(sql).split()),)]
        else:
            out[name] = [(r[0], str(r[1]).upper(), r[2], r[3]) for r in conn.execute(
                'SELECT name, type, "notnull", pk FROM pragma_table_info(?)', (name,)).fetchall()]
    return out


@functools.cache
def _expected_layout() -> dict[str, list[tuple]]:
    fresh = sqlite3.connect(":memory:")
    try:
        fresh.executescript(_TABLES)
        return _layout(fresh)
    finally:
        fresh.close()


def layout_problems(conn: sqlite3.Connection) -> list[str]:
    """How the store's tables and views differ from the layout this tool creates (a changed column type, a
    column added or removed, a view redefined), one sentence each; empty when they match."""
    found = _layout(conn)
    problems = []
    for name, columns in _expected_layout().items():
        if name not in found:
            problems.append(f"table or view {name} is missing")
        elif found[name] != columns:
            was = ", ".join(" ".join(str(x) for x in c[:2]) for c in columns)
            now = ", ".join(" ".join(str(x) for x in c[:2]) for c in found[name])
            problems.append(f"the layout of {name} was changed (expected: {was}; found: {now})")
    return problems


def store_path(option: Path | None) -> Path:
    """The store to use: the ``--store`` option, else ``$TIERING_AUDIT_STORE``, else ``out/audit.sqlite``."""
    if option is not None:
        return option
    env = os.environ.get("TIERING_AUDIT_STORE")
    return Path(env) if env else DEFAULT_STORE


def traces_dir(store: Path) -> Path:
    """The folder beside the database that holds one ``<run id>.parquet`` trace per run."""
    return store.parent / f"{store.stem}.traces"


class NoStore(NotFound, FileNotFoundError):
    """No audit store where one was looked for (a file not found, as the callers that open files expect)."""

    id = "no-audit-store"


def existing_store(store: Path) -> Path:
    """``store`` when the audit store is there; :class:`NoStore` saying what to do otherwise."""
    if not store.is_file():
        raise NoStore("没有审计库（no audit store here）", where=Where(file=str(store)),
                      hint="先运行 tiering classify 记录一次运行，或用 --store 指定审计库 (run `tiering classify` "
                           "first, or pass --store PATH)")
    return store


def connect(store: Path, create: bool = True) -> sqlite3.Connection:
    """Open (and, if ``create``, initialise) the store; autocommit mode so callers control transactions."""
    if not create:
        existing_store(store)
    store.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(store, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            _initialise(conn)
            return conn
        except sqlite3.DatabaseError as exc:
            # SQLite answers some opening steps (the journal-mode switch) with "locked" at once instead of waiting
            # for the busy timeout: another process writing is contention, not damage, so wait for it here
            if _busy(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            conn.close()
            raise StoreTampered(f"无法作为审计库打开，文件已损坏或被替换（cannot be opened as an audit store ({exc}): "
                                "the file was damaged or replaced）", where=Where(file=str(store))) from exc


def _initialise(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(_TABLES + "\n".join(_GUARDS))


def _busy(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc)
    return "database is locked" in text or "database is busy" in text
