"""The printable page of one firm: its standing first, then per program only what decides it.

Two A4 pages at most for a firm evaluated in every program: a summary (highest rung, what it lacks for the next
rung, one line per program with outcome, score and reason), then per program the criteria failed or pending in
full, the ones met on one line, and what it lacks. The lines are those of ``tiering explain``
(:func:`tiering.explain.text.deciding`); the full trace stays in the workbook.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from tiering.explain import format as fmt
from tiering.explain.text import deciding, verdict_reason
from tiering.outcome import OUTCOME_ZH
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import FAIL, PASS, One

_CLASS = {PASS: "ok", FAIL: "no"}
MAX_OPEN = 3
"""Criteria failed or pending shown in full per program; the rest are counted (the page must stay two A4 pages)."""
MAX_LACKS = 1
MAX_MET = 6
"""Labels of criteria met named per program (each cut to 16 characters); the rest are counted."""
_MARK = {PASS: "✔", FAIL: "✘"}

FIRM_CSS = """
@page { size: A4; margin: 8mm 10mm; }
.firm { font-size: 12px; line-height: 1.35; }
.firm h1 { font-size: 16px; margin: 0 0 3px; padding-bottom: 3px; }
.firm h2 { font-size: 13px; margin: 8px 0 2px; padding-left: 6px; border-left-width: 4px; }
.firm .stamp { font-size: 10px; color: #555; margin: 2px 0 4px; overflow-wrap: anywhere; }
.firm .standing { margin: 3px 0; }
.firm table { margin: 2px 0 4px; font-size: 11px; width: 100%; }
.firm th { padding: 1px 5px; }
.firm td { padding: 1px 4px; white-space: normal; }
.firm td.out { white-space: nowrap; text-align: center; width: 5.5em; }
.firm td.pts { white-space: nowrap; text-align: right; width: 5em; }
.firm td.prog { white-space: nowrap; }
.firm .crit { table-layout: fixed; }
.firm .mark { font-weight: bold; text-align: center; }
.firm .src { color: #666; }
.firm .crit td { border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
.firm .crit col.mark { width: 1.6em; }
.firm .crit col.src { width: 24%; }
.firm .crit td.mark { padding: 1px 2px; text-align: center; }
.firm .crit td.src { font-size: 9.5px; }
.firm .crit tr.head th { background: #dde8f3; color: #1f4e78; padding: 2px 5px; }
.firm .crit tr.head .out { padding: 0 6px; color: #1a1a1a; font-weight: normal; }
.firm .crit tr.head .rs { color: #555; font-weight: normal; font-size: 9.5px; }
.firm .met, .firm .more { color: #555; font-size: 10px; }
.firm .lacks { color: #7f6000; font-size: 10.5px; }
.firm .note { padding: 3px 8px; margin: 3px 0; }
@media print {
  body { font-size: 10px; }
  .firm { font-size: 10px; line-height: 1.25; }
  .firm h1 { font-size: 14px; }
  .firm h2 { font-size: 11.5px; margin: 5px 0 2px; }
  .firm table { font-size: 8.5px; }
  .firm .crit td.src, .firm .stamp, .firm .met, .firm .more, .firm .crit tr.head .rs { font-size: 8px; }
  .firm .lacks { font-size: 9px; }
  .firm h2 { break-after: avoid; }
  .firm tr { break-inside: avoid; }
  .firm tr.head { break-after: avoid; }
  .firm thead { display: table-header-group; }
}
"""
"""Added to the report's stylesheet (tiering.report.page) for the firm pages: A4, small print, no broken rows."""


@dataclass(frozen=True)
class Standing:
    """The firm's place on the ladder, from the report's 尚缺 table."""

    highest: str
    next_rung: str
    lacks: str


def _summary_rows(rulesets: Sequence[CompiledRuleSet], results: dict[str, dict[str, One]]) -> str:
    rows = []
    for rs in rulesets:
        res = results[rs.id]
        root = res[rs.root.id]
        score = rs.score_node()
        points = fmt.points_range(res[score.id].pmin, res[score.id].pmax) if score is not None else ""
        cls = _CLASS.get(root.status, "tbd")
        rows.append(f'<tr><td class="prog">{html.escape(rs.shown_title)}</td>'
                    f'<td class="out {cls}">{OUTCOME_ZH[root.status]}</td><td class="pts">{points}</td>'
                    f"<td>{html.escape(verdict_reason(rs, res, 52))}</td></tr>")
    return ('<table><thead><tr><th>项目</th><th>结果</th><th>得分</th><th>依据要点</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _criterion_row(status: int, line: str) -> str:
    body, sep, source = line.rpartition("——")
    if not sep:
        body, source = line, ""
    return (f'<tr><td class="mark {_CLASS.get(status, "tbd")}">{_MARK.get(status, "？")}</td>'
            f'<td>{html.escape(body.strip())}</td><td class="src">{html.escape(source.strip())}</td></tr>')


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _program(rs: CompiledRuleSet, res: dict[str, One], lacks: Sequence[str]) -> str:
    """One program's rows: a heading row with its outcome, the criteria failed or pending (at most
    ``MAX_OPEN``), the ones met on one line, and what it lacks (at most ``MAX_LACKS`` items)."""
    root = res[rs.root.id]
    said = deciding(rs, res)
    cls = _CLASS.get(root.status, "tbd")
    rows = [f'<tr class="head"><th colspan="3">{html.escape(rs.shown_title)}　<span class="out {cls}">'
            f"{OUTCOME_ZH[root.status]}</span>　<span class=\"rs\">{html.escape(rs.meta.title)}　版本 "
            f"{html.escape(str(rs.version))}</span></th></tr>"]
    rows += [_criterion_row(status, line) for status, line in said.open[:MAX_OPEN]]
    if len(said.open) > MAX_OPEN:
        rows.append(f'<tr><td></td><td colspan="2" class="more">另 {len(said.open) - MAX_OPEN} 项未满足或待定'
                    "（见 tiering explain 或追溯表）</td></tr>")
    if said.met:
        shown = "；".join(_cut(label, 16) for label in said.met[:MAX_MET]) + ("等" if len(said.met) > MAX_MET else "")
        rows.append(f'<tr><td class="mark ok">✔</td><td colspan="2" class="met">已满足 {len(said.met)} 项：'
                    f"{html.escape(shown)}</td></tr>")
    items = [_cut(text, 110) for text in lacks[:MAX_LACKS]] + ([f"等，共 {len(lacks)} 项"] if len(lacks) > MAX_LACKS
                                                               else [])
    if items:
        rows.append(f'<tr><td class="mark">→</td><td colspan="2" class="lacks">尚缺：'
                    f'{html.escape("；".join(items))}</td></tr>')
    return "".join(rows)


def firm_page_body(heading: str, stamp: str, standing: Standing, rulesets: Sequence[CompiledRuleSet],
                   results: dict[str, dict[str, One]], lacks: dict[str, list[str]]) -> str:
    """The page's HTML body: ``heading`` (the firm, its code and years) and ``stamp`` (run id, input hash, rule
    versions, dates: plain text), the standing and one summary line per program, then per program what decides
    it. ``rulesets`` in the order to show (ladder first); ``results`` and ``lacks`` keyed by rule-set id."""
    nxt = f"；<b>下一层级：</b>{html.escape(standing.next_rung)}" if standing.next_rung else ""
    top = [f'<div class="firm"><h1>{html.escape(heading)}</h1><p class="stamp">{html.escape(stamp)}</p>',
           f'<p class="standing"><b>最高层级：</b>{html.escape(standing.highest)}{nxt}</p>']
    if standing.lacks:
        top.append(f'<p class="note lacks"><b>尚缺（{html.escape(standing.next_rung or "下一层级")}）：</b>'
                   f"{html.escape(standing.lacks)}</p>")
    top.append(_summary_rows(rulesets, results))
    details = "".join(_program(rs, results[rs.id], lacks.get(rs.id, [])) for rs in rulesets)
    return ("".join(top) + '<h2>各项目判定要点</h2><p class="stamp">只列未满足与待定的条件，已满足的条件合为一行；'
            "逐条取值、门槛与得分见 tiering explain 或工作簿的追溯表。</p>"
            '<table class="crit"><colgroup><col class="mark"><col><col class="src"></colgroup>'
            f"<tbody>{details}</tbody></table></div>")
