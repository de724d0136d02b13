"""The sample ladder firms (datasets/sample_ladder_firms.yaml) as a panel in the internal frame contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tiering.bundled import bundled
from tiering.fields import BY_ID, FIELDS, DType

SAMPLE = bundled("datasets", "sample_ladder_firms.yaml")
"""Two firms that reach and two that narrowly miss each rung, with a 说明 each."""


def _cell(field: str, value: Any) -> Any:
    dtype = BY_ID[field].dtype
    if value is None:
        return None if dtype == DType.TEXT else np.nan
    if dtype == DType.DATE:
        return pd.Timestamp(value)
    if dtype == DType.TEXT:
        return str(value)
    return float(value)


def load_sample(path: Path = SAMPLE) -> tuple[pd.DataFrame, dict[str, str], int]:
    """The panel (one row per firm and year, every registry field), each firm's 说明 by uscc, and the application
    year the file is written for."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows, notes = [], {}
    for firm in doc["firms"]:
        notes[firm["uscc"]] = firm["说明"]
        for year, values in firm["years"].items():
            row: dict[str, Any] = {f.id: _cell(f.id, None) for f in FIELDS}
            for field, value in {**firm["firm"], **values}.items():
                if field not in BY_ID:
                    raise KeyError(f"{path}: firm {firm['uscc']} has unknown field '{field}'")
                row[field] = _cell(field, value)
            row.update(uscc=firm["uscc"], name=firm["name"], year=int(year))
            rows.append(row)
    panel = pd.DataFrame(rows)
    panel["year"] = panel["year"].astype("int64")
    panel["registration_date"] = pd.to_datetime(panel["registration_date"])
    return panel, notes, int(doc["year"])
