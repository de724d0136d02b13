"""How numbers read in a lacks text: 8,600万元 → 1亿元 (+16.3%), 4.20% → 5.00%, 还需1项, 3人."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tiering.explain.format import value
from tiering.fields import BY_ID, DType
from tiering.rules.schema import Unit

IMPOSSIBLE = "无法通过努力满足"
MISSING = "需补充数据"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(x: float) -> str:
    """万元 amounts: '8,600万元', '1亿元', '1.25亿元', '38.5万元'."""
    if x != x:
        return "缺失"
    if abs(x) >= 10000:
        return _trim(f"{x / 10000:.4f}") + "亿元"
    text = f"{x:,.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "万元"


def percent(x: float) -> str:
    return value(x, Unit.PERCENT)


_AS_EXPLAINED = frozenset({Unit.PERCENT, Unit.PEOPLE, Unit.YEARS, Unit.DAYS, Unit.POINTS, Unit.BOOL})
"""Units a lacks text prints exactly as the explanations do (tiering.explain.format.value)."""


def of_unit(x: float, unit: Unit) -> str:
    """A value in a criterion's unit: as the explanations print it, except money (亿元 from 1亿 up), counts and
    plain numbers, which a sentence rounds."""
    if x != x:
        return "缺失"
    if unit in _AS_EXPLAINED:
        return value(x, unit)
    if unit == Unit.WAN:
        return money(x)
    if unit == Unit.COUNT:
        return _trim(f"{x:.2f}") + "项"
    return _trim(f"{x:.4f}")


def pair(x: float, t: float, unit: Unit) -> tuple[str, str]:
    """A value and a threshold, with more decimals when the usual ones would print them alike (4.9996% vs 5%)."""
    a, b = of_unit(x, unit), of_unit(t, unit)
    if a == b and unit == Unit.PERCENT and x == x and t == t and x != t:
        for digits in (3, 4, 6):
            a, b = f"{x * 100:.{digits}f}%", f"{t * 100:.{digits}f}%"
            if a != b:
                break
    return a, b


def pairs(values: list[float], thresholds: list[float], unit: Unit) -> list[tuple[str, str]]:
    """:func:`pair` for many values, each distinct threshold written once (a criterion's threshold is mostly one
    number for every firm)."""
    need_of = {t: of_unit(t, unit) for t in set(thresholds)}
    out = []
    for x, t in zip(values, thresholds, strict=True):
        now, need = of_unit(x, unit), need_of[t]
        out.append(pair(x, t, unit) if now == need else (now, need))
    return out


def _formatter(dtype: DType, unit: str) -> Callable[[float], str]:
    if dtype == DType.MONEY:
        return money
    if dtype == DType.RATIO:
        return lambda x: "缺失" if x != x else percent(x)
    return lambda x: "缺失" if x != x else f"{x:g}{unit}"


_KIND = {f.id: f.dtype for f in BY_ID.values()}
_UNIT = {f.id: f.unit for f in BY_ID.values()}
_LABEL = {f.id: f.label for f in BY_ID.values()}
_FORMAT = {f.id: _formatter(f.dtype, f.unit) for f in BY_ID.values()}


def of_field(field: str, x: float) -> str:
    """A value of a field in its registry unit."""
    return _FORMAT[field](x)


class Amounts:
    """万元 amounts as :func:`money` writes them, each distinct amount written once: a firm's amount recurs in every
    band move and programme it is asked for (200,000 distinct of 520,000 amounts written for 20,000 firms)."""

    LIMIT = 1 << 20
    """Amounts remembered at most; then the memory starts again."""

    def __init__(self) -> None:
        self._said: dict[float, str] = {}

    def many(self, amounts: list[float]) -> list[str]:
        """:func:`money` of each amount."""
        if len(self._said) > self.LIMIT:
            self._said.clear()
        get = self._said.get
        return [get(x) or self._write(x) for x in amounts]

    def _write(self, x: float) -> str:
        text = money(x)
        if x and x == x:  # 0.0 and −0.0 are one key but are written apart; a NaN is never found again
            self._said[x] = text
        return text


def changes(field: str, old: np.ndarray, new: np.ndarray, year: int | None = None,
            amounts: Amounts | None = None) -> list[str]:
    """Per pair of values, '研发费用总额（2024年） 需增加38.5万元（822万元 → 860.5万元，+4.7%）',
    'Ⅰ类知识产权数量 还需1项（0项 → 1项）', '细分市场占有率 需提高1.5个百分点（8.50% → 10.00%）'.

    Amounts are written through ``amounts`` (a memory shared by the caller's calls); a count's or a share's whole
    text depends on the two values alone, and is written once per distinct pair."""
    dtype, shown = _KIND[field], _FORMAT[field]
    name = _LABEL[field] if year is None else f"{_LABEL[field]}（{year}年）"
    if dtype == DType.MONEY:
        said = (amounts or Amounts()).many
        delta = new - old
        olds, news, sizes = said(old.tolist()), said(new.tolist()), said(np.abs(delta).tolist())
        return [f"{name} {'需增加' if d > 0 else '需减少'}{size}（{o_text} → {n_text}"
                f"{_relative(o, d)}）" for o, d, size, o_text, n_text
                in zip(old.tolist(), delta.tolist(), sizes, olds, news, strict=True)]
    pairs, at = _distinct_pairs(old, new)
    if dtype == DType.INT:
        unit = _UNIT[field]
        said = [f"{name} {f'还需{d:g}{unit}' if d > 0 else f'需减少{-d:g}{unit}'}（{shown(o)} → {shown(n)}）"
                for o, n, d in pairs]
    else:
        said = [f"{name} {'需提高' if d > 0 else '需降低'}{_trim(f'{abs(d) * 100:.2f}')}个百分点"
                f"（{shown(o)} → {shown(n)}）" for o, n, d in pairs]
    return [said[k] for k in at]


def _bits(x: np.ndarray) -> np.ndarray:
    """The bit patterns of floats: equal exactly where the numbers print alike (0.0 and −0.0 do not)."""
    return np.ascontiguousarray(x, dtype=float).view(np.int64)


def _distinct_pairs(old: np.ndarray, new: np.ndarray) -> tuple[list[tuple[float, float, float]], list[int]]:
    """The distinct (old, new, new − old) and, per pair given, the number of its distinct one."""
    delta = new - old
    if not len(old):
        return [], []
    _, a = np.unique(_bits(old), return_inverse=True)
    _, b = np.unique(_bits(new), return_inverse=True)
    first, at = np.unique(a.ravel().astype(np.int64) * (int(b.max()) + 1) + b.ravel(), return_index=True,
                          return_inverse=True)[1:]
    return list(zip(old[first].tolist(), new[first].tolist(), delta[first].tolist(), strict=True)), at.tolist()


def _relative(old: float, delta: float) -> str:
    """'，+4.7%': the change relative to the old amount ('' from zero)."""
    return f"，{'+' if delta > 0 else '−'}{abs(delta) / abs(old) * 100:.1f}%" if old else ""
