"""A plan's targets counted on a register in partitions of whole firms (``tiering targets --engine local|dask``).

Each partition counts every plan year it holds with the functions of a whole run (:func:`plan_panel`,
:func:`plan_year_of`, :func:`tally`, :func:`nearest_pool`) where it is classified; the driver adds up the tallies
and takes the nearest firms of the partitions' nearest (:func:`track_parts`). A firm's years are all in one
partition, so new firms (counted in a year, not in the base year) are found there too, and the result equals a
whole run's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tiering.app.classification import Classification
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary
from tiering.targets.plan import Plan
from tiering.targets.track import (
    CANDIDATE_COLUMNS,
    PROGRESS_COLUMNS,
    Tally,
    TargetTracking,
    candidates,
    nearest_first,
    nearest_pool,
    no_district_note,
    plan_panel,
    program_rows,
    progress_row,
    tally,
    wanted_years,
)
from tiering.targets.years import PlanYear, plan_year_from, plan_year_of, rulesets_for

Rules = dict[int, tuple[list[CompiledRuleSet], dict[str, str]]]
"""Per plan year: the rule sets in force for the plan's programs, and the programs without one (with the reason)."""


@dataclass
class PlanPart:
    """What one partition gives: the data years it holds, whether it has no district to select the plan's
    firms by, and per target × plan year its tally and its nearest firms."""

    years: set[int]
    no_district: bool
    tallies: dict[tuple[str, int], Tally] = field(default_factory=dict)
    pools: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)


def plan_rules(library: RuleLibrary, plan: Plan, years: Sequence[int], pins: dict[str, str]) -> Rules:
    """The rule sets of every year a partition counts: ``years`` (default: the plan's) and the base years."""
    programs = sorted({t.program for t in plan.targets})
    counted = set(years or plan.years()) | {t.since for t in plan.targets if t.since is not None}
    return {y: rulesets_for(library, programs, y, pins) for y in sorted(counted)}


def run_year(rules: Rules) -> int | None:
    """The plan year whose rule sets the partitioned run itself classifies (and writes as its parts): the last one
    with any rule set in force. A partition reuses that classification when it counts every firm of the year."""
    return max((y for y, (rulesets, _) in rules.items() if rulesets), default=None)


@dataclass(frozen=True)
class PlanReduce:
    """The per-partition step of a partitioned targets run (a ``reduce`` of :func:`tiering.scale.classify_partitioned`,
    run where the partition is classified)."""

    plan: Plan
    rules: Rules
    limit: int

    def __call__(self, result: Classification) -> PlanPart:
        frame = result.register.frame
        rows, notes = plan_panel(frame, self.plan)
        # a whole run counts every firm when the register has no district at all; a partition without one counts
        # its firms too, and the driver keeps that only if no partition had a district (track_parts)
        part = PlanPart({int(y) for y in frame["year"].unique()}, bool(notes))
        classified: dict[int, PlanYear] = {}
        for year, (rulesets, missing) in self.rules.items():
            same = [r.id for r in result.rulesets] == [r.id for r in rulesets]
            if rows is frame and result.year - 1 == year and same:
                classified[year] = plan_year_from(result, frame[frame["year"] == year], missing)
            else:
                classified[year] = plan_year_of(result.register, rows, year, rulesets, missing)
        for t in self.plan.targets:
            base = classified.get(t.since) if t.since is not None else None
            for year, py in classified.items():
                part.tallies[t.id, year] = tally(t, py, base)
                if t.program not in py.missing_rules and not program_rows(py, t).empty:
                    part.pools[t.id, year] = nearest_pool(py, t, self.limit)
        return part


def track_parts(plan: Plan, parts: list[PlanPart], rules: Rules, years: Sequence[int], limit: int,
                register_path: Path) -> TargetTracking:
    """The tracking of a whole run (:func:`tiering.targets.track_plan`) from the partitions' :class:`PlanPart`:
    tallies added up, the nearest firms of the last year counted taken from the partitions' nearest."""
    covered = sorted(set().union(*(p.years for p in parts)))
    wanted = wanted_years(covered, plan, list(years), register_path)
    no_district = all(p.no_district for p in parts)
    # with a district somewhere, a partition without one holds none of the plan's firms
    counting = [p for p in parts if no_district or not p.no_district]
    empty = Tally(0, 0, 0, 0, "")
    progress = []
    for t in plan.targets:
        for y in wanted:
            total = sum((p.tallies[t.id, y] for p in counting), empty)
            progress.append(progress_row(t, y, total, rules[y][1], rules[t.since][1] if t.since is not None else None))
    last = max(wanted)
    near = []
    for t in plan.targets:
        if t.program in rules[last][1]:
            continue
        pools = [p.pools[t.id, last] for p in counting if (t.id, last) in p.pools]
        if not pools:  # the year has no firm of the program
            near.append(pd.DataFrame(columns=CANDIDATE_COLUMNS))
            continue
        pool = pd.concat([f for f in pools if len(f)] or pools[:1], ignore_index=True)
        near.append(candidates(t, last, nearest_first(pool, t, limit)))
    notes = [f"{y} 年：{reason}" for y in wanted for reason in rules[y][1].values()]
    if no_district and plan.districts:
        notes.append(no_district_note(plan))
    return TargetTracking(plan, wanted, pd.DataFrame(progress, columns=PROGRESS_COLUMNS),
                          pd.concat(near, ignore_index=True) if near else pd.DataFrame(columns=CANDIDATE_COLUMNS),
                          sorted(set(notes)))

