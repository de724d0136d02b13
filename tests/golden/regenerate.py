"""Rewrite the golden results of the bundled sample after a deliberate change; review the diff before committing.

    python tests/golden/regenerate.py
"""

from __future__ import annotations

from pathlib import Path

from tiering.engine.evaluate import evaluate
from tiering.explain.outcomes import outcome_frame
from tiering.register import load_register
from tiering.rules.library import load_library

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COLUMNS = ["uscc", "name", "ruleset_id", "outcome", "score_min", "score_max", "path", "failed", "missing"]


SAMPLE = ROOT / "datasets" / "sample_register.xlsx"


def golden_frame(year: int = 2025, register_path: Path = SAMPLE):
    """The outcomes of a register (default: the sample) for ``year`` under every rule set in force."""
    import datetime as dt

    register = load_register(register_path)
    rulesets = load_library(ROOT / "rules").in_force(dt.date(year, 6, 30))
    frame = outcome_frame(evaluate(register.frame, rulesets, year))[COLUMNS]
    frame["outcome"] = frame["outcome"].astype(str)
    return frame.sort_values(["ruleset_id", "uscc"], kind="stable").reset_index(drop=True)


if __name__ == "__main__":
    golden_frame().to_csv(HERE / "sample_2025.csv", index=False, encoding="utf-8")
    print(f"wrote {HERE / 'sample_2025.csv'}")
