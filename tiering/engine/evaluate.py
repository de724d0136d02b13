"""The evaluation core: every firm × rule set × criterion, vectorised; and the same for one firm.

Everything downstream — outcome tables, explanations, the trace file, selection, the audit store — reads the
:class:`Evaluation` this module returns. Nothing else evaluates a criterion.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tiering.engine.blanks import cells_read, firm_blank_cells
from tiering.engine.context import BatchContext, FirmArrays, FirmContext
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.expr import Context
from tiering.rules.nodes import One, Vec

if TYPE_CHECKING:
    import pandas as pd

    from tiering.numbering import FirmNumbers


def default_eval_date(year: int) -> dt.date:
    """The evaluation date used to pick rule versions when none is given: 30 June of the application year."""
    return dt.date(year, 6, 30)


class _Run:
    """Evaluates one rule set's nodes on demand, each once (a node may be read by several others)."""

    def __init__(self, ruleset: CompiledRuleSet, ctx: Context, outcomes: dict[str, Any], batch: bool) -> None:
        self.ruleset, self.ctx, self.outcomes, self.batch = ruleset, ctx, outcomes, batch
        self.size = ctx.size
        self.results: dict[str, Any] = {}

    def result(self, node_id: str) -> Any:
        if node_id not in self.results:
            node = self.ruleset.nodes[node_id]
            self.results[node_id] = node.vec(self) if self.batch else node.one(self)
        return self.results[node_id]

    def outcome(self, program: str) -> Any:
        return self.outcomes[program]

    def all_nodes(self) -> dict[str, Any]:
        for node in self.ruleset.root.walk():
            self.result(node.id)
        return {n.id: self.results[n.id] for n in self.ruleset.root.walk()}


@dataclass
class RuleSetResult:
    """One rule set over every firm: each criterion's arrays, and the outcome (1, 0, -1)."""

    ruleset: CompiledRuleSet
    nodes: dict[str, Vec]
    data_year: int

    @property
    def outcome(self) -> np.ndarray:
        return self.nodes[self.ruleset.root.id].status


@dataclass
class Evaluation:
    """The result of one evaluation run; ``firms`` (统一社会信用代码) and ``names`` are in code order, and every
    result array follows them.

    ``contexts`` (data year -> the panel's columns aligned on ``firms``) are the ones the criteria were evaluated
    on, kept so that what follows (what each firm lacks, one firm's explanation) reads the same numbering and the
    same derived columns instead of making them again.
    """

    year: int
    eval_date: dt.date
    firms: np.ndarray
    names: np.ndarray
    results: list[RuleSetResult]
    not_evaluated: list[str]
    contexts: dict[int, BatchContext | FirmArrays]

    def result(self, program_or_id: str) -> RuleSetResult:
        for r in self.results:
            if program_or_id in (r.ruleset.program, r.ruleset.id):
                return r
        raise KeyError(program_or_id)


def _year_firms(panel: pd.DataFrame, row_firm: np.ndarray, ids: np.ndarray,
                data_year: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = np.flatnonzero((panel["year"] == data_year).to_numpy())
    rows = rows[np.argsort(row_firm[rows], kind="stable")]  # firms in code order, whatever the panel's row order
    codes = row_firm[rows]
    names = np.asarray(panel["name"].array.take(rows), dtype=object)
    absent = np.ones(len(ids), dtype=bool)
    absent[codes] = False
    return codes, names, sorted(ids[absent].tolist())


@dataclass
class Prepared:
    """A panel made ready for the rule sets: firms numbered, years aligned, every column the rules read derived."""

    year: int
    eval_date: dt.date
    firms: np.ndarray
    names: np.ndarray
    not_evaluated: list[str]
    contexts: dict[int, BatchContext]


def prepare(panel: pd.DataFrame, rulesets: Sequence[CompiledRuleSet], year: int,
            eval_date: dt.date | None = None, numbering: FirmNumbers | None = None) -> Prepared:
    """Align the firms with a row for fiscal year ``year - 1`` and derive every column ``rulesets`` read.

    ``numbering`` is the panel's firm numbering when one was already made (the register loader's, see
    :meth:`tiering.register.Register.firm_numbers`); otherwise the firms are numbered here."""
    from tiering.numbering import number_firms  # pandas and Arrow: a panel is in hand here

    eval_date = eval_date or default_eval_date(year)
    row_firm, ids = numbering if numbering is not None else number_firms(panel["uscc"])
    codes, names, others = _year_firms(panel, row_firm, ids, year - 1)
    contexts: dict[int, BatchContext] = {}
    for rs in rulesets:
        data_year = year - rs.meta.data_year_offset
        if data_year not in contexts:
            contexts[data_year] = BatchContext(panel, row_firm, codes, data_year, eval_date)
        contexts[data_year].derive(rs.needs, rs.equivalences)
    return Prepared(year, eval_date, ids[codes], names, others, contexts)


def run(prepared: Prepared, rulesets: Sequence[CompiledRuleSet],
        on_ruleset: Callable[[CompiledRuleSet], None] | None = None) -> Evaluation:
    """Evaluate ``rulesets`` (in dependency order, as :meth:`RuleLibrary.in_force` returns them) on a prepared
    panel; ``on_ruleset`` is called after each one (a progress bar)."""
    outcomes: dict[str, np.ndarray] = {}
    results: list[RuleSetResult] = []
    for rs in rulesets:
        data_year = prepared.year - rs.meta.data_year_offset
        nodes = _Run(rs, prepared.contexts[data_year], outcomes, batch=True).all_nodes()
        results.append(RuleSetResult(rs, nodes, data_year))
        outcomes[rs.program] = nodes[rs.root.id].status
        if on_ruleset is not None:
            on_ruleset(rs)
    return Evaluation(prepared.year, prepared.eval_date, prepared.firms, prepared.names, results,
                      prepared.not_evaluated, prepared.contexts)


def evaluate(panel: pd.DataFrame, rulesets: Sequence[CompiledRuleSet], year: int,
             eval_date: dt.date | None = None,
             on_ruleset: Callable[[CompiledRuleSet], None] | None = None) -> Evaluation:
    """Evaluate every firm of ``panel`` with a row for fiscal year ``year - 1`` against ``rulesets``.

    ``rulesets`` must be in dependency order (as :meth:`RuleLibrary.in_force` returns them); ``on_ruleset`` is
    called after each one (a progress bar). The same as ``run(prepare(...))``.
    """
    return run(prepare(panel, rulesets, year, eval_date), rulesets, on_ruleset)


def _records(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    return rows.to_dict("records") if hasattr(rows, "to_dict") else rows  # type: ignore[return-value]


def evaluate_firm(rows: pd.DataFrame | Sequence[Mapping[str, Any]], rulesets: Sequence[CompiledRuleSet], year: int,
                  eval_date: dt.date | None = None) -> dict[str, dict[str, One]]:
    """The per-firm path: the same rule sets for one firm's rows (a frame, or one mapping of field id -> cell per
    firm-year), cell by cell. Keys: rule-set id, criterion id."""
    eval_date = eval_date or default_eval_date(year)
    records = _records(rows)
    outcomes: dict[str, int] = {}
    out: dict[str, dict[str, One]] = {}
    for rs in rulesets:
        ctx = FirmContext(records, year - rs.meta.data_year_offset, eval_date)
        run = _Run(rs, ctx, outcomes, batch=False)
        nodes = run.all_nodes()
        _name_blanks(rs, nodes, ctx, year - rs.meta.data_year_offset, 0)
        out[rs.id] = nodes
        outcomes[rs.program] = nodes[rs.root.id].status
    return out


def firm_evaluation(rows: pd.DataFrame | Sequence[Mapping[str, Any]], uscc: str, name: str,
                    rulesets: Sequence[CompiledRuleSet], year: int, eval_date: dt.date | None = None,
                    ) -> tuple[Evaluation, dict[str, dict[str, One]]]:
    """One firm by the per-firm path (:func:`evaluate_firm`), and the same records as an :class:`Evaluation` of that
    firm alone (arrays of length one, its cells as :class:`FirmArrays`): what reads a batch evaluation — what the
    firm lacks — reads it unchanged, without a panel, pandas or a second evaluation."""
    eval_date = eval_date or default_eval_date(year)
    records = _records(rows)
    results = evaluate_firm(records, rulesets, year, eval_date)
    contexts: dict[int, BatchContext | FirmArrays] = {}
    evaluated: list[RuleSetResult] = []
    for rs in rulesets:
        data_year = year - rs.meta.data_year_offset
        if data_year not in contexts:
            contexts[data_year] = FirmArrays(FirmContext(records, data_year, eval_date))
        nodes = {node_id: _as_vec(one, getattr(rs.nodes[node_id], "text_field", None) is not None)
                 for node_id, one in results[rs.id].items()}
        evaluated.append(RuleSetResult(rs, nodes, data_year))
    evaluation = Evaluation(year, eval_date, np.array([uscc], dtype=object), np.array([name], dtype=object),
                            evaluated, [], contexts)
    return evaluation, results


def _as_vec(one: One, reads_text: bool) -> Vec:
    """A per-firm record as the batch path's arrays for one firm: a text criterion always has its text array (None
    where the cell is blank), any other criterion one only where a value was derived under an equivalence."""
    text = np.array([one.text], dtype=object) if reads_text or one.text is not None else None
    return Vec(np.array([one.value]), np.array([one.threshold]), np.array([one.status], dtype=np.int8),
               np.array([one.pmin]), np.array([one.pmax]), np.array([one.band], dtype=np.int16), text)


def firm_slice(evaluation: Evaluation, uscc: str) -> dict[str, dict[str, One]]:
    """One firm's records out of a batch evaluation, in the per-firm shape (for comparison and explanation)."""
    hits = np.flatnonzero(evaluation.firms == uscc)
    if len(hits) == 0:
        raise KeyError(uscc)
    i = int(hits[0])
    out: dict[str, dict[str, One]] = {}
    for r in evaluation.results:
        out[r.ruleset.id] = {
            node_id: One(float(v.value[i]), float(v.threshold[i]), int(v.status[i]), float(v.pmin[i]),
                         float(v.pmax[i]), int(v.band[i]), None if v.text is None else _text(v.text[i]))
            for node_id, v in r.nodes.items()
        }
        _name_blanks(r.ruleset, out[r.ruleset.id], evaluation.contexts[r.data_year], r.data_year, i)
    return out


def _name_blanks(rs: CompiledRuleSet, nodes: dict[str, One], ctx: Context, data_year: int, i: int) -> None:
    """Fill ``One.blank`` of every criterion whose value is missing: the blank cells it read (firm ``i``)."""
    for node_id, one in nodes.items():
        node = rs.nodes[node_id]
        text_field = getattr(node, "text_field", None)
        if (one.text is None if text_field is not None else math.isnan(one.value)) and cells_read(node):
            one.blank = firm_blank_cells(node, ctx, data_year, i)


def _text(x: Any) -> str | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return str(x)
