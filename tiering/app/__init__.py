"""The application layer: a register classified once into one result that every output reads.

The command line, reports, selection, the audit store, watch, the review desk and the distributed runner all go
through these functions; none of them evaluates a criterion, a standing, what a firm lacks or an explanation on its
own. Nothing here prints or imports click: progress is a callback the caller passes.

    from tiering.app import classify, classify_firm, rules_in_force
    from tiering.app.selection import select, selection_inputs   # imported on its own: it loads the growth model

    rulesets, on = rules_in_force(library, year=2025)                 # the versions in force on 30 June 2025
    result = classify(register, rulesets, 2025, on, progress=None)    # -> Classification
    result.outcomes      # firm × rule set: outcome, score, path, unmet and undetermined criteria
    result.results       # the same with what each firm lacks (the 结果 sheet)
    result.lacks         # what each firm lacks per rule set it does not meet (computed on first use, once)
    result.standing      # per firm: highest rung on the ladder, programmes qualified, pending
    result.summary       # counts per rule set and outcome
    result.provenance    # input hash, rule versions, year, date, row counts
    result.explain("91120116MA05JX0001")   # one firm's explanation, read from this result (no second evaluation)

    inputs = selection_inputs(policy_path, model_path, cultivated_paths, register.frame)
    selection = select(result, inputs, n=15)    # the cultivation list, as `tiering select` and `report` make it

    # one firm of a register (code, exact name or a fragment only its name contains), without classifying the
    # other firms, by the per-firm path (the CLI's `tiering explain`):
    one = classify_firm(register, "蓟州生物医药", rulesets, 2025, on)    # -> FirmResult
    one.explain(); one.verdicts(); one.results; one.lacks()
    # the same from rows at hand (the register cache's, without pandas):
    one = classify_one(rows, uscc, name, rulesets, 2025, on)

    # some rows in place of the register's panel (a plan's districts for `tiering targets`, the panel as events
    # changed it for `tiering watch`), with the register's provenance:
    part = classify_rows(register, rows, rulesets, 2025, on)
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Classification", "FirmAmbiguous", "FirmNotFound", "FirmResult", "Progress", "classify", "classify_firm",
    "classify_one", "classify_rows", "firm_rows", "rules_in_force",
]

_HOMES = {
    "Classification": "classification", "Progress": "classification", "classify": "classification",
    "classify_firm": "classification", "classify_rows": "classification",
    "FirmAmbiguous": "firm", "FirmNotFound": "firm", "firm_rows": "firm",
    "FirmResult": "one_firm", "classify_one": "one_firm",
    "rules_in_force": "rules",
}
"""Each name's module, imported on first use: a classification loads pandas and Arrow, which one firm explained
from the register cache (``tiering explain``) does without."""


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"tiering.app.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tiering.app' has no attribute '{name}'")
