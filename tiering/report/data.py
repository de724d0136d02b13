"""Everything a report shows, computed once: this year's run, last year's tiers, indicators, plan targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tiering.app import Classification, Progress, classify
from tiering.app.selection import SelectionInputs, select, select_parts, selection_part
from tiering.engine.evaluate import default_eval_date
from tiering.engine.trace import trace_table
from tiering.ladder.rungs import NO_RUNG_TEXT, ladder
from tiering.output.provenance import Provenance
from tiering.register import Register
from tiering.report.tiers import ordered_matrix, tier_table, transition_matrix
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import NoRuleSet, RuleLibrary
from tiering.rules.schema import Unit
from tiering.selection.decisions import ListState
from tiering.selection.pool import SelectionInputError
from tiering.selection.run import ListSizeRefused, Selection, SelectionPart
from tiering.targets import TargetTracking

if TYPE_CHECKING:  # the card module loads scikit-learn's stack only with --model
    from tiering.growth.card import ModelCard

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


# What the report shows of a card's out-of-time summary (the scorecard's row, means over the test cohorts).
VALIDATION_METRICS = (("roc_auc", "平均 ROC AUC"), ("average_precision", "平均精度（average precision）"),
                      ("precision_at_10", "前10家精确率"), ("precision_at_15", "前15家精确率"),
                      ("lift_at_10", "前10家提升度（lift@10）"), ("lift_at_15", "前15家提升度（lift@15）"),
                      ("base_rate", "检验年份平均达标比例"), ("years", "检验年份数"))
VALIDATION_TEXT = ("样本外检验：每个检验年份只用早于它（隔开标签期）的年份训练，"
                   "各检验年份的预测合并后按预测概率分十组；概率为相对值（按训练年份校准），比较企业先后，不是未来的实际比例")


@dataclass
class ModelValidation:
    """What the growth model's card records of its out-of-time validation, read from the card (never recomputed).

    ``metrics`` (label, value) and ``calibration`` (decile, n, predicted, observed) are empty when the card was
    never tested out of time; ``untested`` then says so."""

    name: str
    label: str
    cohorts: list[int]
    metrics: list[tuple[str, float | int]]
    calibration: pd.DataFrame
    untested: str | None

    def rows(self) -> list[tuple[str, object]]:
        """(指标, 取值) rows: the card, its label and cohorts, what the figures are, then the figures."""
        cohorts = f"{min(self.cohorts)}–{max(self.cohorts)}（{len(self.cohorts)} 个年份）" if self.cohorts else "未记录"
        return [("模型卡", self.name), ("标签", self.label), ("训练年份", cohorts),
                ("检验口径", self.untested or VALIDATION_TEXT), *self.metrics]


def model_validation(card: ModelCard) -> ModelValidation:
    """The card's name, label, training cohorts, out-of-time summary of the scorecard and pooled calibration."""
    data = card.data
    metrics = data.get("metrics") or {}
    summary = next((r for r in metrics.get("out_of_time_summary") or [] if r.get("model") == "scorecard"), None)
    calibration = pd.DataFrame(metrics.get("calibration_out_of_time") or [],
                               columns=["decile", "n", "predicted", "observed"])
    untested = None
    if summary is None or calibration.empty:
        why = metrics.get("out_of_time")
        untested = f"模型卡未记录样本外检验{f'（{why}）' if why else ''}，无校准表和提升度"
    shown = [] if summary is None else [(text, int(summary[key]) if key == "years" else float(summary[key]))
                                        for key, text in VALIDATION_METRICS if summary.get(key) is not None]
    return ModelValidation(str(data["name"]), str(data["label"].get("description", "")),
                           [int(y) for y in data.get("training", {}).get("cohorts", [])], shown,
                           calibration if untested is None else calibration.iloc[0:0], untested)


def _validation(inputs: SelectionInputs | None) -> ModelValidation | None:
    return None if inputs is None or inputs.model_card is None else model_validation(inputs.model_card)


@dataclass
class ReportData:
    """The inputs of the workbook and the HTML report.

    A report of a whole run keeps the run, its trace and its tier table (the per-firm sheets and pages read
    them); a report of a register classified in partitions keeps only what was reduced from the parts (counts,
    indicator values, transitions, the list), and ``run``, ``trace`` and ``tiers`` are None: the per-firm tables
    are the run's Parquet datasets."""

    year: int
    provenance: Provenance
    summary: pd.DataFrame
    """Counts per rule set and outcome."""
    rulesets: list[CompiledRuleSet]
    levels: list[tuple[str, int]]
    """(level title, firms whose highest rung it is), from no rung up to the top rung."""
    transitions: pd.DataFrame | None
    indicators: list[Indicator]
    tracking: TargetTracking | None
    selection: Selection | None = None
    notes: list[str] = field(default_factory=list)
    decided: ListState | None = None
    """The committee's decisions on the year's list (:func:`tiering.audit.lists.decided_list`), shown beside the
    list; None when there are none."""
    run_id: str = "未记录（报告直接评价名录；用 tiering report RUN_ID 依据已记录的运行）"
    run: Classification | None = None
    trace: pd.DataFrame | None = None
    tiers: pd.DataFrame | None = None
    model: ModelValidation | None = None
    """The growth model card's out-of-time validation, when the list was made with a model (``--model``)."""


def _not_charted(program: str, criterion: str) -> str:
    return f"指标 {program}:{criterion} 不在本次评价的追溯中，未绘图"


def indicators_of(trace: pd.DataFrame, rulesets: list[CompiledRuleSet],
                  wanted: tuple[tuple[str, str], ...]) -> tuple[list[Indicator], list[str]]:
    """Values and thresholds of the wanted criteria; a note for each one the run does not have."""
    by_program = {rs.program: rs.id for rs in rulesets}
    units = {(rs.program, n.id): getattr(n, "unit", Unit.NUMBER) for rs in rulesets for n in rs.root.walk()}
    out, notes = [], []
    for program, criterion in wanted:
        rows = trace[(trace["ruleset_id"] == by_program.get(program)) & (trace["criterion_id"] == criterion)]
        if rows.empty:
            notes.append(_not_charted(program, criterion))
            continue
        thresholds = sorted(float(t) for t in rows["threshold"].dropna().unique())
        out.append(Indicator(program, criterion, str(rows["criterion"].iloc[0]), by_program[program],
                             rows["value"].to_numpy(dtype=float), thresholds, units[(program, criterion)]))
    return out, notes


def _trace(run: Classification) -> pd.DataFrame:
    trace = trace_table(run.evaluation).to_pandas()
    for col in trace.columns:
        if isinstance(trace[col].dtype, pd.CategoricalDtype):
            trace[col] = trace[col].astype(object)
    return trace


def _levels(rulesets: list[CompiledRuleSet], counts: pd.Series) -> list[tuple[str, int]]:
    """(level title, firms) from no rung up, ``counts`` being firms per highest-rung title."""
    return [(title, int(counts.get(title, 0))) for title in [NO_RUNG_TEXT] + [t for _, _, t in ladder(rulesets)]]


def previous_rules(library: RuleLibrary, rulesets: list[CompiledRuleSet],
                   year: int) -> tuple[list[CompiledRuleSet] | None, dt.date, str | None]:
    """Last year's rule sets of the ladder programs and their evaluation date, or None and why."""
    programs = sorted({p for _, p, _ in ladder(rulesets)})
    on = default_eval_date(year - 1)
    try:
        return library.in_force(on, None, programs), on, None
    except NoRuleSet as exc:
        return None, on, f"{year - 1} 年无法评价梯队项目：{exc.message}"


def _no_data_before(year: int) -> str:
    return f"名录没有 {year - 2} 年度数据，不作 {year - 1}→{year} 层级变化分析"


def _previous_tiers(register: Register, before: list[CompiledRuleSet], year: int, on: dt.date) -> pd.DataFrame:
    """Last year's tier table of the register's firms (classified with ``before`` for ``year - 1``)."""
    run = classify(register, before, year - 1, on)
    return tier_table(run.outcomes, before, run.lacks)


def _has_year_before(register: Register, year: int) -> bool:
    return bool((register.frame["year"] == year - 2).any())


def _with_selection(inputs: SelectionInputs, make: Callable[[], Selection]) -> tuple[Selection | None, list[str]]:
    """The year's cultivation list exactly as ``tiering select`` makes it from the same policy, model and earlier
    lists (``make``, :func:`tiering.app.selection.select` or its parts' :func:`select_parts`), or None and why."""
    policy = inputs.policy
    try:
        selection = make()
    except (SelectionInputError, ListSizeRefused) as exc:
        return None, [f"培育名单未生成（遴选政策 {inputs.policy_path}）：{exc}"]
    model = "未使用成长模型" if inputs.model is None else f"成长模型 {inputs.model_text}"
    notes = [f"培育名单按遴选政策 {policy.id}（{inputs.policy_path.name}）生成，{model}；与 tiering select 同一算法"]
    return selection, notes + selection.warnings


NO_SELECTION = "未生成培育名单（未给遴选政策，或用了 --no-selection）"


def build_report_data(register: Register, library: RuleLibrary, rulesets: list[CompiledRuleSet], year: int,
                      on: object, tracking: TargetTracking | None = None,
                      wanted: tuple[tuple[str, str], ...] = DEFAULT_INDICATORS,
                      selection_from: SelectionInputs | None = None, n: int | None = None,
                      progress: Progress | None = None) -> ReportData:
    """Classify ``year`` (and ``year - 1`` for transitions) and gather the report's tables; with
    ``selection_from`` (policy, model, earlier lists) also make the year's cultivation list of ``n`` firms.
    ``progress`` follows the classification (:data:`tiering.app.Progress`)."""
    run = classify(register, rulesets, year, on, progress=progress)  # type: ignore[arg-type]
    trace = _trace(run)
    tiers = tier_table(run.outcomes, rulesets, run.lacks)
    inputs = selection_from
    selection, notes = (_with_selection(inputs, lambda: select(run, inputs, n)) if inputs is not None
                        else (None, [NO_SELECTION]))
    transitions = None
    if not _has_year_before(register, year):
        notes.append(_no_data_before(year))
    else:
        before, before_on, why = previous_rules(library, rulesets, year)
        if before is None:
            notes.append(str(why))
        else:
            previous = _previous_tiers(register, before, year, before_on)
            transitions = transition_matrix(previous, tiers, rulesets, year - 1, year)
    indicators, missing = indicators_of(trace, rulesets, wanted)
    levels = _levels(rulesets, tiers["highest_rung"].value_counts())
    return ReportData(year, run.provenance, shown_titles(run.summary, rulesets), rulesets, levels, transitions,
                      indicators, tracking, selection, notes + missing + (tracking.notes if tracking else []),
                      run=run, trace=trace, tiers=tiers, model=_validation(inputs))


@dataclass
class ReportPart:
    """What one partition's classification gives the report: firms per highest rung, its firms' transitions from
    last year, the charted criteria's values, and its share of the cultivation list."""

    levels: pd.Series
    year_before: bool
    """Whether the partition has rows of the year before the data year."""
    transitions: pd.DataFrame | None
    indicators: list[Indicator]
    selection: SelectionPart | None


@dataclass(frozen=True)
class ReportReduce:
    """The report's ``reduce`` for :func:`tiering.scale.classify_partitioned`: applied to each partition's
    classification where it is made, with the same functions a whole report applies to the whole run."""

    wanted: tuple[tuple[str, str], ...]
    before: list[CompiledRuleSet] | None
    """Last year's ladder rule sets (:func:`previous_rules`; None: no transitions)."""
    before_on: dt.date
    inputs: SelectionInputs | None

    def __call__(self, result: Classification) -> ReportPart:
        year, rulesets = result.year, result.rulesets
        tiers = tier_table(result.outcomes, rulesets, result.lacks)
        year_before = _has_year_before(result.register, year)
        transitions = None
        if self.before is not None:
            previous = (_previous_tiers(result.register, self.before, year, self.before_on) if year_before
                        else pd.DataFrame({"uscc": pd.Series(dtype=object), "rung": pd.Series(dtype="int64")}))
            transitions = transition_matrix(previous, tiers, rulesets, year - 1, year)
        indicators, _ = indicators_of(_trace(result), rulesets, self.wanted)  # what no part has is noted once
        return ReportPart(tiers["highest_rung"].value_counts(), year_before, transitions, indicators,
                          None if self.inputs is None else selection_part(result, self.inputs))


def _indicators_of_parts(parts: Sequence[ReportPart],
                         wanted: tuple[tuple[str, str], ...]) -> tuple[list[Indicator], list[str]]:
    """Each wanted criterion's values over every part (in part order) and the thresholds any part has."""
    out, missing = [], []
    for program, criterion in wanted:
        found = [i for p in parts for i in p.indicators if (i.program, i.criterion_id) == (program, criterion)]
        if not found:
            missing.append(_not_charted(program, criterion))
            continue
        first = found[0]
        out.append(Indicator(program, criterion, first.label, first.ruleset_id,
                             np.concatenate([i.values for i in found]),
                             sorted({t for i in found for t in i.thresholds}), first.unit))
    return out, missing


def report_from_parts(parts: Sequence[ReportPart], provenance: Provenance, summary: pd.DataFrame,
                      rulesets: list[CompiledRuleSet], year: int, reduce: ReportReduce, why_not_before: str | None,
                      n: int | None = None) -> ReportData:
    """The report of a register classified in partitions, from what ``reduce`` gave for each (``provenance`` and
    ``summary`` those of the partitioned run, ``why_not_before`` why last year's rules are missing): the counts,
    pyramid, transitions, indicator distributions and cultivation list a whole report of the register shows."""
    inputs = reduce.inputs
    selection, notes = (_with_selection(inputs, lambda: select_parts([p.selection for p in parts if p.selection],
                                                                     inputs, year, n))
                        if inputs is not None else (None, [NO_SELECTION]))
    transitions = None
    if not any(p.year_before for p in parts):
        notes.append(_no_data_before(year))
    elif why_not_before is not None:
        notes.append(why_not_before)
    else:
        summed = pd.concat([p.transitions for p in parts if p.transitions is not None]).groupby(level=0).sum()
        transitions = ordered_matrix(summed.fillna(0).astype("int64"), rulesets, year - 1, year)
    counts = pd.concat([p.levels for p in parts]).groupby(level=0).sum()
    indicators, missing = _indicators_of_parts(parts, reduce.wanted)
    return ReportData(year, provenance, shown_titles(summary, rulesets), rulesets, _levels(rulesets, counts),
                      transitions, indicators, None, selection, notes + missing, model=_validation(inputs))


def shown_titles(summary: pd.DataFrame, rulesets: Sequence[CompiledRuleSet]) -> pd.DataFrame:
    """The counts per rule set with each programme named as the pyramid and the 梯队 sheet name it (with （暂定）
    when its rule set is provisional)."""
    shown = {rs.id: rs.shown_title for rs in rulesets}
    return summary.assign(program_title=summary["ruleset_id"].map(shown).fillna(summary["program_title"]))
