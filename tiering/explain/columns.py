"""Programs that could not decide for lack of a column: per rule set, the firms left 待定 because a criterion
reads a field the register has no column for, the columns missing, and the file's unused header nearest to each.

This turns "31 of 43 firms 待定" into "科技型中小企业：31 家待定，缺少列 职工总数（表中未使用的列：从业人员数?）".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from tiering.engine.evaluate import Evaluation
from tiering.fields import BY_ID
from tiering.rules.expr import equivalent_reads, reads
from tiering.rules.nodes import UNKNOWN, TestNode


@dataclass(frozen=True)
class ColumnGap:
    """One rule set whose firms are 待定 because columns are absent from the register."""

    ruleset_id: str
    program_title: str
    undetermined: int
    """Firms 待定 in this rule set with at least one undecided criterion reading an absent column."""
    absent: tuple[str, ...]
    """Field ids of the absent columns those criteria read."""
    nearest: tuple[str | None, ...]
    """For each absent field, the file's unused header closest to it (None when there is none)."""

    def message(self) -> str:
        """e.g. ``科技型中小企业：31 家待定，缺少列 职工总数（表中未使用的列：从业人员数?）``."""
        parts = []
        for field_id, near in zip(self.absent, self.nearest, strict=True):
            hint = f"（表中未使用的列：{near}?）" if near else ""
            parts.append(f"{BY_ID[field_id].label}{hint}" if field_id in BY_ID else field_id)
        return f"{self.program_title}：{self.undetermined} 家待定，缺少列 {'、'.join(parts)}"


def column_gaps(evaluation: Evaluation, mapped: set[str], unused: list[str]) -> list[ColumnGap]:
    """Per rule set, firms 待定 because a criterion they are undecided on reads a field outside ``mapped``."""
    gaps = []
    for result in evaluation.results:
        pending = np.asarray(result.nodes[result.ruleset.root.id].status) == UNKNOWN
        if not pending.any():
            continue
        blocked = np.zeros(len(pending), dtype=bool)
        absent: set[str] = set()
        for node in result.ruleset.root.walk():
            if not isinstance(node, TestNode) or node.id not in result.nodes:
                continue
            missing = {f for f in _fields_of(node, mapped) - mapped if f in BY_ID}
            if not missing:
                continue
            undecided = pending & (np.asarray(result.nodes[node.id].status) == UNKNOWN)
            if undecided.any():
                blocked |= undecided
                absent |= missing
        if blocked.any():
            ordered = tuple(sorted(absent, key=list(BY_ID).index))
            gaps.append(ColumnGap(result.ruleset.id, result.ruleset.meta.program_title, int(blocked.sum()), ordered,
                                  tuple(nearest_unused(f, unused) for f in ordered)))
    return gaps


def _fields_of(node: TestNode, mapped: set[str]) -> set[str]:
    """The fields a test reads; a field the rule set declares equal to a column the register has (销售收入 read from
    营业收入) is not wanted, and the column it is derived from is not wanted in its place."""
    fields: set[str] = set()
    if node.expr is not None:
        fields = {f for f, _ in reads(node.expr, 0, derived_from=False)}
        for (f, _), eq in equivalent_reads(node.expr).items():
            if eq.equals in mapped:
                fields.discard(f)
    if node.text_field is not None:
        fields.add(node.text_field)
    return fields


def nearest_unused(field_id: str, unused: list[str]) -> str | None:
    """The unused header most like the field's label or aliases (similar characters), if any is close."""
    field = BY_ID[field_id]
    names = [field.label, *field.aliases]
    best, best_ratio = None, 0.0
    for header in unused:
        base = re.sub(r"[（(\[【].*$", "", header).strip()
        ratio = max(difflib.SequenceMatcher(None, base, name).ratio() for name in names)
        if ratio > best_ratio:
            best, best_ratio = header, ratio
    return best if best_ratio >= 0.4 else None
