"""Write the annual list: an Excel workbook with Chinese headers, one brief per firm and one combined brief file.

The files hold no timestamps: the workbook's document dates are fixed and its zip entries carry a fixed date,
so the same inputs, rules, policy and model give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from tiering.output.write import HEADERS_ZH, escape_formulas
from tiering.selection.brief import combined_briefs, firm_brief
from tiering.selection.run import Selection

LIST_FILE = "cultivation_list.xlsx"
BRIEFS_DIR = "briefs"
COMBINED_FILE = "briefs.md"
_FIXED_DATE = dt.datetime(2000, 1, 1)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CORE = "docProps/core.xml"
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")

_HEADERS = {
    **HEADERS_ZH,
    "pick": "名次", "order": "综合排名", "district": "所在区", "industry": "行业", "cluster": "产业集群",
    "combined": "综合得分", "selected": "入选", "missed_reason": "未入选原因", "status": "状态",
    "status_reason": "原因", "next_rung": "下一层级", "lacks": "尚缺（一企一策起点）", "lacks_source": "差距来源",
    "model_reasons": "模型主要理由", "reasons": "入选主要理由", "goal": "培育目标", "goal_lacks": "距培育目标尚缺",
}


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


def list_sheets(selection: Selection) -> dict[str, pd.DataFrame]:
    """The workbook's sheets as frames with Chinese headers, in sheet order."""
    components, names = _component_columns(selection)
    headers = {**_HEADERS, **names}
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
    sheets = {"入选名单": chosen, "递补": runners, "候选池": pool, "未进入候选池": others}
    return {name: escape_formulas(frame).rename(columns=headers) for name, frame in sheets.items()}


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01 and a fixed 'modified' date (openpyxl stamps the save time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == _CORE:
                stamp = _FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            target.writestr(entry, content)
    return out.getvalue()


def _width(frame: pd.DataFrame, col: str) -> int:
    sample = [str(col)] + [str(v) for v in frame[col].head(200).tolist()]
    return min(60, max(len(s.encode("gbk", "replace")) for s in sample) + 2)


def workbook_bytes(sheets: dict[str, pd.DataFrame], meta: list[tuple[str, str]]) -> bytes:
    """An .xlsx of ``sheets`` plus a 说明 sheet of ``meta``, with fixed document dates."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in [*sheets.items(), ("说明", pd.DataFrame(meta, columns=["项目", "内容"]))]:
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for i, col in enumerate(frame.columns, start=1):
                sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = _width(frame, col)
        writer.book.properties.created = _FIXED_DATE
    return _fixed_zip(buffer.getvalue())


def write_selection(selection: Selection, out_dir: Path, meta: list[tuple[str, str]]) -> list[Path]:
    """Write the workbook, one brief per selected firm and the combined brief file; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    briefs_dir = out_dir / BRIEFS_DIR
    briefs_dir.mkdir(exist_ok=True)
    for stale in sorted(briefs_dir.glob("*.md")):
        stale.unlink()  # a firm dropped from this year's list must not keep last run's brief
    notes = [*meta, *[("提示", w) for w in selection.warnings]]
    written = [out_dir / LIST_FILE]
    written[0].write_bytes(workbook_bytes(list_sheets(selection), notes))
    for _, row in selection.selected.iterrows():
        path = briefs_dir / f"{int(row['pick']):02d}_{row['uscc']}.md"
        path.write_text(firm_brief(row, selection), encoding="utf-8", newline="\n")
        written.append(path)
    combined = out_dir / COMBINED_FILE
    combined.write_text(combined_briefs(selection, meta), encoding="utf-8", newline="\n")
    written.append(combined)
    return written
