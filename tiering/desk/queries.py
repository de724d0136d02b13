"""What the desk's pages read from the audit store: parameterised SQL only, on the store's indexes.

A recorded run never changes (the store is append-only), so what is costly to count over a large run — counts
per program and outcome, the ladder, the districts and industries to filter by — is computed once per run and
kept for the life of the process.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiering.audit.store import FIRM_COLUMNS, load_records

PAGE_SIZE = 50


def number(text: str) -> int | None:
    """A page number, rung or list place typed into a URL or form: ASCII digits only (``"²".isdigit()`` is true
    but no number), at most 7 of them; None otherwise."""
    return int(text) if re.fullmatch(r"[0-9]{1,7}", text) else None


@dataclass(frozen=True)
class Filters:
    """A run page's filters; every value reaches SQL as a bound parameter, never as SQL text."""

    program: str = ""
    outcome: str = ""
    district: str = ""
    industry: str = ""
    rung: str = ""
    q: str = ""

    def where(self, seq: int) -> tuple[str, list[Any]]:
        """The WHERE clause over ``firms f`` for run ``seq`` and its parameters."""
        sql, args = ["f.run = ?"], [seq]
        for column in ("district", "industry"):
            value = getattr(self, column)
            if value:
                sql.append(f"f.{column} = ?")
                args.append(value)
        if number(self.rung) is not None:
            sql.append("f.rung = ?")
            args.append(number(self.rung))
        if self.q:
            like = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql.append("(f.uscc LIKE ? ESCAPE '\\' OR f.name LIKE ? ESCAPE '\\')")
            args += [like + "%", "%" + like + "%"]
        if self.program or self.outcome:
            sub = ["d.run = ?"]
            sub_args: list[Any] = [seq]
            for column, value in (("program", self.program), ("outcome", self.outcome)):
                if value:
                    sub.append(f"d.{column} = (SELECT id FROM texts WHERE text = ?)")
                    sub_args.append(value)
            sql.append(f"f.uscc IN (SELECT d.uscc FROM decisions d WHERE {' AND '.join(sub)})")
            args += sub_args
        return " AND ".join(sql), args

    def query(self, **change: str) -> dict[str, str]:
        """The filters as URL query parameters (non-empty only), with some changed."""
        values = {k: getattr(self, k) for k in ("program", "outcome", "district", "industry", "rung", "q")}
        values.update(change)
        return {k: v for k, v in values.items() if v}


@dataclass
class RunFacts:
    """What is counted once per run."""

    seq: int
    counts: list[tuple[str, str, int]]
    """(program, outcome, firms) for every program and outcome of the run."""
    ladder: list[tuple[int, int]]
    """(rung, firms) in rung order."""
    districts: list[str]
    industries: list[str]
    programs: list[str]
    has_firms: bool
    names: dict[int, str] = field(default_factory=dict)
    """rung → its name, as the run's tier summary worded it."""


class Store:
    """Read access to one audit store for the desk (one short connection per call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.facts = functools.lru_cache(maxsize=64)(self._facts)
        """What is counted once per run (:meth:`_facts`), kept for this store's life: runs never change."""

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, newest first, with its record hash."""
        conn = self.connect()
        try:
            hashes = dict(conn.execute("SELECT ref, hash FROM records WHERE kind = 'run'"))
            out = [{**r, "hash": hashes[r["run_id"]]} for r in load_records(conn, "run")]
        finally:
            conn.close()
        return out[::-1]

    def run(self, run_id: str) -> dict[str, Any] | None:
        conn = self.connect()
        try:
            row = conn.execute("SELECT seq, body, hash FROM records WHERE kind = 'run' AND ref = ?",
                               (run_id,)).fetchone()
        finally:
            conn.close()
        if row is None:
            return None
        return {**json.loads(row[1]), "seq": row[0], "hash": row[2]}

    def _facts(self, seq: int) -> RunFacts:
        conn = self.connect()
        try:
            counts = conn.execute(
                "SELECT tp.text, tout.text, c.n FROM (SELECT program, outcome, COUNT(*) AS n FROM decisions "
                "WHERE run = ? GROUP BY program, outcome) c JOIN texts tp ON tp.id = c.program "
                "JOIN texts tout ON tout.id = c.outcome ORDER BY tp.text, tout.text", (seq,)).fetchall()
            ladder = conn.execute("SELECT rung, COUNT(*), MIN(highest) FROM firms WHERE run = ? GROUP BY rung "
                                  "ORDER BY rung", (seq,)).fetchall()
            districts = [r[0] for r in conn.execute("SELECT DISTINCT district FROM firms WHERE run = ? AND "
                                                    "district IS NOT NULL ORDER BY district", (seq,))]
            industries = [r[0] for r in conn.execute("SELECT DISTINCT industry FROM firms WHERE run = ? AND "
                                                     "industry IS NOT NULL ORDER BY industry", (seq,))]
        finally:
            conn.close()
        names = {rung: str(highest).split("（")[0] for rung, _, highest in ladder}
        return RunFacts(seq, counts, [(r, n) for r, n, _ in ladder], districts, industries,
                        sorted({c[0] for c in counts}), bool(ladder), names)

    def firms_page(self, seq: int, filters: Filters, page: int) -> tuple[list[dict[str, Any]], int]:
        """One page of the run's firms that pass the filters, and how many pass in all."""
        where, args = filters.where(seq)
        conn = self.connect()
        try:
            total = conn.execute(f"SELECT COUNT(*) FROM firms f WHERE {where}", args).fetchone()[0]
            rows = conn.execute(f"SELECT {', '.join('f.' + c for c in FIRM_COLUMNS)} FROM firms f WHERE {where} "
                                f"ORDER BY f.i LIMIT ? OFFSET ?", [*args, PAGE_SIZE, page * PAGE_SIZE]).fetchall()
        finally:
            conn.close()
        return [dict(zip(FIRM_COLUMNS, r, strict=True)) for r in rows], total

    def firm(self, seq: int, uscc: str) -> dict[str, Any] | None:
        conn = self.connect()
        try:
            row = conn.execute(f"SELECT {', '.join(FIRM_COLUMNS)} FROM firms WHERE run = ? AND uscc = ?",
                               (seq, uscc)).fetchone()
        finally:
            conn.close()
        return dict(zip(FIRM_COLUMNS, row, strict=True)) if row else None

    def decisions(self, uscc: str) -> list[dict[str, Any]]:
        """Every decision recorded for the firm, run by run (oldest first)."""
        columns = ("run_id", "year", "name", "program", "ruleset_id", "version", "outcome", "score_min",
                   "score_max", "path", "failed", "missing")
        conn = self.connect()
        try:
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM decision_view WHERE uscc = ? ORDER BY run, i",
                                (uscc,)).fetchall()
        finally:
            conn.close()
        return [dict(zip(columns, r, strict=True)) for r in rows]

    def records(self, kind: str) -> list[dict[str, Any]]:
        conn = self.connect()
        try:
            return load_records(conn, kind)
        finally:
            conn.close()
