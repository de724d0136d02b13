"""The candidate pool: firms in scope, eligible by program outcomes, and not excluded — each other firm with why.

Rules decide eligibility; nothing here reads a score, so no firm leaves the pool because of the growth model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tiering.errors import TieringError, Where
from tiering.fields import BY_ID as FIELDS_BY_ID
from tiering.outcome import OUTCOME_TEXT, OUTCOME_ZH
from tiering.selection.policy import OutcomeTest, Policy

CANDIDATE = "候选"
OUT_OF_SCOPE = "范围外"
INELIGIBLE = "不符合资格"
EXCLUDED = "排除"

_ZH = {OUTCOME_TEXT[k]: OUTCOME_ZH[k] for k in OUTCOME_TEXT}
_USCC_HEADERS = ("uscc", "统一社会信用代码", "信用代码", "社会信用代码")
_YEAR_HEADERS = ("year", "年度", "入选年度", "培育年度")


class SelectionInputError(TieringError, ValueError, error_id="selection-input"):
    """An input of the selection (cultivated list, register, outcomes) that cannot be used as given."""


def read_cultivated(path: Path) -> dict[str, int | None]:
    """Firms cultivated in earlier years: 统一社会信用代码 → year (None when the file gives no 年度 column)."""
    if not path.is_file():
        raise SelectionInputError("往年培育名单不存在；请检查路径（相对于政策文件或当前目录）",
                                  where=Where(file=str(path)))
    if path.suffix.lower() in (".xlsx", ".xls"):
        frame = pd.read_excel(path, dtype=object)
    else:
        frame = pd.read_csv(path, dtype=object, encoding="utf-8-sig")
    uscc_col = next((c for c in _USCC_HEADERS if c in frame.columns), None)
    if uscc_col is None:
        raise SelectionInputError(f"往年培育名单缺少 统一社会信用代码 列；现有列：{list(frame.columns)}",
                                  where=Where(file=str(path)))
    year_col = next((c for c in _YEAR_HEADERS if c in frame.columns), None)
    out: dict[str, int | None] = {}
    for row, (uscc, year) in enumerate(zip(frame[uscc_col], frame[year_col] if year_col else [None] * len(frame),
                                           strict=True), start=2):
        if not isinstance(uscc, str) or not uscc.strip():
            continue
        try:
            value = None if year is None or pd.isna(year) else int(float(year))
        except ValueError as exc:
            raise SelectionInputError(f"年度应为整数，实为 {year!r}",
                                      where=Where(file=str(path), row=row, column=year_col)) from exc
        key = uscc.strip().upper()
        earlier = out.get(key, value)
        # a firm listed twice counts from its first year; a row without a year excludes it whatever the year
        out[key] = None if earlier is None or value is None else min(earlier, value)
    return out


def firm_attributes(panel: pd.DataFrame, firms: np.ndarray, data_year: int, policy: Policy) -> pd.DataFrame:
    """uscc, name, district, industry and cluster of each evaluated firm, read from its data-year row."""
    rows = panel[panel["year"] == data_year].drop_duplicates("uscc").set_index("uscc")
    out = pd.DataFrame({"uscc": firms})
    for col in ("name", "district", "industry"):
        values = rows[col] if col in rows.columns else pd.Series(dtype=object)
        out[col] = values.reindex(firms).astype(object).where(lambda s: s.notna(), None).to_numpy()
    out["cluster"] = [policy.cluster_of(i) for i in out["industry"]]
    return out


def _outcome_table(outcomes: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    table = outcomes.pivot(index="uscc", columns="program", values="outcome").astype(object)
    titles = outcomes.drop_duplicates("program").set_index("program")["program_title"].to_dict()
    return table, titles


def _test_reason(test: OutcomeTest, got: pd.Series, title: str, required: bool) -> pd.Series:
    """The reason text for firms whose outcome fails ``test`` ('' for the others)."""
    matches = got.isin(test.outcome)
    bad = ~matches if required else matches
    shown = got.map(_ZH).fillna("未评价")
    wanted = "、".join(_ZH[o] for o in test.outcome)
    text = (f"{title}：" + shown + (f"（要求：{wanted}）" if required else "（不在遴选范围）"))
    return text.where(bad, "")


def pool_status(firms: pd.DataFrame, outcomes: pd.DataFrame, panel: pd.DataFrame, policy: Policy,
                data_year: int, cultivated: dict[str, int | None], selection_year: int) -> pd.DataFrame:
    """``firms`` with ``status`` (候选 / 范围外 / 不符合资格 / 排除) and ``status_reason``.

    Checks run in that order and a firm keeps the first status that applies; all its reasons of that kind
    are listed.
    """
    table, titles = _outcome_table(outcomes)
    missing = [p for p in policy.programs() if p not in table.columns]
    if missing:
        raise SelectionInputError(
            f"政策 {policy.id} 引用的项目 {missing} 不在本次生效的规则集中（有：{sorted(table.columns)}）；"
            "检查 --rules / --date / --program，或修改政策文件")
    table = table.reindex(firms["uscc"])
    status = np.full(len(firms), CANDIDATE, dtype=object)
    reason = np.full(len(firms), "", dtype=object)

    def mark(mask: np.ndarray, kind: str, texts: np.ndarray) -> None:
        fresh = mask & (status == CANDIDATE)
        status[fresh] = kind
        reason[fresh] = texts[fresh]

    if policy.scope.districts:
        inside = firms["district"].isin(policy.scope.districts).to_numpy()
        where = "、".join(policy.scope.districts)
        texts = np.array([f"所在区 {d or '缺失'} 不在遴选范围（{where}）" for d in firms["district"]], dtype=object)
        mark(~inside, OUT_OF_SCOPE, texts)
    parts = [_test_reason(t, table[t.program], titles[t.program], True) for t in policy.eligibility.require]
    parts += [_test_reason(t, table[t.program], titles[t.program], False) for t in policy.eligibility.exclude_if]
    if parts:
        joined = pd.concat(parts, axis=1).apply(lambda r: "；".join(x for x in r if x), axis=1).to_numpy(dtype=object)
        mark(joined != "", INELIGIBLE, joined)
    mark(*_exclusions(firms, panel, policy, data_year, cultivated, selection_year))
    out = firms.copy()
    out["status"] = status
    out["status_reason"] = reason
    return out


def _exclusions(firms: pd.DataFrame, panel: pd.DataFrame, policy: Policy, data_year: int,
                cultivated: dict[str, int | None], selection_year: int) -> tuple[np.ndarray, str, np.ndarray]:
    """(mask, EXCLUDED, reasons) for firms cultivated before ``selection_year`` or with a credit flag."""
    reasons: list[list[str]] = [[] for _ in range(len(firms))]
    for i, uscc in enumerate(firms["uscc"]):
        if uscc in cultivated and (cultivated[uscc] is None or cultivated[uscc] < selection_year):
            year = cultivated[uscc]
            reasons[i].append(f"往年已入选培育名单（{year}年）" if year is not None else "往年已入选培育名单")
    credit = policy.exclusions.credit
    if credit is not None:
        first = data_year - credit.years + 1
        window = panel[(panel["year"] >= first) & (panel["year"] <= data_year)]
        position = {u: i for i, u in enumerate(firms["uscc"])}
        for field in credit.fields:
            if field not in window.columns:
                continue
            hits = window[window[field] == 1.0].sort_values(["uscc", "year"])
            for uscc, years in hits.groupby("uscc")["year"]:
                if uscc in position:
                    shown = "、".join(str(int(y)) for y in years)
                    reasons[position[uscc]].append(
                        f"近{credit.years}年（{first}–{data_year}）{FIELDS_BY_ID[field].label}（{shown}）")
    texts = np.array(["；".join(r) for r in reasons], dtype=object)
    return texts != "", EXCLUDED, texts


def unreadable_credit_fields(panel: pd.DataFrame, policy: Policy) -> list[str]:
    """Credit flags the policy names that the register has no column for (they could not exclude anyone)."""
    credit = policy.exclusions.credit
    return [] if credit is None else [f for f in credit.fields if f not in panel.columns]
