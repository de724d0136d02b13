"""Count each plan target per year against a register, the gap to the target, and the firms closest to closing it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tiering import errors
from tiering.errors import TieringError
from tiering.fields import resolve
from tiering.register import Register
from tiering.rules.library import RuleLibrary
from tiering.rules.operators import compare
from tiering.targets.plan import Plan, Target, Where
from tiering.targets.years import PlanYear, classify_plan_year

PROGRESS_COLUMNS = ["target_id", "label", "program", "ruleset_id", "measure", "plan_year", "target_year", "target",
                    "stretch", "count", "undetermined", "gap", "status", "source", "note"]
CANDIDATE_COLUMNS = ["target_id", "plan_year", "rank", "uscc", "name", "outcome_zh", "n_failed", "n_missing",
                     "score_min", "score_max", "lacks"]


@dataclass
class TargetTracking:
    """The plan, the years counted, progress per target × year, and the nearest candidates per target."""

    plan: Plan
    years: list[int]
    progress: pd.DataFrame
    candidates: pd.DataFrame
    notes: list[str]


def plan_panel(panel: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, list[str]]:
    """The register rows of the plan's districts (all rows, with a note, when the register has no district column)."""
    if not plan.districts:
        return panel, []
    if "district" not in panel.columns or panel["district"].isna().all():
        return panel, [no_district_note(plan)]
    return panel[panel["district"].isin(plan.districts)], []


def no_district_note(plan: Plan) -> str:
    """Why every firm is counted for a plan of some districts."""
    return f"名录没有“所在区”列，按全部企业计数（计划限定 {'、'.join(plan.districts)}）"


def _field_label(field: str) -> str:
    known = resolve(field)
    return f"{known.label}（{known.unit}）" if known is not None and known.unit else (known.label if known else field)


def _meets(rows: pd.DataFrame, where: Where | None) -> pd.Series:
    if where is None:
        return pd.Series(True, index=rows.index)
    return compare(where.op, rows[where.field].astype(float), where.value).fillna(False)


def program_rows(py: PlanYear, target: Target) -> pd.DataFrame:
    """The target program's outcome rows of the year, with the ``where`` field's value joined on."""
    rows = py.outcomes[py.outcomes["program"] == target.program]
    if target.where is not None:
        values = py.panel_year.set_index("uscc")[target.where.field]
        rows = rows.assign(where_value=rows["uscc"].map(values).astype(float))
    return rows


def _counted(rows: pd.DataFrame, target: Target) -> set[str]:
    """The firms of ``rows`` (:func:`program_rows`) that count for ``target``."""
    ok = rows["outcome"] == "qualified"
    if target.where is not None:
        ok &= _meets(rows.rename(columns={"where_value": target.where.field}), target.where)
    return set(rows.loc[ok, "uscc"])


def _status(count: float, target: Target) -> str:
    if np.isnan(count):
        return "无法计数"
    if target.stretch is not None and count >= target.stretch:
        return "达到力争目标"
    return "已完成" if count >= target.count else "未完成"


@dataclass(frozen=True)
class Tally:
    """One target in one plan year over some of the register's firms: what its progress row counts. Firms are
    independent, so the tallies of the register's partitions add up to the whole register's."""

    rows: int
    """The plan year's register rows (of the plan's districts)."""
    base_rows: int
    """The base year's, for a target of new firms."""
    count: int
    undetermined: int
    ruleset_id: str

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.rows + other.rows, self.base_rows + other.base_rows, self.count + other.count,
                     self.undetermined + other.undetermined, self.ruleset_id or other.ruleset_id)


def tally(target: Target, py: PlanYear, base: PlanYear | None) -> Tally:
    """Count ``target`` in plan year ``py`` (less the firms counted in ``base``, the base year of new firms)."""
    rows = program_rows(py, target)
    counted = _counted(rows, target)
    if target.measure == "new" and base is not None:
        counted -= _counted(program_rows(base, target), target)
    return Tally(len(py.panel_year), 0 if base is None else len(base.panel_year), len(counted),
                 int((rows["outcome"] == "undetermined").sum()), str(rows["ruleset_id"].iloc[0]) if len(rows) else "")


def progress_row(target: Target, year: int, counted: Tally, missing: dict[str, str],
                 base_missing: dict[str, str] | None) -> dict:
    """The progress row of ``target`` in plan ``year``: ``counted`` against the target, or why it cannot be counted
    (``missing``, ``base_missing``: the programs without a rule set in force in the year and in the base year)."""
    row = {"target_id": target.id, "label": target.label, "program": target.program,
           "ruleset_id": counted.ruleset_id, "measure": "存量" if target.measure == "stock" else
           f"{target.since}年以来新增", "plan_year": year, "target_year": target.year, "target": target.count,
           "stretch": target.stretch, "source": f"{target.source.clause}：“{target.source.quote}”",
           "note": target.note or ""}
    reason = missing.get(target.program)
    if reason is None and target.measure == "new" and (base_missing is None or not counted.base_rows):
        reason = f"名录没有基期 {target.since} 年的数据，无法计算新增"
    elif reason is None and target.measure == "new" and base_missing is not None:
        reason = base_missing.get(target.program)
    if reason is not None or not counted.rows:
        reason = reason or f"名录没有 {year} 年度数据"
        return row | {"count": np.nan, "undetermined": np.nan, "gap": np.nan, "status": "无法计数",
                      "note": "；".join(x for x in (row["note"], reason) if x)}
    count = float(counted.count)
    return row | {"count": count, "undetermined": float(counted.undetermined),
                  "gap": max(0.0, target.count - count), "status": _status(count, target)}


def _n_parts(text: pd.Series) -> pd.Series:
    return text.fillna("").map(lambda s: len([p for p in str(s).split("；") if p]))


def _lacks_text(failed: str, missing: str) -> str:
    parts = [f"未满足：{failed}" if failed else "", f"缺数据：{missing}" if missing else ""]
    return "；".join(p for p in parts if p)


def nearest_first(pool: pd.DataFrame, target: Target, limit: int) -> pd.DataFrame:
    """The ``limit`` firms of ``pool`` (see :func:`nearest_pool`) nearest to ``target``. The order is total (the
    统一社会信用代码 breaks every tie), so the nearest of the partitions' nearest are the register's nearest."""
    if target.where is None:
        return pool.sort_values(["cost", "n_failed", "n_missing", "score_min", "uscc"],
                                ascending=[True, True, True, False, True], kind="stable").head(limit)
    return pool.sort_values(["where_value", "uscc"], ascending=[target.where.op in ("<", "<="), True],
                            na_position="last", kind="stable").head(limit)


def nearest_pool(py: PlanYear, target: Target, limit: int) -> pd.DataFrame:
    """The ``limit`` firms of ``py`` not yet counted for ``target`` that are closest to it, with what orders them
    (:func:`nearest_first`) and the text of what each lacks.

    Without a ``where`` condition: firms that do not (yet) qualify, ordered by the tier ladder's effort measure
    (firms that cannot qualify by their own effort last), then fewest unmet criteria, fewest criteria lacking
    data and highest score; the text is the ladder's "what it lacks" (the unmet criteria where it has none).
    With one: qualified firms below the mark, nearest value first.
    """
    rows = program_rows(py, target)
    if target.where is None:
        ladder = py.lacks[py.lacks["program"] == target.program].set_index("uscc")
        pool = rows[rows["outcome"] != "qualified"].assign(n_failed=lambda f: _n_parts(f["failed"]),
                                                          n_missing=lambda f: _n_parts(f["missing"]))
        pool = pool.assign(cost=pool["uscc"].map(ladder["cost"]).astype(float).fillna(np.inf),
                           ladder_text=pool["uscc"].map(ladder["lacks"]))
        pool = nearest_first(pool, target, limit)
        lacks = [t if isinstance(t, str) and t else _lacks_text(f, m)
                 for t, f, m in zip(pool["ladder_text"], pool["failed"], pool["missing"], strict=True)]
    else:
        w = target.where
        pool = rows[(rows["outcome"] == "qualified") & ~_meets(rows.rename(columns={"where_value": w.field}), w)]
        pool = nearest_first(pool.assign(n_failed=1, n_missing=pool["where_value"].isna().astype(int)), target, limit)
        lacks = [f"{_field_label(w.field)} {'缺失' if np.isnan(v) else f'{v:,.0f}'}，目标 {w.op} {w.value:,.0f}"
                 + ("" if np.isnan(v) else f"（差 {abs(w.value - v):,.0f}）") for v in pool["where_value"]]
    keys = ["cost"] if target.where is None else ["where_value"]
    return pool[["uscc", "name", "outcome_zh", "n_failed", "n_missing", "score_min", "score_max", *keys]].assign(
        outcome_zh=pool["outcome_zh"].astype(str), lacks=lacks)


def candidates(target: Target, year: int, pool: pd.DataFrame) -> pd.DataFrame:
    """The nearest-firms table of ``target`` in plan ``year`` from its :func:`nearest_pool` (in order)."""
    return pd.DataFrame({
        "target_id": target.id, "plan_year": year, "rank": np.arange(1, len(pool) + 1), "uscc": pool["uscc"].values,
        "name": pool["name"].values, "outcome_zh": pool["outcome_zh"].values,
        "n_failed": pool["n_failed"].values, "n_missing": pool["n_missing"].values,
        "score_min": pool["score_min"].values, "score_max": pool["score_max"].values, "lacks": pool["lacks"].values,
    }, columns=CANDIDATE_COLUMNS)


def nearest(py: PlanYear, target: Target, limit: int) -> pd.DataFrame:
    """The firms not yet counted for ``target`` that are closest to it (see :func:`nearest_pool`)."""
    if program_rows(py, target).empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    return candidates(target, py.year, nearest_pool(py, target, limit))


class PlanYearsAbsent(TieringError, ValueError, error_id="plan-years-absent"):
    """The register holds none of the years a plan's targets are counted in."""


def wanted_years(covered: list[int], plan: Plan, years: list[int] | None, path: Path) -> list[int]:
    """The plan years counted: ``years``, else the plan's years among ``covered`` (the register's data years);
    :class:`PlanYearsAbsent` when that leaves none."""
    wanted = years if years else [y for y in plan.years() if y in covered]
    if not wanted:
        raise PlanYearsAbsent(f"名录只有 {covered[0]}–{covered[-1]} 年度的数据，不含计划 {plan.start}–{plan.end} "
                              f"的任何年度（the register has accounts for {covered[0]}–{covered[-1]}, "
                              f"none of the plan's years {plan.start}–{plan.end}）",
                              where=errors.Where(file=str(path)),
                              hint="用 --year 指定要对照计划目标计数的年度 (pass --year to count other years against "
                                   "the plan's targets)")
    return wanted


def track_plan(register: Register, library: RuleLibrary, plan: Plan, years: list[int] | None = None,
               pins: dict[str, str] | None = None, limit: int = 10) -> TargetTracking:
    """Count every target of ``plan`` in each of ``years`` (default: the plan's years the register has accounts for).

    Each year is one classification (:func:`tiering.app.classify_rows`) of the register's rows in the plan's
    districts. Candidates are listed for the last year counted.
    """
    pins = pins or {}
    panel = register.frame
    rows, notes = plan_panel(panel, plan)
    wanted = wanted_years(sorted(int(y) for y in panel["year"].unique()), plan, years, register.path)
    programs = sorted({t.program for t in plan.targets})
    base_years = sorted({t.since for t in plan.targets if t.since is not None} - set(wanted))
    classified = {y: classify_plan_year(register, rows, library, programs, y, pins)
                  for y in sorted(set(wanted) | set(base_years))}
    progress = [progress_row(t, y, tally(t, classified[y], base), classified[y].missing_rules,
                             None if base is None else base.missing_rules)
                for t in plan.targets for y in wanted
                for base in [classified.get(t.since) if t.since is not None else None]]
    last = classified[max(wanted)]
    near = [nearest(last, t, limit) for t in plan.targets if t.program not in last.missing_rules]
    notes += [f"{y} 年：{reason}" for y in wanted for reason in classified[y].missing_rules.values()]
    return TargetTracking(plan, wanted, pd.DataFrame(progress, columns=PROGRESS_COLUMNS),
                          pd.concat(near, ignore_index=True) if near else
                          pd.DataFrame(columns=CANDIDATE_COLUMNS), sorted(set(notes)))
