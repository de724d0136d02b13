"""The bundled sample register's results, checked cell by cell against the reviewed golden file."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from regenerate import HERE, golden_frame  # noqa: E402


def test_sample_results_match_golden_file_cell_by_cell() -> None:
    expected = pd.read_csv(HERE / "sample_2025.csv", dtype=str, keep_default_na=False)
    got = golden_frame().astype(object).where(lambda f: f.notna(), "")
    got = got[got["ruleset_id"].isin(set(expected["ruleset_id"]))].reset_index(drop=True)
    got = got.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))
    expected = expected.map(lambda v: f"{float(v):g}" if v.replace(".", "", 1).isdigit() else v)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    mismatches = [(i, col, expected.at[i, col], got.at[i, col]) for i in range(len(expected))
                  for col in expected.columns if expected.at[i, col] != got.at[i, col]]
    assert mismatches == []


def test_golden_file_pins_named_firms() -> None:
    expected = pd.read_csv(HERE / "sample_2025.csv", dtype=str, keep_default_na=False).set_index("name")
    kx = expected[expected["ruleset_id"] == "kjxzxqy-2022"]
    assert kx.loc["蓟州生物医药有限公司", ["outcome", "score_min"]].tolist() == ["qualified", "60.0"]
    assert kx.loc["东丽智能装备有限公司", "failed"] == "直通车条件（符合其一即可）：均不满足；综合评价得分不低于60分"
    missing_rd = kx.loc["蓟州农业科技有限公司", ["outcome", "score_min", "score_max"]].tolist()
    assert missing_rd == ["undetermined", "50.0", "100.0"]
