"""Everything a report shows, computed once: this year's run, last year's tiers, indicators, plan targets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiering.app import Classification, Progress, classify
from tiering.app.selection import SelectionInputs, select
from tiering.engine.evaluate import default_eval_date
from tiering.engine.trace import trace_table
from tiering.ladder.rungs import NO_RUNG_TEXT, ladder
from tiering.register import Register
from tiering.report.tiers import tier_table, transition_matrix
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import NoRuleSet, RuleLibrary
from tiering.rules.schema import Unit
from tiering.selection.decisions import ListState
from tiering.selection.pool import SelectionInputError
from tiering.selection.run import Selection
from tiering.targets import TargetTracking

# Which criteria the report charts by default (program, criterion id); thresholds are read from the trace.
DEFAULT_INDICATORS = (("gxjsqy", "c4_staff"), ("gxjsqy", "c5_rd_ratio"), ("gxjsqy", "c6_hightech_income"),
                      ("tj_xjr", "x2_revenue"))


@dataclass
class Indicator:
    """One criterion's values across firms, with its distinct thresholds."""

    program: str
    criterion_id: str
    label: str
    ruleset_id: str
    values: np.ndarray
    thresholds: list[float]
    unit: Unit = Unit.NUMBER


@dataclass
class ReportData:
    """The inputs of the workbook and the HTML report."""

    year: int
    run: Classification
    trace: pd.DataFrame
    tiers: pd.DataFrame
    levels: list[str]
    previous_tiers: pd.DataFrame | None
    transitions: pd.DataFrame | None
    indicators: list[Indicator]
    tracking: TargetTracking | None
    selection: Selection | None = None
    notes: list[str] = field(default_factory=list)
    decided: ListState | None = None
    """The committee's decisions on the year's list (:func:`tiering.audit.lists.decided_list`), shown beside the
    list; None when there are none."""
    run_id: str = "未记录（报告直接评价名录；用 tiering report RUN_ID 依据已记录的运行）"


def indicators_of(trace: pd.DataFrame, rulesets: list[CompiledRuleSet],
                  wanted: tuple[tuple[str, str], ...]) -> tuple[list[Indicator], list[str]]:
    """Values and thresholds of the wanted criteria; a note for each one the run does not have."""
    by_program = {rs.program: rs.id for rs in rulesets}
    units = {(rs.program, n.id): getattr(n, "unit", Unit.NUMBER) for rs in rulesets for n in rs.root.walk()}
    out, notes = [], []
    for program, criterion in wanted:
        rows = trace[(trace["ruleset_id"] == by_program.get(program)) & (trace["criterion_id"] == criterion)]
        if rows.empty:
            notes.append(f"指标 {program}:{criterion} 不在本次评价的追溯中，未绘图")
            continue
        thresholds = sorted(float(t) for t in rows["threshold"].dropna().unique())
        out.append(Indicator(program, criterion, str(rows["criterion"].iloc[0]), by_program[program],
                             rows["value"].to_numpy(dtype=float), thresholds, units[(program, criterion)]))
    return out, notes


def _previous(register: Register, library: RuleLibrary, rulesets: list[CompiledRuleSet],
              year: int) -> tuple[pd.DataFrame | None, str | None]:
    """Last year's tier table on the ladder programs, or why it cannot be made."""
    data_year = year - 2
    if not (register.frame["year"] == data_year).any():
        return None, f"名录没有 {data_year} 年度数据，不作 {year - 1}→{year} 层级变化分析"
    programs = sorted({p for _, p, _ in ladder(rulesets)})
    on = default_eval_date(year - 1)
    try:
        before = library.in_force(on, None, programs)
    except NoRuleSet as exc:
        return None, f"{year - 1} 年无法评价梯队项目：{exc.message}"
    run = classify(register, before, year - 1, on)
    return tier_table(run.outcomes, before, run.lacks), None


def run_selection(run: Classification, inputs: SelectionInputs, n: int | None) -> tuple[Selection | None, list[str]]:
    """The year's cultivation list exactly as ``tiering select`` makes it from the same policy, model and earlier
    lists (:func:`tiering.app.selection.select`), or None and why."""
    policy = inputs.policy
    try:
        selection = select(run, inputs, n)
    except (SelectionInputError, ValueError) as exc:
        return None, [f"培育名单未生成（遴选政策 {inputs.policy_path}）：{exc}"]
    model = "未使用成长模型" if inputs.model is None else f"成长模型 {inputs.model_text}"
    notes = [f"培育名单按遴选政策 {policy.id}（{inputs.policy_path.name}）生成，{model}；与 tiering select 同一算法"]
    return selection, notes + selection.warnings


def build_report_data(register: Register, library: RuleLibrary, rulesets: list[CompiledRuleSet], year: int,
                      on: object, tracking: TargetTracking | None = None,
                      wanted: tuple[tuple[str, str], ...] = DEFAULT_INDICATORS,
                      selection_from: SelectionInputs | None = None, n: int | None = None,
                      progress: Progress | None = None) -> ReportData:
    """Classify ``year`` (and ``year - 1`` for transitions) and gather the report's tables; with
    ``selection_from`` (policy, model, earlier lists) also make the year's cultivation list of ``n`` firms.
    ``progress`` follows the classification (:data:`tiering.app.Progress`)."""
    run = classify(register, rulesets, year, on, progress=progress)  # type: ignore[arg-type]
    trace = trace_table(run.evaluation).to_pandas()
    for col in trace.columns:
        if isinstance(trace[col].dtype, pd.CategoricalDtype):
            trace[col] = trace[col].astype(object)
    tiers = tier_table(run.outcomes, rulesets, run.lacks)
    levels = [NO_RUNG_TEXT] + [title for _, _, title in ladder(rulesets)]
    selection, notes = (run_selection(run, selection_from, n) if selection_from is not None
                        else (None, ["未生成培育名单（未给遴选政策，或用了 --no-selection）"]))
    previous, why = _previous(register, library, rulesets, year)
    transitions = None
    if previous is not None:
        transitions = transition_matrix(previous, tiers, rulesets, year - 1, year)
    elif why:
        notes.append(why)
    indicators, missing = indicators_of(trace, rulesets, wanted)
    return ReportData(year, run, trace, tiers, levels, previous, transitions, indicators, tracking, selection,
                      notes + missing + (tracking.notes if tracking else []))
