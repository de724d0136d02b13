"""The HTML shell shared by the report and the per-firm pages: print-friendly CSS and the embedded CJK font."""

from __future__ import annotations

import html

import pandas as pd

from tiering.output.font import CSS_FAMILY, PageFont, subset_font_css
from tiering.report.firm_page import FIRM_CSS

CSS = f"""
body {{ font-family: '{CSS_FAMILY}', sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1080px;
       padding: 0 16px; line-height: 1.5; font-size: 14px; }}
h1 {{ font-size: 22px; border-bottom: 3px solid #1f4e78; padding-bottom: 6px; }}
h2 {{ font-size: 18px; color: #1f4e78; margin-top: 28px; border-left: 5px solid #1f4e78; padding-left: 8px; }}
h3 {{ font-size: 15px; margin: 16px 0 6px; }}
table {{ border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }}
th {{ background: #1f4e78; color: #fff; font-weight: bold; padding: 4px 8px; text-align: left;
      white-space: nowrap; }}
td {{ border-bottom: 1px solid #ddd; padding: 3px 8px; vertical-align: top; white-space: nowrap; }}
td.wrap {{ white-space: normal; min-width: 260px; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.meta {{ color: #555; font-size: 13px; }}
.grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }}
.chart {{ max-width: 100%; }}
.ok {{ background: #c6efce; }} .no {{ background: #ffc7ce; }}
.tbd {{ background: #ffeb9c; }} .na {{ background: #eee; }}
.note {{ color: #7f6000; background: #fff8e1; padding: 6px 10px; border-left: 4px solid #ffc000; margin: 6px 0; }}
@media print {{ body {{ margin: 0; max-width: none; font-size: 11px; }} h2 {{ break-after: avoid; }}
  section {{ break-inside: avoid-page; }} }}
""" + FIRM_CSS

_CELL_CLASS = {"符合": "ok", "已完成": "ok", "达到力争目标": "ok", "不符合": "no", "未完成": "no",
               "待定（缺数据）": "tbd", "无法计数": "na"}


def esc(value: object) -> str:
    """HTML-escaped text of a cell ('' for missing, integers without a decimal point)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.4g}"
    return html.escape(str(value))


def table(frame: pd.DataFrame, max_rows: int | None = None) -> str:
    """A frame (already with Chinese headers) as an HTML table; outcome cells coloured."""
    shown = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for v in record:
            cls = _CELL_CLASS.get(str(v), "num" if isinstance(v, int | float) and not isinstance(v, bool) else
                                  "wrap" if len(str(v)) > 24 else "")
            cells.append(f'<td class="{cls}">{esc(v)}</td>' if cls else f"<td>{esc(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = "" if max_rows is None or len(frame) <= max_rows else \
        f'<p class="meta">（仅显示前 {max_rows} 行，共 {len(frame)} 行；完整表见工作簿）</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def document(title: str, body: str, font: PageFont | None = None) -> str:
    """A complete, self-contained HTML document: the body plus the font subset for every character in it.

    Pass ``font`` when writing many pages, so the font is subset once for all of them.
    """
    font_css = font.css() if font is not None else subset_font_css(title + body)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{font_css}\n{CSS}</style></head><body>{body}</body></html>\n")
