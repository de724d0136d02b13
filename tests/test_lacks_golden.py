"""尚缺 texts and costs, byte for byte: the golden files (written by tests/golden/regenerate_lacks.py) hold what every
firm of the sample and of a generated register lacks; the product's search must give exactly what the exhaustive
search of tests/lacks_reference.py gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from lacks_reference import exhaustive_run

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from regenerate_lacks import FILES, lacks_frame, register  # noqa: E402


def _golden(which: str) -> pd.DataFrame:
    return pd.read_csv(FILES[which], dtype={"uscc": object, "ruleset_id": object, "outcome": object,
                                            "lacks": object, "cost": float}, keep_default_na=False)


@pytest.fixture(scope="module", params=["sample", "generated"])
def case(request) -> tuple[str, pd.DataFrame]:
    return request.param, register(request.param)


def test_lacks_match_the_golden_file(case) -> None:
    which, panel = case
    got = lacks_frame(panel)
    pd.testing.assert_frame_equal(got, _golden(which))
    assert got["lacks"].str.contains("需增加").sum() > (10 if which == "sample" else 500)


def test_the_search_finds_what_evaluating_every_step_finds(case, monkeypatch) -> None:
    from tiering.ladder import levers

    which, panel = case
    monkeypatch.setattr(levers._Search, "run", exhaustive_run)
    pd.testing.assert_frame_equal(lacks_frame(panel), _golden(which))
