"""Each firm's highest rung on the tier ladder, what it lacks for the next rung, and year-over-year transitions.

Rungs come from the rule sets' ``rung`` metadata. The tier ladder (``tiering.ladder.lacks``) supplies the "what it
lacks" text; where it has none, the unmet and undetermined criteria of the next rung's rule set stand in for it.
"""

from __future__ import annotations

import pandas as pd

from tiering.ladder.rungs import NO_RUNG, NO_RUNG_TEXT, highest_rung, ladder
from tiering.rules.compile import CompiledRuleSet

TIER_COLUMNS = ["uscc", "name", "rung", "highest_rung", "programs_qualified", "next_rung", "lacks"]


def _lacks_by_program(gaps: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(uscc, program) → what the firm still lacks for that program (the run's tiering.ladder table)."""
    return {(u, p): str(t) for u, p, t in zip(gaps["uscc"], gaps["program"], gaps["lacks"], strict=True) if t}


def _fallback_lack(row: pd.Series) -> str:
    parts = [f"未满足：{row['failed']}" if row["failed"] else "", f"缺数据：{row['missing']}" if row["missing"] else ""]
    return "；".join(p for p in parts if p)


def tier_table(outcomes: pd.DataFrame, rulesets: list[CompiledRuleSet], gaps: pd.DataFrame) -> pd.DataFrame:
    """One row per firm: highest rung reached, every program qualified for, the next rung and what it lacks.

    ``gaps`` is the run's "what it still lacks" table (``Classification.lacks``).
    """
    steps = ladder(rulesets)
    rung_of = {program: rung for rung, program, _ in steps}
    title_of = {rung: title for rung, _, title in steps}
    program_at = {rung: program for rung, program, _ in steps}
    firms = outcomes[["uscc", "name"]].drop_duplicates("uscc").set_index("uscc")
    shown = {rs.program: rs.shown_title for rs in rulesets}
    qualified = outcomes[outcomes["outcome"] == "qualified"]
    names = qualified["program"].map(shown).groupby(qualified["uscc"]).agg(lambda s: "、".join(s.astype(str)))
    table = firms.assign(rung=highest_rung(outcomes, rung_of).reindex(firms.index).to_numpy(),
                         programs_qualified=names.reindex(firms.index).fillna(""))
    table["highest_rung"] = table["rung"].map(title_of).fillna(NO_RUNG_TEXT)
    rungs = sorted(title_of)
    table["next_rung"] = table["rung"].map(lambda r: next((title_of[x] for x in rungs if x > r), ""))
    from_ladder = _lacks_by_program(gaps)
    by_program = outcomes.set_index(["uscc", "program"])
    texts = []
    for uscc, r in zip(table.index, table["rung"], strict=True):
        nxt = next((x for x in rungs if x > r), None)
        key = (uscc, program_at[nxt]) if nxt is not None else None
        if key is None or key not in by_program.index:
            texts.append("")
        else:
            texts.append(from_ladder.get(key) or _fallback_lack(by_program.loc[key]))
    table["lacks"] = texts
    return table.reset_index()[TIER_COLUMNS]


def pyramid_levels(tiers: pd.DataFrame, rulesets: list[CompiledRuleSet]) -> list[tuple[str, int]]:
    """(level title, firms whose highest rung it is), from no rung up to the top rung."""
    counts = tiers["rung"].value_counts()
    return [(NO_RUNG_TEXT, int(counts.get(NO_RUNG, 0)))] + [(title, int(counts.get(rung, 0)))
                                                 for rung, _, title in ladder(rulesets)]


def transition_matrix(before: pd.DataFrame, after: pd.DataFrame, rulesets: list[CompiledRuleSet], before_year: int,
                      after_year: int) -> pd.DataFrame:
    """Counts of firms by last year's highest rung (rows) and this year's (columns); firms new or gone included.

    Both years' rungs are named by this year's ``rulesets`` (last year's versions may differ in being provisional,
    and a rung is the same step of the ladder either way)."""
    titles = _titles(rulesets)
    named = [t.assign(highest_rung=t["rung"].map(titles))[["uscc", "highest_rung"]] for t in (before, after)]
    joined = named[0].merge(named[1], on="uscc", how="outer", suffixes=("_before", "_after"))
    joined = joined.fillna({"highest_rung_before": "（上年无数据）", "highest_rung_after": "（本年无数据）"})
    matrix = pd.crosstab(joined["highest_rung_before"], joined["highest_rung_after"])
    return ordered_matrix(matrix, rulesets, before_year, after_year)


def _titles(rulesets: list[CompiledRuleSet]) -> dict[int, str]:
    return {NO_RUNG: NO_RUNG_TEXT, **{rung: title for rung, _, title in ladder(rulesets)}}


def ordered_matrix(matrix: pd.DataFrame, rulesets: list[CompiledRuleSet], before_year: int,
                   after_year: int) -> pd.DataFrame:
    """A transition count table (rungs by title) with its rows and columns in ladder order, named by year; the
    sum of several firms' tables (each partition's) reads as one."""
    order = list(_titles(rulesets).values())
    rows = [x for x in ["（上年无数据）", *order] if x in matrix.index]
    cols = [x for x in [*order, "（本年无数据）"] if x in matrix.columns]
    matrix = matrix.reindex(index=rows, columns=cols, fill_value=0)
    matrix.index.name = f"{before_year} 年最高层级"
    matrix.columns.name = f"{after_year} 年最高层级"
    return matrix
