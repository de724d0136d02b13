"""``audit show``: every decision ever recorded for a firm, explained from the stored trace and rule texts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiering.audit.db import connect, traces_dir
from tiering.audit.lists import committee_place, decision_line, list_state
from tiering.audit.rulesets import StoredRulesError, load_stored
from tiering.audit.store import NothingRecorded, load_records, resolve_firm
from tiering.explain.format import points_range
from tiering.explain.text import explain_firm
from tiering.outcome import ZH_OF

if TYPE_CHECKING:
    import pandas as pd


def override_line(o: dict[str, Any]) -> str:
    """One override as analysts read it: it sits beside the machine outcome and never replaces it."""
    evidence = f"；证据：{o['evidence']}" if o.get("evidence") else ""
    if o.get("evidence_file"):
        evidence += f"；证据文件：{o['evidence_file']['name']}（SHA-256 {o['evidence_file']['sha256'][:12]}…）"
    scope = f"申报年度 {o['year']}" if o.get("year") else "所有年度"
    return (f"人工调整 override（{scope}）：{o['ruleset_id']} 改判为「{ZH_OF[o['outcome']]}」，"
            f"由 {o['by']} 于 {o['time']} 记录；理由：{o['why']}{evidence}  [{o['id']}]")


def overrides_for(overrides: list[dict[str, Any]], ruleset_id: str, year: int) -> list[dict[str, Any]]:
    """The overrides that apply to one rule set's decision in one application year."""
    return [o for o in overrides if o["ruleset_id"] == ruleset_id and o.get("year") in (None, year)]


def overrides_of(store: Path, uscc: str, ruleset_id: str, year: int) -> list[str]:
    """Override lines for one firm's decision, for any explanation or report that shows it (none if no store)."""
    if not store.is_file():
        return []
    conn = connect(store, create=False)
    try:
        found = [o for o in load_records(conn, "override") if o["uscc"] == uscc]
    finally:
        conn.close()
    return [override_line(o) for o in overrides_for(found, ruleset_id, year)]


def firm_history(store: Path, firm_id: str, year: int | None = None, run_id: str | None = None,
                 brief: bool = False) -> str:
    """Every recorded decision for the firm, run by run (oldest first), each with its explanation and overrides."""
    conn = connect(store, create=False)
    try:
        uscc = resolve_firm(conn, firm_id)
        runs = {r["run_id"]: r for r in load_records(conn, "run")}
        overrides = [o for o in load_records(conn, "override") if o["uscc"] == uscc]
        lists = [d for d in load_records(conn, "list") if d["action"] == "approve" or d["change"]["uscc"] == uscc]
        sql = "SELECT run_id, name, ruleset_id, version, outcome, score_min, score_max, path, failed, missing " \
              "FROM decision_view WHERE uscc = ?"
        args: list[Any] = [uscc]
        if year is not None:
            sql, args = sql + " AND year = ?", [*args, year]
        if run_id is not None:
            sql, args = sql + " AND run_id = ?", [*args, run_id]
        decisions: dict[str, list[tuple]] = {}
        for row in conn.execute(sql + " ORDER BY run_id, i", args):
            decisions.setdefault(row[0], []).append(row)
        if not decisions:
            raise NothingRecorded(f"the audit store has no decision for firm {uscc}"
                                  + (f" in application year {year}" if year is not None else "")
                                  + (f" in run {run_id}" if run_id is not None else ""))
        n = len(decisions)
        out = [f"企业 {uscc} 的全部审计记录：{n} 次运行 (decisions recorded in {n} run(s))", ""]
        for rid in sorted(decisions, key=lambda r: runs[r]["seq"]):
            out += _run_section(conn, store, runs[rid], uscc, decisions[rid], overrides, lists, brief)
        return "\n".join(out)
    finally:
        conn.close()


def stored_explanation(conn: sqlite3.Connection, store: Path, run: dict[str, Any], uscc: str, name: str) -> str:
    """One firm's explanation in a recorded run — the explainer of `explain`, fed the run's stored trace and rule
    texts, so it reads as it did the day of the run without evaluating anything again."""
    from tiering.audit.traces import firm_records, firm_trace  # Arrow: only where a stored trace is read

    rulesets = load_stored(conn, run["rulesets"])
    records = firm_records(firm_trace(traces_dir(store) / run["trace"]["file"], uscc))
    used = [rs for rs in rulesets if rs.id in records]
    return explain_firm(uscc, name, run["year"], used, records)


def _run_section(conn: sqlite3.Connection, store: Path, run: dict[str, Any], uscc: str, rows: list[tuple],
                 overrides: list[dict[str, Any]], lists: list[dict[str, Any]], brief: bool) -> list[str]:
    inp = run["input"]
    out = [f"═══ 运行 run {run['run_id']}  时间 {run['time']}  用户 {run['user']}  申报年度 {run['year']}  "
           f"tiering {run['tool_version']}",
           f"    命令 command: {' '.join(run['command'])}",
           f"    输入 input: {inp['file']}  SHA-256 {inp['sha256'][:16]}…"]
    out += [f"    {name}: SHA-256 {digest}" for name, digest in run.get("attachments", {}).items()]
    if run.get("selection") is not None:
        listed = [s for s in run["selection"] if s["pick"] is not None]
        pick = next((s for s in listed if s["uscc"] == uscc), None)
        if pick is None:
            out.append(f"    遴选 selection: 未入选（名单 {len(listed)} 家）")
        else:
            score = "—" if pick["score"] is None else f"{pick['score']:.2f}"
            out.append(f"    遴选 selection: 第 {pick['pick']} 位入选（综合得分 {score}）")
        decided = [d for d in lists if d["run_id"] == run["run_id"]]
        if decided:
            out.append(f"    名单决定后 committee's list: {committee_place(list_state(conn, run['run_id']), uscc)}")
        out += [f"    名单决定 list decision: {decision_line(d)}" for d in decided]
    for _, name, rs_id, version, outcome, smin, smax, path, failed, missing in rows:
        rs = next(r for r in run["rulesets"] if r["id"] == rs_id)
        line = f"  [{rs_id} 版本 {version} SHA-256 {rs['sha256'][:12]}…] {name}：{ZH_OF[outcome]}"
        if smin is not None:
            line += f"  得分 {points_range(smin, smax if smax is not None else smin)}"
        if path:
            line += f"  经由 {path}"
        if failed:
            line += f"  未满足：{failed}"
        if missing:
            line += f"  缺数据：{missing}"
        out.append(line)
        out += [f"    {override_line(o)}" for o in overrides_for(overrides, rs_id, run["year"])]
    if not brief:
        try:
            text = stored_explanation(conn, store, run, uscc, rows[0][1])
        except StoredRulesError as exc:
            out += ["", f"    （无法展开逐条说明 explanation unavailable: {exc}）", ""]
            return out
        out += ["", *("    " + line if line else "" for line in text.splitlines())]
    out.append("")
    return out


def override_table(store: Path, year: int) -> pd.DataFrame:
    """The overrides in force for application year ``year``, the latest per firm and rule set, as columns to set
    beside the machine decision: uscc, ruleset_id, override (outcome code), override_reason, override_by,
    override_at. Empty when there is no store."""
    import pandas as pd  # a table only here: explain reads the store without pandas

    columns = ["uscc", "ruleset_id", "override", "override_reason", "override_by", "override_at"]
    if not store.is_file():
        return pd.DataFrame(columns=columns)
    conn = connect(store, create=False)
    try:
        found = [o for o in load_records(conn, "override") if o.get("year") in (None, year)]
    finally:
        conn.close()
    rows = [(o["uscc"], o["ruleset_id"], o["outcome"], o["why"], o["by"], o["time"]) for o in found]
    table = pd.DataFrame(rows, columns=columns).sort_values("override_at", kind="mergesort")
    return table.drop_duplicates(["uscc", "ruleset_id"], keep="last").reset_index(drop=True)


def matching_run(store: Path, input_sha256: str, year: int, ruleset_hashes: dict[str, str]) -> str | None:
    """The latest recorded run of the same register file (SHA-256) and application year whose rule sets include
    every one of ``ruleset_hashes`` (id → SHA-256) unchanged; None when there is none (or no store)."""
    if not store.is_file():
        return None
    conn = connect(store, create=False)
    try:
        runs = load_records(conn, "run")
    finally:
        conn.close()
    for run in reversed(runs):
        recorded = {r["id"]: r["sha256"] for r in run.get("rulesets", [])}
        if (run.get("input", {}).get("sha256") == input_sha256 and run.get("year") == year
                and all(recorded.get(k) == v for k, v in ruleset_hashes.items())):
            return str(run["run_id"])
    return None
