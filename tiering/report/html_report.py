"""The self-contained HTML report: tier pyramid, indicator distributions against thresholds, year-over-year
transitions, plan targets, the cultivation list and its growth model's out-of-time validation, and the notes on what
the report leaves out."""

from __future__ import annotations

import html

import pandas as pd

from tiering.ladder.rungs import NO_RUNG_TEXT
from tiering.output.overrides import beside_list
from tiering.output.write import zh as headers_zh
from tiering.report import charts
from tiering.report.data import ReportData
from tiering.report.page import esc, table
from tiering.rules.schema import Unit
from tiering.selection.decisions import decided_note, decision_line, list_table

UNIT_TEXT = {Unit.PERCENT: "%", Unit.WAN: "万元", Unit.COUNT: "项", Unit.PEOPLE: "人", Unit.YEARS: "年",
             Unit.DAYS: "天", Unit.POINTS: "分"}

TITLE = "科技企业梯度培育分析报告"
MAX_PROGRESS_BARS = 12


def _img(uri: str, alt: str) -> str:
    return f'<img class="chart" src="{uri}" alt="{html.escape(alt)}">'


def _header(data: ReportData) -> str:
    p = data.provenance
    return (f"<h1>{TITLE}（{data.year} 年申报，依据 {data.year - 1} 年度数据）</h1>"
            f'<p class="meta">名录 {esc(p.input_file)}（SHA-256 {p.input_sha256[:12]}…）；评价日期 {p.eval_date}；'
            f"读取 {p.rows_read} 行，接受 {p.rows_accepted} 行，拒收 {p.rows_refused} 行；"
            f"评价企业 {p.firms_evaluated} 家。</p>")


def _summary(data: ReportData) -> str:
    return "<section><h2>一、各项目评价结果</h2>" + table(headers_zh(data.summary)) + "</section>"


def _pyramid(data: ReportData) -> str:
    levels = data.levels
    chart = charts.pyramid(levels, f"{data.year} 年梯队金字塔（按企业达到的最高层级）")
    frame = pd.DataFrame(levels[::-1], columns=["层级", "企业数"])
    return (f"<section><h2>二、梯队金字塔</h2>{_img(chart, '梯队金字塔')}{table(frame)}"
            '<p class="meta">每家企业只计入其达到的最高层级；层级顺序取自规则集的 rung 元数据。</p></section>')


def _indicators(data: ReportData) -> str:
    if not data.indicators:
        return ""
    blocks = []
    for ind in data.indicators:
        percent = ind.unit == Unit.PERCENT
        unit = UNIT_TEXT.get(ind.unit, "")
        xlabel = f"取值{f'（{unit}）' if unit else ''}，规则集 {ind.ruleset_id}"
        chart = charts.histogram(ind.values, ind.thresholds, ind.label, xlabel, percent, unit)
        blocks.append(_img(chart, ind.label))
    return ("<section><h2>三、关键指标分布与门槛</h2>"
            '<p class="meta">红色虚线为规则集中的门槛（分档门槛画出每一档）；超过第99百分位的取值并入最右一栏。</p>'
            f'<div class="grid">{"".join(blocks)}</div></section>')


def _transitions(data: ReportData) -> str:
    if data.transitions is None:
        return ""
    m = data.transitions
    chart = charts.transitions(m, f"{data.year - 1}→{data.year} 年层级变化（企业数）")
    shown = m.reset_index().rename(columns={m.index.name: f"{m.index.name} ＼ {m.columns.name}"})
    return f"<section><h2>四、年度层级变化</h2>{_img(chart, '层级变化')}{table(shown)}</section>"


def _targets(data: ReportData) -> str:
    t = data.tracking
    if t is None:
        return ""
    # Every year of every target while the chart stays readable; otherwise the last year counted.
    shown = t.progress if len(t.progress) <= MAX_PROGRESS_BARS else t.progress[t.progress["plan_year"] == max(t.years)]
    labels = [f"{r.label}（{r.plan_year}）" for r in shown.itertuples()]
    chart = charts.progress(labels, shown["count"].astype(float).tolist(), shown["target"].astype(float).tolist(),
                            f"{t.plan.title}：目标与实有")
    progress = headers_zh(t.progress[["label", "program", "measure", "plan_year", "target_year", "target", "stretch",
                                      "count", "undetermined", "gap", "status", "source"]])
    label_of = {x.id: x.label for x in t.plan.targets}
    near = t.candidates.groupby("target_id").head(5)
    near = headers_zh(near.assign(target_id=near["target_id"].map(label_of))[
        ["target_id", "rank", "name", "uscc", "outcome_zh", "lacks"]]).rename(columns={"目标代码": "目标"})
    untracked = "".join(f"<li>{esc(u.label)}：“{esc(u.quote)}”——{esc(u.reason)}</li>" for u in t.plan.untracked)
    document_name = "" if t.plan.source.document == t.plan.title else f"——{esc(t.plan.source.document)}"
    return (f"<section><h2>五、计划目标跟踪</h2><p class='meta'>{esc(t.plan.title)}（{esc(t.plan.jurisdiction)}，"
            f"{t.plan.start}–{t.plan.end}）{document_name}；"
            "计数年度 Y 为依据 Y 年度数据（Y+1 年申报口径）符合条件的企业。</p>"
            f"{_img(chart, '计划目标')}{table(progress)}"
            f"<h3>最接近完成目标的企业（{max(t.years)} 年，每个目标前5家）</h3>{table(near)}"
            + (f"<h3>计划中未跟踪的指标</h3><ul>{untracked}</ul>" if untracked else "") + "</section>")


def _selection(data: ReportData) -> str:
    sel = data.selection
    if sel is None:
        return ("<section><h2>六、入选企业情况</h2>"
                f'<p class="note">{esc("；".join(n for n in data.notes if "培育名单" in n))}</p></section>')
    chosen = sel.selected
    labels = [f"{p}. {n}（{h or NO_RUNG_TEXT}）" for p, n, h in zip(chosen["pick"], chosen["name"],
                                                              chosen["highest_rung"], strict=True)]
    chart = charts.standing(labels, chosen["technical"].tolist(), chosen["growth"].tolist(),
                            chosen["combined"].tolist(), f"{sel.year} 年培育名单（{len(chosen)} 家）的得分")
    decided = list_table(data.decided) if data.decided is not None else pd.DataFrame()
    shown = headers_zh(beside_list(chosen[["pick", "uscc", "name", "district", "highest_rung", "combined", "reasons",
                                           "goal_lacks"]], decided).drop(columns="uscc"))
    runners = headers_zh(beside_list(sel.runners_up[["name", "uscc", "district", "combined", "missed_reason"]],
                                     decided).drop(columns="uscc"))
    return (f"<section><h2>六、入选企业情况</h2><p class='meta'>遴选政策：{esc(sel.policy.title)}"
            f"（{esc(sel.policy.id)}），名单 {sel.n} 家；得分为候选池内各指标百分位的加权和。</p>"
            f"{_img(chart, '入选企业得分')}{table(shown)}"
            f"<h3>递补（名单外排名最前的企业）</h3>{table(runners)}{_decisions(data)}</section>")


def _model(data: ReportData) -> str:
    """What the growth model's card records of its out-of-time validation: figures, then calibration by decile."""
    m = data.model
    if m is None:
        return ""
    figures = pd.DataFrame([(k, round(v, 3) if isinstance(v, float) else v) for k, v in m.rows()],
                           columns=["指标", "取值"])
    calibration = "" if m.calibration.empty else (
        "<h3>校准表（样本外，各检验年份合并，按预测概率十等分）</h3>" + table(headers_zh(m.calibration).round(3)))
    return f"<section><h2>七、成长模型样本外检验（模型卡 {esc(m.name)}）</h2>{table(figures)}{calibration}</section>"


def _decisions(data: ReportData) -> str:
    """The committee's decisions on the list, under the machine's list they stand beside."""
    if data.decided is None:
        return ""
    items = "".join(f"<li>{esc(decision_line(d))}</li>" for d in data.decided.decisions)
    return f"<h3>名单决定（评审委员会）</h3><p class='meta'>{esc(decided_note(data.decided))}</p><ul>{items}</ul>"


def _notes(data: ReportData) -> str:
    items = "".join(f"<li>{esc(n)}</li>" for n in data.notes)
    return f"<section><h2>说明</h2><ul>{items}</ul></section>" if items else ""


def report_page(data: ReportData) -> tuple[str, str]:
    """Title and HTML body of the report (pass them to :func:`tiering.report.page.document`)."""
    body = "".join([_header(data), _summary(data), _pyramid(data), _indicators(data), _transitions(data),
                    _targets(data), _selection(data), _model(data), _notes(data)])
    return f"{TITLE} {data.year}", body
