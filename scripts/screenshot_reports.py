"""Render the HTML reports in headless Chromium and save screenshots, so a person can look at them.

Usage (after `apt-get install -y chromium`):
    .venv/bin/python scripts/screenshot_reports.py out/report-2025 --shots out/screenshots

Takes a full-height screenshot of report.html and of the first firm pages in the folder, plus one of the workbook's
sheets rendered as HTML tables (Chromium cannot open .xlsx; the rendering shows the sheets, headers and fills that
the workbook holds). The browser runs with a throw-away profile and no network services.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook

from tiering.output.font import CSS_FAMILY, subset_font_css

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    """The Chromium executable, or exit with how to install it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: run `apt-get update && apt-get install -y chromium`")


def shoot(page: Path, png: Path, width: int, height: int) -> None:
    """Screenshot ``page`` at width × height pixels into ``png``."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={png}", "--virtual-time-budget=5000", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"screenshot {png}  ({page.name})")


def workbook_preview(xlsx: Path, out: Path, rows: int = 12) -> Path:
    """An HTML page showing each sheet's first rows with the header fill and the outcome fills of the workbook."""
    wb = load_workbook(xlsx)
    parts = [f"<h1>{html.escape(xlsx.name)}：{len(wb.sheetnames)} 张表</h1>"
             f"<p>{html.escape(' | '.join(wb.sheetnames))}</p>"]
    fills = {"符合": "#C6EFCE", "不符合": "#FFC7CE", "待定（缺数据）": "#FFEB9C", "pass": "#C6EFCE", "fail": "#FFC7CE",
             "unknown": "#FFEB9C", "已完成": "#C6EFCE", "未完成": "#FFC7CE", "无法计数": "#D9D9D9"}
    for ws in wb.worksheets[:6] + [wb[n] for n in ("尚缺", "计划目标", "说明") if n in wb.sheetnames]:
        rules = len(ws.conditional_formatting)
        parts.append(f"<h2>{html.escape(ws.title)}（冻结 {ws.freeze_panes}，筛选 {ws.auto_filter.ref}，"
                     f"条件格式 {rules} 组）</h2><table>")
        for r, row in enumerate(ws.iter_rows(max_row=rows + 1, max_col=min(ws.max_column, 10), values_only=True)):
            cells = []
            for v in row:
                text = "" if v is None else str(v)[:40]
                style = "background:#1F4E78;color:#fff;font-weight:bold" if r == 0 else \
                    f"background:{fills[text]}" if text in fills else ""
                cells.append(f'<td style="{style}">{html.escape(text)}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    page = out / "workbook_preview.html"
    body = "".join(parts)
    # The browser may have no Chinese font: embed the report's own font subset, as the reports do.
    css = (subset_font_css(body) + f"body{{font-family:'{CSS_FAMILY}',sans-serif;font-size:12px}}"
           "td{border:1px solid #ccc;padding:2px 4px}")
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{css}</style></head>'
                    f"<body>{body}</body></html>", encoding="utf-8")
    return page


def main() -> None:
    """Screenshot every kind of report found in a report folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path, help="folder written by `tiering report`")
    parser.add_argument("--shots", type=Path, default=Path("out/screenshots"), help="where to save the PNGs")
    parser.add_argument("--firms", type=int, default=2, help="how many firm pages to screenshot")
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    report = args.report_dir / "report.html"
    if not report.is_file():
        sys.exit(f"{report} not found: run `tiering report REGISTER --year YEAR --out {args.report_dir}` first")
    shoot(report, args.shots / "report_top.png", 1200, 2400)
    shoot(report, args.shots / "report_full.png", 1200, 9000)
    for page in sorted((args.report_dir / "firms").glob("*.html"))[: args.firms]:
        shoot(page, args.shots / f"firm_{page.stem}.png", 1000, 3000)
    xlsx = args.report_dir / "report.xlsx"
    if xlsx.is_file():
        shoot(workbook_preview(xlsx, args.shots), args.shots / "workbook_preview.png", 1400, 4000)


if __name__ == "__main__":
    main()
