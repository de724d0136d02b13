"""What a firm lacks does not depend on which other firms are searched beside it: a partitioned run searches a
partition's firms together, a whole run all of them, and both must write the same texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiering.app import classify, rules_in_force
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
from tiering.rules.library import load_library

FIRM = "91120115MAJM1LFE4G"
"""A firm of the generated register (3,000 firms, seed 3) whose 高企 尚缺 lowers 研发费用总额 (2024: 270.75 万元) by
228.1 万元: 270.75 − 228.1 is a tie when shown to one decimal, so the last bit of the change decides 42.6 or 42.7."""


def _lacks(path: Path) -> str:
    rulesets, on = rules_in_force(load_library(), 2025)
    result = classify(load_register(path), [r for r in rulesets if r.id == "gxjsqy-2016"], 2025, on)
    row = result.results.query("uscc == @FIRM")
    assert len(row) == 1
    return str(row["lacks"].iloc[0])


@pytest.mark.parametrize("beside", [0, 1000])
def test_a_firms_lacks_are_the_same_alone_and_beside_other_firms(tmp_path: Path, beside: int) -> None:
    panel = generate_panel(3000, (2021, 2024), seed=3).panel
    codes = panel["uscc"]
    keep = set(codes.drop_duplicates().iloc[:beside]) | {FIRM}
    path = write_register(panel[codes.isin(keep)].reset_index(drop=True), tmp_path / "r.parquet")
    text = _lacks(path)
    # k steps of 0.01 万元 written as k × 0.01 on every path of the search (not (k − 1) × 0.01 + 0.01)
    assert "研发费用总额（2024年） 需减少228.1万元（270.8万元 → 42.6万元，−84.2%）" in text
