"""Write a report folder: the bureau workbook, the HTML report, and one printable page per chosen firm."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tiering.app import Progress
from tiering.engine.evaluate import firm_slice
from tiering.engine.trace import READABLE_COLUMNS
from tiering.output.font import PageFont
from tiering.output.overrides import beside_list
from tiering.output.provenance import today
from tiering.output.workbook import write_workbook
from tiering.output.write import EXCEL_MAX_ROWS, unit_column
from tiering.report.data import ReportData
from tiering.report.firm_page import Standing, firm_page_body
from tiering.report.html_report import report_page
from tiering.report.page import document
from tiering.selection.decisions import decided_note, decisions_frame, list_table

FIRM_PAGES = "逐家说明页 firm pages"
SELECTION_COLUMNS = ["pick", "uscc", "name", "district", "highest_rung", "combined", "technical", "growth", "reasons",
                     "next_rung", "lacks", "goal", "goal_lacks"]

WORKBOOK_FILE, HTML_FILE, FIRMS_DIR, BRIEFS_DIR = "report.xlsx", "report.html", "firms", "briefs"
WRITTEN = (WORKBOOK_FILE, HTML_FILE, FIRMS_DIR, BRIEFS_DIR)
"""Everything a report writes into its folder (what --overwrite removes before a new report)."""


def workbook_sheets(data: ReportData) -> dict[str, pd.DataFrame]:
    """Sheet name → table, in the order the bureau reads them."""
    sheets: dict[str, pd.DataFrame] = {"汇总": data.summary}
    sheets["梯队"] = pd.DataFrame(data.levels[::-1], columns=["level", "firms"])
    outcome_cols = ["uscc", "name", "program_title", "ruleset_id", "outcome_zh", "score_min", "score_max",
                    "score_source", "path", "failed", "missing"]
    if data.run is not None:  # a report of partitions has its per-firm tables in the run's Parquet datasets
        shown = {rs.meta.program_title: rs.shown_title for rs in data.rulesets}  # named as in 汇总 and 梯队
        for title, group in data.run.outcomes.groupby("program_title", sort=False, observed=True):
            sheets[shown.get(str(title), str(title))[:31]] = group[outcome_cols]
    if data.tiers is not None:
        sheets["尚缺"] = data.tiers
    if data.trace is not None and len(data.trace) <= EXCEL_MAX_ROWS:
        sheets["追溯"] = unit_column(data.trace[READABLE_COLUMNS], data.rulesets)
    if data.selection is not None:
        decided = list_table(data.decided) if data.decided is not None else pd.DataFrame()
        sheets["培育名单"] = beside_list(data.selection.selected[SELECTION_COLUMNS], decided)
        sheets["递补"] = beside_list(data.selection.runners_up[SELECTION_COLUMNS[1:] + ["missed_reason"]], decided)
        if data.decided is not None:
            sheets["名单决定"] = decisions_frame(data.decided)
    if data.model is not None:
        sheets["成长模型检验"] = pd.DataFrame(data.model.rows(), columns=["metric", "value"])
        if not data.model.calibration.empty:
            sheets["成长模型校准"] = data.model.calibration
    if data.tracking is not None:
        sheets["计划目标"] = data.tracking.progress
        sheets["最接近的企业"] = data.tracking.candidates
    return sheets


def about_rows(data: ReportData) -> list[tuple[str, str]]:
    """The 说明 sheet: run id, input hash, rule versions and the report's notes."""
    decided = [("名单决定", decided_note(data.decided))] if data.decided is not None else []
    return [("运行编号", data.run_id), *data.provenance.rows(), ("生成日期", today()), *decided,
            *[("说明", n) for n in data.notes]]


def firm_pages(data: ReportData, firms: list[str], progress: Progress | None = None) -> dict[str, tuple[str, str]]:
    """uscc → (title, HTML body) of the printable page of each firm in ``firms`` (firms without data for the year
    are skipped): ladder programs first (bottom rung up), then the others; ``progress`` hears of every firm done.
    Only a report of a whole run has them (``data.run``)."""
    if not firms:
        return {}
    assert data.run is not None and data.tiers is not None
    evaluation = data.run.evaluation
    names = dict(zip(evaluation.firms, evaluation.names, strict=True))
    tiers = data.tiers.set_index("uscc")
    ordered = sorted(data.rulesets, key=lambda r: (r.meta.rung is None, r.meta.rung or 0, r.program))
    p = data.provenance
    rules = "、".join(f"{r['id']}（{r['version']}，SHA-256 {r['sha256'][:12]}）" for r in p.rulesets)
    stamp = (f"运行编号 {data.run_id}；名录 {Path(p.input_file).name} SHA-256 {p.input_sha256}；"
             f"评价日期 {p.eval_date}；生成日期 {today()}；规则版本 {rules}")
    pages = {}
    for done, uscc in enumerate(firms, start=1):
        if progress is not None:
            progress(FIRM_PAGES, done, len(firms))
        if uscc in names:
            tier = tiers.loc[uscc]
            standing = Standing(str(tier["highest_rung"]), str(tier["next_rung"]), str(tier["lacks"]))
            heading = f"企业：{names[uscc]}（{uscc}）  申报年度：{data.year}  数据年度：{data.year - 1}"
            body = firm_page_body(heading, stamp, standing, ordered, firm_slice(evaluation, uscc),
                                  data.run.firm_lacks(uscc))
            pages[uscc] = (f"{names[uscc]} {data.year} 年评价说明", body)
    return pages


def write_firm_pages(pages: dict[str, tuple[str, str]], out_dir: Path, font: PageFont) -> list[Path]:
    """Write each firm page as ``firms/<uscc>.html`` with the report's font subset."""
    if not pages:
        return []
    folder = out_dir / FIRMS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for uscc, (title, body) in pages.items():
        path = folder / f"{uscc}.html"
        path.write_text(document(title, body, font), encoding="utf-8")
        written.append(path)
    return written


def write_briefs(data: ReportData, out_dir: Path) -> list[Path]:
    """The one-page PDF brief of every firm on the report's cultivation list, in ``out_dir/briefs``."""
    if data.selection is None:
        return []
    # fpdf and pypdf load only when briefs are asked for (--briefs): a report without them starts faster
    from tiering.selection.brief_pdf import BriefStamp, write_pdf_briefs

    p = data.provenance
    rules = "、".join(f"{r['id']}（{r['version']}）" for r in p.rulesets)
    stamp = BriefStamp(data.run_id, Path(p.input_file).name, p.input_sha256, rules, today())
    return write_pdf_briefs(data.selection, out_dir / BRIEFS_DIR, stamp)


def write_report(data: ReportData, out_dir: Path, firms: list[str], progress: Progress | None = None) -> list[Path]:
    """Write report.xlsx, report.html and the firm pages into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_workbook(out_dir / WORKBOOK_FILE, workbook_sheets(data), about_rows(data))]
    title, body = report_page(data)
    pages = firm_pages(data, firms, progress)
    # one font subset for the report and every firm page: subsetting the CJK font is the slow part
    font = PageFont(title + body + "".join(t + b for t, b in pages.values()))
    html_path = out_dir / HTML_FILE
    html_path.write_text(document(title, body, font), encoding="utf-8")
    written.append(html_path)
    return written + write_firm_pages(pages, out_dir, font)
