"""Naming a rule set to compare: a rule-set id, ``program@version``, or the path of a (draft) rule file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tiering.errors import TieringError, Where
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary, load_file


class RuleSpecError(TieringError, ValueError, error_id="rule-spec"):
    """The rule set named on the command line cannot be found or does not load."""


def resolve_ruleset(spec: str, library: RuleLibrary) -> CompiledRuleSet:
    """The rule set ``spec`` names: an id, ``program@version`` (or ``id@version``), or the path of a rule file.

    E.g. ``kjxzxqy-2017``, ``kjxzxqy@2017.1``, ``kjxzxqy-2017@2017.1``, ``drafts/kjxzxqy-2022.yaml``.
    """
    if spec in library.by_id:
        return library.by_id[spec]
    if "@" in spec and not spec.endswith((".yaml", ".yml")):
        program, version = spec.split("@", 1)
        for rs in library.rulesets:
            if program in (rs.program, rs.id) and rs.version == version:
                return rs
        known = ", ".join(f"{r.program}@{r.version}" for r in library.rulesets if r.program == program)
        raise RuleSpecError(f"没有规则集 {spec}（no rule set {spec}; versions of '{program}': {known or 'none'}）",
                            where=Where(file=str(library.folder), rule_id=spec))
    path = Path(spec)
    if path.is_file():
        compiled, problems = load_file(path)
        if compiled is None:
            raise RuleSpecError("规则文件无法载入（does not load）", where=Where(file=str(path)), problems=problems)
        return compiled
    raise RuleSpecError(f"'{spec}' 既不是规则集 id，也不是 项目@版本 或已有的规则文件（'{spec}' is neither a rule-set "
                        f"id ({', '.join(sorted(library.by_id))}), nor PROGRAM@VERSION, nor an existing rule file）",
                        where=Where(file=str(library.folder), rule_id=spec))


def with_dependencies(target: CompiledRuleSet, library: RuleLibrary, on: dt.date) -> list[CompiledRuleSet]:
    """``target`` preceded by the in-force rule sets of the programs it reads, in dependency order."""
    needed = sorted(target.requires())
    before = library.in_force(on, programs=needed) if needed else []
    return [rs for rs in before if rs.program != target.program] + [target]
