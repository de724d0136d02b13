"""Rule-file problems found by the compiler and the library checks, in Chinese with a stable English id.

The checks word their findings in English next to the code that finds them (the wording names bands, ids and
values exactly); this table gives each kind its Chinese lead and its id, so a person reads ``file:line field:
中文说明：English detail [id]``. The first pattern that matches wins; anything unmatched still gets a Chinese lead.
"""

from __future__ import annotations

import re

_KINDS: tuple[tuple[str, str, str], ...] = (
    (r"^in '.*' at column \d+: unknown name", "表达式中有未知的名称", "expr-unknown-name"),
    (r"^in '.*' at column \d+: unknown function", "表达式调用了不允许的函数", "expr-unknown-function"),
    (r"^in '.*' at column \d+: metrics refer to each other", "指标之间循环引用", "expr-metric-cycle"),
    (r"^in '.*' at column \d+:", "表达式有误", "expr-invalid"),
    (r"^gap", "区间表有缺口，落在缺口里的值不属于任何一档", "bands-gap"),
    (r"^bands \d+ and \d+ overlap", "区间表的两档重叠", "bands-overlap"),
    (r"^band \d+ is empty or reversed", "档位为空或上下限颠倒", "bands-empty"),
    (r"min_open", "min_open 用法有误", "bands-min-open"),
    (r"^a points band needs 'points'", "得分档缺少 points", "band-points-missing"),
    (r"^a 'points: value' band needs finite edges", "points: value 的档位需要有限的上下限", "band-value-unbounded"),
    (r"band gives no points", "此类档位不给分，请删去 points", "band-extra-points"),
    (r"^a threshold band needs 'value'", "门槛档缺少 value", "band-value-missing"),
    (r"^a class band needs a 'label'", "分类档缺少 label", "band-label-missing"),
    (r"^a class band gives no value", "分类档不取值，请删去 value", "band-extra-value"),
    (r"is used twice in this rule set", "条件 id 在本规则集中重复", "criterion-duplicate-id"),
    (r"adds up points criteria", "得分合计之下只能放得分条件", "criterion-not-points"),
    (r"gives points but sits under", "得分条件须放在 score 之下", "criterion-points-outside-score"),
    (r"only describes a firm", "classes 须直接放在 all 组之下", "criterion-classes-placement"),
    (r"cannot be reached", "及格线无法达到", "score-unreachable"),
    (r"^needs \d+ of only", "要求满足的条数多于条件数", "at-least-impossible"),
    (r"compares a text field", "in / not_in 只能比较文字字段", "test-not-text"),
    (r"^threshold must be", "门槛须为数字、true/false 或查表", "test-threshold-type"),
    (r"must equal the file name", "id 须与文件名一致", "ruleset-id-file"),
    (r"has the name of a field", "指标名与字段同名", "metric-field-name"),
    (r"^points_of ", "points_of 须指向本规则集的得分条件", "test-points-of"),
    (r"is also used by", "规则集 id 重复", "ruleset-duplicate-id"),
    (r"overlaps", "同一项目的两个版本有效期重叠", "ruleset-overlap"),
    (r"superseded rule set needs", "已废止的版本须写 effective_to", "ruleset-superseded-open"),
    (r"which no rule file defines", "所依赖的项目没有规则文件", "ruleset-missing-dependency"),
    (r"depend on each other in a cycle", "项目之间循环依赖", "ruleset-cycle"),
)
_COMPILED = tuple((re.compile(pattern), lead, code) for pattern, lead, code in _KINDS)


def in_chinese(english: str) -> tuple[str, str]:
    """``english`` led by its Chinese statement, and its stable id."""
    for pattern, lead, code in _COMPILED:
        if pattern.search(english):
            return f"{lead}：{english}", code
    return f"规则文件有误：{english}", "rule-invalid"
