"""The one-page brief per selected firm (Markdown): standing, scores, why it was chosen, what it still lacks.

The brief is the starting point of the firm's 一企一策 plan. It holds no timestamps, so the same run gives
the same bytes.
"""

from __future__ import annotations

import pandas as pd

from tiering.selection.policy import Policy
from tiering.selection.run import Selection

PAGE_BREAK = '\n<div style="page-break-after: always"></div>\n\n'


def _cell(value: object) -> str:
    """A value as Markdown table text: pipes escaped, newlines flattened, missing shown as 缺失."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "缺失"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _score_rows(row: pd.Series, policy: Policy, with_model: bool) -> list[str]:
    lines = ["| 维度 | 指标 | 取值 | 池内百分位 | 权重 | 贡献（分） |", "|---|---|---:|---:|---:|---:|"]
    for group in policy.ranking.groups:
        for c in group.active(with_model):
            pct = float(row[f"pct_{c.id}"])
            share = group.weight * c.weight
            lines.append(f"| {group.label}（{row[group.id]:.2f}） | {c.label} | {_cell(row[f'value_{c.id}'])} "
                         f"| {pct:.0%} | {100 * share:g}% | {100 * share * pct:.2f} |")
    return lines


def group_shares(row: pd.Series, policy: Policy, with_model: bool) -> list[tuple[str, float]]:
    """Points of the combined score (0–100) that each ranking group (技术水平, 发展潜力) contributed."""
    return [(group.label, sum(100 * group.weight * c.weight * float(row[f"pct_{c.id}"])
                              for c in group.active(with_model)))
            for group in policy.ranking.groups]


def _share_line(row: pd.Series, policy: Policy, with_model: bool) -> str:
    shares = group_shares(row, policy, with_model)
    total = sum(points for _, points in shares)
    parts = "，".join(f"{label} {points:.2f} 分（{points / total:.0%}）" if total > 0 else f"{label} {points:.2f} 分"
                      for label, points in shares)
    return f"名次的来源：综合得分 {row['combined']:.2f} 分中，{parts}。"


def _lacks_lines(row: pd.Series, column: str = "lacks") -> list[str]:
    text = row.get(column) or ""
    if not isinstance(text, str) or not text:
        if not row.get("next_rung"):
            return ["- 已处于梯队最高层级，无下一层级。"]
        return ["- （未取得下一层级的差距说明：请运行 tiering explain 查看该企业下一层级的逐条判定。）"]
    return [f"- {_cell(part)}" for part in text.split("；") if part]


def firm_brief(row: pd.Series, selection: Selection) -> str:
    """The brief of one selected firm (a row of ``selection.selected``)."""
    policy = selection.policy
    groups = " + ".join(f"{g.label} × {g.weight:g}" for g in policy.ranking.groups)
    lines = [
        f"# 一企一策 培育简报：{_cell(row['name'])}",
        "",
        "| 项目 | 内容 |",
        "|---|---|",
        f"| 统一社会信用代码 | {_cell(row['uscc'])} |",
        f"| 所在区 | {_cell(row['district'])} |",
        f"| 行业 / 产业集群 | {_cell(row['industry'])} / {_cell(row['cluster'])} |",
        f"| 遴选 | {_cell(policy.title)}（{policy.id} 版本 {policy.version}），{selection.year} 年度，"
        f"使用 {selection.data_year} 年度数据 |",
        f"| 名次 | 第 {int(row['pick'])} 名（共 {len(selection.selected)} 家） |",
        f"| 综合得分 | {row['combined']:.2f} / 100 |",
        "",
        "## 层级现状",
        "",
        f"- 最高层级：{_cell(row['highest_rung'])}",
        f"- 符合的全部项目：{_cell(row['programs_qualified'] or '无')}",
        f"- 下一层级：{_cell(row['next_rung'] or '无（已在最高层级）')}",
        "",
        "## 入选理由",
        "",
        f"遴选条件：{_cell(policy.eligibility.description)}；经排除（往年已培育、失信记录）后进入候选池。",
        "",
        f"综合得分 = {groups}；每项指标先换算为候选池内百分位（{len(selection.ranked)} 家候选，100% 为池内最好），"
        "再按权重相加。",
        "",
        *_score_rows(row, policy, selection.with_model),
        "",
        _share_line(row, policy, selection.with_model),
        "",
        f"主要理由：{_cell(row['reasons'])}",
    ]
    reasons = row.get("model_reasons") or ""
    notes = row.get("model_notes") or ""
    if selection.with_model:
        lines += ["", "成长潜力模型的主要理由（为该企业加分最多的特征，括号内为加分）：", ""]
        lines += [f"- {_cell(r)}" for r in reasons.split("；") if r] or ["- 无：该企业没有高于平均水平的模型特征"]
        lines += [f"- {_cell(r)}" for r in notes.split("；") if r]
        against = row.get("model_deductions") or ""
        if against:
            lines += ["", f"成长潜力模型的主要扣分：{_cell(against)}"]
        lines += ["", "模型只在符合资格的企业之间排序，不据此单独排除任何企业；分数为相对排序，不是概率。"]
    next_rung = row["next_rung"] or "下一层级"
    lines += ["", f"## 尚缺（{_cell(next_rung)}）—— 一企一策的起点", "", *_lacks_lines(row)]
    if row.get("goal") and row["goal"] != row["next_rung"]:
        lines += ["", f"## 距培育目标（{_cell(row['goal'])}）尚缺", "", *_lacks_lines(row, "goal_lacks")]
    if row.get("lacks_source"):
        lines += ["", f"（差距来源：{_cell(row['lacks_source'])}）"]
    lines += ["", "## 依据", ""]
    for ref in policy.references:
        clause = f" {ref.clause}" if ref.clause else ""
        quote = f"：“{ref.text}”" if ref.text else ""
        lines.append(f"- {_cell(ref.document)}{_cell(clause)}{_cell(quote)}")
    return "\n".join(lines) + "\n"


def _list_table(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(label for _, label in columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = [f"{row[c]:.2f}" if c == "combined" else _cell(row[c]) for c, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def combined_briefs(selection: Selection, meta: list[tuple[str, str]]) -> str:
    """One file: the list, the next five and why they missed, then every firm's brief (page breaks between)."""
    policy = selection.policy
    head = [
        f"# {selection.year} 年度重点培育企业名单：{_cell(policy.title)}",
        "",
        *[f"- {_cell(k)}：{_cell(v)}" for k, v in meta],
        "",
        f"## 入选名单（{len(selection.selected)} 家）",
        "",
        *_list_table(selection.selected, [("pick", "名次"), ("uscc", "统一社会信用代码"), ("name", "企业名称"),
                                          ("cluster", "产业集群"), ("highest_rung", "最高层级"),
                                          ("combined", "综合得分")]),
        "",
        "## 递补：排在其后的五家及未入选原因",
        "",
        *_list_table(selection.runners_up, [("order", "综合排名"), ("uscc", "统一社会信用代码"),
                                            ("name", "企业名称"), ("combined", "综合得分"),
                                            ("missed_reason", "未入选原因")]),
    ]
    if selection.warnings:
        head += ["", "## 提示", "", *[f"- {_cell(w)}" for w in selection.warnings]]
    briefs = [firm_brief(row, selection) for _, row in selection.selected.iterrows()]
    return PAGE_BREAK.join(["\n".join(head) + "\n", *briefs])
