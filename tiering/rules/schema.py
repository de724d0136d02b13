"""The shape of a rule file, as pydantic models: the contract every ``rules/*.yaml`` must meet.

Structural checks live here (required keys, types, one node kind per criterion). Checks that need the
whole rule set — band tiling, references between criteria, expressions against the field registry — are
made by :mod:`tiering.rules.compile`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    """Lifecycle of a rule set, ordered: a draft is least trusted, a superseded set is kept for old runs."""

    DRAFT = "draft"
    PROVISIONAL = "provisional"
    STABLE = "stable"
    SUPERSEDED = "superseded"


class Source(Strict):
    """Where a criterion or band comes from: a document and the clause in it."""

    document: str = Field(min_length=1)
    clause: str = Field(min_length=1)
    note: str | None = None


class Reference(Strict):
    document: str = Field(min_length=1)
    title: str | None = None
    issued: dt.date | None = None
    url: str | None = None
    confidence: Literal["A", "B", "C", "M"] | None = None


class Unit(StrEnum):
    """How a value is shown to people; the evaluation itself is unit-free."""

    PERCENT = "percent"
    WAN = "wan"  # 万元
    COUNT = "count"
    PEOPLE = "people"
    YEARS = "years"
    DAYS = "days"
    BOOL = "bool"
    POINTS = "points"
    NUMBER = "number"
    TEXT = "text"
    OUTCOME = "outcome"


class Metric(Strict):
    """A derived metric: a named expression over fields and years."""

    label: str
    expr: str
    unit: Unit = Unit.NUMBER
    source: Source | None = None
    note: str | None = None


Op = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in"]


class Band(Strict):
    """One row of a points table or threshold table: an interval of the value and what it gives.

    ``points`` is a number, a range ``[min, max]`` (an expert places the firm inside it), or ``value``: the points
    are the value itself (an expert sub-score entered as a number). ``min_open`` (left-closed tables only) gives the
    band's lower edge to the band below, for tables such as "> 0 → 1–2分, ≤ 0 → 0分" inside a "(含)"-style table.
    """

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    points: float | tuple[float, float] | Literal["value"] | None = None
    value: float | None = None
    label: str | None = None
    source: Source

    @field_validator("points", mode="before")
    @classmethod
    def _points_range(cls, v: Any) -> Any:
        if isinstance(v, list):
            if len(v) != 2:
                raise ValueError("a points range is written [min, max]")
            return tuple(v)
        return v


class MissingBand(Strict):
    """What a missing value gives: fixed points, or an undetermined result spanning the table."""

    points: float | None = None
    undetermined: bool = False
    label: str | None = None
    source: Source

    @model_validator(mode="after")
    def _one_choice(self) -> MissingBand:
        if (self.points is None) == (not self.undetermined):
            raise ValueError("write either 'points: N' or 'undetermined: true' for missing data")
        return self


Intervals = Literal["left-closed", "right-closed"]


class Table(Strict):
    """Bands over one value. ``left-closed`` means [min, max) — the official '(含)' lower edge.

    ``override`` names an expression (usually an expert sub-score field): when it is present and lies inside the
    points range the bands give (the whole table's span when the value is missing), it replaces that range.
    """

    value: str
    intervals: Intervals
    domain: tuple[float | None, float | None] = (None, None)
    bands: list[Band] = Field(min_length=1)
    missing: MissingBand
    unit: Unit | None = None
    override: str | None = None


class Classes(Strict):
    """Labelled bands over one value that classify a firm without deciding anything (e.g. revenue classes)."""

    value: str
    intervals: Intervals
    domain: tuple[float | None, float | None] = (None, None)
    bands: list[Band] = Field(min_length=1)
    unit: Unit | None = None


class Lookup(Strict):
    """A threshold chosen by another value (e.g. the R&D threshold chosen by the latest year's revenue)."""

    by: str
    intervals: Intervals
    domain: tuple[float | None, float | None] = (None, None)
    bands: list[Band] = Field(min_length=1)
    unit: Unit | None = None


class Test(Strict):
    """A comparison of a value (an expression, or another criterion's points) with a threshold."""

    value: str | None = None
    points_of: str | None = None
    op: Op
    threshold: float | bool | str | Lookup | None = None
    values: list[str] | None = None
    unit: Unit | None = None
    if_missing: Literal["unknown", "pass", "fail"] = "unknown"
    if_missing_reason: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Test:
        if (self.value is None) == (self.points_of is None):
            raise ValueError("a test reads exactly one of 'value' (an expression) or 'points_of' (a criterion id)")
        if self.op in ("in", "not_in"):
            if not self.values:
                raise ValueError(f"op '{self.op}' needs a non-empty 'values' list")
        elif self.threshold is None:
            raise ValueError(f"op '{self.op}' needs a 'threshold'")
        if self.if_missing != "unknown" and not self.if_missing_reason:
            raise ValueError("if_missing other than 'unknown' must say why in 'if_missing_reason'")
        return self


class Score(Strict):
    """A sum of points criteria compared with a pass mark.

    ``override`` names an expression (usually a score field of the register, e.g. the provincial evaluation's
    result): when it has a value it replaces the computed sum — an explicit override, whether or not it lies inside
    the computed range; the trace says which (band 0 inside, band 1 outside) and the parts stay as computed.
    """

    op: Literal[">=", ">"]
    threshold: float
    of: list[Criterion] = Field(min_length=1)
    override: str | None = None


class Subtotal(Strict):
    """A sum of points criteria, optionally capped (e.g. 知识产权 at most 30 points including the bonus)."""

    cap: float | None = None
    of: list[Criterion] = Field(min_length=1)


class AtLeast(Strict):
    k: int = Field(ge=1)
    of: list[Criterion] = Field(min_length=1)


class Requires(Strict):
    """The outcome of another program (evaluated first) that this criterion needs."""

    program: str
    outcome: Literal["qualified"] = "qualified"


NODE_KINDS = ("test", "points", "best_of", "subtotal", "score", "all", "any", "at_least", "paths", "requires",
              "classes")


PurposeName = Literal["认定", "复核"]


class AtPurpose(Strict):
    """How a criterion differs for one purpose of an evaluation (认定 / 复核): it is not tested (``skip: true``), or
    ``criterion`` is tested in its place. Cited like any criterion; ``provisional`` when the source is a reprint."""

    source: Source
    skip: bool = False
    criterion: Criterion | None = None
    provisional: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _one_choice(self) -> AtPurpose:
        if self.skip == (self.criterion is not None):
            raise ValueError("write either 'skip: true' or a 'criterion' tested in its place for this purpose")
        return self


class Criterion(Strict):
    """One node of a rule set's decision tree. Exactly one of the node kinds is given."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    label_en: str | None = None
    source: Source
    provisional: bool = False
    note: str | None = None
    test: Test | None = None
    points: Table | None = None
    best_of: list[Criterion] | None = None
    subtotal: Subtotal | None = None
    score: Score | None = None
    all: list[Criterion] | None = None
    any: list[Criterion] | None = None
    at_least: AtLeast | None = None
    paths: list[Criterion] | None = None
    requires: Requires | None = None
    classes: Classes | None = None
    purposes: dict[PurposeName, AtPurpose] = {}
    """For an evaluation of another purpose than 认定 (see tiering.rules.purpose): what replaces this criterion."""

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        given = [k for k in NODE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a criterion has exactly one of {', '.join(NODE_KINDS)}; got {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in NODE_KINDS if getattr(self, k) is not None)

    def children(self) -> list[Criterion]:
        kind = self.kind
        if kind in ("best_of", "all", "any", "paths"):
            return list(getattr(self, kind))
        if kind == "score":
            return list(self.score.of)  # type: ignore[union-attr]
        if kind == "at_least":
            return list(self.at_least.of)  # type: ignore[union-attr]
        if kind == "subtotal":
            return list(self.subtotal.of)  # type: ignore[union-attr]
        return []


class Review(Strict):
    """A 复核 (re-review) of titles certified in these years uses this version, whichever version is in force for
    new 认定 on the evaluation date (e.g. 工信厅企业函〔2026〕117号: the 2026 复核 of 2023 certifications uses 63号)."""

    certified_from: int = Field(ge=1990, le=2100)
    certified_to: int = Field(ge=1990, le=2100)
    until: dt.date | None = None
    source: Source

    @model_validator(mode="after")
    def _years(self) -> Review:
        if self.certified_to < self.certified_from:
            raise ValueError("certified_to is before certified_from")
        return self


class Equivalent(Strict):
    """A column the rule set's document makes equal to another: where the register has no value for ``field`` it is
    read from ``equals`` (e.g. the 工作指引's 销售收入 = 主营业务收入 + 其他业务收入 = 营业收入), and the trace says so
    ("销售收入由 营业收入 按 工作指引 口径取得")."""

    field: str
    equals: str
    basis: str = Field(min_length=1)
    """The short name of the definition, as the trace says it: 按 ``basis`` 口径取得."""
    source: Source
    provisional: bool = False
    note: str | None = None


class RuleSetFile(Strict):
    """A whole rule file: the metadata header, derived metrics and the decision tree."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    title_en: str
    program: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    program_title: str
    jurisdiction: str
    version: str
    status: Status
    effective_from: dt.date
    effective_to: dt.date | None = None
    supersedes: list[str] = []
    extends: str | None = None
    verified_on: dt.date | None = None
    review_by: dt.date | None = None
    review_note: str | None = None
    reviews: list[Review] = []
    rung: int | None = None
    data_year_offset: int = Field(default=1, ge=0, le=5)
    description: str | None = None
    references: list[Reference] = Field(min_length=1)
    metrics: dict[str, Metric] = {}
    equivalents: list[Equivalent] = []
    criteria: Criterion

    @model_validator(mode="after")
    def _dates(self) -> RuleSetFile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self
