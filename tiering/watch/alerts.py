"""Alert records and texts: an outcome change with its cause and reason, or a reminder; and the JSONL files.

An outcome-change alert (``kind: "outcome_change"``) carries: ``alert_id``, ``date`` (the event's), ``firm_id``,
``name``, ``ruleset_id``, ``program``, ``program_title``, ``before`` and ``after`` (``qualified``,
``not_qualified``, ``undetermined`` or ``null`` when the firm was not evaluated), ``event`` (id, type, date,
what happened), ``routed`` (false would mean the durable routing missed a rule set: the change is reported anyway),
``reason`` and ``text``. A reminder alert (``kind: "reminder"``) carries ``reminder``, ``due``, ``date`` (the day it
fired), ``firm_id``, ``name``, ``text`` and ``source``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from tiering.engine.evaluate import RuleSetResult
from tiering.explain import format as fmt
from tiering.explain.outcomes import reason_texts
from tiering.outcome import OUTCOME_TEXT, Outcome
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import FAIL, UNKNOWN, RequiresNode, ScoreNode, TestNode, Vec
from tiering.watch.events import Parsed, describe

_VERB = {(1, 0): "不再符合", (1, -1): "可能不再符合（缺数据待定）", (0, 1): "新符合", (-1, 1): "新符合",
         (0, -1): "转为待定（缺数据）", (-1, 0): "确定不符合"}
_FIRST = {1: "首次评价即符合", 0: "首次评价不符合", -1: "首次评价待定（缺数据）"}


def verb(before: int | None, after: int) -> str:
    """How a change reads in Chinese: 不再符合, 新符合, … (首次评价… when there was no outcome)."""
    if before is None:
        return _FIRST[after]
    return _VERB[(before, after)]


_LEAVES: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {}


def _leaves(rs: CompiledRuleSet) -> tuple[tuple[str, str, str], ...]:
    """(id, label, clause) of the criteria a reason can name, in tree order (computed once per rule-set file)."""
    key = (rs.id, rs.sha256)
    if key not in _LEAVES:
        _LEAVES[key] = tuple((n.id, n.label, fmt.source(n)) for n in rs.root.walk()
                             if isinstance(n, TestNode | ScoreNode | RequiresNode))
    return _LEAVES[key]


def criteria_reason(result: RuleSetResult, i: int, frame_row: dict[str, Any]) -> str:
    """Why firm ``i`` has its outcome: the unmet (or undetermined) criteria with their clauses, or the path taken."""
    rs = result.ruleset
    outcome = int(result.outcome[i])
    if outcome == 1:
        path = frame_row.get("path") or ""
        return f"符合，经由「{path}」" if path else "符合全部条件"
    want = FAIL if outcome == 0 else UNKNOWN
    texts = frame_row["failed"] if outcome == 0 else frame_row["missing"]
    sources: list[str] = []
    for node_id, label, src in _leaves(rs):
        if label in texts and src not in sources and int(result.nodes[node_id].status[i]) == want:
            sources.append(src)
    head = "未满足" if outcome == 0 else "缺数据"
    return f"{head}：{texts}" + (f"（{'；'.join(sources)}）" if sources else "")


@dataclass
class Reasons:
    """For one rule set and some firms of an evaluation: unmet criteria, undetermined criteria, path taken."""

    rows: dict[int, int]
    failed: np.ndarray
    missing: np.ndarray
    path: np.ndarray

    def row(self, i: int) -> dict[str, str]:
        """The texts of the evaluation's firm ``i``."""
        k = self.rows[i]
        return {"failed": self.failed[k], "missing": self.missing[k], "path": self.path[k]}


def reasons_of(result: RuleSetResult, rows: list[int]) -> Reasons:
    """The reason texts of firms ``rows`` for one rule set, from the same function as ``classify``'s outcome table."""
    rs = result.ruleset
    sub = RuleSetResult(rs, {k: _take(v, rows) for k, v in result.nodes.items()}, result.data_year)
    failed, missing = reason_texts(rs, sub)
    paths = rs.paths_node()
    if paths is None:
        path = np.full(len(rows), "", dtype=object)
    else:
        labels = np.array([c.label for c in paths.children] + [""], dtype=object)
        band = sub.nodes[paths.id].band
        path = labels[np.where(band >= 0, band, len(paths.children))]
    return Reasons({i: k for k, i in enumerate(rows)}, failed, missing, path)


def _take(v: Vec, rows: list[int]) -> Vec:
    return Vec(v.value[rows], v.threshold[rows], v.status[rows], v.pmin[rows], v.pmax[rows], v.band[rows],
               None if v.text is None else v.text[rows])


def change_alert(parsed: Parsed, name: str, result: RuleSetResult, i: int, before: int | None,
                 frame_row: dict[str, Any], routed: bool) -> dict[str, Any]:
    """The alert for one firm × rule set whose outcome changed after ``parsed`` was applied."""
    e = parsed.event
    rs = result.ruleset
    after = int(result.outcome[i])
    what = describe(parsed)
    reason = criteria_reason(result, i, frame_row)
    text = f"{e.date.isoformat()} {name} {verb(before, after)}{rs.meta.program_title}：{what}（{reason}）"
    return {
        "kind": "outcome_change", "date": e.date.isoformat(), "firm_id": e.firm_id, "name": name,
        "ruleset_id": rs.id, "program": rs.program, "program_title": rs.meta.program_title,
        "before": None if before is None else OUTCOME_TEXT[before], "after": OUTCOME_TEXT[after],
        "event": {"event_id": e.event_id, "type": e.type, "date": e.date.isoformat(), "what": what},
        "routed": routed, "reason": reason, "text": text,
    }


def sync_jsonl(path: Path, records: list[dict[str, Any]], id_key: str) -> int:
    """Append to ``path`` the records whose id is past the file's last one; return how many were appended.

    The file is derived from the state database: after a crash between a commit and the file write, the missing
    lines are appended on restart, and lines already written are never written again. The file is read from its
    end, a block at a time, so a line of any length is read back whole.
    """
    last = 0
    if path.exists() and path.stat().st_size:
        _drop_partial_line(path)
        line = _last_line(path)
        if line:
            last = int(json.loads(line)[id_key])
    fresh = [r for r in records if r[id_key] > last]
    append_jsonl(path, fresh)
    return len(fresh)


_BLOCK = 65536


def _line_start(fh: BinaryIO, end: int) -> int:
    """Offset of the first byte after the last newline before ``end`` (0 when there is none)."""
    pos = end
    while pos > 0:
        step = min(_BLOCK, pos)
        fh.seek(pos - step)
        cut = fh.read(step).rfind(b"\n")
        if cut >= 0:
            return pos - step + cut + 1
        pos -= step
    return 0


def _last_line(path: Path) -> bytes:
    """The last non-blank line of a file that ends with a newline, however long it is."""
    with path.open("rb") as fh:
        end = path.stat().st_size
        while end > 0:
            start = _line_start(fh, end - 1)  # end - 1 skips the line's own newline
            fh.seek(start)
            line = fh.read(end - start).strip()
            if line:
                return line
            end = start
    return b""


def _drop_partial_line(path: Path) -> None:
    """Cut a last line left half-written by a killed process (it is written again from the database)."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        fh.truncate(_line_start(fh, size))


def append_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records, one JSON object per line."""
    append_lines(path, [json.dumps(r, ensure_ascii=False) for r in records])


def append_lines(path: Path, lines: list[str]) -> None:
    """Append JSON texts, one per line."""
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)


def summary_text(alerts: list[dict[str, Any]], since: str | None, until: str | None) -> str:
    """The changes of a period: counts per program and change, then every alert's text in date order."""
    period = f"{since or '…'} – {until or '…'}"
    changes = [a for a in alerts if a["kind"] == "outcome_change"]
    reminders = [a for a in alerts if a["kind"] == "reminder"]
    out = [f"期间 period {period}: {len(changes)} 项结果变化 outcome changes, {len(reminders)} 条提醒 reminders", ""]
    counts = Counter((a["program_title"], verb(_code(a["before"]), _code(a["after"]))) for a in changes)
    for (title, how), n in sorted(counts.items()):
        out.append(f"  {title:<12} {how:<26} {n}")
    if counts:
        out.append("")
    out += [a["text"] for a in changes]
    if reminders:
        out += ["", "提醒 reminders:"] + [f"{a['date']} {a['text']}" for a in reminders]
    return "\n".join(out)


def alert_table(alerts: list[dict[str, Any]]) -> pd.DataFrame:
    """The alerts as a table for a workbook: date, kind (结果变化 / 提醒), firm, program, before, after, the text."""
    kinds = {"outcome_change": "结果变化", "reminder": "提醒"}
    rows = [(a["date"], kinds.get(a["kind"], a["kind"]), a["firm_id"], a.get("name", ""), a.get("program_title", ""),
             a.get("before") or "", a.get("after") or "", a["text"]) for a in alerts]
    return pd.DataFrame(rows, columns=["date", "alert_kind", "firm_id", "name", "program_title", "before", "after",
                                       "message"])


def _code(text: str | None) -> int | None:
    if text is None:
        return None
    return int(Outcome.of(text))
