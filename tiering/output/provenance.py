"""What every output records about how it was made: input hash, rule versions and hashes, year, tool version."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tiering import __version__
from tiering.rules.compile import CompiledRuleSet


@dataclass
class Provenance:
    """The facts that make a run reproducible; written beside every result file."""

    input_file: str
    input_sha256: str
    year: int
    eval_date: str
    money_units: dict[str, str]
    rulesets: list[dict[str, Any]]
    tool_version: str = __version__
    rows_read: int = 0
    rows_accepted: int = 0
    rows_refused: int = 0
    firms_evaluated: int = 0
    firms_without_data_year: list[str] = field(default_factory=list)
    columns_mapped: dict[str, str] = field(default_factory=dict)
    """Field id -> the register's header read for it."""
    columns_unused: list[str] = field(default_factory=list)
    """The register's headers that name no field (not read)."""
    intake_notes: list[str] = field(default_factory=list)
    """How the register was read: header row, sheets, skipped rows, cleaned cells."""
    column_gaps: list[str] = field(default_factory=list)
    """Per program, firms 待定 because a column is absent (tiering.explain.columns)."""

    def as_dict(self) -> dict:
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """(项目, 内容) pairs for the 说明 sheet of a workbook."""
        out = [
            ("输入文件", self.input_file), ("输入文件SHA-256", self.input_sha256), ("申报年度", str(self.year)),
            ("数据年度", str(self.year - 1)), ("评价日期（选取规则版本）", self.eval_date),
            ("工具版本", f"tiering {self.tool_version}"),
            ("读取行数", str(self.rows_read)), ("接受行数", str(self.rows_accepted)),
            ("拒收行数", str(self.rows_refused)),
            ("评价企业数", str(self.firms_evaluated)),
            ("无数据年度记录的企业", "、".join(self.firms_without_data_year) or "无"),
        ]
        out += [(f"金额单位：{k}", v) for k, v in self.money_units.items()]
        out += [("读取的列", "、".join(f"{h}→{k}" for k, h in self.columns_mapped.items()) or "无"),
                ("未使用的列", "、".join(self.columns_unused) or "无")]
        out += [("读表说明", note) for note in self.intake_notes]
        out += [("缺列待定", gap) for gap in self.column_gaps]
        out += [(f"规则集 {r['id']}", f"版本 {r['version']}  状态 {r['status']}  SHA-256 {r['sha256']}")
                for r in self.rulesets]
        return out


def ruleset_records(rulesets: Sequence[CompiledRuleSet]) -> list[dict[str, Any]]:
    """id, version, status, content hash and effective dates of each rule set used (and the files it extends), and
    the purpose its tree was compiled for when that is not 认定 (a 复核 tree, so a replay compiles the same)."""
    return [{"id": r.id, "program": r.program, "version": r.version, "status": r.meta.status.value,
             "sha256": r.sha256, "effective_from": str(r.meta.effective_from),
             "effective_to": str(r.meta.effective_to or ""), **base_records(r), **purpose_record(r)} for r in rulesets]


def base_records(ruleset: CompiledRuleSet) -> dict[str, list[dict[str, str]]]:
    """``{"bases": [...]}`` — id, content hash and path of each file the rule set extends — or nothing for a whole
    file (so the records of rule sets that extend nothing read as before)."""
    if not ruleset.bases:
        return {}
    return {"bases": [{"id": b.id, "sha256": b.sha256, "path": str(b.path.resolve())} for b in ruleset.bases]}


def purpose_record(ruleset: CompiledRuleSet) -> dict[str, str]:
    """``{"purpose": "复核"}`` for a rule set compiled for another purpose than 认定 (so a replay compiles the same
    tree), or nothing (the records of 认定 runs read as before)."""
    return {"purpose": ruleset.purpose} if ruleset.purpose != "认定" else {}


def today() -> str:
    return dt.date.today().isoformat()


_MONEY_NOTE = re.compile(r"^金额单位：万元（(?P<how>由)?(?P<source>表头 |--unit 万元，列 |--unit 元，列 )"
                         r"(?P<column>.+?)(?P<conv> 换算)?）$")
_MONEY_SOURCE = {
    ("", "表头 "): "表头已标明万元", ("由", "表头 "): "由表头标明的元换算",
    ("", "--unit 万元，列 "): "表头未标单位，按 --unit 万元",
    ("由", "--unit 元，列 "): "表头未标单位，按 --unit 元换算",
}


def money_lines(notes: Sequence[str]) -> list[str]:
    """The money-unit notes of a run folded into one line per way the unit was found (``金额单位：万元，13 列
    表头已标明万元``); columns are named only when the unit was converted or came from ``--unit``."""
    groups: dict[str, list[str]] = {}
    other = []
    for note in notes:
        match = _MONEY_NOTE.match(note)
        if match is None:
            other.append(note)
            continue
        how = _MONEY_SOURCE.get((match["how"] or "", match["source"]), match["source"].strip())
        groups.setdefault(how, []).append(match["column"])
    return [f"金额单位：万元（{len(columns)} 列，{how}{'' if how == '表头已标明万元' else '：' + '、'.join(columns)}）"
            for how, columns in groups.items()] + other
