"""The monitor's durable state: one SQLite file holding the event log, outcomes, alerts, reminders and positions.

Every batch is written in one transaction — its events, the outcomes they changed, the alerts, the dead letters,
the reminders and the read position of each source — so a process killed at any moment restarts from the last
committed batch with nothing lost and nothing applied twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, firm_id TEXT NOT NULL,
    type TEXT NOT NULL, date TEXT NOT NULL, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    firm_id TEXT NOT NULL, ruleset_id TEXT NOT NULL, outcome INTEGER NOT NULL, PRIMARY KEY (firm_id, ruleset_id));
CREATE TABLE IF NOT EXISTS alerts (alert_id INTEGER PRIMARY KEY, date TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (dead_id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reminders (
    key TEXT PRIMARY KEY, firm_id TEXT NOT NULL, reminder TEXT NOT NULL, fire_on TEXT NOT NULL,
    body TEXT NOT NULL, fired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS withdrawn_reminders (key TEXT PRIMARY KEY, date TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (source TEXT PRIMARY KEY, offset INTEGER NOT NULL);
"""


@dataclass
class Batch:
    """What one batch writes; committed all at once by :meth:`Store.commit`."""

    events: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    withdrawn: list[tuple[str, str, str]] = field(default_factory=list)
    """(key, date, reason) of due reminders whose condition no longer held."""
    positions: dict[str, int] = field(default_factory=dict)
    alert_lines: list[str] = field(default_factory=list)
    dead_lines: list[str] = field(default_factory=list)


class Store:
    """The SQLite file ``state.db`` of a state folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "state.db"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.next_alert = self._max("alerts", "alert_id") + 1
        self.next_dead = self._max("dead_letters", "dead_id") + 1

    def _max(self, table: str, column: str) -> int:
        return int(self.db.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}").fetchone()[0])

    def close(self) -> None:
        self.db.close()

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def event_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT event_id FROM events")}

    def event_lines(self) -> Iterator[str]:
        """The applied events' lines, in the order they were applied."""
        for (line,) in self.db.execute("SELECT line FROM events ORDER BY seq"):
            yield line

    def event_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def outcomes(self) -> dict[tuple[str, str], int]:
        return {(f, r): int(o) for f, r, o in self.db.execute("SELECT firm_id, ruleset_id, outcome FROM outcomes")}

    def positions(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT source, offset FROM positions").fetchall())

    def alerts(self, after: int = 0) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM alerts WHERE alert_id > ? ORDER BY alert_id", (after,))
        return [json.loads(r[0]) for r in rows]

    def dead_letters(self, after: int = 0) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM dead_letters WHERE dead_id > ? ORDER BY dead_id", (after,))
        return [json.loads(r[0]) for r in rows]

    def due_reminders(self, today: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute("SELECT key, body FROM reminders WHERE fired = 0 AND fire_on <= ? ORDER BY fire_on, key",
                               (today,))
        return [(k, json.loads(b)) for k, b in rows]

    def withdrawn_reminders(self) -> list[tuple[str, str, str]]:
        """(key, date, reason) of every reminder withdrawn because its condition no longer held when due."""
        return [tuple(r) for r in self.db.execute("SELECT key, date, reason FROM withdrawn_reminders ORDER BY key")]

    def reminder_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM reminders").fetchone()[0])

    def stamp_alert(self, alert: dict[str, Any]) -> dict[str, Any]:
        """Give an alert its id (ids only advance; they are committed with the batch)."""
        alert = {"alert_id": self.next_alert, **alert}
        self.next_alert += 1
        return alert

    def stamp_dead(self, letter: dict[str, Any]) -> dict[str, Any]:
        letter = {"dead_id": self.next_dead, **letter}
        self.next_dead += 1
        return letter

    def commit(self, batch: Batch) -> None:
        """Write one batch in a single transaction; fills ``alert_lines`` and ``dead_lines`` (the JSON texts)."""
        batch.alert_lines = [json.dumps(a, ensure_ascii=False) for a in batch.alerts]
        batch.dead_lines = [json.dumps(d, ensure_ascii=False) for d in batch.dead_letters]
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO events (event_id, firm_id, type, date, line) VALUES (?, ?, ?, ?, ?)",
                                batch.events)
            self.db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?)",
                                [(f, r, o) for (f, r), o in batch.outcomes.items()])
            self.db.executemany("INSERT INTO alerts VALUES (?, ?, ?)",
                                [(a["alert_id"], a["date"], text)
                                 for a, text in zip(batch.alerts, batch.alert_lines, strict=True)])
            self.db.executemany("INSERT INTO dead_letters VALUES (?, ?)",
                                [(d["dead_id"], text)
                                 for d, text in zip(batch.dead_letters, batch.dead_lines, strict=True)])
            # a reminder withdrawn earlier is pending again when its condition is met again
            self.db.executemany("INSERT INTO reminders (key, firm_id, reminder, fire_on, body) VALUES (?, ?, ?, ?, ?) "
                                "ON CONFLICT (key) DO UPDATE SET fired = 0, fire_on = excluded.fire_on, "
                                "body = excluded.body WHERE reminders.fired = 2", batch.reminders)
            self.db.executemany("UPDATE reminders SET fired = 1 WHERE key = ?", [(k,) for k in batch.fired])
            self.db.executemany("UPDATE reminders SET fired = 2 WHERE key = ?", [(k,) for k, _, _ in batch.withdrawn])
            self.db.executemany("INSERT OR REPLACE INTO withdrawn_reminders VALUES (?, ?, ?)", batch.withdrawn)
            self.db.executemany("INSERT OR REPLACE INTO positions VALUES (?, ?)", list(batch.positions.items()))

    def period_alerts(self, since: str | None, until: str | None) -> list[dict[str, Any]]:
        """Alerts dated within [since, until] (ISO dates, either open)."""
        rows = self.db.execute("SELECT body FROM alerts WHERE date >= ? AND date <= ? ORDER BY date, alert_id",
                               (since or "0000-00-00", until or "9999-99-99"))
        return [json.loads(r[0]) for r in rows]
