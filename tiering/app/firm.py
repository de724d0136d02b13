"""One firm of a register: its rows found by 统一社会信用代码, exact name or a name fragment only it matches."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from tiering.errors import NotFound, Problem, UsageError, Where
from tiering.register import Register


class FirmNotFound(NotFound):
    """The firm is not among the accepted rows of the register (or has no row for the data year)."""

    id = "firm-not-found"


class FirmAmbiguous(UsageError):
    """A name (or name fragment) that several 统一社会信用代码 share."""

    id = "firm-ambiguous"
    exit_code = NotFound.exit_code


def firm_rows(register: Register, firm_id: str, year: int) -> pd.DataFrame:
    """The accepted rows of the firm ``firm_id`` names — its 统一社会信用代码, its exact name, or a part of its
    name that only one firm's name contains — which must include fiscal year ``year - 1``. Otherwise
    :class:`FirmNotFound` (with the names closest to it, and its refused rows) or :class:`FirmAmbiguous` (with the
    candidates)."""
    frame = register.frame
    where = Where(file=str(register.path))
    rows = frame[(frame["uscc"] == firm_id) | (frame["name"] == firm_id)]
    if rows.empty:
        partial = frame[frame["name"].astype(str).str.contains(firm_id, regex=False)]
        firms = partial.drop_duplicates("uscc")
        if len(firms) > 1:
            shown = firms.head(10)
            listed = "；".join(f"{n}（{u}）" for u, n in zip(shown["uscc"], shown["name"], strict=True))
            more = f" 等 {len(firms)} 家" if len(firms) > 10 else ""
            raise FirmAmbiguous(f"“{firm_id}”与多家企业的名称相符：{listed}{more}（'{firm_id}' matches {len(firms)} "
                                "firms）", where=where, hint="请给出统一社会信用代码或完整名称")
        if firms.empty:
            names = sorted(set(frame["name"].astype(str)))
            near = difflib.get_close_matches(firm_id, names, n=5, cutoff=0.4)
            refused = [Problem(r.where, f"其行被拒收：{r.problem()}") for r in register.refusals if firm_id in r.value]
            close = f"；相近的名称：{'、'.join(near)}" if near else ""
            raise FirmNotFound(f"名录的有效行中没有企业“{firm_id}”{close}（firm '{firm_id}' is not among the accepted "
                               "rows）", where=where, problems=refused)
        rows = partial
    if rows["uscc"].nunique() > 1:
        raise FirmAmbiguous(f"“{firm_id}”对应多家企业（{'、'.join(sorted(rows['uscc'].unique()))}）", where=where,
                            hint="请用统一社会信用代码")
    if not (rows["year"] == year - 1).any():
        present = "、".join(map(str, sorted(rows["year"].unique())))
        raise FirmNotFound(f"企业“{firm_id}”没有 {year - 1} 年度的数据行；已有年度：{present}"
                           f"（no row for fiscal year {year - 1}）", where=where)
    return rows


def firm_code(firms: np.ndarray, names: np.ndarray, firm_id: str, year: int) -> str:
    """The 统一社会信用代码 of ``firm_id`` (a code or an exact 企业名称) among the evaluated ``firms`` and their
    ``names``."""
    if (firms == firm_id).any():
        return firm_id
    codes = sorted({str(c) for c in firms[names == firm_id]})
    if len(codes) > 1:
        raise FirmAmbiguous(f"“{firm_id}”对应多家企业（{'、'.join(codes)}）（'{firm_id}' names several firms）",
                            hint="请用统一社会信用代码")
    if not codes:
        raise FirmNotFound(f"企业“{firm_id}”不在 {year} 年度的评价中（firm not evaluated for {year}: no accepted row "
                           f"of fiscal year {year - 1}）")
    return codes[0]
