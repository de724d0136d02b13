"""Rewrite the golden 尚缺 texts (what each firm lacks) after a deliberate change; review the diff before committing.

    python tests/golden/regenerate_lacks.py

Two registers: the bundled sample (2025) and a seeded generated register of 400 firms × 2021–2024, whose numbers
reach far more of the lever searches and band moves than the sample's 43 firms do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from tiering.datasets import generate_panel
from tiering.engine.evaluate import evaluate
from tiering.ladder.lacks import lacks
from tiering.register import load_register
from tiering.rules.library import load_library

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COLUMNS = ["uscc", "ruleset_id", "outcome", "cost", "lacks"]
FILES = {"sample": HERE / "lacks_sample_2025.csv.gz", "generated": HERE / "lacks_generated_2025.csv.gz"}


def register(which: str) -> pd.DataFrame:
    """The register of a golden file: the sample, or the generated one (400 firms, seed 11)."""
    if which == "sample":
        return load_register(ROOT / "datasets" / "sample_register.xlsx").frame
    return generate_panel(400, (2021, 2024), seed=11).panel


def lacks_frame(panel: pd.DataFrame, year: int = 2025) -> pd.DataFrame:
    """What every firm of ``panel`` lacks for ``year`` under every rule set in force, in the table's order."""
    rulesets = load_library(ROOT / "rules").in_force(dt.date(year, 6, 30))
    frame = lacks(evaluate(panel, rulesets, year))[COLUMNS].reset_index(drop=True)
    return frame.astype({"uscc": object, "ruleset_id": object, "outcome": object, "lacks": object})


if __name__ == "__main__":
    for which, path in FILES.items():
        lacks_frame(register(which)).to_csv(path, index=False, encoding="utf-8")
        print(f"wrote {path}")
