"""Checking the chain: every record's hash, every link, and every file, decision and rule text a record covers."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tiering.audit import chain
from tiering.audit.db import connect, traces_dir
from tiering.audit.store import DECISION_COLUMNS
from tiering.output.trace_file import trace_parts


@dataclass
class Broken:
    """The first link of the chain that does not hold, and what exactly is wrong with it."""

    seq: int
    ref: str
    problem: str

    def message(self) -> str:
        return f"第 {self.seq} 条记录 {self.ref} 校验失败 (record #{self.seq} {self.ref} broken): {self.problem}"


@dataclass
class VerifyReport:
    """Outcome of ``audit verify``: how many records hold, the first broken one, files no record points to."""

    records: int = 0
    runs: int = 0
    overrides: int = 0
    head: str = chain.GENESIS
    broken: Broken | None = None
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None


def _check_run(conn: sqlite3.Connection, store: Path, body: dict) -> str | None:
    """What is wrong with the content a run record covers, or None."""
    run_id = body["run_id"]
    trace = traces_dir(store) / body["trace"]["file"]
    if not trace.exists() or not trace_parts(trace):
        return f"trace file {trace} is missing"
    digest = chain.trace_sha256(trace)
    if digest != body["trace"]["sha256"]:
        return f"trace file {trace} was changed (SHA-256 {body['trace']['sha256'][:12]}… recorded, {digest[:12]}… now)"
    columns = ", ".join(("year", *DECISION_COLUMNS))
    rows = conn.execute(f"SELECT {columns} FROM decision_view WHERE run_id = ? ORDER BY i", (run_id,)).fetchall()
    if len(rows) != body["decisions"]["rows"]:
        return f"{body['decisions']['rows']} decisions recorded, {len(rows)} now in the decisions table"
    if chain.rows_sha256(rows) != body["decisions"]["sha256"]:
        return "the decisions table rows of this run were changed"
    for rs in body["rulesets"]:
        row = conn.execute("SELECT content FROM rule_texts WHERE sha256 = ?", (rs["sha256"],)).fetchone()
        if row is None or hashlib.sha256(bytes(row[0])).hexdigest() != rs["sha256"]:
            return f"the stored text of rule set {rs['id']} {rs['version']} is missing or was changed"
    return None


def verify(store: Path, anchors: tuple[str, ...] = ()) -> VerifyReport:
    """Walk the chain from the first record; stop at the first broken link.

    A chain alone cannot show that its newest records were cut off, or that it was rebuilt from scratch;
    ``anchors`` — record hashes (or prefixes of at least 12 characters) kept outside the store, e.g. copied
    from ``audit runs`` into a bureau's file — must each still be in the chain.
    """
    conn = connect(store, create=False)
    report = VerifyReport()
    referenced: set[str] = set()
    seen: list[str] = []
    try:
        prev = chain.GENESIS
        for seq, kind, ref, body_text, prev_hash, digest in conn.execute(
                "SELECT seq, kind, ref, body, prev_hash, hash FROM records ORDER BY seq").fetchall():
            problem = None
            if prev_hash != prev:
                problem = f"prev_hash {prev_hash[:12]}… does not match the previous record's hash {prev[:12]}…"
            elif chain.record_hash(prev_hash, body_text) != digest:
                problem = "the record's content does not match its hash (the record was edited)"
            else:
                body = json.loads(body_text)
                if body.get("format") != chain.FORMAT:
                    problem = (f"record format {body.get('format')} is not the format {chain.FORMAT} this tool "
                               f"version writes and checks; verify with the tool version that wrote it")
                elif body.get("kind") != kind or (body.get("run_id") or body.get("id")) != ref:
                    problem = "the record's kind or id columns disagree with its content"
                elif kind == "run":
                    referenced.add(body["trace"]["file"])
                    problem = _check_run(conn, store, body)
            if problem is not None:
                report.broken = Broken(seq, ref, problem)
                return report
            report.records += 1
            report.runs += kind == "run"
            report.overrides += kind == "override"
            prev = report.head = digest
            seen.append(digest)
        extra = conn.execute("SELECT DISTINCT run FROM decisions WHERE run NOT IN "
                             "(SELECT seq FROM records WHERE kind = 'run')").fetchall()
        if extra:
            report.broken = Broken(extra[0][0], "?", "decisions stored for a record that is not a run or is gone")
        for anchor in anchors:
            if len(anchor) < 12 or not any(h.startswith(anchor.lower()) for h in seen):
                report.broken = Broken(report.records + 1, anchor[:16],
                                       "this anchor hash, kept outside the store, is not in the chain: records "
                                       "were removed from the end or the chain was rebuilt")
                break
    finally:
        conn.close()
    folder = traces_dir(store)
    if folder.is_dir():
        report.orphans = sorted(p.name for p in folder.iterdir() if p.name not in referenced)
    return report
