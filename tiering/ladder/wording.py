"""How numbers read in a lacks text: 8,600万元 → 1亿元 (+16.3%), 4.20% → 5.00%, 还需1项, 3人."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from tiering.explain.format import value
from tiering.fields import BY_ID, DType
from tiering.ladder.columns import Column, Texts, mend, place
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


def shown_pairs(values: np.ndarray, thresholds: np.ndarray, unit: Unit, texts: Texts) -> tuple[Column, Column]:
    """:func:`pair` for many values, as two columns of ``texts``' kind: percentages written column by column,
    other units once per distinct pair."""
    if unit != Unit.PERCENT:
        distinct, at = distinct_pairs(values, thresholds)
        said = pairs([x for x, _, _ in distinct], [t for _, t, _ in distinct], unit)
        return texts.take([now for now, _ in said], at), texts.take([need for _, need in said], at)
    now, need = percents(values, texts), percents(thresholds, texts)
    # where the usual digits print a value and its threshold alike, more of them
    with np.errstate(invalid="ignore"):
        alike = texts.equal(now, need) & (values != thresholds) & (values == values) & (thresholds == thresholds)
    at = np.flatnonzero(alike)
    said = [pair(x, t, unit) for x, t in zip(values[at].tolist(), thresholds[at].tolist(), strict=True)]
    return (mend(texts, now, ~alike, lambda _: [a for a, _ in said]),
            mend(texts, need, ~alike, lambda _: [b for _, b in said]))


_HUNDREDTHS = [f".{k:02d}%" for k in range(100)]


def percents(x: np.ndarray, texts: Texts) -> Column:
    """The percentages of ``x`` as :func:`of_unit` writes them ('4.20%', '-0.00%', '缺失'), column by column: a
    sign, whole percents in digits and the hundredths with '%' from a table; what is not finite or beyond 2⁴⁰
    hundredths one by one."""
    y = np.asarray(x, dtype=float) * 100
    hundredths, sure = _rounded(y, 100)
    said = texts.cat(texts.take(["", "-"], np.signbit(y).astype(np.int64)), texts.numbers(hundredths // 100),
                     texts.take(_HUNDREDTHS, hundredths % 100))
    return mend(texts, said, sure, lambda at: [of_unit(v, Unit.PERCENT) for v in np.asarray(x, float)[at].tolist()])


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


_PER = {10: (5, 1), 100: (25, 2), 10_000: (625, 4)}
"""A count of ``per``-ths as an odd factor and a power of two: a float's 53-bit mantissa times the odd factor fits in
63 bits."""


def _rounded(x: np.ndarray, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Each value's size as a count of ``per``-ths (10: tenths), rounded as Python's fixed-point formatting rounds:
    to the nearest of the float's exact value, ties to even. Worked out exactly in integers from the float's
    mantissa, so that a value a hair off a tie (5,517.05 is 5,517.04999…) rounds as Python rounds it; sure for every
    finite value below 2⁴⁰ of them. Elsewhere (NaN, ±inf, larger) the text is left to Python's own formatting."""
    odd, twos = _PER[per]
    size = np.abs(np.asarray(x, dtype=float))
    with np.errstate(invalid="ignore"):
        sure = size < 2.0**40 / per
    fraction, exponent = np.frexp(np.where(sure, size, 0.0))
    # size · per = mantissa · odd / 2^shift exactly, mantissa = fraction · 2^53 an integer
    scaled = (fraction * 2.0**53).astype(np.int64) * odd
    shift = 53 - exponent.astype(np.int64) - twos
    s = np.minimum(shift, 63)
    whole = scaled >> s
    rest = scaled - (whole << s)
    half = np.left_shift(np.int64(1), s - 1)
    up = (rest > half) | ((rest == half) & (whole % 2 == 1))
    # beyond 63 halvings the product is below ½ and rounds to 0
    return np.where(sure & (shift <= 63), whole + up, 0).astype(np.int64), sure


@cache
def _amount_tables() -> tuple[list[str], list[str], list[str]]:
    """The tables :class:`Amounts` writes from (once per process): signs, whole 万 with thousands commas
    (0–10,000), and every ending with its unit (tenths of 万元, then ten-thousandths of 亿元)."""
    return (["", "-"], [f"{whole:,}" for whole in range(10_001)],
            [f".{tenth}万元" if tenth else "万元" for tenth in range(10)]
            + [f".{f'{part:04d}'.rstrip('0')}亿元" if part else "亿元" for part in range(10_000)])


@cache
def _below_yi() -> list[str]:
    """Every amount from 0 to below 1亿 as :func:`money` writes it, by its number of tenths of 万元 (0 → '0万元',
    86,005 → '8,600.5万元', 100,000 → '10,000万元', where 9,999.96万 rounds to): once per process."""
    _, wan, ends = _amount_tables()
    return [whole + end for whole in wan[:10_000] for end in ends[:10]] + [wan[10_000] + ends[0]]


_RELATIVE_TENTHS = 10_000
"""Relative changes below 1,000 % (in tenths of a percent) are read from a table."""


@cache
def _relatives() -> list[str]:
    """'，−0.0%', '，+0.0%', '，−0.1%', … '，+999.9%' (by tenths of a percent times 2, plus 1 for an increase), then
    '' (a change from zero): once per process."""
    return [f"，{sign}{tenths // 10}.{tenths % 10}%" for tenths in range(_RELATIVE_TENTHS) for sign in "−+"] + [""]


class Amounts:
    """万元 amounts as :func:`money` writes them, put together column by column. Most amounts (not negative, below
    1亿) are one row of a table of every such amount to the tenth, written once; the others are a sign, a whole
    number and an ending — tenths of 万元 below 1亿 ('-8,600.5万元'), ten-thousandths of 亿元 from 1亿 up
    ('1.25亿元') — each taken from a table written once (whole 万 with thousands commas, 0–10,000; every ending
    with its unit) or, for whole 亿, written by the column kind. Only what is not finite, or beyond 2⁴⁰ of those
    units, goes through :func:`money` one by one. The change of an amount relative to it ('，+4.7%') is read from a
    table the same way."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts
        self._signs, self._wan, self._ends = (texts.of(table) for table in _amount_tables())
        # made at their first use (one firm's lacks may have no amount)
        self._below: Column | None = None
        self._relatives: Column | None = None

    def many(self, amounts: np.ndarray) -> Column:
        """:func:`money` of each amount, as a column of this memory's kind."""
        texts = self.texts
        x = np.asarray(amounts, dtype=float)
        with np.errstate(invalid="ignore"):
            plain = np.abs(x) < 10000
        tenths, sure = _rounded(x, 10)
        plain &= sure & ~np.signbit(x)
        if self._below is None:
            self._below = texts.of(_below_yi())
        said = texts.take(self._below, np.where(plain, tenths, 0))
        return mend(texts, said, plain, lambda at: self._spelt(x[at]))

    def relative(self, old: np.ndarray, delta: np.ndarray) -> Column:
        """'，+4.7%' per pair: the change relative to the old amount ('' from zero), read from a table by its number
        of tenths where the rounding is sure and the change below 1,000 %."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.abs(delta) / np.abs(old) * 100
        tenths, sure = _rounded(share, 10)
        said = old != 0
        up = delta > 0
        table = ~said | (sure & (tenths < _RELATIVE_TENTHS))
        if self._relatives is None:
            self._relatives = self.texts.of(_relatives())
        words = self.texts.take(self._relatives,
                                np.where(said, np.where(table, tenths, 0) * 2 + up, 2 * _RELATIVE_TENTHS))

        def redo(at: np.ndarray) -> list[str]:
            return [f"，{'+' if u else '−'}{v:.1f}%" for u, v in zip(up[at].tolist(), share[at].tolist(), strict=True)]

        return mend(self.texts, words, table, redo)

    def _spelt(self, x: np.ndarray) -> Column:
        """:func:`money` of amounts that are negative, from 1亿 up or not sure, from their parts."""
        texts = self.texts
        with np.errstate(invalid="ignore"):
            yi = np.abs(x) >= 10000
        tenths, sure_wan = _rounded(x, 10)
        parts, sure_yi = _rounded(x / 10000, 10_000)
        sure = np.where(yi, sure_yi, sure_wan)
        whole = np.where(yi, parts // 10_000, tenths // 10)
        small, big = np.flatnonzero(~yi & sure), np.flatnonzero(yi & sure)
        number = place(texts, len(x), [(small, texts.take(self._wan, whole[small])), (big, texts.numbers(whole[big]))])
        # the sign is the float's sign bit: −0.0 is written '-0万元'
        said = texts.cat(texts.take(self._signs, np.signbit(x).astype(np.int64)), number,
                         texts.take(self._ends, np.where(yi, 10 + parts % 10_000, tenths % 10)))
        return mend(texts, said, sure, lambda at: [money(v) for v in x[at].tolist()])


def changes(field: str, old: np.ndarray, new: np.ndarray, amounts: Amounts, year: int | None = None) -> Column:
    """Per pair of values, '研发费用总额（2024年） 需增加38.5万元（822万元 → 860.5万元，+4.7%）',
    'Ⅰ类知识产权数量 还需1项（0项 → 1项）', '细分市场占有率 需提高1.5个百分点（8.50% → 10.00%）', as a column of
    ``amounts.texts``' kind.

    Amounts are written through ``amounts`` (its tables shared by the caller's calls); a count's or a share's whole
    text depends on the two values alone, and is written once per distinct pair."""
    texts = amounts.texts
    dtype, shown = _KIND[field], _FORMAT[field]
    name = _LABEL[field] if year is None else f"{_LABEL[field]}（{year}年）"
    if dtype == DType.MONEY:
        delta = new - old
        verbs = texts.take([f"{name} 需减少", f"{name} 需增加"], (delta > 0).astype(np.int64))
        # the three amounts of every row written in one go (each call costs about as much again as its rows)
        n = len(old)
        said = amounts.many(np.concatenate([np.abs(delta), old, new]))
        change, before, after = (texts.part(said, k * n, n) for k in range(3))
        return texts.cat(verbs, change, "（", before, " → ", after, amounts.relative(old, delta), "）")
    pairs, at = distinct_pairs(old, new)
    if dtype == DType.INT:
        unit = _UNIT[field]
        said = [f"{name} {f'还需{d:g}{unit}' if d > 0 else f'需减少{-d:g}{unit}'}（{shown(o)} → {shown(n)}）"
                for o, n, d in pairs]
    else:
        said = [f"{name} {'需提高' if d > 0 else '需降低'}{_trim(f'{abs(d) * 100:.2f}')}个百分点"
                f"（{shown(o)} → {shown(n)}）" for o, n, d in pairs]
    return texts.take(said, at)


def bits(x: np.ndarray) -> np.ndarray:
    """The bit patterns of floats: equal exactly where the numbers print alike (0.0 and −0.0 do not)."""
    return np.ascontiguousarray(x, dtype=float).view(np.int64)


def distinct(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct combination of the columns' values and, per row, the number of its
    combination (combinations numbered in sorted order, the first column first)."""
    rows = len(columns[0])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # one stable sort on every column (the first the most significant): a combination's rows lie together, its
    # first row first
    order = np.lexsort(columns[::-1])
    opens = np.zeros(rows, dtype=bool)
    opens[0] = True
    for column in columns:
        ranked = column[order]
        opens[1:] |= ranked[1:] != ranked[:-1]
    code = np.empty(rows, dtype=np.int64)
    code[order] = np.cumsum(opens) - 1
    return order[opens], code


def distinct_pairs(old: np.ndarray, new: np.ndarray) -> tuple[list[tuple[float, float, float]], np.ndarray]:
    """The distinct (old, new, new − old) and, per pair given, the number of its distinct one."""
    delta = new - old
    if not len(old):
        return [], np.zeros(0, dtype=np.int64)
    first, at = distinct([bits(old), bits(new)])
    return list(zip(old[first].tolist(), new[first].tolist(), delta[first].tolist(), strict=True)), at
