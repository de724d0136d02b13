"""Named example firms kept beside each rule set (``rules/<id>.cases.yaml``), and the runner that checks them.

A cases file::

    ruleset: kjxzxqy-2022          # the rule set under test (its dependencies are evaluated too)
    year: 2025                     # application year; the firm's values are for year - data_year_offset
    defaults: {employees: 100, …}  # data-year values every case starts from
    cases:
      - name: 科技人员占比恰为30%
        firm: {tech_staff: 30}                 # overrides of the defaults (data year)
        history: {1: {revenue: 4000}}          # optional: values k years before the data year
        expect:
          outcome: qualified                   # qualified | not_qualified | undetermined
          score: 100                           # or [min, max]
          path: evaluation                     # id of the qualifying alternative
          failing: [total_score]               # exactly the failing tests, scores and requirements
          points: {staff_points: 20}           # points of named criteria ([min, max] for a range)
          status: {b2_employees: pass}         # pass | fail | unknown | scored
        todo: 为什么这个用例已知不对            # optional: a known gap, reported but not failed
        purpose: 复核                          # optional (default 认定): the purpose the rule set is evaluated for

Every case is evaluated by both paths of the engine — cell by cell for the one firm, and vectorised with all the
file's cases at once — and fails when they disagree on any criterion. The runner also reports, per rule set, the
bands and criteria no case reaches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from tiering.engine.evaluate import evaluate, evaluate_firm, firm_slice
from tiering.errors import TieringError, Where
from tiering.fields import BY_ID, FIELDS, DType
from tiering.outcome import OUTCOME_TEXT
from tiering.rules.bands import MISSING
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary, schema_message
from tiering.rules.nodes import (
    FAIL,
    GIVEN_TEXT,
    STATUS_TEXT,
    One,
    PointsNode,
    RequiresNode,
    ScoreNode,
    TestNode,
)
from tiering.rules.purpose import EvaluationPurpose, Purpose
from tiering.rules.yamlsrc import SourceProblem, dotted, read_yaml

Number = float | tuple[float, float]


class UnknownCaseField(TieringError, error_id="case-field-unknown"):
    """A case gives a value for a field id that tiering/fields.yaml does not know (the case fails with it)."""


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["qualified", "not_qualified", "undetermined"]
    score: Number | None = None
    path: str | None = None
    failing: list[str] | None = None
    points: dict[str, Number] = {}
    status: dict[str, Literal["pass", "fail", "unknown", "scored"]] = {}


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    firm: dict[str, Any] = {}
    history: dict[int, dict[str, Any]] = {}
    expect: Expect
    todo: str | None = None
    note: str | None = None
    purpose: Literal["认定", "复核"] = "认定"


class CasesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str
    year: int
    eval_date: dt.date | None = None
    defaults: dict[str, Any] = {}
    history: dict[int, dict[str, Any]] = {}
    cases: list[Case]


@dataclass
class CaseResult:
    ruleset: str
    name: str
    ok: bool
    todo: str | None
    problems: list[str]
    line: int


@dataclass
class Coverage:
    """Which bands and criteria the cases of one rule set reached."""

    ruleset: str
    unreached_bands: list[str] = field(default_factory=list)
    unexercised: list[str] = field(default_factory=list)


def _cell(field_id: str, v: Any) -> Any:
    f = BY_ID[field_id]
    if v is None:
        return None if f.dtype == DType.TEXT else np.nan
    if f.dtype == DType.BOOL:
        return 1.0 if v else 0.0
    if f.dtype == DType.DATE:
        return pd.Timestamp(v)
    if f.dtype == DType.TEXT:
        return str(v)
    return float(v)


def case_panel(spec: CasesFile, case: Case, data_year: int) -> pd.DataFrame:
    """The rows of one case as a panel in the internal frame contract.

    The data year holds the defaults with the case's ``firm`` values; an earlier year k holds the defaults with
    the file's and the case's ``history[k]`` values.
    """
    years = {0: {**spec.defaults, **case.firm}}
    for k in sorted({*spec.history, *case.history}):
        years[k] = {**spec.defaults, **spec.history.get(k, {}), **case.history.get(k, {})}
    rows = []
    for k, values in sorted(years.items()):
        row: dict[str, Any] = {f.id: _cell(f.id, None) for f in FIELDS}
        for key, v in values.items():
            if key not in BY_ID:
                raise UnknownCaseField(f"未知字段 '{key}'（unknown field '{key}'）", where=Where(field=key))
            row[key] = _cell(key, v)
        row.update(uscc="CASE", name=case.name, year=data_year - k)
        rows.append(row)
    return pd.DataFrame(rows)


def _matches(expected: Number, lo: float, hi: float) -> bool:
    if isinstance(expected, tuple):
        return (lo, hi) == (float(expected[0]), float(expected[1]))
    return lo == hi == float(expected)


def _check(rs: CompiledRuleSet, nodes: dict[str, One], exp: Expect) -> list[str]:
    problems: list[str] = []
    root = nodes[rs.root.id]
    got = OUTCOME_TEXT[root.status]
    if got != exp.outcome:
        problems.append(f"outcome {got}, expected {exp.outcome}")
    score = rs.score_node()
    if exp.score is not None:
        if score is None:
            problems.append("expects a score but the rule set has none")
        elif not _matches(exp.score, nodes[score.id].pmin, nodes[score.id].pmax):
            s = nodes[score.id]
            problems.append(f"score {s.pmin:g}–{s.pmax:g}, expected {exp.score}")
    if exp.path is not None:
        paths = rs.paths_node()
        chosen = None
        if paths is not None and nodes[paths.id].band >= 0:
            chosen = paths.children[nodes[paths.id].band].id
        if chosen != exp.path:
            problems.append(f"path {chosen}, expected {exp.path}")
    if exp.failing is not None:
        failing = sorted(n.id for n in rs.root.walk()
                         if isinstance(n, TestNode | ScoreNode | RequiresNode) and nodes[n.id].status == FAIL)
        if failing != sorted(exp.failing):
            problems.append(f"failing {failing}, expected {sorted(exp.failing)}")
    for node_id, want in exp.points.items():
        if node_id not in nodes:
            problems.append(f"points: no criterion '{node_id}'")
        elif not _matches(want, nodes[node_id].pmin, nodes[node_id].pmax):
            problems.append(f"points of {node_id}: {nodes[node_id].pmin:g}–{nodes[node_id].pmax:g}, expected {want}")
    for node_id, want in exp.status.items():
        if node_id not in nodes:
            problems.append(f"status: no criterion '{node_id}'")
        elif STATUS_TEXT[nodes[node_id].status] != want:
            problems.append(f"status of {node_id}: {STATUS_TEXT[nodes[node_id].status]}, expected {want}")
    return problems


def run_cases(library: RuleLibrary, path: Path) -> tuple[list[CaseResult], Coverage | None, list[SourceProblem]]:
    """Run one cases file; return each case's result, the coverage of its rule set, and file problems."""
    doc, problems = read_yaml(path)
    if doc is None or problems:
        return [], None, problems
    try:
        spec = CasesFile.model_validate(doc.data)
    except ValidationError as exc:
        return [], None, [SourceProblem(str(path), doc.line_of(tuple(e["loc"])), dotted(tuple(e["loc"])),
                                        *schema_message(e)) for e in exc.errors()]
    if spec.ruleset not in library.by_id:
        return [], None, [SourceProblem(str(path), doc.line_of(("ruleset",)), "ruleset",
                                        f"用例所指的规则集不存在：no rule set '{spec.ruleset}' in {library.folder}",
                                        "cases-unknown-ruleset")]
    target = library.by_id[spec.ruleset]
    eval_date = spec.eval_date or dt.date(spec.year, 6, 30)
    chains = {purpose: library.in_force(eval_date, pins={target.program: target.id}, programs=[target.program],
                                        purpose=EvaluationPurpose(Purpose(purpose)))
              for purpose in sorted({c.purpose for c in spec.cases} | {"认定"})}
    data_year = spec.year - target.meta.data_year_offset
    results: list[CaseResult] = []
    seen: list[dict[str, One]] = []
    panels: dict[str, list[pd.DataFrame]] = {purpose: [] for purpose in chains}
    evaluated: list[tuple[str, str, CaseResult, dict[str, One]]] = []
    for i, case in enumerate(spec.cases):
        line = doc.line_of(("cases", i))
        code = f"CASE{i:05d}"
        try:
            panel = case_panel(spec, case, data_year).assign(uscc=code)
        except UnknownCaseField as exc:
            results.append(CaseResult(target.id, case.name, False, case.todo, [exc.message], line))
            continue
        nodes = evaluate_firm(panel, chains[case.purpose], spec.year, eval_date)[target.id]
        seen.append(nodes)
        panels[case.purpose].append(panel)
        found = _check(target.for_purpose(case.purpose), nodes, case.expect)
        results.append(CaseResult(target.id, case.name, not found, case.todo, found, line))
        evaluated.append((case.purpose, code, results[-1], nodes))
    for purpose, frames in panels.items():
        if not frames:
            continue
        batch = evaluate(pd.concat(frames, ignore_index=True), chains[purpose], spec.year, eval_date)
        for _, code, result, nodes in (e for e in evaluated if e[0] == purpose):
            _compare_paths(firm_slice(batch, code)[target.id], nodes, result)
    variants = [target, *(target.for_purpose(p) for p in chains if target.for_purpose(p) is not target)]
    return results, _coverage(variants, seen), []


def _compare_paths(batch: dict[str, One], single: dict[str, One], result: CaseResult) -> None:
    """The batch path must give, criterion by criterion, what the per-firm path gave for the case (each node is
    implemented once per path); a disagreement fails the case."""
    for node_id, one in single.items():
        other = batch[node_id]
        numbers = ((one.value, other.value), (one.threshold, other.threshold), (one.pmin, other.pmin),
                   (one.pmax, other.pmax))
        if not all(a == b or (a != a and b != b) for a, b in numbers) or (one.status, one.band) != (other.status,
                                                                                                    other.band):
            result.ok = False
            result.problems.append(f"batch and per-firm paths disagree on {node_id}: per-firm {one}, batch {other}")


def _coverage(variants: list[CompiledRuleSet], seen: list[dict[str, One]]) -> Coverage:
    """Bands and criteria of the rule set, compiled for each purpose its cases use, that no case reached (a
    criterion found in several purposes' trees counts as reached when a case of any of them reached it)."""
    cov = Coverage(variants[0].id)
    walked = {n.id: n for rs in variants for n in rs.root.walk()}
    for node in walked.values():
        seen_here = [s for s in seen if node.id in s]
        statuses = {s[node.id].status for s in seen_here}
        if isinstance(node, PointsNode) and node.table is not None:
            hit = {s[node.id].band for s in seen_here}
            for i, band in enumerate(node.table.bands):
                if i not in hit:
                    cov.unreached_bands.append(f"{node.id} band {i + 1} ({band.label or band.points})")
            if MISSING not in hit:
                cov.unreached_bands.append(f"{node.id} missing-data band")
        elif isinstance(node, TestNode | ScoreNode | RequiresNode):
            lacking = [w for w, code in (("pass", 1), ("fail", 0)) if code not in statuses]
            if lacking:
                cov.unexercised.append(f"{node.id} never {' / '.join(lacking)}")
            if isinstance(node, ScoreNode) and node.override is not None:
                hit = {s[node.id].band for s in seen_here}
                cov.unreached_bands += [f"{node.id} {text}" for band, text in GIVEN_TEXT.items() if band not in hit]
    return cov


def cases_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.cases.yaml"))
