"""The cultivation list of a ``select`` run as the committee settles it, one chained record per decision.

The run's own list (its picks, then its runners-up) stays as recorded. An analyst proposes a change — add a firm,
remove one, or move one to another place — with a reason; each proposal is a ``list`` record holding the whole
list it leads to and the decision it was based on. An approver approves the current list; that too is a record.
A decision based on a list that has changed since (another analyst's proposal landed first) is refused inside
the write transaction, so no one approves or amends a list they have not seen.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tiering.audit import chain
from tiering.audit.db import connect
from tiering.audit.store import _now, append_record, load_records, new_run_id, run_record
from tiering.selection.decisions import ListDecisionRefused, ListState, changed, committee_place, decision_line


def list_state(conn: sqlite3.Connection, run_id: str) -> ListState:
    """The list of select run ``run_id`` with every decision recorded on it; :class:`RunNotFound` for an unknown
    run, ListDecisionRefused for a classify run (it has no list)."""
    run = run_record(conn, run_id)
    if run.get("selection") is None:
        raise ListDecisionRefused(f"运行 {run_id} 不是遴选运行，没有培育名单 (not a select run)")
    candidates = {s["uscc"]: s for s in run["selection"]}
    machine = [s["uscc"] for s in run["selection"] if s["pick"] is not None]
    decisions = [r for r in load_records(conn, "list") if r["run_id"] == run_id]
    current = decisions[-1]["picks"] if decisions else machine
    approved = decisions[-1] if decisions and decisions[-1]["action"] == "approve" else None
    return ListState(run_id, run["year"], candidates, machine, decisions, list(current),
                     decisions[-1]["id"] if decisions else None, approved)


def _guard(run_id: str, based_on: str | None) -> Any:
    def check(conn: sqlite3.Connection) -> None:
        latest = list_state(conn, run_id).latest
        if latest != based_on:
            raise ListDecisionRefused(f"名单已被他人修改（最新决定 {latest}），请刷新后重试 "
                                      f"(the list changed since you loaded it)")
    return check


def propose(store: Path, run_id: str, by: str, why: str, action: str, uscc: str, to: int | None,
            based_on: str | None, evidence_file: dict[str, Any] | None = None) -> str:
    """Record an analyst's proposed change to the list; return the record id."""
    if not why.strip():
        raise ListDecisionRefused("请填写理由 a proposal needs a reason")
    conn = connect(store, create=False)
    try:
        state = list_state(conn, run_id)
        known = conn.execute("SELECT 1 FROM decision_view WHERE run_id = ? AND uscc = ? LIMIT 1",
                             (run_id, uscc)).fetchone()
    finally:
        conn.close()
    if known is None:
        raise ListDecisionRefused(f"企业 {uscc} 不在运行 {run_id} 中 (firm not in this run)")
    picks = changed(state.current, action, uscc, to)
    ref = "list-" + new_run_id()
    body = {"format": chain.FORMAT, "kind": "list", "id": ref, "time": _now(), "user": by, "run_id": run_id,
            "action": "propose", "change": {"op": action, "uscc": uscc, "to": to}, "picks": picks, "by": by,
            "why": why, "based_on": based_on}
    if evidence_file is not None:
        body["evidence_file"] = evidence_file
    return append_record(store, "list", ref, body, _guard(run_id, based_on))


def approve(store: Path, run_id: str, by: str, why: str, based_on: str | None) -> str:
    """Record an approver's approval of the list as it stands after decision ``based_on``; return the record id."""
    conn = connect(store, create=False)
    try:
        state = list_state(conn, run_id)
    finally:
        conn.close()
    ref = "list-" + new_run_id()
    body = {"format": chain.FORMAT, "kind": "list", "id": ref, "time": _now(), "user": by, "run_id": run_id,
            "action": "approve", "change": None, "picks": state.current, "by": by, "why": why or "批准",
            "based_on": based_on}
    return append_record(store, "list", ref, body, _guard(run_id, based_on))


def decided_list(store: Path, year: int) -> ListState | None:
    """The list decisions in force for application ``year``: those of the latest select run of that year that has
    any; None when there are none (or no store)."""
    if not store.is_file():
        return None
    conn = connect(store, create=False)
    try:
        decided = {r["run_id"] for r in load_records(conn, "list")}
        runs = [r["run_id"] for r in load_records(conn, "run")
                if r["run_id"] in decided and r.get("year") == year and r.get("selection") is not None]
        return list_state(conn, runs[-1]) if runs else None
    finally:
        conn.close()


def firm_list_lines(store: Path, uscc: str, year: int) -> list[str]:
    """What the committee decided about one firm on the list of application ``year`` (:func:`decided_list`), as
    lines to print beside the machine decision; none when no list of that year has a decision on the firm."""
    state = decided_list(store, year)
    if state is None or (uscc not in state.machine and uscc not in state.current
                         and all(d["change"] is None or d["change"]["uscc"] != uscc for d in state.decisions)):
        return []
    machine = f"遴选结果第 {state.machine.index(uscc) + 1} 位" if uscc in state.machine else "不在遴选结果中"
    lines = [f"培育名单（遴选运行 {state.run_id}）：{machine}；{committee_place(state, uscc)}"]
    lines += [decision_line(d) for d in state.decisions
              if (d["action"] == "propose" and d["change"]["uscc"] == uscc) or d is state.approved]
    return lines

