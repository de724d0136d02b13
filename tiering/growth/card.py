"""The model card: everything that made a score, saved as YAML beside nothing else (no pickle).

The card holds the label definition, training cohorts, the features with units and definitions, the
features a data set could not supply and why, the scorecard's bin edges, points and intercept, a hash of
the training data, library versions and the out-of-time metrics. The scorecard is rebuilt from the card
alone, and a card refuses data whose features differ from the ones it was trained on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tiering.errors import TieringError, Where
from tiering.growth.directions import DirectionCheck
from tiering.growth.features import AMOUNTS, BY_ID, build_features, missing_fields
from tiering.growth.labels import LabelSpec
from tiering.growth.scorecard import FeatureMismatchError, Scorecard
from tiering.growth.training import Selection
from tiering.rules.yamlsrc import dotted, read_plain

CARD_VERSION = 1
SUFFIX = ".card.yaml"
_LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "pyyaml", "tiering")
_REQUIRED = ("card_version", "name", "label", "training", "features", "scorecard")


def card_path(out: str | Path) -> Path:
    """``models/NAME`` → ``models/NAME.card.yaml`` (a path that already ends so is kept)."""
    out = Path(out)
    return out if out.name.endswith(SUFFIX) else out.with_name(out.name + SUFFIX)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame written as CSV with full float precision: the same data gives the same hash."""
    text = frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a score depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _plain(value: Any) -> Any:
    """numpy and pandas scalars and containers as plain Python values that ``yaml.safe_dump`` accepts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _why_absent(panel: pd.DataFrame, feature: str, dropped: dict[str, str]) -> str:
    if feature in dropped:
        return dropped[feature]
    absent = missing_fields(panel, BY_ID[feature])
    return f"数据无字段 {', '.join(absent)}" if absent else "无数据"


@dataclass(frozen=True)
class ModelCard:
    """A loaded (or freshly built) card; ``data`` is exactly what the YAML file holds."""

    data: dict[str, Any]

    @property
    def features(self) -> list[str]:
        """The feature ids the scorecard uses, in scoring order."""
        return [f["id"] for f in self.data["features"]]

    @property
    def candidates(self) -> list[str]:
        """Every feature the training data offered (kept or dropped by the direction policy)."""
        checks = self.data.get("directions", {}).get("checks")
        return [c["feature"] for c in checks] if checks else self.features

    @property
    def label_spec(self) -> LabelSpec:
        """The label definition the model was trained for."""
        spec = {k: v for k, v in self.data["label"].items() if k != "description"}
        return LabelSpec(**spec)

    def scorecard(self) -> Scorecard:
        """The fitted scorecard, rebuilt from bin edges, points and intercept."""
        return Scorecard.from_spec(self.data["scorecard"])

    def check_features(self, panel: pd.DataFrame) -> None:
        """Refuse a panel whose features differ from the card's, naming what is missing and what is extra.

        Missing: a card feature the panel cannot supply (no column for a field it needs, or no value at all).
        Extra: a feature the panel has data for that the training data did not have (the model never saw it);
        features the direction policy dropped were seen and are not extra.
        """
        built = build_features(panel)
        self.check_used(built.used, lambda f: _why_absent(panel, f, built.dropped))

    def check_used(self, used: Collection[str], why: Callable[[str], str]) -> None:
        """:meth:`check_features` given the features the data supplies (``used``) and why a feature is absent
        (``why``): for data read in parts, whose features are those of any part."""
        missing = [f for f in self.features if f not in used]
        extra = [f for f in used if f not in self.candidates]
        if not missing and not extra:
            return
        problems = []
        if missing:
            named = "；".join(f"{f}（{BY_ID[f].label}，{why(f)}）" for f in missing)
            problems.append(f"数据缺少模型所需的特征 {missing}：{named}")
        if extra:
            problems.append(f"数据含有模型未使用的特征 {extra}（训练数据没有它们）")
        raise FeatureMismatchError(
            f"模型卡 {self.data['name']} 与数据不匹配：" + "；".join(problems)
            + "。请用这份数据重新训练（tiering model train），或换用与数据匹配的模型卡。")


def build_card(name: str, model: Scorecard, spec: LabelSpec, training: pd.DataFrame,
               dropped: dict[str, str], source: str, metrics: dict[str, Any] | None = None,
               checks: list[DirectionCheck] | None = None, directions_source: str | None = None,
               mapping: str | None = None, selection: Selection | None = None,
               absent_amounts: list[str] | None = None) -> ModelCard:
    """Assemble the card of a scorecard fitted on ``training`` (uscc, year, features, label).

    ``absent_amounts`` are the catalogue amounts the data has no column for: the card names them, so that a
    reader sees why their ratios and changes are not among the features (``dropped_features`` gives why of each
    other feature the data cannot supply).

    ``checks`` is the direction policy's verdict on every candidate feature; the card lists the kept ones with
    their declared direction and reason, the dropped ones with why, and each feature's Missing-bin policy.
    ``selection`` is how the settings were chosen (nested time splits, :mod:`tiering.growth.training`).
    """
    fitted = model.to_spec()
    reasons = {c.feature: c.reason for c in checks or []}
    features = []
    for bins in fitted["bins"]:
        definition = BY_ID[bins["feature"]]
        features.append({"id": definition.id, "label": definition.label, "unit": definition.unit,
                         "definition": definition.definition, "fields": list(definition.fields),
                         "direction": bins["direction"], "direction_reason": reasons.get(definition.id, "")})
    missing_bins = [{"feature": b["feature"], "policy": b["missing_policy"], "points": b["points"][-1],
                     "why": b["missing_why"]} for b in fitted["bins"]]
    zero = [f for f, c in fitted["coefficients"].items() if c == 0.0]
    data = {
        "card_version": CARD_VERSION,
        "name": name,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "purpose": "成长潜力排序：只在符合资格的企业之间排序，不单独据此排除企业；概率为相对值（按训练年份校准）",
        "label": {**spec.to_dict(), "description": spec.describe()},
        "training": {
            "source": source,
            "cohorts": sorted(int(y) for y in training["year"].unique()),
            "rows": len(training),
            "events": int(training["label"].sum()),
            "data_hash": data_hash(training),
        },
        "features": features,
        "mapping": mapping,
        "dropped_features": dict(dropped),
        "amounts_absent": {
            "why": "数据中没有这些金额（列映射未列出或登记表无此列），不计算它们占总资产比、占收入比和上年变化",
            "amounts": {a: str(AMOUNTS[a]["label"]) for a in absent_amounts or []},
        },
        "directions": {
            "source": directions_source,
            "policy": "拟合方向须与声明一致，且在训练年份的各连续时段内不反向（容差 ρ 0.02）；否则剔除",
            "dropped": {c.feature: c.why for c in checks or [] if c.status != "kept"},
            "checks": [c.to_dict() for c in checks or []],
        },
        "settings_selection": selection.to_dict() if selection is not None else None,
        "missing_bins": missing_bins,
        "zero_weight_features": zero,
        "scorecard": fitted,
        "libraries": library_versions(),
        "metrics": metrics or {},
    }
    return ModelCard(_plain(data))


def save_card(card: ModelCard, out: str | Path) -> Path:
    """Write the card as UTF-8 YAML to ``card_path(out)``; return the path written."""
    path = card_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(card.data, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    return path


class ModelCardError(TieringError, ValueError, error_id="model-card"):
    """A model card that is missing, unreadable, incomplete, of another card version or naming unknown features."""


def load_card(path: str | Path) -> ModelCard:
    """Read a card with the rule files' guarded reader (plain data only; alias bombs, deep nesting and oversized
    files refused) and check that it is complete and of a known version."""
    path = Path(path)
    if not path.is_file():
        raise ModelCardError("模型卡不存在", where=Where(file=str(path)),
                             hint=f"先运行 tiering model train --out {path}")
    doc = read_plain(path, lambda problems: ModelCardError("模型卡无法读取", where=Where(file=str(path)),
                                                           problems=problems))
    data = doc.data
    if not isinstance(data, dict):
        raise ModelCardError("不是模型卡（应为 YAML 映射）", where=Where(file=str(path), line=1))
    absent = [k for k in _REQUIRED if k not in data]
    if absent:
        raise ModelCardError(f"模型卡缺少 {absent}", where=Where(file=str(path), field=absent[0]))
    if data["card_version"] != CARD_VERSION:
        raise ModelCardError(f"card_version {data['card_version']} 不受支持（此版本读取 {CARD_VERSION}）",
                             where=Where(file=str(path), line=doc.line_of(("card_version",)), field="card_version"),
                             hint="用此版本的 tiering model train 重新训练")
    unknown = [(i, f["id"]) for i, f in enumerate(data["features"]) if f["id"] not in BY_ID]
    if unknown:
        first = unknown[0][0]
        raise ModelCardError(f"未知特征 {[f for _, f in unknown]}；此版本的 tiering 认识 {sorted(BY_ID)}",
                             where=Where(file=str(path), line=doc.line_of(("features", first, "id")),
                                         field=dotted(("features", first, "id"))))
    return ModelCard(data)
