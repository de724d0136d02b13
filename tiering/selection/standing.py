"""Each firm's place on the tier ladder and what it still lacks for the next rung.

The "what it still lacks" text is an input column (``lacks``): the tier-ladder package supplies it when it is
installed; otherwise the unmet and undetermined criteria of the next rung's rule set stand in for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tiering.engine.evaluate import Evaluation
from tiering.rules.compile import CompiledRuleSet

LADDER_SOURCE = "tiering.ladder"
FALLBACK_SOURCE = "下一层级规则集的未满足条件"


def rungs_of(rulesets: list[CompiledRuleSet]) -> dict[str, int]:
    """Program → rung, for the rule sets that declare a place on the ladder."""
    return {rs.program: int(rs.meta.rung) for rs in rulesets if rs.meta.rung is not None}


def ladder_lacks(evaluation: Evaluation) -> pd.DataFrame | None:
    """``uscc``, ``lacks`` from the tier-ladder package, or None when it is absent or answers in another shape."""
    try:
        from tiering import ladder  # noqa: PLC0415  (optional: another engineer's package may not exist yet)
    except ImportError:
        return None
    lacks: Any = getattr(ladder, "lacks", None)
    if lacks is None:
        return None
    frame = lacks(evaluation)
    if not isinstance(frame, pd.DataFrame) or not {"uscc", "lacks"} <= set(frame.columns):
        return None
    texts = frame[["uscc", "lacks"]].astype({"lacks": object}).fillna("")
    return texts.groupby("uscc", sort=True)["lacks"].agg(lambda s: "；".join(t for t in s if t)).reset_index()


def _joined(parts: pd.Series) -> str:
    return "；".join(p for p in parts if isinstance(p, str) and p)


def standing_frame(outcomes: pd.DataFrame, rungs: Mapping[str, int],
                   lacks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per firm: highest rung reached, every program qualified, the next rung and what it lacks.

    ``outcomes`` has uscc, program, program_title, outcome, failed, missing (as ``outcome_frame`` gives).
    ``lacks`` (uscc, lacks) replaces the fallback text when given.
    """
    firms = pd.Index(sorted(outcomes["uscc"].unique()), name="uscc")
    titles = outcomes.drop_duplicates("program").set_index("program")["program_title"].to_dict()
    ladder = sorted(((r, p) for p, r in rungs.items() if p in titles), key=lambda rp: (rp[0], rp[1]))
    qualified = outcomes[outcomes["outcome"].astype(str) == "qualified"]
    order = {p: (rungs.get(p, 10**6), p) for p in titles}
    by_firm = qualified.assign(_order=qualified["program"].map(order)).sort_values(["uscc", "_order"], kind="stable")
    out = pd.DataFrame(index=firms)
    out["programs_qualified"] = by_firm.groupby("uscc")["program_title"].agg("、".join).reindex(firms).fillna("")
    on_ladder = by_firm[by_firm["program"].isin(rungs)]
    top = on_ladder.assign(rung=on_ladder["program"].map(rungs)).groupby("uscc")["rung"].max().reindex(firms)
    out["rung"] = top
    rung_title = {}
    for r, p in ladder:
        rung_title.setdefault(r, []).append(titles[p])
    out["highest_rung"] = [("、".join(rung_title[int(r)]) if pd.notna(r) else "未进入梯队") for r in top]
    next_rung = [min((r for r, _ in ladder if r > (t if pd.notna(t) else 0)), default=None) for t in top]
    out["next_rung"] = ["、".join(rung_title[r]) if r is not None else "" for r in next_rung]
    if lacks is not None:
        out["lacks"] = lacks.set_index("uscc")["lacks"].reindex(firms).fillna("")
        out["lacks_source"] = LADDER_SOURCE
    else:
        out["lacks"] = _fallback_lacks(outcomes, rungs, next_rung, firms).to_numpy()
        out["lacks_source"] = FALLBACK_SOURCE
    return out.reset_index()


def _fallback_lacks(outcomes: pd.DataFrame, rungs: Mapping[str, int], next_rung: list[int | None],
                    firms: pd.Index) -> pd.Series:
    """Unmet criteria (and criteria lacking data) of the next rung's rule set(s), per firm."""
    wanted = pd.Series(next_rung, index=firms, dtype="float64")
    rows = outcomes[["uscc", "program", "failed", "missing"]].copy()
    rows = rows[rows["program"].map(rungs).astype("float64") == rows["uscc"].map(wanted)]
    rows = rows.sort_values(["uscc", "program"], kind="stable")
    failed = rows["failed"].fillna("").astype(str)
    missing = rows["missing"].fillna("").astype(str)
    text = ["；".join(p for p in (f, f"缺数据：{m}" if m else "") if p) for f, m in zip(failed, missing, strict=True)]
    joined = pd.Series(text, index=rows["uscc"].to_numpy(), dtype=object).groupby(level=0).agg(_joined)
    return joined.reindex(firms).fillna("")
