"""Industry by code: the 国民经济行业分类 (GB/T 4754-2017) table, the register's 行业代码 cell, and prefix tests.

The table is data (``rules/classifications/gbt4754-2017.yaml``, with its source). A 行业代码 cell holds a code
("6510", "I6510", "C39", "K") or a section or division name written exactly as in the table ("软件和信息技术服务业");
it is stored as the section letter followed by the digits ("I6510"), so that a rule's code list compares by prefix:
``not_in: [K, C16]`` excludes every 房地产业 firm and every 烟草制品业 firm. Anything else is refused at intake with
the nearest names and codes of the table.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import yaml

from tiering.bundled import bundled
from tiering.errors import TieringError

if TYPE_CHECKING:
    import pandas as pd

CODE_FIELD = "industry_code"
"""The register field that holds a GB/T 4754-2017 code; rule tests on it compare by prefix."""

TABLE_PATH = bundled("rules") / "classifications" / "gbt4754-2017.yaml"

_CODE = re.compile(r"^(?P<section>[A-Ta-t])?(?P<digits>\d{2,4})?$")


class IndustryCodeError(TieringError, ValueError, error_id="industry-code"):
    """A 行业代码 cell that is neither a code nor an exact name of the classification; the message suggests."""


@dataclass(frozen=True, eq=False)
class Classification:
    """Sections (letter → name) and divisions (two digits → name, section) of GB/T 4754-2017."""

    sections: dict[str, str]
    divisions: dict[str, tuple[str, str]]
    names: dict[str, str]
    """Exact section and division names → stored code."""
    source: str

    def name_of(self, code: str) -> str:
        """The name of a stored code's most precise known level ("I6510" → 软件和信息技术服务业)."""
        digits = code[1:3]
        return self.divisions[digits][0] if digits else self.sections[code[:1]]

    def code_of(self, cell: object) -> str:
        """The stored code for one 行业代码 cell, or :class:`IndustryCodeError` naming the nearest entries."""
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        if isinstance(cell, int) and not isinstance(cell, bool):
            text = str(cell)
            if len(text) % 2:
                raise IndustryCodeError(f"行业代码 {text} 是数字，前导0已丢失（如 0111 变成 111）："
                                        "请把该列设为文本后重填")
        else:
            text = re.sub(r"\s+", "", str(cell))
        by_name = self.names.get(text)
        if by_name is not None:
            return by_name
        m = _CODE.match(text)
        if m and (m.group("section") or m.group("digits")):
            section = (m.group("section") or "").upper()
            digits = m.group("digits") or ""
            if not digits and section in self.sections:
                return section
            division = self.divisions.get(digits[:2]) if digits else None
            if division is not None and section in ("", division[1]):
                return division[1] + digits
        raise IndustryCodeError(self._refusal(text))

    def _refusal(self, text: str) -> str:
        entries = {**{f"{s} {n}": n for s, n in self.sections.items()},
                   **{f"{d} {n}": n for d, (n, _s) in self.divisions.items()}}
        near = difflib.get_close_matches(text, list(entries.values()), n=3, cutoff=0.3)
        shown = "、".join(k for k, v in entries.items() if v in near)
        m = _CODE.match(text)
        division = self.divisions.get((m.group("digits") or "")[:2]) if m else None
        if division is not None:  # a known division under the wrong section letter
            shown = f"{division[1]}{m.group('digits')} {division[0]}"  # type: ignore[union-attr]
        shown = shown or "（无相近的名称）"
        return (f"行业代码“{text}”不是《国民经济行业分类》（GB/T 4754-2017）的代码，也不是其门类或大类的名称"
                f"（名称须逐字相同）；相近的有：{shown}")


@cache
def classification() -> Classification:
    """The GB/T 4754-2017 table shipped in ``rules/classifications/``."""
    data = yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8"))
    sections = {s["code"]: s["name"] for s in data["sections"]}
    divisions: dict[str, tuple[str, str]] = {}
    for s in data["sections"]:
        low, high = (int(x) for x in s["divisions"])
        for d in range(low, high + 1):
            key = f"{d:02d}"
            divisions[key] = (data["divisions"][key], s["code"])
    names = {name: code for code, name in sections.items()}
    names.update({name: section + digits for digits, (name, section) in divisions.items()})
    return Classification(sections, divisions, names, data["source"]["document"])


def membership(codes: np.ndarray, listed: tuple[str, ...]) -> np.ndarray:
    """Per stored code: 1 inside one of the ``listed`` codes (by prefix), 0 outside all, -1 when the code is too
    coarse to tell (a section "C" against "C16"); missing codes give -1."""
    out = np.empty(len(codes), dtype=np.int8)
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not code:
            out[i] = -1
        elif any(code.startswith(p) for p in listed):
            out[i] = 1
        elif any(p.startswith(code) for p in listed):
            out[i] = -1
        else:
            out[i] = 0
    return out


def codes_of(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stored codes for a column of 行业代码 cells, each distinct cell read once, and a mask of the cells read
    (blank or a code or exact name); the others are left for the cell-by-cell reader, which says why."""
    import pandas as pd  # reading a register column; what only tests codes (the criteria) does not load pandas

    table = classification()
    stored: dict[object, str | None] = {}
    for cell in cells.dropna().unique():
        try:
            stored[cell] = table.code_of(cell)
        except IndustryCodeError:
            stored[cell] = None
    # one look-up per distinct cell (code -1: a blank cell), not a Python call per row
    codes, distinct = pd.factorize(cells)
    looked = [stored.get(c) if isinstance(c, str | int | float) else None for c in distinct]
    values = pd.Series(np.array([*looked, None], dtype=object)[codes], index=cells.index, name=cells.name)
    ok = cells.isna() | values.notna()
    return values.where(ok), ok
