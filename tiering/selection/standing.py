"""Each firm's place on the tier ladder and what it still lacks for the next rung (and for the policy's goal).

"What it still lacks" is an input table (uscc, program, lacks): the tier-ladder package computes it in the
firm's own numbers (once per run, ``Classification.lacks``); without it the unmet and undetermined criteria of each
rule set (from the outcome table) stand in for it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from tiering.ladder.rungs import NO_RUNG, NO_RUNG_TEXT, highest_rung

LADDER_SOURCE = "tiering.ladder（按企业自身数据计算的最小差距）"
FALLBACK_SOURCE = "规则集的未满足条件（tiering.ladder 不可用）"
_COLUMNS = ["uscc", "program", "lacks"]


def fallback_lacks(outcomes: pd.DataFrame) -> pd.DataFrame:
    """(uscc, program, lacks) from the outcome table: the unmet criteria, then the criteria lacking data."""
    rows = outcomes[outcomes["outcome"].astype(str) != "qualified"]
    failed = rows["failed"].fillna("").astype(str)
    missing = rows["missing"].fillna("").astype(str)
    text = ["；".join(p for p in (f, f"缺数据：{m}" if m else "") if p) for f, m in zip(failed, missing, strict=True)]
    return pd.DataFrame({"uscc": rows["uscc"].to_numpy(), "program": rows["program"].to_numpy(), "lacks": text})


def _texts_for(texts: pd.DataFrame, wanted: pd.Series) -> pd.Series:
    """Per firm, the lacks texts of the programs ``wanted`` names for it (several joined with '；')."""
    keyed = texts.assign(_want=texts["uscc"].map(wanted))
    hits = keyed[[isinstance(w, tuple) and p in w for p, w in zip(keyed["program"], keyed["_want"], strict=True)]]
    hits = hits.sort_values(["uscc", "program"], kind="mergesort")
    joined = hits.groupby("uscc")["lacks"].agg(lambda s: "；".join(t for t in s if t))
    return joined.reindex(wanted.index).fillna("")


def standing_frame(outcomes: pd.DataFrame, rungs: Mapping[str, int], lacks: pd.DataFrame | None = None,
                   goal: str | None = None) -> pd.DataFrame:
    """One row per firm: highest rung reached, programs qualified, next rung and goal, and what each lacks.

    ``outcomes`` has uscc, program, program_title, outcome, failed, missing (as ``outcome_frame`` gives);
    ``lacks`` (uscc, program, lacks) replaces the fallback texts when given; ``goal`` is the program the
    cultivation aims at (e.g. tj_xjr), reported when the firm does not meet it yet.
    """
    firms = pd.Index(sorted(outcomes["uscc"].unique()), name="uscc")
    titles = outcomes.drop_duplicates("program").set_index("program")["program_title"].to_dict()
    ladder = sorted((r, p) for p, r in rungs.items() if p in titles)
    qualified = outcomes[outcomes["outcome"].astype(str) == "qualified"]
    order = {p: (rungs.get(p, 10**6), p) for p in titles}
    by_firm = qualified.assign(_order=qualified["program"].map(order)).sort_values(["uscc", "_order"], kind="stable")
    out = pd.DataFrame(index=firms)
    out["programs_qualified"] = by_firm.groupby("uscc")["program_title"].agg("、".join).reindex(firms).fillna("")
    top = highest_rung(outcomes, rungs).reindex(firms)
    out["rung"] = top
    at_rung: dict[int, list[str]] = {}
    for r, p in ladder:
        at_rung.setdefault(r, []).append(p)
    out["highest_rung"] = ["、".join(titles[p] for p in at_rung[int(r)]) if r != NO_RUNG else NO_RUNG_TEXT for r in top]
    nxt = [min((r for r in at_rung if r > t), default=None) for t in top]
    out["next_rung"] = ["、".join(titles[p] for p in at_rung[r]) if r is not None else "" for r in nxt]
    texts = lacks if lacks is not None else fallback_lacks(outcomes)
    wanted = pd.Series([tuple(at_rung[r]) if r is not None else None for r in nxt], index=firms, dtype=object)
    out["lacks"] = _texts_for(texts, wanted).to_numpy()
    out["lacks_source"] = LADDER_SOURCE if lacks is not None else FALLBACK_SOURCE
    met = set(qualified.loc[qualified["program"] == goal, "uscc"]) if goal is not None else set()
    out["goal"] = [titles.get(goal, goal) if goal is not None and u not in met else "" for u in firms]
    goal_wanted = pd.Series([(goal,) if g else None for g in out["goal"]], index=firms, dtype=object)
    out["goal_lacks"] = _texts_for(texts, goal_wanted).to_numpy()
    return out.reset_index()
