"""``classify``: one register, the rule sets in force, one application year -> one :class:`Classification`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from tiering import strings
from tiering.app.firm import firm_code, firm_rows
from tiering.app.one_firm import FirmResult, classify_one
from tiering.engine.evaluate import Evaluation, default_eval_date, firm_slice, prepare, run
from tiering.explain.columns import column_gaps
from tiering.explain.outcomes import outcome_frame, summary_counts
from tiering.explain.text import explain_firm
from tiering.ladder.lacks import SEP, lacks, lacks_for_firm
from tiering.ladder.summary import tier_summary
from tiering.output.provenance import Provenance, ruleset_records
from tiering.register import Register
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import PASS, One

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: ``step`` names the stage in Chinese and English ("评价中 evaluating"); ``done``
of ``total`` units of it are finished. Called at least once per stage."""

EVALUATING = "评价中 evaluating"
REASONS = "整理结果与原因 outcomes and reasons"
LACKS = "计算尚缺 what each firm still lacks"


@dataclass
class Classification:
    """Everything one classification of a register produced; each later table is computed on first use, once.

    ``evaluation`` keeps the firm numbering and the derived columns (``evaluation.contexts``) the criteria were
    evaluated on; what each firm lacks and one firm's explanation are read from them, never made again.
    """

    register: Register
    rulesets: list[CompiledRuleSet]
    evaluation: Evaluation
    provenance: Provenance
    progress: Progress | None = field(default=None, repr=False, compare=False)

    @property
    def year(self) -> int:
        return self.evaluation.year

    @property
    def eval_date(self) -> dt.date:
        return self.evaluation.eval_date

    def _step(self, name: str, work: Callable[[Evaluation], pd.DataFrame]) -> pd.DataFrame:
        """``work`` on the evaluation, reported to the caller's progress callback as one step."""
        if self.progress is not None:
            self.progress(name, 0, 1)
        table = work(self.evaluation)
        if self.progress is not None:
            self.progress(name, 1, 1)
        return table

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per firm × rule set: outcome, score, path and the unmet and undetermined criteria."""
        # on a large register this step takes longer than the evaluation itself
        return self._step(REASONS, outcome_frame)

    @cached_property
    def lacks(self) -> pd.DataFrame:
        """What each firm still lacks per rule set it does not meet (see :func:`tiering.ladder.lacks.lacks`)."""
        return self._step(LACKS, lacks)

    @cached_property
    def results(self) -> pd.DataFrame:
        """:attr:`outcomes` with a ``lacks`` column ('' where the firm qualifies): the result table users get."""
        # the lacks rows are the outcome rows not qualified, in the same order (see tiering.ladder.lacks.lacks)
        pending = np.flatnonzero(np.concatenate([r.outcome != PASS for r in self.evaluation.results]
                                                or [np.zeros(0, dtype=bool)]))
        gaps = self.lacks
        assert len(gaps) == len(pending) and (self.outcomes["uscc"].array.take(pending) == gaps["uscc"].array).all()
        table = self.outcomes.copy()
        table["lacks"] = strings.spread(gaps["lacks"].array, pending, len(table))
        return table

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Counts per rule set and outcome."""
        return summary_counts(self.outcomes)

    @cached_property
    def standing(self) -> pd.DataFrame:
        """Per firm: highest rung on the ladder, programmes qualified, programmes pending (the 层级 sheet)."""
        return tier_summary(self.evaluation, self.outcomes)

    def firm_code(self, firm_id: str) -> str:
        """The 统一社会信用代码 of ``firm_id`` (a code or an exact 企业名称) among the firms evaluated."""
        return firm_code(self.evaluation.firms, self.evaluation.names, firm_id, self.year)

    def firm_results(self, uscc: str) -> dict[str, dict[str, One]]:
        """One firm's record of every criterion, per rule-set id (criterion id -> :class:`One`)."""
        return firm_slice(self.evaluation, uscc)

    def firm_lacks(self, uscc: str) -> dict[str, list[str]]:
        """What one firm lacks, per rule-set id it does not meet: read from :attr:`lacks` when that has been
        computed, otherwise worked out for this firm alone."""
        if "lacks" not in self.__dict__:
            return lacks_for_firm(self.evaluation, uscc)
        rows = self.lacks[self.lacks["uscc"] == uscc]
        return {rid: str(text).split(SEP) for rid, text in zip(rows["ruleset_id"], rows["lacks"], strict=True)}

    def explain(self, firm_id: str) -> str:
        """The criterion-by-criterion explanation of one firm (code or exact name) for every rule set, in Chinese."""
        uscc = self.firm_code(firm_id)
        name = str(self.evaluation.names[np.flatnonzero(self.evaluation.firms == uscc)[0]])
        return explain_firm(uscc, name, self.year, self.rulesets, self.firm_results(uscc), self.firm_lacks(uscc))


def classify(register: Register, rulesets: Sequence[CompiledRuleSet], year: int, on: dt.date | None = None,
             progress: Progress | None = None) -> Classification:
    """Classify the accepted rows of ``register`` against ``rulesets`` for application ``year``.

    ``rulesets`` must be in dependency order (as :func:`tiering.app.rules_in_force` gives them); ``on`` is the
    evaluation date (default: 30 June of ``year``). The firms keep the numbering the register loader gave them
    (numbered here only for a frame put together elsewhere) and the columns the rules read are derived once, here;
    every table of the result is read from that.
    """
    on = on or default_eval_date(year)
    rulesets = list(rulesets)
    total = len(rulesets)
    if progress is not None:
        progress(EVALUATING, 0, total)
    done = iter(range(1, total + 1))
    evaluation = run(prepare(register.frame, rulesets, year, on, register.firm_numbers()), rulesets,
                     None if progress is None else (lambda _rs: progress(EVALUATING, next(done), total)))
    missing = column_gaps(evaluation, set(register.columns), register.unused_columns)
    provenance = Provenance(
        input_file=str(register.path), input_sha256=register.sha256, year=year, eval_date=on.isoformat(),
        money_units={k: register.money_note(k) for k in sorted(register.money_units)},
        rulesets=ruleset_records(rulesets), rows_read=register.rows_read,
        rows_accepted=len(register.frame), rows_refused=register.rows_refused,
        firms_evaluated=len(evaluation.firms), firms_without_data_year=evaluation.not_evaluated,
        columns_mapped=dict(register.columns), columns_unused=list(register.unused_columns),
        intake_notes=list(register.notes), column_gaps=[gap.message() for gap in missing],
    )
    return Classification(register, rulesets, evaluation, provenance, progress)


def classify_rows(register: Register, rows: pd.DataFrame, rulesets: Sequence[CompiledRuleSet], year: int,
                  on: dt.date | None = None, progress: Progress | None = None) -> Classification:
    """Classify ``rows`` in place of ``register``'s panel: some of its firms (one firm, a plan's districts) or its
    panel as events have since changed it (``tiering watch``). The result names ``register`` as its input; only
    the rows classified count as read."""
    part = dataclasses.replace(register, frame=rows, refusals=[], rows_read=len(rows))
    return classify(part, rulesets, year, on, progress)


def classify_firm(register: Register, firm_id: str, rulesets: Sequence[CompiledRuleSet], year: int,
                  on: dt.date | None = None) -> FirmResult:
    """One firm of ``register`` (see :func:`tiering.app.firm.firm_rows` for how ``firm_id`` is matched): its rows
    alone classified once by the per-firm path (:func:`tiering.app.one_firm.classify_one`), so that its explanation,
    results and lacks are read from that result without evaluating the other firms."""
    rows = firm_rows(register, firm_id, year)
    uscc = str(rows["uscc"].iloc[0])
    name = str(rows.loc[rows["year"] == year - 1, "name"].iloc[0])
    return classify_one(rows, uscc, name, rulesets, year, on)
