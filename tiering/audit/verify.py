"""Checking the chain: every record's hash, every link, and every file, decision and rule text a record covers."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tiering.audit import chain
from tiering.audit.db import StoreTampered, connect, layout_problems, traces_dir
from tiering.audit.decisions import DECISION_COLUMNS
from tiering.audit.evidence import check_attachment
from tiering.audit.orphans import orphan_traces
from tiering.audit.out_folder import recorded_parts
from tiering.audit.selections import check_brief_inputs
from tiering.audit.store import FIRM_COLUMNS
from tiering.output.trace_file import TRACE_DIR, trace_parts


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
    list_decisions: int = 0
    head: str = chain.GENESIS
    broken: Broken | None = None
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None


_UNREADABLE = (sqlite3.Error, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError)
"""What reading a store changed behind the tool's back can raise; each is reported as tampering."""


def _hashed(cursor: sqlite3.Cursor, page: int = 100_000) -> chain.RowsHasher:
    """The cursor's rows hashed a page at a time (a large run's millions of decisions are never all held)."""
    hasher = chain.RowsHasher()
    while rows := cursor.fetchmany(page):
        hasher.add(rows)
    return hasher


def _check_run(conn: sqlite3.Connection, store: Path, body: dict) -> str | None:
    """What is wrong with the content a run record covers, or None."""
    run_id = body["run_id"]
    trace = traces_dir(store) / body["trace"]["file"]
    if not trace.exists() or not trace_parts(trace):
        return f"trace file {trace} is missing"
    digest = chain.trace_sha256(trace)
    if digest != body["trace"]["sha256"]:
        return (f"trace file {trace} was changed (SHA-256 {body['trace']['sha256'][:12]}… recorded, {digest[:12]}… now)"
                f"{_changed_parts(trace, body.get('attachments', {}))}")
    columns = ", ".join(("year", *DECISION_COLUMNS))
    rows = _hashed(conn.execute(f"SELECT {columns} FROM decision_view WHERE run_id = ? ORDER BY i", (run_id,)))
    if rows.rows != body["decisions"]["rows"]:
        return f"{body['decisions']['rows']} decisions recorded, {rows.rows} now in the decisions table"
    if rows.hexdigest() != body["decisions"]["sha256"]:
        return "the decisions table rows of this run were changed"
    if "firms" in body:  # runs recorded before firms were
        firms = _hashed(conn.execute(f"SELECT {', '.join(FIRM_COLUMNS)} FROM firms WHERE run = (SELECT seq FROM "
                                     f"records WHERE ref = ?) ORDER BY i", (run_id,)))
        if firms.rows != body["firms"]["rows"] or firms.hexdigest() != body["firms"]["sha256"]:
            return "the firms table rows of this run were changed"
    problem = check_brief_inputs(store, body)
    if problem is not None:
        return problem
    for rs in [r for rec in body["rulesets"] for r in (rec, *({**b, "version": f"(extended by {rec['id']})"}
                                                             for b in rec.get("bases", [])))]:
        row = conn.execute("SELECT typeof(content), content FROM rule_texts WHERE sha256 = ?",
                           (rs["sha256"],)).fetchone()
        if row is not None and row[0] != "blob":
            return (f"the stored text of rule set {rs['id']} {rs['version']} is a {row[0].upper()} value, not the "
                    f"BLOB the tool wrote (changed behind the tool's back)")
        if row is None or hashlib.sha256(row[1]).hexdigest() != rs["sha256"]:
            return f"the stored text of rule set {rs['id']} {rs['version']} is missing or was changed"
    return None


def _changed_parts(trace: Path, attachments: dict[str, str]) -> str:
    """Which parts of a stored trace differ from the part hashes a partitioned run recorded (``part trace/NAME``),
    as text to append to the message; empty for a run that recorded none."""
    recorded = recorded_parts(attachments, TRACE_DIR)
    if not recorded:
        return ""
    now = {part.name: chain.trace_sha256(part) for part in trace_parts(trace)}
    changed = [f"{name} ({'missing' if name not in now else 'not recorded' if name not in recorded else 'changed'})"
               for name in sorted(recorded.keys() | now.keys()) if recorded.get(name) != now.get(name)]
    return f"; part(s) {', '.join(changed)}" if changed else ""


def _check_record(conn: sqlite3.Connection, store: Path, kind: str, ref: str, body_text: str, prev_hash: str,
                  digest: str, prev: str | None) -> str | None:
    """What is wrong with one record (its link when ``prev`` is given, its hash, its content), or None."""
    if prev is not None and prev_hash != prev:
        return f"prev_hash {str(prev_hash)[:12]}… does not match the previous record's hash {prev[:12]}…"
    if not isinstance(body_text, str) or chain.record_hash(prev_hash, body_text) != digest:
        return "the record's content does not match its hash (the record was edited)"
    body = json.loads(body_text)
    if body.get("format") != chain.FORMAT:
        return (f"record format {body.get('format')} is not the format {chain.FORMAT} this tool version writes and "
                f"checks; verify with the tool version that wrote it")
    if body.get("kind") != kind or body.get("run_id" if kind == "run" else "id") != ref:
        return "the record's kind or id columns disagree with its content"
    if kind == "run":
        return _check_run(conn, store, body)
    return check_attachment(store, body)


def check_run_record(store: Path, run_id: str) -> None:
    """Raise :class:`StoreTampered` unless the store's layout and run ``run_id`` (its record, trace, decisions and
    rule texts) are as the tool wrote them: what ``audit replay`` checks before trusting a run."""
    try:
        conn = connect(store, create=False)
        try:
            problems = layout_problems(conn)
            if problems:
                raise StoreTampered("; ".join(problems))
            row = conn.execute("SELECT seq, kind, ref, body, prev_hash, hash FROM records WHERE kind = 'run' AND "
                               "ref = ?", (run_id,)).fetchone()
            if row is None:
                return
            problem = _check_record(conn, store, row[1], row[2], row[3], row[4], row[5], None)
        finally:
            conn.close()
    except _UNREADABLE as exc:
        raise StoreTampered(f"run {run_id} cannot be read as the tool wrote it ({type(exc).__name__}: {exc})") from exc
    if problem is not None:
        raise StoreTampered(Broken(row[0], run_id, problem).message())


def verify(store: Path, anchors: tuple[str, ...] = ()) -> VerifyReport:
    """Walk the chain from the first record; stop at the first broken link.

    A chain alone cannot show that its newest records were cut off, or that it was rebuilt from scratch;
    ``anchors`` — record hashes (or prefixes of at least 12 characters) kept outside the store, e.g. copied
    from ``audit runs`` into a bureau's file — must each still be in the chain.
    """
    report = VerifyReport()
    referenced: set[str] = set()
    try:
        conn = connect(store, create=False)
    except StoreTampered as exc:
        report.broken = Broken(0, str(store), exc.message)
        return report
    try:
        _walk(conn, store, anchors, report, referenced)
    except _UNREADABLE as exc:  # a failure outside any one record: the tables themselves
        report.broken = Broken(report.records + 1, "?", f"the store cannot be read as the tool wrote it "
                                                        f"({type(exc).__name__}: {exc})")
    finally:
        conn.close()
    if report.ok:
        report.orphans = [p.name for p in orphan_traces(store, referenced)]
    return report


def _walk(conn: sqlite3.Connection, store: Path, anchors: tuple[str, ...], report: VerifyReport,
          referenced: set[str]) -> None:
    problems = layout_problems(conn)
    if problems:
        report.broken = Broken(0, "layout", "; ".join(problems))
        return
    seen: list[str] = []
    prev = chain.GENESIS
    for seq, kind, ref, body_text, prev_hash, digest in conn.execute(
            "SELECT seq, kind, ref, body, prev_hash, hash FROM records ORDER BY seq").fetchall():
        try:
            problem = _check_record(conn, store, kind, ref, body_text, prev_hash, digest, prev)
            if problem is None and kind == "run":
                referenced.add(json.loads(body_text)["trace"]["file"])
        except _UNREADABLE as exc:
            problem = f"the record cannot be read as the tool wrote it ({type(exc).__name__}: {exc})"
        if problem is not None:
            report.broken = Broken(seq, str(ref), problem)
            return
        report.records += 1
        report.runs += kind == "run"
        report.overrides += kind == "override"
        report.list_decisions += kind == "list"
        prev = report.head = digest
        seen.append(digest)
    extra = conn.execute("SELECT DISTINCT run FROM decisions WHERE run NOT IN "
                         "(SELECT seq FROM records WHERE kind = 'run')").fetchall()
    if extra:
        report.broken = Broken(extra[0][0], "?", "decisions stored for a record that is not a run or is gone")
        return
    for anchor in anchors:
        if len(anchor) < 12 or not any(h.startswith(anchor.lower()) for h in seen):
            report.broken = Broken(report.records + 1, anchor[:16],
                                   "this anchor hash, kept outside the store, is not in the chain: records "
                                   "were removed from the end or the chain was rebuilt")
            return
