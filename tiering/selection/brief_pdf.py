"""The one-page A4 PDF brief per selected firm, for the 一企一策 file: standing on the ladder, scores, why it was
chosen, what it lacks for the next rung, and the run id, input hash, rule versions and date it rests on.

``select`` writes one file per firm; the review desk prints the list a committee approved as one document — a
cover page with the list and every decision on it, then each firm's brief with the decisions that concern it.

fpdf2 lays the pages out with the project's CJK font (Noto Sans CJK SC from ``mplfonts``) embedded, so the PDF
prints the same on any machine. Loading the 16 MB font costs seconds, so every brief of a run is laid out in one
document (fpdf2 embeds the glyphs used) and pypdf splits it into one file per firm. A brief that would run past
one page is laid out again in a smaller type.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace
from pypdf import PdfReader, PdfWriter

from tiering.ladder.rungs import NO_RUNG_TEXT
from tiering.output.font import cjk_font_path
from tiering.selection.brief import group_shares
from tiering.selection.run import Selection

_FONT = "cjk"
_SIZES = (10.0, 9.0, 8.0, 7.0, 6.5)
_HEAD_FILL = (31, 78, 120)
_LIGHT = (234, 241, 248)


@dataclass(frozen=True)
class BriefStamp:
    """What every brief says it rests on."""

    run_id: str
    input_file: str
    input_sha256: str
    rules: str
    """The rule sets used, e.g. ``kjxzxqy-2022（2022.1）、tj-cy-2021（2021.1）``."""
    made_on: str


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "缺失"
    return str(value)


@dataclass(frozen=True)
class ListCover:
    """The cover page of an approved list: who approved it and when, where each firm came from, every decision."""

    about: list[tuple[str, str]]
    """(label, text) pairs under the title, e.g. 批准人, 批准时间, 批准记录."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """uscc → where the firm on the list came from (遴选结果, 人工加入, …)."""
    decisions: Sequence[str] = ()
    """Every decision recorded on the list, oldest first, as analysts read them."""


def _score_blocks(row: pd.Series, selection: Selection) -> list[tuple[str, object]]:
    """The score table and its sum; for a firm added to the list from outside the pool, why it has no score."""
    if pd.isna(row.get("combined")):
        return [("heading", "得分"), ("para", f"未计分：不在候选池（{_text(row.get('status'))}："
                                             f"{_text(row.get('status_reason'))}），由名单决定加入。")]
    policy = selection.policy
    shares = group_shares(row, policy, selection.with_model)
    scores: list[list[str]] = []
    for group in policy.ranking.groups:
        for c in group.active(selection.with_model):
            pct = float(row[f"pct_{c.id}"])
            share = group.weight * c.weight
            scores.append([group.label, c.label, _text(row[f"value_{c.id}"]), f"{pct:.0%}", f"{100 * share:g}%",
                           f"{100 * share * pct:.2f}"])
    return [("heading", "得分（每项指标换算为候选池内百分位后按权重相加）"),
            ("table", (["维度", "指标", "取值", "池内百分位", "权重", "贡献（分）"], scores)),
            ("para", "；".join(f"{label} {points:.2f} 分" for label, points in shares)
             + f"，合计 {float(row['combined']):.2f} 分。")]


def _blocks(row: pd.Series, selection: Selection, stamp: BriefStamp,
            decisions: Sequence[str] = ()) -> list[tuple[str, object]]:
    """The brief as (kind, content) blocks: title, pairs, heading, para, table, bullets, foot. ``decisions`` are
    the list decisions that concern the firm (none for the list as ``select`` made it)."""
    policy = selection.policy
    scored = not pd.isna(row.get("combined"))
    score = f"{float(row['combined']):.2f} 分（满分 100）" if scored else "未计分"
    lacks = [p for p in str(row.get("lacks") or "").split("；") if p]
    next_rung = row.get("next_rung") or ""
    if not lacks:
        lacks = ["已处于梯队最高层级，无下一层级。"] if not next_rung else [
            "未取得下一层级的差距说明：请运行 tiering explain 查看该企业下一层级的逐条判定。"]
    blocks: list[tuple[str, object]] = [
        ("title", f"一企一策 培育简报：{_text(row['name'])}"),
        ("pairs", [("统一社会信用代码", _text(row["uscc"])), ("所在区", _text(row["district"])),
                   ("行业 / 产业集群", f"{_text(row['industry'])} / {_text(row['cluster'])}"),
                   ("遴选", f"{policy.title}（{policy.id} 版本 {policy.version}），{selection.year} 年度，"
                            f"使用 {selection.data_year} 年度数据"),
                   ("名次 / 综合得分", f"第 {int(row['pick'])} 名（共 {len(selection.selected)} 家） / {score}")]),
        ("heading", "层级现状"),
        ("pairs", [("最高层级", _text(row["highest_rung"]) or NO_RUNG_TEXT),
                   ("符合的全部项目", _text(row["programs_qualified"] or "无")),
                   ("下一层级", _text(next_rung or "无（已在最高层级）"))]),
        *_score_blocks(row, selection),
        ("heading", "入选理由"),
        ("para", _text(row["reasons"]) if scored else "遴选时未进入候选池，由名单决定加入（见下）。"),
    ]
    if selection.with_model and scored and row.get("model_reasons"):
        blocks.append(("para", f"成长潜力模型的主要理由：{row['model_reasons']}"))
    if decisions:
        blocks += [("heading", "名单决定（评审委员会）"), ("bullets", list(decisions))]
    blocks += [("heading", f"尚缺（{next_rung or '下一层级'}）—— 一企一策的起点"), ("bullets", lacks)]
    goal = row.get("goal") or ""
    if goal and goal != next_rung:
        goal_lacks = [p for p in str(row.get("goal_lacks") or "").split("；") if p] or ["无"]
        blocks += [("heading", f"距培育目标（{goal}）尚缺"), ("bullets", goal_lacks)]
    blocks.append(("foot", _foot(stamp)))
    return blocks


class _Doc(FPDF):
    """One document holding every brief of a run (the font is loaded once); each brief starts on a new page."""

    def __init__(self, font_file: Path) -> None:
        super().__init__(format="A4")
        self.add_font(_FONT, fname=str(font_file))
        self.size = _SIZES[0]
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, 12)

    def line_height(self, scale: float = 1.0) -> float:
        return self.size * scale * 0.5

    def put_title(self, text: str) -> None:
        self.set_font(_FONT, size=self.size * 1.6)
        self.set_text_color(*_HEAD_FILL)
        self.multi_cell(0, self.line_height(1.6), text, new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_draw_color(*_HEAD_FILL)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(3)
        self.set_text_color(0, 0, 0)

    def put_heading(self, text: str) -> None:
        self.ln(1.5)
        self.set_font(_FONT, size=self.size * 1.15)
        self.set_fill_color(*_LIGHT)
        self.set_text_color(*_HEAD_FILL)
        self.multi_cell(0, self.line_height(1.3), text, fill=True, new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_text_color(0, 0, 0)
        self.ln(0.8)

    def put_pairs(self, pairs: list[tuple[str, str]], size: float | None = None) -> None:
        self.set_font(_FONT, size=size or self.size)
        key_width = (size or self.size) * 2.9
        for key, value in pairs:
            self.set_text_color(90, 90, 90)
            self.cell(key_width, self.line_height(), key)
            self.set_text_color(0, 0, 0)
            self.multi_cell(0, self.line_height(), value, new_x="LMARGIN", new_y="NEXT", align="L")

    def put_para(self, text: str) -> None:
        self.set_font(_FONT, size=self.size)
        self.multi_cell(0, self.line_height(), text, new_x="LMARGIN", new_y="NEXT", align="L")

    def put_bullets(self, items: list[str]) -> None:
        self.set_font(_FONT, size=self.size)
        for item in items:
            self.cell(4, self.line_height(), "•")
            self.multi_cell(0, self.line_height(), item, new_x="LMARGIN", new_y="NEXT", align="L")

    def put_grid(self, head: list[str], rows: list[list[str]],
                 widths: tuple[int, ...] = (14, 34, 18, 12, 10, 12),
                 align: tuple[str, ...] = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")) -> None:
        self.set_font(_FONT, size=self.size * 0.95)
        with self.table(col_widths=widths, text_align=align,
                        headings_style=FontFace(emphasis="", color=(255, 255, 255), fill_color=_HEAD_FILL),
                        line_height=self.line_height(1.05), first_row_as_headings=True,
                        cell_fill_color=_LIGHT, cell_fill_mode="ROWS", borders_layout="HORIZONTAL_LINES") as table:
            for values in [head, *rows]:
                table.row(values)

    def put_foot(self, pairs: list[tuple[str, str]]) -> None:
        self.ln(2)
        self.set_draw_color(160, 160, 160)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)
        self.set_text_color(70, 70, 70)
        self.put_pairs(pairs, self.size * 0.8)


def _lay_out(doc: _Doc, blocks: list[tuple[str, object]]) -> range:
    """Add the brief to ``doc`` in the largest type size in which it fits one page; return its page indices
    (0-based; more than one only if even the smallest size overflows). Pages of larger sizes that overflowed stay
    in ``doc`` unused."""
    for size in _SIZES:
        doc.size = size
        doc.add_page()
        first = doc.page_no()
        for kind, content in blocks:
            if kind == "table":
                doc.put_grid(*content)  # type: ignore[misc]
            elif kind == "wide_table":
                doc.put_grid(*content, widths=(8, 30, 36, 12, 24, 18),  # type: ignore[misc]
                             align=("RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"))
            else:
                getattr(doc, f"put_{kind}")(content)
        if doc.page_no() == first:
            break
    return range(first - 1, doc.page_no())


def _cover(selection: Selection, stamp: BriefStamp, cover: ListCover) -> list[tuple[str, object]]:
    """The first page of an approved list: the list in order, where each firm came from, every decision."""
    rows = [[str(int(r["pick"])), _text(r["uscc"]), _text(r["name"]),
             "未计分" if pd.isna(r["combined"]) else f"{float(r['combined']):.2f}",
             _text(r["highest_rung"]) or NO_RUNG_TEXT, cover.sources.get(str(r["uscc"]), "")]
            for _, r in selection.selected.iterrows()]
    policy = selection.policy
    return [
        ("title", f"{selection.year} 年度重点培育企业名单（批准）"),
        ("pairs", [("遴选", f"{policy.title}（{policy.id} 版本 {policy.version}），"
                           f"使用 {selection.data_year} 年度数据"),
                   ("名单人数", f"{len(rows)} 家"), *cover.about]),
        ("heading", "批准名单"),
        ("wide_table", (["序号", "统一社会信用代码", "企业名称", "综合得分", "最高层级", "来源"], rows)),
        ("heading", "名单决定（按时间先后）"),
        ("bullets", list(cover.decisions) or ["无：名单即遴选结果"]),
        ("foot", _foot(stamp)),
    ]


def _foot(stamp: BriefStamp) -> list[tuple[str, str]]:
    return [("运行编号", stamp.run_id), ("名录", f"{stamp.input_file}  SHA-256 {stamp.input_sha256}"),
            ("规则版本", stamp.rules), ("生成日期", stamp.made_on)]


def _render(documents: list[list[tuple[str, object]]], stamp: BriefStamp) -> tuple[PdfReader, list[range]]:
    """Lay out every document (one page each, as far as the type sizes allow) in one PDF; return it read back and
    each document's pages."""
    doc = _Doc(cjk_font_path())
    pages = [_lay_out(doc, blocks) for blocks in documents]
    doc.set_creation_date(dt.datetime.fromisoformat(stamp.made_on).replace(tzinfo=dt.UTC))
    return PdfReader(io.BytesIO(bytes(doc.output()))), pages


def write_pdf_briefs(selection: Selection, folder: Path, stamp: BriefStamp) -> list[Path]:
    """Write ``NN_USCC.pdf`` for every selected firm into ``folder``; return the paths in pick order."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(folder.glob("*.pdf")):
        stale.unlink()  # a firm dropped from this year's list must not keep last run's brief
    rows = [row for _, row in selection.selected.iterrows()]
    if not rows:
        return []
    whole, pages = _render([_blocks(row, selection, stamp) for row in rows], stamp)
    written = []
    for row, numbers in zip(rows, pages, strict=True):
        path = folder / f"{int(row['pick']):02d}_{row['uscc']}.pdf"
        single = PdfWriter()
        for i in numbers:
            single.add_page(whole.pages[i])
        with path.open("wb") as handle:
            single.write(handle)
        written.append(path)
    return written


def list_pdf(selection: Selection, stamp: BriefStamp, cover: ListCover,
             decisions: Mapping[str, Sequence[str]]) -> bytes:
    """One PDF of an approved list: the cover page, then the brief of every firm on ``selection``'s list in its
    order, each with the list ``decisions`` that concern it (uscc → lines)."""
    rows = [row for _, row in selection.selected.iterrows()]
    documents = [_cover(selection, stamp, cover),
                 *(_blocks(row, selection, stamp, decisions.get(str(row["uscc"]), ())) for row in rows)]
    whole, pages = _render(documents, stamp)
    out = PdfWriter()
    for numbers in pages:
        for i in numbers:
            out.add_page(whole.pages[i])
    buffer = io.BytesIO()
    out.write(buffer)
    return buffer.getvalue()
