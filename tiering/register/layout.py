"""Where a sheet's table is: the header row found (not assumed), title and group rows above it, and the rows
under it that are not firm-years (合计/总计 lines, notes such as 注：… or 填表人：…).

A header row is the row, among the first ``LOOK_ROWS``, whose cells name the most known fields (at least
``MIN_FIELDS``). The row directly above it is a group row when it holds several different texts: a field cell left
blank under a group cell takes the group's text, and a group cell's unit (经营情况（万元）) applies to the money
fields under it that name none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiering.fields import resolve_all, split_header

LOOK_ROWS = 20
"""How many rows from the top may hold the header."""
MIN_FIELDS = 3
"""Different known fields a row must name to count as a header (a guide sheet's row names two at most)."""
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "累计", "total"})
NOTE_START = re.compile(r"^\s*(注|备注|说明|附注|填表|制表|审核|单位负责人|数据来源|资料来源|note)", re.I)
KEY_FIELDS = ("uscc", "name", "year")
CODE_LIKE = re.compile(r"[0-9A-Za-z]{15,20}")


@dataclass
class Layout:
    """The header of one sheet and what surrounds the data."""

    header_row: int
    """1-based row of the field names."""
    headers: list[str]
    body: pd.DataFrame
    """The rows under the header that may hold firm-years (blank rows included; the reader drops and reports
    them), indexed by row number."""
    notes: list[str] = field(default_factory=list)
    """What was skipped and why, for the run's summary."""


def cell_text(value: object) -> str:
    """A cell as header text: blank for empty, 2024 not 2024.0."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def _known(text: str) -> bool:
    return bool(text) and len(resolve_all(re.sub(r"\s+", "", text))) > 0


def header_score(row: list[object]) -> int:
    """How many different known fields the cells of a row name (a guide sheet listing a field's id beside its
    label names one)."""
    named = (resolve_all(re.sub(r"\s+", "", cell_text(v))) for v in row if cell_text(v))
    return len({hits[0].id for hits in named if hits})


def find_header(rows: list[list[object]], minimum: int = MIN_FIELDS) -> int | None:
    """The position (0-based) among ``rows`` of the best-scoring header row, or None when no row names
    ``minimum`` known fields."""
    best, best_score = None, minimum - 1
    for position, row in enumerate(rows[:LOOK_ROWS]):
        score = header_score(row)
        if score > best_score:
            best, best_score = position, score
    return best


def looked_at(rows: list[list[object]], numbers: list[int], shown: int = 8) -> str:
    """The first non-empty rows and what each holds, for a 'header not found' message."""
    lines = []
    for number, row in zip(numbers[:LOOK_ROWS], rows[:LOOK_ROWS], strict=False):
        texts = [cell_text(v) for v in row if cell_text(v)]
        if not texts:
            continue
        held = "、".join(t[:20] for t in texts[:6]) + ("…" if len(texts) > 6 else "")
        lines.append(f"第 {number} 行：{held}（认出字段 {header_score(row)} 个）")
        if len(lines) == shown:
            break
    return "；".join(lines) if lines else "前 20 行都是空的"


def lay_out(grid: pd.DataFrame, header_at: int, table_ends: bool = True) -> Layout:
    """The headers of the grid's row at position ``header_at`` (group row merged in) and the data rows under it,
    totals and notes set aside (see :func:`data_rows`). ``grid`` is indexed by row (or line) number, columns
    0..n-1."""
    notes: list[str] = []
    numbers = grid.index.to_numpy()
    top = grid.iloc[: header_at + 1].to_numpy(dtype=object).tolist()
    header_row = int(numbers[header_at])
    fields = [cell_text(v) for v in top[header_at]]
    group = [cell_text(v) for v in top[header_at - 1]] if header_at >= 1 else [""] * len(fields)
    is_group = len({g for g in group if g}) >= 2
    if is_group:
        fields = [_with_group(f, g) for f, g in zip(fields, group, strict=True)]
        notes.append(f"第 {int(numbers[header_at - 1])} 行是分组表头，第 {header_row} 行是字段表头：两行合并读取")
    for position in range(header_at - int(is_group)):
        texts = [cell_text(v) for v in top[position] if cell_text(v)]
        if texts:
            notes.append(f"第 {int(numbers[position])} 行是标题“{texts[0][:40]}”，已跳过")
    body, below = data_rows(grid.iloc[header_at + 1:], fields, table_ends)
    return Layout(header_row, fields, body, notes + below)


def data_rows(body: pd.DataFrame, fields: list[str], table_ends: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """The rows of ``body`` (rows under the header ``fields``) that may hold firm-years, 合计 lines and, when the
    table ends with ``body`` (``table_ends``; not for a chunk of a file read in pieces), the remarks under it set
    aside; with the notes that say so."""
    notes: list[str] = []
    keys = [i for i, h in enumerate(fields) if any(f.id in KEY_FIELDS for f in resolve_all(re.sub(r"\s+", "", h)))]
    looked = sorted(set(keys) | set(range(min(3, len(fields)))))
    total = np.zeros(len(body), dtype=bool)
    for position in looked:
        if position not in body.columns:
            continue
        cells = body[position]
        if cells.dtype != object and not pd.api.types.is_string_dtype(cells):
            continue
        words = cells.astype("str").str.replace(r"\s+", "", regex=True).str.lower()
        total |= words.isin(TOTAL_WORDS).to_numpy(dtype=bool)
    skipped = body.index[total]
    if len(skipped):
        notes.append(f"第 {'、'.join(map(str, skipped))} 行是合计行，已跳过（不计入读取行数）")
    # remarks under the table (注：…, 填表人：…): read upwards from the last row while rows look like remarks
    note_rows: list[int] = []
    cells = body.to_numpy(dtype=object)
    for position in range(len(body) - 1, -1, -1) if table_ends else ():
        row = cells[position].tolist()
        if not any(cell_text(v) for v in row):
            continue
        if not _is_note(row):
            break
        note_rows.insert(0, int(body.index[position]))
    if note_rows:
        first = next(cell_text(v) for v in body.loc[note_rows[0]] if cell_text(v))
        notes.append(f"第 {'、'.join(map(str, note_rows))} 行是表下注释（“{first[:40]}”），已跳过")
    keep = ~total & ~body.index.isin(note_rows)
    return (body[keep] if not keep.all() else body), notes


def _with_group(field_text: str, group_text: str) -> str:
    """A field cell read with its group cell: blank takes the group's text; a unit in the group fills a money
    field that names none."""
    if not field_text:
        return group_text
    if _known(group_text) or not group_text:
        return field_text
    name, unit = split_header(field_text)
    group_unit = split_header(group_text)[1]
    if unit is None and group_unit is not None and _known(name):
        return f"{name}({group_unit})"
    return field_text


def _is_note(row: list[object]) -> bool:
    """A row that opens like a remark (注：…), or has at most three filled cells none of which looks like a
    统一社会信用代码 (a firm-year with only its keys filled is data, refused or read, never skipped)."""
    texts = [cell_text(v) for v in row if cell_text(v)]
    if texts and NOTE_START.match(texts[0]):
        return True
    return len(texts) <= 3 and not any(CODE_LIKE.fullmatch(t) for t in texts)
