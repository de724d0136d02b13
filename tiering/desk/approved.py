"""The PDF briefs of the list a committee approved: the select run's own briefs (:mod:`tiering.selection.brief_pdf`),
laid out for the approved order, with every addition, removal and move and its reason, and the run id, input hash,
rule versions and date they rest on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiering.audit import lists
from tiering.audit.db import connect
from tiering.audit.selections import as_approved, recorded_selection
from tiering.audit.store import run_record
from tiering.output.provenance import today
from tiering.selection.brief_pdf import BriefStamp, ListCover, list_pdf


class ListNotApproved(lists.ListDecisionRefused, error_id="list-not-approved"):
    """The list has no approval of its current state, so there is nothing approved to print."""


def _source(uscc: str, machine: list[str]) -> str:
    return f"遴选结果第 {machine.index(uscc) + 1} 名" if uscc in machine else "人工加入"


def approved_list_pdf(store: Path, run_id: str) -> bytes:
    """One PDF of select run ``run_id``'s approved list: a cover page with the list and every decision on it, then
    one A4 brief per firm in the approved order. Raises :class:`tiering.audit.store.RunNotFound` for an unknown run,
    :class:`tiering.audit.lists.ListDecisionRefused` for a classify run, :class:`ListNotApproved` while the list
    is not approved and :class:`tiering.audit.selections.BriefInputsMissing` for a run recorded without them."""
    conn = connect(store, create=False)
    try:
        run: dict[str, Any] = run_record(conn, run_id)
        state = lists.list_state(conn, run_id)
    finally:
        conn.close()
    approved = state.approved
    if approved is None:
        raise ListNotApproved(f"运行 {run_id} 的名单尚未批准，不能导出 (the list is not approved)")
    selection = as_approved(recorded_selection(store, run), list(approved["picks"]))
    rules = "、".join(f"{r['id']}（{r['version']}）" for r in run["rulesets"])
    stamp = BriefStamp(run_id, Path(run["input"]["file"]).name, run["input"]["sha256"], rules, today())
    cover = ListCover(
        about=[("批准", f"{approved['by']} 于 {approved['time'][:19].replace('T', ' ')}；{approved['why']}"),
               ("批准记录", approved["id"])],
        sources={u: _source(u, state.machine) for u in approved["picks"]},
        decisions=[lists.decision_line(d) for d in state.decisions])
    concerning: dict[str, list[str]] = {}
    for d in state.decisions:
        if d["action"] == "propose":
            concerning.setdefault(d["change"]["uscc"], []).append(lists.decision_line(d))
    return list_pdf(selection, stamp, cover, concerning)
