"""Writing to the audit store: one classify run, or one analyst override, as a new link of the hash chain.

A run is written in this order so that a crash at any point leaves either the whole run or nothing:
the trace goes to a temporary folder; then, inside one ``BEGIN IMMEDIATE`` transaction (which also serialises
concurrent writers), the rule texts, the decisions and the chained record are inserted, the trace is renamed
to its final name and the transaction commits. A crash before the commit leaves at most a folder no record
points to, which ``audit verify`` reports as an orphan and otherwise ignores.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiering import __version__
from tiering.audit import chain
from tiering.audit.db import connect, traces_dir
from tiering.audit.orphans import writing
from tiering.audit.rulesets import save_texts
from tiering.errors import NotFound, TieringError, UsageError
from tiering.outcome import OUTCOMES
from tiering.output.provenance import base_records, purpose_record

if TYPE_CHECKING:
    import pandas as pd

    from tiering.app import Classification
    from tiering.scale import PartitionedRun

    Recorded = Classification | PartitionedRun
    """A run as recorded: a whole classify, or a partitioned one (read back from its parts)."""

class AuditWriteError(TieringError, error_id="audit-write"):
    """The store could not take the record (locked too long, disk full, …); nothing was written."""


class RunNotFound(NotFound):
    """No run of that id in the audit store."""

    id = "run-not-found"


class OverrideRefused(UsageError, ValueError):
    """An override that cannot be recorded as given: an outcome that is not one, no author or no reason (exit 2)."""

    id = "override-refused"


class NothingRecorded(TieringError, LookupError, error_id="nothing-recorded"):
    """The store has no decision for the firm (with the filters given)."""


def resolve_firm(conn: sqlite3.Connection, firm_id: str) -> str:
    """The 统一社会信用代码 of ``firm_id`` (a code or an exact 企业名称 seen in some run)."""
    if conn.execute("SELECT 1 FROM decisions WHERE uscc = ? LIMIT 1", (firm_id,)).fetchone():
        return firm_id
    codes = [r[0] for r in conn.execute("SELECT DISTINCT uscc FROM decisions WHERE name = ?", (firm_id,))]
    if len(codes) > 1:
        raise NothingRecorded(f"'{firm_id}' names several firms ({', '.join(sorted(codes))}); use the 统一社会信用代码")
    if not codes:
        raise NothingRecorded(f"the audit store has no decision for firm '{firm_id}'")
    return codes[0]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    """A run id that sorts by time and cannot collide between concurrent processes: ``20251122T104716Z-3f9a2c1d``."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


FIRM_COLUMNS = ("i", "uscc", "name", "district", "industry", "rung", "highest", "programs")

PIECE_ROWS = 100_000
"""Decision rows put together, hashed and inserted at a time: a large run is recorded in bounded memory."""


def year_facts(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The register's rows of the fiscal year read (the year before application ``year``), one per firm, by
    统一社会信用代码: where each firm's 所在区 and 行业 come from."""
    return frame[frame["year"] == year - 1].drop_duplicates("uscc").set_index("uscc")


def firm_rows(standing: pd.DataFrame, facts: pd.DataFrame, start: int = 0) -> list[tuple[Any, ...]]:
    """One row per firm of ``standing`` (a run's tier summary, or a part of it whose first firm is number
    ``start`` of the run): its 所在区 and 行业 from ``facts`` (:func:`year_facts`), and its place on the ladder
    (what the review desk filters by)."""
    usccs = standing["uscc"].astype(str)

    def column(name: str) -> list[str | None]:
        if name not in facts.columns:
            return [None] * len(standing)
        col = facts[name].reindex(usccs)
        return [None if v is None else str(v) for v in col.astype(object).where(col.notna(), None).tolist()]

    # as lists: iterating a column of Arrow strings costs a Python call per value
    return list(zip(range(start, start + len(standing)), usccs.tolist(), standing["name"].astype(str).tolist(),
                    column("district"), column("industry"), standing["rung"].astype(int).tolist(),
                    standing["highest"].astype(str).tolist(), standing["programs"].astype(str).tolist(), strict=True))


def _pieces(run: Recorded, columns: Sequence[str]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The run's (outcomes, standing) piece by piece, the outcomes' ``columns`` at least: a partitioned run's parts
    one at a time (its ``parts``, reading those columns only), so that recording it never holds every part; a
    whole run as one piece."""
    parts = getattr(run, "parts", None)
    return parts(columns) if parts is not None else iter([(run.outcomes, run.standing)])


def _plain(selection: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The selection list with plain JSON values (numpy numbers from a DataFrame become int/float/str)."""
    if selection is None:
        return None
    out = []
    for item in selection:
        score = item.get("score")
        entry = {"pick": None if item["pick"] is None else int(item["pick"]), "uscc": str(item["uscc"]),
                 "name": str(item.get("name", "")), "score": None if score is None or score != score else float(score)}
        if item.get("reason") is not None:
            entry["reason"] = str(item["reason"])
        out.append(entry)
    return out


def _append(conn: sqlite3.Connection, kind: str, ref: str, body: dict[str, Any], seq: int | None = None) -> str:
    """Insert one chained record (as number ``seq`` when given, else the next); the caller holds the write
    transaction."""
    last = conn.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last[0] if last else chain.GENESIS
    text = chain.canonical(body)
    digest = chain.record_hash(prev, text)
    conn.execute("INSERT INTO records (seq, kind, ref, created, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (seq, kind, ref, body["time"], text, prev, digest))
    return digest


def _begin(conn: sqlite3.Connection, store: Path) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise AuditWriteError(f"audit store {store} is locked by another run for too long ({exc}); nothing was "
                              f"recorded — run again when the other run has finished") from exc


@contextmanager
def write_transaction(store: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside one immediate write transaction: committed when the block ends, rolled back (and the
    error raised on) when it raises; a store locked for too long is :class:`AuditWriteError`."""
    conn = connect(store)
    try:
        _begin(conn, store)
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def record_run(store: str | Path, run: Recorded, command: Sequence[str],
               attachments: dict[str, str] | None = None, selection: list[dict[str, Any]] | None = None,
               trace_folder: Path | None = None, run_id: str | None = None,
               brief_inputs: dict[str, Any] | None = None) -> str:
    """Record one classify (or select) run — decisions, rule texts, full trace — as the next link; return its id.

    ``attachments`` names further inputs by content hash, e.g. ``{"selection_policy": sha256, "model_card":
    sha256}``; ``selection`` is a select run's list in pick order, one ``{"pick", "uscc", "name", "score"}`` per
    firm (and optionally ``"reason"``), then its runners-up with ``"pick": None``. Both become part of the chained
    record. ``trace_folder`` is the trace this run already wrote (by
    :func:`tiering.output.trace_file.write_trace`), copied instead of written a second time. ``run_id`` is the
    id the run's output files already carry (from :func:`new_run_id`); a new one when not given.
    ``brief_inputs`` is what :func:`tiering.audit.selections.save_brief_inputs` returned for a select run: the
    record cites that file by hash.
    """
    store = Path(store)
    run_id = run_id or new_run_id()
    folder = traces_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / run_id
    tmp = folder / f".{run_id}.tmp"
    with writing(store, run_id):
        _write_run(store, run, command, attachments, selection, trace_folder, run_id, final, tmp, brief_inputs)
    return run_id


def _write_run(store: Path, run: Recorded, command: Sequence[str], attachments: dict[str, str] | None,
               selection: list[dict[str, Any]] | None, trace_folder: Path | None, run_id: str, final: Path,
               tmp: Path, brief_inputs: dict[str, Any] | None) -> None:
    import pyarrow.parquet as pq  # only where a run is written: explain reads the store without Arrow

    from tiering.output.trace_file import trace_parts, write_trace

    year = run.provenance.year
    try:
        if trace_folder is None:
            trace_rows = write_trace(run.evaluation, tmp)
        else:
            shutil.copytree(trace_folder, tmp)
            trace_rows = sum(pq.ParquetFile(part).metadata.num_rows for part in trace_parts(tmp))
        for part in trace_parts(tmp):
            with part.open("rb+") as f:
                os.fsync(f.fileno())
        _sync_dir(tmp)
        body = {
            "format": chain.FORMAT, "kind": "run", "run_id": run_id, "time": _now(), "user": getpass.getuser(),
            "command": list(command), "tool_version": __version__, "year": year,
            "eval_date": run.provenance.eval_date,
            "input": {"file": str(Path(run.register.path).resolve()), "sha256": run.register.sha256,
                      "money_units": run.provenance.money_units, "rows_read": run.provenance.rows_read,
                      "rows_accepted": run.provenance.rows_accepted, "rows_refused": run.provenance.rows_refused},
            "rulesets": [{"id": rs.id, "program": rs.program, "version": rs.version, "sha256": rs.sha256,
                          "path": str(rs.path.resolve()), **base_records(rs), **purpose_record(rs)}
                         for rs in run.rulesets],
            "trace": {"file": final.name, "sha256": chain.trace_sha256(tmp), "rows": trace_rows},
            "firms_evaluated": run.provenance.firms_evaluated,
            "attachments": dict(sorted((attachments or {}).items())),
            "selection": _plain(selection),
        }
        if brief_inputs is not None:
            body["brief_inputs"] = brief_inputs
        _commit_run(store, run, body, tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def record_hash_of(store: Path, ref: str) -> str:
    """The hash of record ``ref``: the chain's head just after it was written, the value to keep elsewhere and
    pass to ``audit verify --anchor``."""
    conn = connect(store, create=False)
    try:
        return conn.execute("SELECT hash FROM records WHERE ref = ?", (ref,)).fetchone()[0]
    finally:
        conn.close()


RECORD_CACHE_MIB = 1024
"""SQLite's page cache while a run's rows are inserted (its default is 2 MiB; the connection closes after)."""


class _Texts:
    """The numbers of the decisions' repeated texts in ``texts``, inserted as first met and remembered."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ids: dict[Any, Any] = {None: None}

    def ids_of(self, texts: list[Any]) -> list[Any]:
        """The numbers of ``texts`` (None for None), in their order."""
        new = sorted(set(texts) - self.ids.keys())
        self.conn.executemany("INSERT OR IGNORE INTO texts (text) VALUES (?)", [(t,) for t in new])
        for start in range(0, len(new), 500):
            chunk = new[start:start + 500]
            self.ids.update(self.conn.execute(
                f"SELECT text, id FROM texts WHERE text IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
        return [self.ids[t] for t in texts]


def _insert_rows(conn: sqlite3.Connection, seq: int, run: Recorded) -> dict[str, dict[str, Any]]:
    """Insert the run's decisions and firms under record ``seq``, piece by piece (:data:`PIECE_ROWS` decisions
    at a time), hashing them as they go; return their counts and digests for the record."""
    from tiering.audit.decisions import DECISION_COLUMNS, Decisions  # NumPy and Arrow: explain reads without them

    year = run.provenance.year
    facts = year_facts(run.register.frame, year)
    conn.execute(f"PRAGMA cache_size = -{RECORD_CACHE_MIB * 1024}")
    texts = _Texts(conn)
    decisions, firms = chain.RowsHasher(), chain.RowsHasher()
    insert = (f"INSERT INTO decisions (run, i, year, {', '.join(DECISION_COLUMNS)}) "
              f"VALUES ({', '.join('?' * (3 + len(DECISION_COLUMNS)))})")
    for outcomes, standing in _pieces(run, DECISION_COLUMNS):
        part = Decisions(year, outcomes)
        stored = part.numbered(texts.ids_of)
        for start in range(0, len(part), PIECE_ROWS):
            stop = min(len(part), start + PIECE_ROWS)
            first = decisions.rows
            decisions.add_json(part.json(start, stop))
            conn.executemany(insert, stored.rows(seq, first, start, stop))
        rows = firm_rows(standing, facts, firms.rows)
        firms.add(rows)
        conn.executemany(f"INSERT INTO firms (run, {', '.join(FIRM_COLUMNS)}) VALUES "
                         f"(?, {', '.join('?' * len(FIRM_COLUMNS))})", [(seq, *r) for r in rows])
        del outcomes, standing, part, stored, rows  # let this part go before the next is read: one part at a time
    return {"decisions": {"rows": decisions.rows, "sha256": decisions.hexdigest()},
            "firms": {"rows": firms.rows, "sha256": firms.hexdigest()}}


def _commit_run(store: Path, run: Recorded, body: dict[str, Any], tmp: Path, final: Path) -> None:
    """Insert everything and rename the trace inside one write transaction; undo both if anything fails. The
    decisions and firms go in before the record that counts and hashes them, under the number the record then
    takes (the transaction holds the store, so no other record can take it)."""
    try:
        with write_transaction(store) as conn:
            save_texts(conn, run.rulesets)
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM records").fetchone()[0]
            body.update(_insert_rows(conn, seq, run))
            _append(conn, "run", body["run_id"], body, seq)
            os.replace(tmp, final)
            _sync_dir(final.parent)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)  # the name is unique to this run, so only ours can be there
        raise


def _sync_dir(folder: Path) -> None:
    """Make the rename durable before the record that names the file commits."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_record(store: Path, kind: str, ref: str, body: dict[str, Any],
                  check: Callable[[sqlite3.Connection], None] | None = None) -> str:
    """Append one record (an override, a list decision) as the next link in its own write transaction; ``check``
    runs inside the transaction first and may raise to refuse the write (e.g. a list changed meanwhile)."""
    with write_transaction(store) as conn:
        if check is not None:
            check(conn)
        _append(conn, kind, ref, body)
    return ref


def record_override(store: str | Path, firm_id: str, ruleset_id: str, outcome: str, by: str, why: str,
                    evidence: str | None = None, year: int | None = None,
                    evidence_file: dict[str, Any] | None = None) -> str:
    """Record an analyst's override of a firm's outcome beside the machine decisions (which stay as they were).

    The firm (code or exact name) must have a recorded decision under ``ruleset_id``: an override answers a
    machine decision, it does not invent one. ``evidence_file`` is what :func:`tiering.audit.evidence.save_evidence`
    returned for an uploaded file; the record cites it by hash.
    """
    if outcome not in OUTCOMES:
        raise OverrideRefused(f"outcome must be one of {', '.join(OUTCOMES)}; got '{outcome}'",
                              hint="结果写 符合、不符合 或 待定")
    if not by.strip() or not why.strip():
        raise OverrideRefused("an override needs who made it (--by) and why (--why)",
                              hint="人工调整须写明调整人（--by）和理由（--why）")
    store = Path(store)
    ref = "override-" + new_run_id()
    conn = connect(store)
    try:
        uscc = resolve_firm(conn, firm_id)
        known = [r[0] for r in conn.execute("SELECT DISTINCT ruleset_id FROM decision_view WHERE uscc = ?", (uscc,))]
    finally:
        conn.close()
    if ruleset_id not in known:
        raise NothingRecorded(f"firm {uscc} has no recorded decision under rule set '{ruleset_id}'; "
                              f"its rule sets: {', '.join(sorted(known))}")
    body = {"format": chain.FORMAT, "kind": "override", "id": ref, "time": _now(), "user": getpass.getuser(),
            "uscc": uscc, "ruleset_id": ruleset_id, "year": year, "outcome": outcome, "by": by, "why": why,
            "evidence": evidence}
    if evidence_file is not None:
        body["evidence_file"] = evidence_file
    return append_record(store, "override", ref, body)


def load_records(conn: sqlite3.Connection, kind: str | None = None) -> list[dict[str, Any]]:
    """Record bodies in chain order (optionally one kind), each with its ``seq``."""
    sql = "SELECT seq, body FROM records" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq"
    return [{**json.loads(body), "seq": seq} for seq, body in conn.execute(sql, (kind,) if kind else ())]


def run_record(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The body of one run record; :class:`RunNotFound` naming the latest runs when the id is unknown."""
    row = conn.execute("SELECT body FROM records WHERE kind = 'run' AND ref = ?", (run_id,)).fetchone()
    if row is None:
        latest = [r[0] for r in conn.execute("SELECT ref FROM records WHERE kind = 'run' ORDER BY seq DESC LIMIT 5")]
        raise RunNotFound(f"no run '{run_id}' in the audit store; latest runs: {', '.join(latest) or 'none'}")
    return json.loads(row[0])
