"""Load every rule set of a folder, check them together, and pick the versions in force on a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tiering.bundled import bundled
from tiering.errors import NotFound, TieringError, Where
from tiering.rules.compile import CompiledRuleSet, compile_ruleset
from tiering.rules.extends import resolve
from tiering.rules.messages import in_chinese
from tiering.rules.purpose import CERTIFY, EvaluationPurpose, review_clause
from tiering.rules.schema import RuleSetFile, Status
from tiering.rules.yamlsrc import SCHEMA_WORDS, SourceProblem, read_yaml

RULES_DIR = bundled("rules")
"""The rule folder shipped with the project (the checkout's rules/, or the installed copy)."""


class NoRuleSet(NotFound):
    """A program, version or date for which the rule folder has no rule set."""

    id = "no-rule-set"


class RuleLoadError(TieringError, error_id="rules-unusable"):
    """Rule files that cannot be used; ``problems`` lists every one, each with file, line and field."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        files = sorted({p.file for p in problems})
        super().__init__(f"规则文件有 {len(problems)} 处问题，请按各行所列位置修改（{len(problems)} problem(s) in the "
                         "rule files）", where=Where(file=files[0]) if len(files) == 1 else None, problems=problems,
                         hint="改正后可用 tiering rules check 再查一遍")


def rule_files(folder: Path) -> list[Path]:
    """The rule-set files of a folder: ``*.yaml`` except test cases (``*.cases.yaml``)."""
    return sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".cases.yaml"))


def load_file(path: Path) -> tuple[CompiledRuleSet | None, list[SourceProblem]]:
    """Read, validate and compile one rule file; return it (or None) and every problem found."""
    doc, problems = read_yaml(path)
    if doc is None:
        return None, problems
    located, found = resolve(doc)
    problems += found
    if located is None:
        return None, problems
    try:
        spec = RuleSetFile.model_validate(located.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("function-after",))))
            problems.append(located.problem(loc, *schema_message(err)))
        return None, problems
    if problems:
        return None, problems
    compiled, issues = compile_ruleset(spec, path, path.read_bytes())
    problems += [located.problem(loc, *in_chinese(msg)) for loc, msg in issues]
    if compiled is not None:
        compiled.bases = tuple(located.bases)
        for variant in compiled.variants.values():
            variant.bases = compiled.bases
    return compiled, problems


def schema_message(err: Any) -> tuple[str, str]:
    """A pydantic error of a rule file in Chinese (its English text kept after it) and its stable id."""
    kind = err["type"]
    english = err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "未知的键（拼错了？规则文件可用的键见 docs/rule-language.md）", "schema-unknown-key"
    words = SCHEMA_WORDS.get(kind, "不符合规则文件的格式")
    return f"{words}：{english}", f"schema-{kind.replace('_', '-')}"


@dataclass
class RuleLibrary:
    """Every rule set of a folder, checked together."""

    rulesets: list[CompiledRuleSet]
    folder: Path
    by_id: dict[str, CompiledRuleSet] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rulesets}

    def programs(self) -> list[str]:
        return sorted({r.program for r in self.rulesets})

    def in_force(self, on: dt.date, pins: dict[str, str] | None = None,
                 programs: list[str] | None = None, purpose: EvaluationPurpose = CERTIFY) -> list[CompiledRuleSet]:
        """One rule set per program, in dependency order: the one in force ``on`` the date, unless pinned.

        ``pins`` maps a program to a version or a rule-set id. Programs a chosen rule set depends on are added.
        Without ``programs``, a program with no version in force on the date is left out (e.g. 雏鹰 before 2021);
        a program asked for by name, pinned, or depended on must have one. For a 复核, a version whose ``reviews``
        cover the certification year is preferred to the one in force, and each rule set is the one compiled for the
        purpose (see :mod:`tiering.rules.purpose`).
        """
        pins = pins or {}
        chosen: dict[str, CompiledRuleSet] = {}
        wanted = list(programs or [p for p in self.programs()
                                   if p in pins or self.live(p, on) or self._reviewing(p, on, purpose)])
        while wanted:
            program = wanted.pop()
            if program in chosen:
                continue
            chosen[program] = self._pick(program, on, pins.get(program), purpose).for_purpose(purpose.purpose.value)
            wanted.extend(chosen[program].requires())
        return [chosen[p] for p in _ladder_order(chosen)]

    def _reviewing(self, program: str, on: dt.date, purpose: EvaluationPurpose) -> list[CompiledRuleSet]:
        return [r for r in self.rulesets if r.program == program and review_clause(r.meta, purpose, on) is not None]

    def live(self, program: str, on: dt.date) -> list[CompiledRuleSet]:
        """The versions of ``program`` in force on ``on`` (for 认定); at most one, the checks forbid overlaps."""
        return [r for r in self.rulesets if r.program == program and r.meta.effective_from <= on
                and (r.meta.effective_to is None or on <= r.meta.effective_to)]

    def _pick(self, program: str, on: dt.date, pin: str | None,
              purpose: EvaluationPurpose = CERTIFY) -> CompiledRuleSet:
        candidates = [r for r in self.rulesets if r.program == program]
        folder = str(self.folder)
        if not candidates:
            raise NoRuleSet(f"规则文件夹中没有项目 '{program}' 的规则集（no rule set for program '{program}'; known "
                            f"programs: {', '.join(self.programs())}）", where=Where(file=folder),
                            hint="--program 写项目代码，如 kjxzxqy；tiering rules status 列出全部项目")
        if pin is not None:
            for r in candidates:
                if pin in (r.version, r.id):
                    return r
            raise NoRuleSet(f"项目 '{program}' 没有版本 '{pin}'（program '{program}' has no version '{pin}'; versions: "
                            f"{', '.join(f'{r.id} ({r.version})' for r in candidates)}）",
                            where=Where(file=folder, rule_id=pin))
        reviewing = self._reviewing(program, on, purpose)
        if reviewing:
            return reviewing[0]
        live = self.live(program, on)
        if not live:
            spans = ", ".join(f"{r.id}: {r.meta.effective_from} – {r.meta.effective_to or '…'}" for r in candidates)
            raise NoRuleSet(f"项目 '{program}' 在 {on} 没有现行的规则集（no rule set of program '{program}' is in "
                            f"force on {on}; {spans}）", where=Where(file=folder),
                            hint=f"用 --rules-version {program}=版本 指定一个版本（pin one with --rules-version "
                                 f"{program}=VERSION）")
        return live[0]


def _ladder_order(chosen: dict[str, CompiledRuleSet]) -> list[str]:
    """Dependencies first; otherwise up the ladder (by rung), side programs after, then by program id."""
    sorter = TopologicalSorter({p: chosen[p].requires() for p in chosen})
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda p: (chosen[p].meta.rung is None, chosen[p].meta.rung or 0, p))
        order.extend(ready)
        sorter.done(*ready)
    return order


def load_library(folder: Path | None = None, files: list[Path] | None = None) -> RuleLibrary:
    """Load ``files`` (default: every rule file of ``folder``); raise :class:`RuleLoadError` listing all problems."""
    folder = folder or RULES_DIR
    paths = files if files is not None else rule_files(folder)
    problems: list[SourceProblem] = []
    rulesets: list[CompiledRuleSet] = []
    for path in paths:
        compiled, found = load_file(path)
        problems += found
        if compiled is not None:
            rulesets.append(compiled)
    problems += [SourceProblem(p.file, p.line, p.field, *in_chinese(p.message)) for p in _cross_checks(rulesets)]
    if problems:
        raise RuleLoadError(problems)
    return RuleLibrary(rulesets, folder)


def _cross_checks(rulesets: list[CompiledRuleSet]) -> list[SourceProblem]:
    problems: list[SourceProblem] = []
    seen: dict[str, CompiledRuleSet] = {}
    for r in rulesets:
        if r.id in seen:
            problems.append(SourceProblem(str(r.path), 1, "id", f"id '{r.id}' is also used by {seen[r.id].path}"))
        seen[r.id] = r
    by_program: dict[str, list[CompiledRuleSet]] = {}
    for r in rulesets:
        by_program.setdefault(r.program, []).append(r)
    for program, group in by_program.items():
        group.sort(key=lambda r: r.meta.effective_from)
        for a, b in zip(group, group[1:], strict=False):
            if a.meta.effective_to is None or a.meta.effective_to >= b.meta.effective_from:
                problems.append(SourceProblem(
                    str(b.path), 1, "effective_from",
                    f"program '{program}': {a.id} ({a.meta.effective_from} – {a.meta.effective_to or 'open'}) overlaps "
                    f"{b.id} (from {b.meta.effective_from}); end the older one the day before"))
        for r in group:
            if r.meta.status == Status.SUPERSEDED and r.meta.effective_to is None:
                problems.append(SourceProblem(str(r.path), 1, "effective_to",
                                              "a superseded rule set needs an effective_to date"))
    programs = set(by_program)
    graph: dict[str, set[str]] = {}
    for r in rulesets:
        for dep in r.requires():
            if dep not in programs:
                problems.append(SourceProblem(str(r.path), 1, "criteria",
                                              f"requires program '{dep}', which no rule file defines"))
        graph.setdefault(r.program, set()).update(r.requires())
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " → ".join(exc.args[1])
        problems.append(SourceProblem(str(rulesets[0].path.parent), 1, "requires",
                                      f"programs depend on each other in a cycle: {cycle}"))
    return problems
