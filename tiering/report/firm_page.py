"""A per-firm explanation page for printing: the content of ``tiering explain``, one block per program."""

from __future__ import annotations

import html
import re

import pandas as pd

from tiering.report.page import table

_MARK_CLASS = {"✔": "ok", "✘": "no", "？": "tbd", "•": ""}
_CRITERION = re.compile(r"^(?P<indent> *)(?P<mark>[✔✘？•]) (?P<text>.*)$")


def _criterion_row(indent: int, mark: str, text: str) -> str:
    body, sep, source = text.rpartition("——")
    if not sep:
        body, source = text, ""
    body, source = body.rstrip(), source.strip()
    depth = max(0, indent // 2 - 1)
    cls = _MARK_CLASS[mark]
    return (f'<tr><td class="mark {cls}">{mark}</td><td style="padding-left:{8 + 18 * depth}px">'
            f'{html.escape(body)}</td><td class="src">{html.escape(source)}</td></tr>')


def summary_block(highest: str, next_rung: str, lacks: str, outcomes: pd.DataFrame) -> str:
    """The firm's standing at a glance: highest rung, what it lacks for the next, and every program's result."""
    lines = [f"<p><b>最高层级：</b>{html.escape(highest)}"
             + (f"；<b>下一层级：</b>{html.escape(next_rung)}" if next_rung else "") + "</p>"]
    if lacks:
        lines.append(f'<p class="note"><b>尚缺：</b>{html.escape(lacks)}</p>')
    shown = outcomes[["program_title", "ruleset_id", "outcome_zh", "score_min", "score_max"]].rename(columns={
        "program_title": "项目", "ruleset_id": "规则集", "outcome_zh": "结果", "score_min": "得分下限",
        "score_max": "得分上限"})
    return "".join(lines) + table(shown)


def firm_page_body(explanation: str, summary: str = "") -> str:
    """The explanation text of :func:`tiering.explain.text.explain_firm` laid out as headed blocks and tables,
    with ``summary`` (HTML) under the firm's heading."""
    out: list[str] = []
    rows: list[str] = []

    def flush() -> None:
        if rows:
            out.append('<table class="crit"><thead><tr><th></th><th>条件与取值</th><th>依据</th></tr></thead>'
                       f"<tbody>{''.join(rows)}</tbody></table>")
            rows.clear()

    for line in explanation.splitlines():
        match = _CRITERION.match(line)
        stripped = line.strip()
        if match:
            rows.append(_criterion_row(len(match["indent"]), match["mark"], match["text"]))
            continue
        flush()
        if not stripped:
            continue
        if stripped.startswith("【"):
            out.append(f'<div class="program"><h2>{html.escape(stripped)}</h2>')
        elif stripped.startswith("结论："):
            cls = "ok" if stripped.startswith("结论：符合") else "no" if "不符合" in stripped else "tbd"
            out.append(f'<p class="verdict {cls}">{html.escape(stripped)}</p></div>')
        elif stripped.startswith("企业："):
            out.append(f"<h1>{html.escape(stripped)}</h1>{summary}")
        else:
            out.append(f'<p class="meta">{html.escape(stripped)}</p>')
    flush()
    return "\n".join(out)
