"""The year's cultivation list from one classification: the same policy, model and earlier lists give the same
list whichever output asks (``tiering select``, ``tiering report``, the review desk)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tiering.app.classification import Classification
from tiering.errors import TieringError, Where
from tiering.ladder.rungs import rungs_of
from tiering.rules.library import RULES_DIR
from tiering.selection.policy import Policy, load_policy
from tiering.selection.pool import read_cultivated
from tiering.selection.run import Selection, SelectionPart, select_from_parts, select_part

if TYPE_CHECKING:
    from tiering.growth.card import ModelCard
    from tiering.growth.scorecard import Scorecard


DEFAULT_POLICY = RULES_DIR / "selection" / "jx-xjr-peiyu.yaml"
"""The selection policy of `tiering select` and `tiering report` when none is given."""


class ModelUnusable(TieringError, error_id="model-unusable"):
    """A growth model card that cannot be read or does not fit the register's columns."""


@dataclass
class SelectionInputs:
    """What a cultivation list reads besides the classification: the policy, the growth model (optional) and the
    firms cultivated in earlier years, each with what identifies it."""

    policy: Policy
    policy_path: Path
    policy_sha256: str
    model: Scorecard | None
    model_text: str
    model_sha256: str | None
    cultivated: dict[str, int | None]
    cultivated_files: list[Path]
    card: ModelCard | None = None
    """The model card, when its features are checked against data read in parts (``panel=None``)."""
    model_card: ModelCard | None = None
    """The model card read (None without a model), whatever the data: the report shows its out-of-time validation."""


def selection_inputs(policy_path: Path, model_path: Path | None, cultivated_paths: Sequence[Path],
                     panel: pd.DataFrame | None) -> SelectionInputs:
    """Load the policy, the model card (checked against ``panel``'s columns; with ``panel=None``, a register read
    in parts, against the parts' features by :func:`select_parts`) and every list of earlier cultivated firms (the
    policy's own and ``cultivated_paths``). Raises :class:`tiering.selection.policy.PolicyError`,
    :class:`ModelUnusable` or :class:`tiering.selection.pool.SelectionInputError`."""
    policy, policy_sha = load_policy(policy_path)
    model, model_text, model_sha, card = None, "未使用（按政策中的成长指标排序）", None, None
    if model_path is not None:
        # scikit-learn (the scorecard's base) loads only here: a selection without a model starts faster
        from tiering.growth.card import ModelCardError, load_card
        from tiering.growth.scorecard import FeatureMismatchError

        try:
            card = load_card(model_path)
            if panel is not None:
                card.check_features(panel)
        except (ModelCardError, FeatureMismatchError) as exc:
            raise ModelUnusable(exc.message, where=exc.where or Where(file=str(model_path)), hint=exc.hint,
                                problems=exc.problems) from exc
        except OSError as exc:
            raise ModelUnusable(f"模型卡无法读取（{exc.strerror or exc}）", where=Where(file=str(model_path))) from exc
        model_sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
        model = card.scorecard()
        model_text = f"{card.data['name']}（{model_path.name}，SHA-256 {model_sha}）"
    files = [policy_path.parent / f for f in policy.exclusions.cultivated_files] + list(cultivated_paths)
    merged: dict[str, int | None] = {}
    for path in files:
        for uscc, year in read_cultivated(path).items():
            earlier = merged.get(uscc, year)
            merged[uscc] = None if earlier is None or year is None else min(earlier, year)
    return SelectionInputs(policy, policy_path, policy_sha, model, model_text, model_sha, merged, files,
                           card if panel is None else None, card)


def selection_part(result: Classification, inputs: SelectionInputs) -> SelectionPart:
    """What the classified firms of ``result`` give the list before the ranking (a partition's share of it, or a
    whole register's): their status, standing and component values, from the same result every output reads."""
    lacks = result.lacks[["uscc", "program", "lacks"]]
    return select_part(result.register.frame, result.outcomes, rungs_of(result.rulesets), inputs.policy,
                       result.year, inputs.model, inputs.cultivated, lacks)


def select_parts(parts: Sequence[SelectionPart], inputs: SelectionInputs, year: int,
                 n: int | None = None) -> Selection:
    """The cultivation list of ``n`` firms (default: the policy's) ranked over the candidates of every part as
    one pool: the list :func:`select` makes when the parts are the partitions of one register."""
    if inputs.card is not None:
        from tiering.growth.scorecard import FeatureMismatchError

        used = frozenset().union(*(p.features for p in parts))
        reasons = {f: why for p in reversed(parts) for f, why in p.dropped.items()}
        try:
            inputs.card.check_used(used, lambda f: reasons.get(f, "无数据"))
        except FeatureMismatchError as exc:
            raise ModelUnusable(exc.message, where=exc.where, hint=exc.hint, problems=exc.problems) from exc
    policy = inputs.policy
    return select_from_parts(list(parts), policy, year, n if n is not None else policy.count.default,
                             inputs.model is not None)


def select(result: Classification, inputs: SelectionInputs, n: int | None = None) -> Selection:
    """The cultivation list of ``n`` firms (default: the policy's) for the classification's year."""
    return select_parts([selection_part(result, inputs)], inputs, result.year, n)
