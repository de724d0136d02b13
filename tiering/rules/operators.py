"""The comparison operators of the rule language, in one place: what each means, how it reads in Chinese, which
words of a label say it, and which way a value moves to pass.

Every comparison of a value with a threshold — a test, a score's pass mark, the loader's check that a pass mark
can be reached, the search for what a firm still lacks, a plan target's condition — goes through
:func:`compare`, so all of them round the same way (:data:`tiering.rules.bands.PRECISION` decimals, so that
0.1 + 0.2 meets a threshold of 0.3) and a missing value (NaN) never passes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from tiering.rules.bands import tidy

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}
"""The numeric operators (``in`` and ``not_in`` test text against a list of values instead)."""

OP_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠", "in": "属于", "not_in": "不属于"}
"""How each operator is written in Chinese texts: '≥ 60分', '属于 天津'."""

UPWARD = {">=": 1, ">": 1, "<=": -1, "<": -1}
"""Which way a failing value must move to pass: up (+1) for a floor, down (−1) for a cap."""

LABEL_WORDS = (  # longest first: 不超过 must be taken before 超过
    ("不低于", ">="), ("不少于", ">="), ("不超过", "<="), ("不高于", "<="), ("不大于", "<="), ("未达到", "<"),
    ("以上", ">="), ("达到", ">="), ("至少", ">="), ("以内", "<="), ("以下", "<="), ("至多", "<="),
    ("超过", ">"), ("高于", ">"), ("大于", ">"), ("多于", ">"),
    ("低于", "<"), ("少于", "<"), ("不足", "<"), ("小于", "<"), ("未满", "<"),
)
"""The words of a criterion's label that say its operator, by the convention of docs/rule-language.md:
以上 / 以内 / 以下 / 不低于 / 不少于 / 不超过 / 不高于 / 达到 include the number; 超过 / 高于 / 大于 / 多于 / 低于 /
少于 / 不足 / 小于 exclude it."""


def op_zh(op: str) -> str:
    """The operator as Chinese texts write it ('≥'); an operator unknown here is shown as written."""
    return OP_ZH.get(op, op)


def compare(op: str, value: Any, threshold: Any) -> Any:
    """``value op threshold`` for floats or arrays, both rounded to the rules' precision first; NaN is False."""
    return COMPARISONS[op](tidy(value), tidy(threshold))
