"""Classify one plan year: the outcomes of the target programs for the firms of the plan's districts.

A plan year Y counts the firms that meet a program's criteria on their accounts of year Y, which is what the
application year Y+1 evaluates (``data_year_offset`` 1): "到2015年达到1450家" is read as the year-end 2015 stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tiering.app import classify_rows
from tiering.app.classification import Classification
from tiering.engine.evaluate import default_eval_date
from tiering.register import Register
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import NoRuleSet, RuleLibrary

OUTCOME_COLUMNS = ["uscc", "name", "program", "program_title", "ruleset_id", "outcome", "outcome_zh", "score_min",
                   "score_max", "path", "failed", "missing"]


@dataclass
class PlanYear:
    """Outcomes of one plan year (one row per firm × program), the programs that had no rule set in force, and
    what each firm lacks per program it misses (uscc, program, cost, lacks) from the tier ladder, where cost is the
    ladder's effort measure (∞: cannot qualify by its own effort)."""

    year: int
    outcomes: pd.DataFrame
    panel_year: pd.DataFrame
    missing_rules: dict[str, str] = field(default_factory=dict)
    lacks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["uscc", "program", "cost", "lacks"]))


def application_year(plan_year: int) -> int:
    """The application year whose evaluation reads the accounts of ``plan_year``."""
    return plan_year + 1


def rulesets_for(library: RuleLibrary, programs: list[str], plan_year: int,
                 pins: dict[str, str]) -> tuple[list[CompiledRuleSet], dict[str, str]]:
    """The rule sets in force for each program (with what they depend on); programs without one, with the reason."""
    on = default_eval_date(application_year(plan_year))
    chosen: dict[str, CompiledRuleSet] = {}
    missing: dict[str, str] = {}
    for program in programs:
        try:
            for rs in library.in_force(on, pins, [program]):
                chosen[rs.id] = rs
        except NoRuleSet as exc:
            missing[program] = exc.message
    if not chosen:  # in_force without programs would give every program in force
        return [], missing
    ordered = library.in_force(on, {rs.program: rs.id for rs in chosen.values()}, sorted({r.program for r in
                                                                                         chosen.values()}))
    return ordered, missing


def classify_plan_year(register: Register, panel: pd.DataFrame, library: RuleLibrary, programs: list[str],
                       plan_year: int, pins: dict[str, str]) -> PlanYear:
    """Classify ``programs`` for the firms of ``panel`` (rows of ``register``) with accounts of ``plan_year``."""
    return plan_year_of(register, panel, plan_year, *rulesets_for(library, programs, plan_year, pins))


def plan_year_of(register: Register, panel: pd.DataFrame, plan_year: int, rulesets: list[CompiledRuleSet],
                 missing: dict[str, str]) -> PlanYear:
    """Classify the firms of ``panel`` with accounts of ``plan_year`` against ``rulesets`` (those
    :func:`rulesets_for` chose for the year, ``missing`` the programs without one)."""
    year_rows = panel[panel["year"] == plan_year]
    if not rulesets or year_rows.empty:
        return PlanYear(plan_year, pd.DataFrame(columns=OUTCOME_COLUMNS), year_rows, missing)
    app = application_year(plan_year)
    return plan_year_from(classify_rows(register, panel, rulesets, app, default_eval_date(app)), year_rows, missing)


def plan_year_from(result: Classification, year_rows: pd.DataFrame, missing: dict[str, str]) -> PlanYear:
    """The plan year a classification of the plan's firms gives (``year_rows``: their rows of the plan year)."""
    plan_year = result.year - 1
    return PlanYear(plan_year, result.outcomes, year_rows, missing, result.lacks[["uscc", "program", "cost", "lacks"]])
