"""The purpose of an evaluation — 认定 (certification) or 复核 (re-review of a title) — and how it picks a version.

A 复核 normally applies the version in force on the evaluation date, like a 认定. A rule set may declare in its
``reviews`` metadata that the 复核 of titles certified in given years still uses it (even after its
``effective_to``); rule selection then prefers it for that program. Within the version chosen, a criterion may differ
by purpose (its ``purposes``: not tested, or another criterion in its place); the rule set is compiled once per
purpose its criteria name and selection hands each evaluation the tree of its purpose
(:meth:`tiering.rules.compile.CompiledRuleSet.for_purpose`). No program is special-cased in code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from tiering.rules.schema import Review, RuleSetFile


class Purpose(StrEnum):
    """Why a firm is evaluated."""

    CERTIFY = "认定"
    REVIEW = "复核"


@dataclass(frozen=True)
class EvaluationPurpose:
    """The purpose of one evaluation run and, for a 复核, the year the title under review was certified."""

    purpose: Purpose = Purpose.CERTIFY
    certified: int | None = None

    def describe(self) -> str:
        """Chinese text for explanations and summaries, e.g. ``复核（2023年认定）``."""
        if self.purpose == Purpose.REVIEW and self.certified is not None:
            return f"{self.purpose.value}（{self.certified}年认定）"
        return self.purpose.value


CERTIFY = EvaluationPurpose()


def review_clause(meta: RuleSetFile, purpose: EvaluationPurpose, on: dt.date) -> Review | None:
    """The ``reviews`` entry of a rule set that governs this 复核 on ``on``, or None."""
    if purpose.purpose != Purpose.REVIEW or purpose.certified is None:
        return None
    for review in meta.reviews:
        if (review.certified_from <= purpose.certified <= review.certified_to and on >= meta.effective_from
                and (review.until is None or on <= review.until)):
            return review
    return None


def selection_reason(meta: RuleSetFile, purpose: EvaluationPurpose, on: dt.date) -> str:
    """Why this version applies to this purpose on this date, in Chinese (shown by explain and classify)."""
    review = review_clause(meta, purpose, on)
    if review is not None:
        years = (f"{review.certified_from}" if review.certified_from == review.certified_to
                 else f"{review.certified_from}–{review.certified_to}")
        return (f"评价目的：{purpose.describe()}；依 {review.source.document}（{review.source.clause}），"
                f"{years}年认定的称号复核仍适用 {meta.id}（{meta.version}），不用评价日期在用的版本")
    return f"评价目的：{purpose.describe()}；适用 {on} 在用版本 {meta.id}（{meta.version}）"
