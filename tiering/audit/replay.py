"""``audit replay``: evaluate a register again with the exact rule texts of a recorded run and compare.

Identical results confirm the run is reproducible. When they differ, the report says why it can: the input
file's hash differs (changed data), the rule files were replaced by their current versions (changed rules), or
the tool version differs (changed engine); and, for each firm that differs, which criteria changed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tiering import __version__
from tiering.app import Classification, classify
from tiering.audit.db import connect, traces_dir
from tiering.audit.decisions import DECISION_COLUMNS, Decisions
from tiering.audit.rulesets import current_file_note, load_stored
from tiering.audit.store import run_record
from tiering.audit.traces import firms_of
from tiering.audit.verify import check_run_record
from tiering.engine.trace import trace_table
from tiering.errors import Where
from tiering.register import Register
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import NoRuleSet, RuleLibrary

_COMPARED = ("name", "outcome", "score_min", "score_max", "path", "failed", "missing")
_TRACE_COMPARED = ("value", "threshold", "status", "points_min", "points_max", "band", "text")


@dataclass
class Difference:
    """One firm × rule set whose replayed result is not the recorded one."""

    uscc: str
    ruleset_id: str
    was: dict[str, object]
    now: dict[str, object]
    criteria: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        name = self.now.get("name") or self.was.get("name") or ""
        if not self.now:
            return [f"  {self.uscc} {name} [{self.ruleset_id}]: 记录中为「{self.was['outcome']}」，重放时未评价该企业 "
                    f"(firm not evaluated in the replay)"]
        if not self.was:
            return [f"  {self.uscc} {name} [{self.ruleset_id}]: 重放结果「{self.now['outcome']}」，记录中无该企业 "
                    f"(firm not in the recorded run)"]
        changed = [k for k in _COMPARED if not _same(self.was.get(k), self.now.get(k))]
        head = f"  {self.uscc} {name} [{self.ruleset_id}]: " + "；".join(
            f"{k} {_show(self.was.get(k))} → {_show(self.now.get(k))}" for k in changed)
        return [head, *(f"      {c}" for c in self.criteria)]


@dataclass
class ReplayReport:
    """What replaying a run found: the notes on data, rules and tool, and every differing firm × rule set."""

    run_id: str
    notes: list[str]
    compared: int
    differences: list[Difference]

    @property
    def identical(self) -> bool:
        return not self.differences

    def text(self) -> str:
        out = [f"重放运行 replay of run {self.run_id}: 比较 {self.compared} 项决定 (firm × rule set)"]
        out += [f"  注意 note: {n}" for n in self.notes]
        if self.identical:
            out.append("结果完全一致 identical: every outcome, score, path and reason is the same as recorded.")
        else:
            out.append(f"结果不一致 differs: {len(self.differences)} 项决定与记录不同")
            for d in self.differences:
                out += d.lines()
        return "\n".join(out)


def _blank(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _same(a: object, b: object) -> bool:
    return (_blank(a) and _blank(b)) or a == b


def _show(x: object) -> str:
    if _blank(x):
        return "—"
    return f"{x:g}" if isinstance(x, float) else f"「{x}」"


def reclassify(store: Path, run_id: str, register: Register,
               current: RuleLibrary | None = None) -> tuple[dict[str, Any], Classification]:
    """Run ``run_id``'s record (checked first) and ``register`` classified again through :mod:`tiering.app` as
    that run did: its stored rule texts (with ``current``, today's files of the same rule-set ids), year and
    evaluation date."""
    check_run_record(store, run_id)
    conn = connect(store, create=False)
    try:
        run = run_record(conn, run_id)
        stored = load_stored(conn, run["rulesets"])
    finally:
        conn.close()
    return run, classify(register, _pick(stored, current), run["year"], dt.date.fromisoformat(run["eval_date"]))


def replay(store: Path, run_id: str, register: Register, current: RuleLibrary | None = None) -> ReplayReport:
    """Re-evaluate ``register`` as run ``run_id`` did; with ``current``, use today's files of the same rule-set ids."""
    run, result = reclassify(store, run_id, register, current)
    conn = connect(store, create=False)
    try:
        old = pd.DataFrame(conn.execute(f"SELECT {', '.join(DECISION_COLUMNS)} FROM decision_view WHERE run_id = ? "
                                        f"ORDER BY i", (run_id,)).fetchall(), columns=list(DECISION_COLUMNS))
    finally:
        conn.close()
    notes = _notes(run, register, current is not None)
    evaluation = result.evaluation
    fresh = pd.DataFrame([r[1:] for r in Decisions(run["year"], result.outcomes).rows()],
                         columns=list(DECISION_COLUMNS))
    differences = _differences(old, fresh)
    if differences:
        columns = ["uscc", "ruleset_id", "criterion_id", "criterion", *_TRACE_COMPARED]
        old_trace = pq.read_table(traces_dir(store) / run["trace"]["file"], columns=columns)
        new_trace = trace_table(evaluation)
        usccs = sorted({d.uscc for d in differences if d.was and d.now})
        _explain(differences, _frame(firms_of(old_trace, usccs)), _frame(firms_of(new_trace, usccs)))
    return ReplayReport(run_id, notes, max(len(old), len(fresh)), differences)


def _notes(run: dict, register: Register, with_current: bool) -> list[str]:
    notes = []
    if register.sha256 != run["input"]["sha256"]:
        notes.append(f"输入数据已改变 changed data: {register.path} SHA-256 {register.sha256[:16]}… ≠ recorded "
                     f"{run['input']['sha256'][:16]}… ({run['input']['file']})")
    for rs in run["rulesets"]:
        note = current_file_note(rs)
        if note is not None:
            notes.append(note.replace("使用审计库中保存的原版本", "本次使用当前文件" if with_current
                                      else "使用审计库中保存的原版本"))
    if run["tool_version"] != __version__:
        notes.append(f"工具版本不同 changed engine: run made with tiering {run['tool_version']}, replayed with "
                     f"{__version__}")
    return notes


def _pick(stored: list[CompiledRuleSet], current: RuleLibrary | None) -> list[CompiledRuleSet]:
    if current is None:
        return stored
    missing = [rs.id for rs in stored if rs.id not in current.by_id]
    if missing:
        raise NoRuleSet(f"当前规则文件夹中没有规则集 {'、'.join(missing)}（the current rule folder has no rule set "
                        f"{', '.join(missing)}）", where=Where(file=str(current.folder), rule_id=missing[0]),
                        hint="不加 --current-rules 重放（replay without --current-rules）")
    return [current.by_id[rs.id] for rs in stored]


def _differences(old: pd.DataFrame, fresh: pd.DataFrame) -> list[Difference]:
    """Decisions that differ (or exist on one side only), compared column by column over the whole table."""
    key = ["uscc", "ruleset_id"]
    m = old.merge(fresh, on=key, how="outer", suffixes=("_was", "_now"), indicator=True).sort_values(key)
    differs = m["_merge"] != "both"
    for c in _COMPARED:
        a, b = m[f"{c}_was"], m[f"{c}_now"]
        differs |= ~((a == b) | (a.isna() & b.isna()))
    out = []
    for r in m[differs].to_dict("records"):
        was = {} if r["_merge"] == "right_only" else {c: r[f"{c}_was"] for c in _COMPARED}
        now = {} if r["_merge"] == "left_only" else {c: r[f"{c}_now"] for c in _COMPARED}
        out.append(Difference(r["uscc"], r["ruleset_id"], was, now))
    return out


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = table.select(["uscc", "ruleset_id", "criterion_id", "criterion", *_TRACE_COMPARED]).to_pandas()
    return frame.astype({c: object for c in ("uscc", "ruleset_id", "criterion_id", "criterion", "status", "band",
                                             "text")})


def _explain(differences: list[Difference], old: pd.DataFrame, new: pd.DataFrame) -> None:
    """Attach to each difference the criteria whose value, threshold, status or points changed."""
    key = ["uscc", "ruleset_id", "criterion_id"]
    merged = old.assign(order=range(len(old))).merge(new.assign(order_new=range(len(new))), on=key, how="outer",
                                                      suffixes=("_was", "_now"), indicator=True)
    merged = merged.sort_values(["order", "order_new"], kind="stable")  # trace order: parents before children
    for d in differences:
        if not (d.was and d.now):
            continue
        rows = merged[(merged["uscc"] == d.uscc) & (merged["ruleset_id"] == d.ruleset_id)]
        for r in rows.to_dict("records"):
            label = r["criterion_now"] if isinstance(r["criterion_now"], str) else r["criterion_was"]
            if r["_merge"] != "both":
                d.criteria.append(f"{label}：{'仅在记录中' if r['_merge'] == 'left_only' else '仅在重放中'} "
                                  f"(criterion {'removed' if r['_merge'] == 'left_only' else 'added'})")
                continue
            changed = [c for c in _TRACE_COMPARED if not _same(r[f"{c}_was"], r[f"{c}_now"])]
            if changed:
                d.criteria.append(f"{label}：" + "；".join(
                    f"{c} {_show(r[f'{c}_was'])} → {_show(r[f'{c}_now'])}" for c in changed))
