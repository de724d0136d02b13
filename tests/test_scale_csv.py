"""A partitioned run's 结果.csv and 层级.csv (--format csv) are the whole run's files byte for byte: the parts
merged a block at a time into the whole run's row order (by rule set, then firm code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.scale import merge

YEAR = 2025


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A register kept as two CSV files, the second with its columns reversed and an extra one, and a refused row."""
    root = tmp_path_factory.mktemp("csv")
    table = pd.read_csv(write_register(generate_panel(80, (2022, 2024), seed=31).panel, root / "g.csv"), dtype=str,
                        encoding="utf-8-sig")
    table.loc[5, "统一社会信用代码"] = "BAD"
    out = root / "名录"
    out.mkdir()
    table.iloc[:100].to_csv(out / "a.csv", index=False)
    later = table.iloc[100:]
    later[list(reversed(later.columns))].assign(备注="x").to_csv(out / "b.csv", index=False)
    return out


def test_a_partitioned_runs_csv_files_are_the_whole_runs_byte_for_byte(folder: Path, tmp_path: Path,
                                                                       monkeypatch) -> None:
    monkeypatch.setattr(merge, "HELD_ROWS", 0)  # blocks of 5 rows: many rounds of the merge, parts of ~3 firms
    monkeypatch.setattr(merge, "LEAST_BLOCK", 5)
    args = ["classify", str(folder), "--year", str(YEAR), "--format", "csv", "--no-audit"]
    whole = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "whole")])
    parts = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "parts"), "--engine", "local", "--workers",
                                      "1", "--partition-size", "3"])
    assert whole.exit_code == parts.exit_code == 1, parts.output
    assert len(list((tmp_path / "parts" / "结果").glob("part-*.parquet"))) > 20
    for name in ("结果.csv", "层级.csv"):
        assert (tmp_path / "parts" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
