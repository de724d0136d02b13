"""Write the annual list: an Excel workbook with Chinese headers, one brief per firm (Markdown and a one-page PDF)
and one combined brief file.

The workbook's document dates are fixed, so the same inputs, rules, policy and model give the same cells; only
the run id on the 说明 sheet and the PDF briefs (run id, date made) differ between runs. The Markdown is the same
bytes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tiering.output.overrides import beside_list
from tiering.output.workbook import write_workbook
from tiering.selection.brief import combined_briefs, firm_brief
from tiering.selection.brief_pdf import BriefStamp, write_pdf_briefs
from tiering.selection.decisions import ListState, decided_note, decisions_frame, list_table
from tiering.selection.run import Selection

LIST_FILE = "cultivation_list.xlsx"
BRIEFS_DIR = "briefs"
COMBINED_FILE = "briefs.md"
_LABELS = {"pick": "名次", "status": "状态"}
"""Headers of this workbook that differ from the shared column registry's."""


def _component_columns(selection: Selection) -> tuple[list[str], dict[str, str]]:
    columns: list[str] = []
    names: dict[str, str] = {}
    for group in selection.policy.ranking.groups:
        columns.append(group.id)
        names[group.id] = f"{group.label}得分"
        for c in group.active(selection.with_model):
            columns += [f"value_{c.id}", f"pct_{c.id}"]
            names[f"value_{c.id}"] = f"{c.label}"
            names[f"pct_{c.id}"] = f"{c.label}（池内百分位%）"
    return columns, names


def list_sheets(selection: Selection, decided: ListState | None = None) -> tuple[dict[str, pd.DataFrame],
                                                                                  dict[str, str]]:
    """The workbook's sheets (frames with id columns, in sheet order) and the Chinese headers of the columns the
    shared registry does not name (the policy's components). With ``decided`` (the committee's decisions on the
    year's list, :func:`tiering.audit.lists.decided_list`), the list and runners-up get the committee's columns
    beside the machine's place, and a 名单决定 sheet lists every decision."""
    components, names = _component_columns(selection)
    ranked = selection.ranked.copy()
    for col in [c for c in ranked.columns if c.startswith("pct_")]:
        ranked[col] = (ranked[col] * 100).round(1)
    for col in ["combined", *[g.id for g in selection.policy.ranking.groups]]:
        ranked[col] = ranked[col].round(2)
    ranked["selected"] = ranked["selected"].map({True: "是", False: "否"})
    model = ["model_reasons"] if selection.with_model else []
    chosen = ranked[ranked["pick"] > 0][["pick", "uscc", "name", "district", "industry", "cluster", "highest_rung",
                                         "programs_qualified", "combined", "reasons", *components, *model, "next_rung",
                                         "lacks", "goal", "goal_lacks"]]
    runners = ranked[ranked["pick"] == 0].head(len(selection.runners_up))[
        ["order", "uscc", "name", "district", "cluster", "combined",
         *[g.id for g in selection.policy.ranking.groups], "missed_reason"]]
    pool = ranked[["order", "uscc", "name", "district", "industry", "cluster", "combined", *components, *model,
                   "selected", "pick", "missed_reason"]]
    others = selection.firms[selection.firms["status"] != "候选"].sort_values(["status", "uscc"], kind="mergesort")
    others = others[["uscc", "name", "district", "industry", "status", "status_reason", "highest_rung"]]
    if decided is not None:
        table = list_table(decided)
        chosen, runners = beside_list(chosen, table), beside_list(runners, table)
    sheets = {"入选名单": chosen, "递补": runners, "候选池": pool, "未进入候选池": others}
    if decided is not None:
        sheets["名单决定"] = decisions_frame(decided)
    return sheets, {**_LABELS, **names}


def write_selection(selection: Selection, out_dir: Path, meta: list[tuple[str, str]],
                    stamp: BriefStamp, decided: ListState | None = None) -> list[Path]:
    """Write the workbook, one brief per selected firm (Markdown and PDF) and the combined brief file; return the
    paths: the workbook first, the combined file last. ``decided``: see :func:`list_sheets`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    briefs_dir = out_dir / BRIEFS_DIR
    briefs_dir.mkdir(exist_ok=True)
    for stale in sorted(briefs_dir.glob("*.md")):
        stale.unlink()  # a firm dropped from this year's list must not keep last run's brief
    notes = [("运行编号", stamp.run_id), *meta, *[("提示", w) for w in selection.warnings]]
    if decided is not None:
        notes.append(("名单决定", decided_note(decided)))
    sheets, labels = list_sheets(selection, decided)
    written = [write_workbook(out_dir / LIST_FILE, sheets, notes, {name: labels for name in sheets})]
    for _, row in selection.selected.iterrows():
        path = briefs_dir / f"{int(row['pick']):02d}_{row['uscc']}.md"
        path.write_text(firm_brief(row, selection), encoding="utf-8", newline="\n")
        written.append(path)
    written += write_pdf_briefs(selection, briefs_dir, stamp)
    combined = out_dir / COMBINED_FILE
    combined.write_text(combined_briefs(selection, meta), encoding="utf-8", newline="\n")
    written.append(combined)
    return written
