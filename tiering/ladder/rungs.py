"""The tier ladder's rungs: which programme is which step, the one word for "no rung", and each firm's highest rung.

The ladder is the rung order the rule sets declare (``rung:`` in rules/*.yaml): 1 科技型中小企业 → 2 雏鹰 → 3 瞪羚 →
4 科技小巨人 → 5 科技领军培育 → 6 科技领军. Every table that shows a firm's place on it — the 层级 sheet, the
report's 尚缺 sheet and pyramid, the selection's standing, the audit store's firm rows — reads it from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tiering.rules.compile import CompiledRuleSet

NO_RUNG = 0
"""The rung of a firm that reaches no step of the ladder."""
NO_RUNG_TEXT = "未入梯队"
"""What a firm on no rung is called, everywhere."""


def ladder(rulesets: Sequence[CompiledRuleSet]) -> list[tuple[int, str, str]]:
    """(rung, program, title) of the rule sets that declare a rung, bottom first; the title is the rule set's
    :attr:`~tiering.rules.compile.CompiledRuleSet.shown_title` (with （暂定） when provisional), as every output
    names the rung."""
    return sorted({(int(rs.meta.rung), rs.program, rs.shown_title) for rs in rulesets
                   if rs.meta.rung is not None})


def rungs_of(rulesets: Sequence[CompiledRuleSet]) -> dict[str, int]:
    """Program → rung, for the rule sets that declare a place on the ladder."""
    return {program: rung for rung, program, _ in ladder(rulesets)}


def highest_rung(outcomes: pd.DataFrame, rungs: Mapping[str, int]) -> pd.Series:
    """Per firm of the outcome table (index: uscc, sorted), the highest rung whose programme it qualifies for;
    :data:`NO_RUNG` when none."""
    firms = pd.Index(sorted(outcomes["uscc"].unique()), name="uscc")
    program = outcomes["program"]
    # only the three columns read: selecting rows of the whole table would copy every text column
    qualified = ((outcomes["outcome"] == "qualified") & program.isin(list(rungs))).to_numpy(dtype=bool)
    top = program[qualified].map(rungs).groupby(outcomes["uscc"][qualified].to_numpy()).max()
    return top.reindex(firms).fillna(NO_RUNG).astype(int)
