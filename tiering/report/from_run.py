"""Report on a recorded run: the rule versions, year and evaluation date come from the audit store.

The store keeps each run's decisions and trace but not the register's data, which the charts, the tier
transitions and the "what it lacks" texts need; so the register is read again and must be the very file the run
classified (same SHA-256).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from tiering.audit.db import connect
from tiering.audit.rulesets import load_stored
from tiering.audit.store import run_record
from tiering.rules.compile import CompiledRuleSet


@dataclass(frozen=True)
class RecordedRun:
    """What a report needs from a recorded run."""

    run_id: str
    year: int
    eval_date: dt.date
    rulesets: list[CompiledRuleSet]
    input_file: str
    input_sha256: str


def recorded_run(store: Path, run_id: str) -> RecordedRun:
    """Load run ``run_id`` of the audit store; NoStore, RunNotFound or StoredRulesError (tiering.audit) when the
    store, the run or its rule texts are not there."""
    conn = connect(store, create=False)
    try:
        run = run_record(conn, run_id)
        rulesets = load_stored(conn, run["rulesets"])
    finally:
        conn.close()
    return RecordedRun(run_id, int(run["year"]), dt.date.fromisoformat(run["eval_date"]), rulesets,
                       str(run["input"]["file"]), str(run["input"]["sha256"]))
