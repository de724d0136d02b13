"""A committee's decisions on a cultivation list, as data: where the list stands after each decision, and how the
decisions read beside the machine's list in workbooks, reports and explanations. The audit store
(:mod:`tiering.audit.lists`) records and loads them; this module reads no store, so every output can show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiering.errors import TieringError

if TYPE_CHECKING:
    import pandas as pd

ACTIONS = ("add", "remove", "move")


class ListDecisionRefused(TieringError, ValueError, error_id="list-decision-refused"):
    """A list decision that cannot be recorded as asked (unknown firm, stale list, no reason, not a select run)."""


@dataclass
class ListState:
    """Where a select run's list stands: the machine's list, every decision since, the list now, its approval."""

    run_id: str
    year: int
    candidates: dict[str, dict[str, Any]]
    """Every firm the run listed or ranked next (uscc → pick, name, score, reason)."""
    machine: list[str]
    decisions: list[dict[str, Any]]
    current: list[str]
    latest: str | None
    """The id of the last list decision (None while the list is the machine's)."""
    approved: dict[str, Any] | None
    """The last approval, when it approved the current list."""


def changed(current: list[str], action: str, uscc: str, to: int | None) -> list[str]:
    """The list after one change: ``add`` puts the firm at place ``to`` (1-based; default last), ``remove``
    takes it out, ``move`` puts it at place ``to``."""
    if action not in ACTIONS:
        raise ListDecisionRefused(f"未知操作 unknown action {action!r}; use {', '.join(ACTIONS)}")
    if action == "add" and uscc in current:
        raise ListDecisionRefused(f"{uscc} 已在名单中 already on the list")
    if action in ("remove", "move") and uscc not in current:
        raise ListDecisionRefused(f"{uscc} 不在名单中 not on the list")
    rest = [u for u in current if u != uscc]
    if action == "remove":
        return rest
    place = len(rest) + 1 if to is None else to
    if not 1 <= place <= len(rest) + 1:
        raise ListDecisionRefused(f"位置 {place} 超出范围 1–{len(rest) + 1} (place out of range)")
    return [*rest[:place - 1], uscc, *rest[place - 1:]]


def decision_line(d: dict[str, Any]) -> str:
    """One list decision as analysts read it."""
    if d["action"] == "approve":
        return f"批准名单 approved（{len(d['picks'])} 家），由 {d['by']} 于 {d['time']}；{d['why']}  [{d['id']}]"
    op = {"add": "提议加入", "remove": "提议移出", "move": "提议调整位次至"}[d["change"]["op"]]
    place = f" 第 {d['change']['to']} 位" if d["change"]["op"] == "move" else ""
    return (f"{op}{place} {d['change']['uscc']}，由 {d['by']} 于 {d['time']}；理由：{d['why']}  [{d['id']}]")


LIST_COLUMNS = ["list_decision", "list_reason", "list_by", "list_at"]
"""The columns a table of firms gets beside the machine's list: where the committee's list puts the firm, the
reason of the last decision on it, who made it and when."""


def committee_place(state: ListState, uscc: str) -> str:
    """Where the committee's list puts one firm, beside (never instead of) the machine's place."""
    if uscc in state.current:
        place = f"第 {state.current.index(uscc) + 1} 位"
        return f"批准名单{place}" if state.approved else f"提议名单{place}（未批准）"
    if uscc in state.machine:
        return "批准名单未含（已移出）" if state.approved else "提议移出（未批准）"
    return "不在名单"


def list_table(state: ListState) -> pd.DataFrame:
    """One row per firm on the machine's or the committee's list (or named by a decision): ``uscc`` and
    :data:`LIST_COLUMNS`, for :func:`tiering.output.overrides.beside_list`."""
    import pandas as pd  # tables only here: explain reads the decisions without pandas

    firms = list(dict.fromkeys([*state.machine, *state.current,
                                *(d["change"]["uscc"] for d in state.decisions if d["action"] == "propose")]))
    rows = []
    for uscc in firms:
        on_firm = [d for d in state.decisions if d["action"] == "propose" and d["change"]["uscc"] == uscc]
        last = on_firm[-1] if on_firm else state.approved
        rows.append((uscc, committee_place(state, uscc), on_firm[-1]["why"] if on_firm else "",
                     last["by"] if last else "", last["time"] if last else ""))
    return pd.DataFrame(rows, columns=["uscc", *LIST_COLUMNS])


def decisions_frame(state: ListState) -> pd.DataFrame:
    """Every decision on the list, oldest first (when, who, the decision as analysts read it)."""
    import pandas as pd

    return pd.DataFrame([(d["time"], d["by"], decision_line(d)) for d in state.decisions],
                        columns=["list_at", "list_by", "list_decision"])


def decided_note(state: ListState) -> str:
    """Where the committee's columns of a workbook or report come from."""
    approval = (f"已由 {state.approved['by']} 于 {state.approved['time'][:19].replace('T', ' ')} 批准"
                if state.approved else "尚未批准")
    return (f"评审委员会在遴选运行 {state.run_id} 上的 {len(state.decisions)} 项名单决定（{approval}），"
            f"列于机器名单旁，不改变遴选结果本身")
