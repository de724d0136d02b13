"""Which rule sets apply: the versions in force on the evaluation date for the purpose, pins and programs applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from tiering.engine.evaluate import default_eval_date
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RuleLibrary
from tiering.rules.purpose import CERTIFY, EvaluationPurpose


def rules_in_force(library: RuleLibrary, year: int, on: dt.date | None = None,
                   pins: Mapping[str, str] | None = None, programs: Sequence[str] | None = None,
                   purpose: EvaluationPurpose = CERTIFY) -> tuple[list[CompiledRuleSet], dt.date]:
    """The rule sets that apply on ``on`` (default: 30 June of application ``year``) for ``purpose`` (认定 by
    default; a 复核 prefers the versions its certification year calls for), in dependency order, and that date.

    ``pins`` maps a program to a version or rule-set id; ``programs`` keeps only those (and what they depend on).
    Raises :class:`tiering.rules.library.NoRuleSet` when a program asked for has no version.
    """
    on = on or default_eval_date(year)
    return library.in_force(on, dict(pins or {}), list(programs) if programs else None, purpose), on
