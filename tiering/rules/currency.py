"""Is a rule set current? Review dates, programs without a version in force, and texts known but not encoded.

Each rule set records ``verified_on`` (when its text was last checked against the source) and may carry
``review_by``. ``rules/currency/unencoded.yaml`` lists newer texts that are known to exist but are not encoded (the
Tianjin 猎豹 scheme, the 2019 雏鹰/瞪羚 texts), each with the dates it concerns. ``tiering rules status`` reads all of
this as a dashboard; ``classify`` and ``explain`` print the warnings that concern their evaluation date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary, RuleLoadError
from tiering.rules.purpose import EvaluationPurpose, review_clause, selection_reason
from tiering.rules.schema import Source
from tiering.rules.yamlsrc import SourceProblem, dotted, read_yaml

UNENCODED_FILE = Path("currency") / "unencoded.yaml"
"""Where, inside a rule folder, the list of known but unencoded texts lives."""


class Unencoded(BaseModel):
    """A text known to exist (or to have existed) whose criteria are not encoded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    program: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    program_title: str
    jurisdiction: str
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    concerns: list[str] = []
    text: str = Field(min_length=1)
    source: Source


class UnencodedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    unencoded: list[Unencoded]


def unencoded_texts(folder: Path) -> list[Unencoded]:
    """The known-but-unencoded texts of a rule folder (none when the folder has no such list)."""
    path = folder / UNENCODED_FILE
    if not path.exists():
        return []
    doc, problems = read_yaml(path)
    if doc is None or problems:
        raise RuleLoadError(problems)
    try:
        return UnencodedFile.model_validate(doc.data).unencoded
    except ValidationError as exc:
        raise RuleLoadError([SourceProblem(str(path), doc.line_of(tuple(e["loc"])), dotted(tuple(e["loc"])),
                                           e["msg"]) for e in exc.errors()]) from exc


def _covers(item: Unencoded, on: dt.date) -> bool:
    return item.from_ <= on and (item.to is None or on <= item.to)


def currency_warnings(library: RuleLibrary, chosen: Sequence[CompiledRuleSet], on: dt.date) -> list[str]:
    """Chinese warnings for an evaluation on ``on`` with the ``chosen`` rule sets.

    A warning is given when the date is past a chosen rule set's ``review_by``, when a program of the library has
    no version in force on the date, and when a known but unencoded text concerns a chosen program (or the program
    itself is not encoded) on the date.
    """
    out = [w for w in (_review_warning(rs, on) for rs in chosen) if w]
    programs = {rs.program for rs in chosen}
    for program in library.programs():
        if program in programs:
            continue
        versions = sorted((r for r in library.rulesets if r.program == program), key=lambda r: r.meta.effective_from)
        if not library.live(program, on):
            spans = "、".join(f"{r.id}（{r.meta.effective_from} – {r.meta.effective_to or '…'}）" for r in versions)
            out.append(f"{versions[0].meta.program_title}（{program}）在 {on} 没有在用的已编码版本，本次不评价；"
                       f"已编码版本：{spans}")
    for item in unencoded_texts(library.folder):
        if not _covers(item, on):
            continue
        # a program not encoded at all, or without a version on the date, is not among the chosen ones
        unencoded_here = not library.live(item.program, on) and any(
            rs.meta.jurisdiction == item.jurisdiction for rs in chosen)
        if item.program in programs or programs.intersection(item.concerns) or unencoded_here:
            out.append(f"{item.program_title}：{item.text}（{item.source.document} {item.source.clause}）")
    return out


def _review_warning(rs: CompiledRuleSet, on: dt.date) -> str | None:
    if rs.meta.review_by is None or on <= rs.meta.review_by:
        return None
    why = f"（{rs.meta.review_note}）" if rs.meta.review_note else ""
    return (f"{rs.meta.program_title} {rs.id} 应于 {rs.meta.review_by} 前对照原文复查{why}，"
            f"评价日期 {on} 已过该日期，结论可能依据过时的标准")


def selection_lines(chosen: Sequence[CompiledRuleSet], purpose: EvaluationPurpose, on: dt.date) -> list[str]:
    """One line naming the purpose, the date and the versions applied, then the reason for each version chosen
    for a 复核 by its ``reviews`` metadata."""
    head = (f"评价目的 purpose：{purpose.describe()}；评价日期 {on}；适用版本："
            + "、".join(f"{rs.id}（{rs.version}）" for rs in chosen))
    lines = [head]
    for rs in chosen:
        if review_clause(rs.meta, purpose, on) is not None:
            lines.append(f"  {rs.meta.program_title}：{selection_reason(rs.meta, purpose, on)}")
    return lines


@dataclass
class ProgramStatus:
    """One program's versions and what is in force on a date, for the ``rules status`` dashboard."""

    program: str
    title: str
    jurisdiction: str
    versions: list[CompiledRuleSet]
    in_force: CompiledRuleSet | None
    warnings: list[str]


def provisional_count(rs: CompiledRuleSet) -> int:
    """How many criteria of a rule set are provisional."""
    return sum(1 for n in rs.nodes.values() if n.provisional)


def program_status(library: RuleLibrary, on: dt.date) -> list[ProgramStatus]:
    """Every program of the library, and every known but unencoded one, with its warnings on ``on``."""
    out: list[ProgramStatus] = []
    unencoded = unencoded_texts(library.folder)
    for program in library.programs():
        versions = sorted((r for r in library.rulesets if r.program == program), key=lambda r: r.meta.effective_from)
        live = library.live(program, on)
        warnings = [] if live else [f"在 {on} 没有在用的已编码版本"]
        warnings += [w for w in (_review_warning(rs, on) for rs in live) if w]
        for item in unencoded:
            if item.program == program or program in item.concerns:
                span = f"{item.from_} – {item.to or '…'}"
                warnings.append(f"已知有未编码的文本：{item.program_title}（{span}）{item.text}"
                                f"（{item.source.document}）")
        out.append(ProgramStatus(program, versions[0].meta.program_title, versions[0].meta.jurisdiction, versions,
                                 live[0] if live else None, warnings))
    for item in unencoded:
        if item.program not in library.programs():
            out.append(ProgramStatus(item.program, item.program_title, item.jurisdiction, [], None,
                                     [f"未编码：{item.text}（{item.source.document} {item.source.clause}）"]))
    return out

