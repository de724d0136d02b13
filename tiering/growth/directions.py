"""Declared directions and the policy that keeps them: no feature may push a score against its declaration.

Directions live in YAML beside the model (``models/directions.yaml``): each entry matches feature ids (exact or
glob), says ``increasing`` or ``decreasing`` and gives a one-line reason. At each training the policy measures
every feature's rank correlation with the label on all training cohorts and on consecutive blocks of them
(:func:`time_folds`, earlier to later); a feature is dropped when

* its declaration says ``excluded``: it may not push a score either way, for the reason given (声明不用于评分),
* no declaration matches it (未声明方向),
* its correlation over all training cohorts has the opposite sign to the declaration (与声明方向相反), or
* in some block its correlation is against the declaration by more than ``tolerance`` (方向不稳定).

Only training rows are used, so inside an out-of-time split the policy never sees the test cohort.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tiering.bundled import bundled
from tiering.errors import TieringError, Where
from tiering.growth.features import BY_ID, INCREASING
from tiering.growth.schema_words import schema_problems
from tiering.rules.yamlsrc import SourceProblem, dotted, read_plain

DIRECTIONS_PATH = bundled("models", "directions.yaml")
KEPT = "kept"
EXCLUDED = "excluded"
MIN_FOLD_ROWS = 30


class DirectionsError(TieringError, ValueError, error_id="model-directions"):
    """A directions file that cannot be used."""


class Declaration(BaseModel):
    """One entry of the directions file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    match: str = Field(min_length=1)
    direction: Literal["increasing", "decreasing", "excluded"]
    reason: str = Field(min_length=2)


class DirectionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    directions_version: Literal[1]
    declarations: list[Declaration]


@dataclass(frozen=True)
class Declarations:
    """The ordered declarations; the first entry whose pattern matches a feature id decides."""

    entries: tuple[Declaration, ...]
    source: str

    def find(self, feature: str) -> Declaration | None:
        """The declaration that governs ``feature``, or None when it is undeclared."""
        return next((d for d in self.entries if fnmatch.fnmatchcase(feature, d.match)), None)


def load_declarations(path: str | Path | None = None) -> Declarations:
    """Read a directions file (default ``models/directions.yaml``) with the rule files' guarded reader and check
    it."""
    path = Path(path) if path is not None else DIRECTIONS_PATH
    if not path.is_file():
        raise DirectionsError("找不到方向声明文件", where=Where(file=str(path)))
    doc = read_plain(path, lambda problems: DirectionsError("不是可用的 YAML", where=Where(file=str(path)),
                                                            problems=problems))
    try:
        parsed = DirectionsFile.model_validate(doc.data)
    except ValidationError as error:
        problems = schema_problems(doc, error)
        raise DirectionsError(f"方向声明有 {len(problems)} 处问题", where=Where(file=str(path)),
                              problems=problems) from error
    unmatched = [SourceProblem(str(path), doc.line_of(("declarations", i, "match")),
                               dotted(("declarations", i, "match")),
                               f"没有特征与“{d.match}”匹配（拼错了？特征见 tiering/growth/features.py 与 "
                               "amounts.yaml）",
                               "unknown-feature")
                 for i, d in enumerate(parsed.declarations)
                 if not any(fnmatch.fnmatchcase(f, d.match) for f in BY_ID)]
    if unmatched:  # a typo would leave the feature it meant undeclared, and so dropped, without a word
        raise DirectionsError(f"方向声明有 {len(unmatched)} 处问题", where=Where(file=str(path)), problems=unmatched)
    # The shipped file is named as in the repository, so a card does not record one machine's checkout path.
    source = "models/directions.yaml" if path.resolve() == DIRECTIONS_PATH else str(path)
    return Declarations(tuple(parsed.declarations), source)


def time_folds(years: pd.Series, folds: int) -> np.ndarray:
    """Block number (0 = earliest) of each row: whole cohorts in order, blocks of about equal row counts."""
    counts = years.value_counts().sort_index()
    blocks = min(folds, len(counts))
    if blocks < 1:
        return np.zeros(len(years), dtype=int)
    cumulative = counts.cumsum().to_numpy() / counts.sum()
    # A cohort goes to the block its midpoint falls in, so a block is never split inside a year.
    midpoints = cumulative - counts.to_numpy() / counts.sum() / 2
    block_of_year = dict(zip(counts.index, np.minimum((midpoints * blocks).astype(int), blocks - 1), strict=True))
    return years.map(block_of_year).to_numpy(dtype=int)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    present = ~np.isnan(x)
    if present.sum() < MIN_FOLD_ROWS:
        return np.nan
    xr = pd.Series(x[present]).rank().to_numpy()
    yp = y[present]
    if np.std(xr) == 0 or np.std(yp) == 0:
        return np.nan
    return float(np.corrcoef(xr, yp)[0, 1])


@dataclass(frozen=True)
class DirectionCheck:
    """The policy's verdict on one feature."""

    feature: str
    declared: str | None
    reason: str
    rho: float
    rho_folds: tuple[float, ...]
    status: str
    why: str

    def to_dict(self) -> dict[str, object]:
        """Plain values for the model card."""
        return {"feature": self.feature, "declared": self.declared, "reason": self.reason,
                "rho": None if np.isnan(self.rho) else round(self.rho, 4),
                "rho_folds": [None if np.isnan(r) else round(r, 4) for r in self.rho_folds],
                "status": self.status, "why": self.why}


def _fmt(values: tuple[float, ...]) -> str:
    return "，".join("无" if np.isnan(v) else f"{v:+.3f}" for v in values)


def check_directions(train: pd.DataFrame, features: list[str], declarations: Declarations, folds: int = 3,
                     tolerance: float = 0.02) -> list[DirectionCheck]:
    """Apply the direction policy to ``features`` on the labelled training rows ``train`` (year, label)."""
    y = train["label"].to_numpy("float64")
    block = time_folds(train["year"], folds)
    out = []
    for feature in features:
        declaration = declarations.find(feature)
        if declaration is None:
            out.append(DirectionCheck(feature, None, "", np.nan, (), "dropped",
                                      "未声明方向（directions.yaml 无匹配条目）"))
            continue
        if declaration.direction == EXCLUDED:
            out.append(DirectionCheck(feature, EXCLUDED, declaration.reason, np.nan, (), "dropped",
                                      f"声明不用于评分：{declaration.reason}"))
            continue
        x = train[feature].to_numpy("float64")
        sign = 1.0 if declaration.direction == INCREASING else -1.0
        rho = _spearman(x, y)
        by_fold = tuple(_spearman(x[block == b], y[block == b]) for b in range(int(block.max()) + 1))
        word = "越高越好" if sign > 0 else "越低越好"
        if np.isnan(rho):
            status, why = "dropped", "训练数据中取值太少或无变化，无法判断方向"
        elif sign * rho < 0:
            status, why = "dropped", f"拟合方向与声明（{word}）相反：全部训练年份 ρ = {rho:+.3f}"
        elif any(sign * r < -tolerance for r in by_fold if not np.isnan(r)):
            status, why = "dropped", f"各训练时段方向不稳定：分段 ρ = {_fmt(by_fold)}（声明{word}）"
        else:
            status, why = KEPT, f"与声明方向一致：ρ = {rho:+.3f}，分段 ρ = {_fmt(by_fold)}"
        out.append(DirectionCheck(feature, declaration.direction, declaration.reason, rho, by_fold, status, why))
    return out


def kept_directions(checks: list[DirectionCheck]) -> dict[str, str]:
    """{feature: declared direction} of the features the policy kept, in the order checked."""
    return {c.feature: str(c.declared) for c in checks if c.status == KEPT}

