"""The outcome of a firm under a rule set, in one place: its number in the arrays, its English id (files, the audit
store, scripts) and its Chinese word (what people read)."""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """1 qualified 符合, 0 not qualified 不符合, -1 undetermined for missing data 待定（缺数据）."""

    QUALIFIED = 1
    NOT_QUALIFIED = 0
    UNDETERMINED = -1

    @property
    def english(self) -> str:
        return self.name.lower()

    @property
    def zh(self) -> str:
        return _ZH[self]

    @classmethod
    def of(cls, english: str) -> Outcome:
        """The outcome whose English id is ``english`` ("qualified", …)."""
        return cls[english.upper()]


_ZH = {Outcome.QUALIFIED: "符合", Outcome.NOT_QUALIFIED: "不符合", Outcome.UNDETERMINED: "待定（缺数据）"}

OUTCOME_TEXT: dict[int, str] = {int(o): o.english for o in Outcome}
"""Array value -> English id."""
OUTCOME_ZH: dict[int, str] = {int(o): o.zh for o in Outcome}
"""Array value -> Chinese word."""
OUTCOMES: tuple[str, ...] = tuple(o.english for o in Outcome)
"""The English ids, qualified first."""
ZH_OF: dict[str, str] = {o.english: o.zh for o in Outcome}
"""English id -> Chinese word."""
WORD_TO_ENGLISH: dict[str, str] = {word: o.english for o in Outcome
                                   for word in dict.fromkeys((o.zh.split("（")[0], o.zh))}
"""Chinese word as people type it (符合, 不符合, 待定, 待定（缺数据）) -> English id."""
