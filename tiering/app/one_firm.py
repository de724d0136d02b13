"""One firm classified on its own by the per-firm path: what ``tiering explain`` shows, without pandas.

The firm's rows are evaluated cell by cell (:func:`tiering.engine.evaluate.evaluate_firm`, the path ``tiering rules
test`` runs); what it lacks is read from the same records seen as an evaluation of that one firm, by the same 尚缺
code a classification of the whole register uses; the texts are the same explanation module's. A test compares
every firm of the sample with the whole register's classification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiering.engine.evaluate import Evaluation, firm_evaluation
from tiering.explain.text import explain_firm, verdicts
from tiering.ladder.lacks import lacks_for_firm
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.nodes import One

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class FirmResult:
    """One firm's record of every criterion per rule set, and what follows from it."""

    uscc: str
    name: str
    """Its name in the data year's row."""
    year: int
    rulesets: list[CompiledRuleSet]
    evaluation: Evaluation
    """The firm alone, as arrays of length one (what the 尚缺 code reads)."""
    results: dict[str, dict[str, One]]
    """Rule-set id -> criterion id -> record (as :meth:`tiering.app.Classification.firm_results` gives them)."""

    def lacks(self) -> dict[str, list[str]]:
        """What the firm lacks, per rule-set id it does not meet."""
        return lacks_for_firm(self.evaluation, self.uscc)

    def verdicts(self) -> list[str]:
        """One line per program: mark, outcome, score and the first reason."""
        return verdicts(self.rulesets, self.results)

    def explain(self) -> str:
        """The criterion-by-criterion explanation for every rule set, in Chinese."""
        return explain_firm(self.uscc, self.name, self.year, self.rulesets, self.results, self.lacks())


def classify_one(rows: pd.DataFrame | Sequence[Mapping[str, Any]], uscc: str, name: str,
                 rulesets: Sequence[CompiledRuleSet], year: int, on: dt.date | None = None) -> FirmResult:
    """Firm ``uscc`` (named ``name``) classified from its ``rows`` alone — a frame, or one mapping of field id ->
    cell per firm-year as the register cache keeps them — against ``rulesets`` (dependency order) for ``year``."""
    evaluation, results = firm_evaluation(rows, uscc, name, rulesets, year, on)
    return FirmResult(uscc, name, year, list(rulesets), evaluation, results)
