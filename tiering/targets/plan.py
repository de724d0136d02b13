"""A plan file (``rules/plans/<id>.yaml``): targets such as "科技小巨人企业达到50家 by 2015", each quoting its source.

Read with the rule files' YAML reader (duplicate keys refused, lines remembered) and validated by pydantic models that
forbid unknown keys, so a misspelt key is an error with its line rather than a silently ignored target.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tiering import errors
from tiering.bundled import bundled
from tiering.errors import TieringError
from tiering.rules.yamlsrc import SourceProblem, read_yaml

PLANS_DIR = bundled("rules", "plans")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanSource(_Strict):
    """The plan document as a whole."""

    document: str
    file: str | None = None
    issued: dt.date | None = None


class TargetSource(_Strict):
    """Where in the plan a target is written, with the plan's own words."""

    clause: str
    quote: str = Field(min_length=1)


class Where(_Strict):
    """A sub-target's condition on one register field, e.g. 年销售收入超3亿元 = revenue > 30000 (万元)."""

    field: str
    op: Literal[">", ">=", "<", "<="]
    value: float

    def text(self) -> str:
        """The condition as an analyst reads it."""
        return f"{self.field} {self.op} {self.value:g}"


class Target(_Strict):
    """One numeric target: how many firms of a program, stock at a year or new since a base year."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    program: str
    measure: Literal["stock", "new"]
    year: int
    count: int = Field(gt=0)
    stretch: int | None = Field(default=None, gt=0)
    since: int | None = None
    where: Where | None = None
    note: str | None = None
    source: TargetSource

    @model_validator(mode="after")
    def _since_matches_measure(self) -> Target:
        if self.measure == "new" and self.since is None:
            raise ValueError("measure 'new' needs 'since': the base year new firms are counted from, e.g. since: 2012")
        if self.measure == "stock" and self.since is not None:
            raise ValueError("'since' applies only to measure 'new'; remove it or use measure: new")
        if self.since is not None and self.since >= self.year:
            raise ValueError(f"'since' ({self.since}) must be before the target year ({self.year})")
        if self.stretch is not None and self.stretch < self.count:
            raise ValueError(f"stretch ({self.stretch}) is below count ({self.count}); 力争 figures exceed the target")
        return self


class Untracked(_Strict):
    """A figure of the plan that the register cannot measure, kept so the omission is visible."""

    label: str
    quote: str
    reason: str


class Plan(_Strict):
    """A district plan and its numeric targets."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    jurisdiction: str
    districts: list[str] = Field(default_factory=list)
    start: int
    end: int
    source: PlanSource
    targets: list[Target] = Field(min_length=1)
    untracked: list[Untracked] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        ids = [t.id for t in self.targets]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise ValueError(f"target ids used twice: {', '.join(doubled)}")
        return self

    def years(self) -> list[int]:
        """The plan's years, start to end."""
        return list(range(self.start, self.end + 1))


class PlanError(TieringError, error_id="plan-unusable"):
    """A plan file that cannot be used; ``problems`` lists every problem at its file, line and field."""

    def __init__(self, path: Path, problems: list[SourceProblem]) -> None:
        super().__init__(f"计划文件有 {len(problems)} 处问题，请按各行所列位置修改（{len(problems)} problem(s) in the "
                         "plan file）", where=errors.Where(file=str(path)), problems=problems)


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file; raise :class:`PlanError` naming the file, line and field of each problem."""
    doc, problems = read_yaml(path)
    if doc is None or problems:
        raise PlanError(path, problems)
    try:
        plan = Plan.model_validate(doc.data)
    except ValidationError as exc:
        raise PlanError(path, doc.schema_problems(exc)) from exc
    if plan.id != path.stem:
        wrong = f"计划 id '{plan.id}' 应与文件名 '{path.stem}' 相同（must equal the file name）"
        raise PlanError(path, [SourceProblem(str(path), doc.line_of(("id",)), "id", wrong)])
    return plan
