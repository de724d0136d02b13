"""The YAML selection policy: who may be chosen, how they are ranked, how many, and under which limits.

Every number that decides the annual list (count, weights, look-back years, quotas) lives in the policy file;
this module only checks that the file is complete and consistent, and says where it is not.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tiering.errors import TieringError, Where
from tiering.fields import BY_ID as FIELDS_BY_ID
from tiering.fields import DType
from tiering.growth.features import BY_ID as FEATURES_BY_ID
from tiering.rules.yamlsrc import SourceProblem, read_yaml

Outcome = Literal["qualified", "not_qualified", "undetermined"]
QuotaKey = Literal["district", "industry", "cluster"]
_WEIGHT_TOLERANCE = 1e-9


class PolicyError(TieringError, error_id="policy-unusable"):
    """A selection policy file that cannot be used; ``problems`` name file, line, field and fix."""

    def __init__(self, path: Path, problems: list[SourceProblem]) -> None:
        super().__init__(f"遴选政策有 {len(problems)} 处问题，请按各行所列位置修改（{len(problems)} problem(s) in the "
                         "selection policy）", where=Where(file=str(path)), problems=problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Strict):
    """The document and clause a policy choice implements, with the words it implements."""

    document: str = Field(min_length=1)
    clause: str | None = None
    text: str | None = None
    seed: str | None = None


class Count(_Strict):
    """How many firms the list holds: the default and the range the document allows."""

    min: int = Field(ge=1)
    max: int = Field(ge=1)
    default: int = Field(ge=1)
    source: Reference | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if not self.min <= self.default <= self.max:
            raise ValueError(f"need min ≤ default ≤ max; got {self.min}, {self.default}, {self.max}")
        return self


class Scope(_Strict):
    """Which firms of the register the selection considers (all when empty)."""

    districts: list[str] = []


class OutcomeTest(_Strict):
    """A program outcome, e.g. 科技型中小企业 qualified."""

    program: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    outcome: list[Outcome] = Field(min_length=1)


class Eligibility(_Strict):
    """Rules decide eligibility: programs that must (``require``) or must not (``exclude_if``) have an outcome."""

    description: str
    require: list[OutcomeTest] = []
    exclude_if: list[OutcomeTest] = []
    source: Reference | None = None


class Credit(_Strict):
    """Exclude firms with any of these yes/no flags set in the last ``years`` data years."""

    fields: list[str] = Field(min_length=1)
    years: int = Field(ge=1)
    source: Reference | None = None

    @model_validator(mode="after")
    def _known_flags(self) -> Credit:
        bad = [f for f in self.fields if f not in FIELDS_BY_ID or FIELDS_BY_ID[f].dtype != DType.BOOL]
        if bad:
            raise ValueError(f"credit fields must be yes/no fields of tiering/fields.py; not usable: {bad}")
        return self


class Exclusions(_Strict):
    """Firms taken out of the pool before ranking, each with its reason."""

    credit: Credit | None = None
    cultivated_files: list[str] = []
    """Lists of firms cultivated in earlier years (CSV or Excel with 统一社会信用代码, optional 年度),
    relative to the policy file."""


class Component(_Strict):
    """One ranked indicator. Exactly one of ``program_score``, ``feature`` or ``model`` names its value."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    weight: float = Field(gt=0, le=1)
    program_score: str | None = None
    feature: str | None = None
    model: Literal["scorecard"] | None = None
    direction: Literal["higher", "lower"] = "higher"
    basis: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Component:
        given = [k for k in ("program_score", "feature", "model") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of program_score, feature, model; got {given or 'none'}")
        if self.feature is not None and self.feature not in FEATURES_BY_ID:
            raise ValueError(f"unknown feature '{self.feature}'; known: {sorted(FEATURES_BY_ID)}")
        return self


class Group(_Strict):
    """A dimension of the ranking (技术水平, 发展潜力) and its weight in the combined score."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    weight: float = Field(gt=0, le=1)
    components: list[Component] = Field(min_length=1)
    with_model: list[Component] | None = None
    """Used instead of ``components`` when a growth model card is given."""

    @model_validator(mode="after")
    def _weights(self) -> Group:
        for name, parts in (("components", self.components), ("with_model", self.with_model)):
            if parts is None:
                continue
            total = sum(c.weight for c in parts)
            if abs(total - 1.0) > _WEIGHT_TOLERANCE:
                raise ValueError(f"weights of {name} must sum to 1; got {total:g}")
            if name == "components" and any(c.model is not None for c in parts):
                raise ValueError("a model component belongs under with_model (the list works without a model)")
        return self

    def active(self, with_model: bool) -> list[Component]:
        """The components in use for a run with or without a model card."""
        return self.with_model if with_model and self.with_model is not None else self.components


class Ranking(_Strict):
    """How components combine: within-pool percentiles, weighted; missing values rank lowest or at the median."""

    missing: Literal["lowest", "median"] = "lowest"
    groups: list[Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> Ranking:
        total = sum(g.weight for g in self.groups)
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise ValueError(f"group weights must sum to 1; got {total:g}")
        if len({g.id for g in self.groups}) != len(self.groups):
            raise ValueError("group ids must be unique")
        for with_model in (False, True):
            ids = [c.id for g in self.groups for c in g.active(with_model)]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"component ids must be unique; repeated: {repeated}")
        return self


class Limit(_Strict):
    """Bounds on the number of selected firms sharing one value (one district, one cluster)."""

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)


class Quota(_Strict):
    """Limits per district, industry or cluster; ``max`` caps every value, ``limits`` name single values."""

    by: QuotaKey
    max: int | None = Field(default=None, ge=1)
    limits: dict[str, Limit] = {}
    source: Reference | None = None

    def bounds(self, value: str) -> tuple[int, int | None]:
        """(min, max) for firms whose key is ``value``."""
        limit = self.limits.get(value)
        low = limit.min if limit is not None else 0
        high = limit.max if limit is not None and limit.max is not None else self.max
        return low, high


class Policy(_Strict):
    """A whole selection policy file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    title_en: str
    version: str
    references: list[Reference] = Field(min_length=1)
    count: Count
    scope: Scope = Scope()
    eligibility: Eligibility
    goal: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    """The program the cultivation aims at (e.g. tj_xjr); each brief says what the firm still lacks for it."""
    exclusions: Exclusions = Exclusions()
    ranking: Ranking
    quotas: list[Quota] = []
    clusters: dict[str, list[str]] = {}
    """Cluster name (as the seed names it) → the industries it groups."""
    tie_break: list[str] = ["uscc"]
    """After the combined score: group ids (higher first), then ``name`` or ``uscc`` (ascending)."""

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if any(q.by == "cluster" for q in self.quotas) and not self.clusters:
            raise ValueError("a quota by cluster needs the clusters mapping (cluster → industries)")
        owners: dict[str, str] = {}
        for cluster, industries in self.clusters.items():
            for industry in industries:
                if industry in owners:
                    raise ValueError(f"industry '{industry}' is in two clusters: {owners[industry]}, {cluster}")
                owners[industry] = cluster
        allowed = {g.id for g in self.ranking.groups} | {"uscc", "name"}
        unknown = [k for k in self.tie_break if k not in allowed]
        if unknown:
            raise ValueError(f"tie_break keys must be group ids, name or uscc; unknown: {unknown}")
        return self

    def programs(self) -> list[str]:
        """Programs whose outcomes or scores the policy reads."""
        tests = [*self.eligibility.require, *self.eligibility.exclude_if]
        scores = [c.program_score for g in self.ranking.groups for c in [*g.components, *(g.with_model or [])]
                  if c.program_score is not None]
        goal = {self.goal} if self.goal is not None else set()
        return sorted({t.program for t in tests} | set(scores) | goal)

    def cluster_of(self, industry: str | None) -> str:
        """The cluster an industry belongs to ('其他' when the policy names none for it)."""
        for cluster, industries in self.clusters.items():
            if industry in industries:
                return cluster
        return "其他"


def load_policy(path: Path) -> tuple[Policy, str]:
    """Read and check a policy file; return it with the SHA-256 of its bytes (for the list's provenance).

    Raises :class:`PolicyError` listing every problem at its file, line and field.
    """
    doc, problems = read_yaml(path)
    if doc is None or problems:
        raise PolicyError(path, problems)
    if not isinstance(doc.data, dict):
        raise PolicyError(path, [SourceProblem(str(path), 1, "", "遴选政策应为 YAML 映射（id、title、count、ranking …）"
                                                                "（a selection policy is a YAML mapping）")])
    try:
        policy = Policy.model_validate(doc.data)
    except ValidationError as exc:
        raise PolicyError(path, doc.schema_problems(exc)) from exc
    return policy, hashlib.sha256(path.read_bytes()).hexdigest()
