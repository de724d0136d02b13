"""`audit verify --out FOLDER`: an auditor holding a partitioned run's output folder years later learns whether it
is the folder that run wrote, every part and file changed, missing or added named."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.datasets import generate_panel, write_register

YEAR = 2025


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, Path, str]:
    """A register folder of two CSV files (one row refused) classified in partitions with --format csv and recorded:
    (the output folder, the store, the run id)."""
    root = tmp_path_factory.mktemp("v")
    frame = write_register(generate_panel(60, (2022, 2024), seed=21).panel, root / "g.csv")
    table = pd.read_csv(frame, dtype=str, encoding="utf-8-sig")
    table.loc[3, "统一社会信用代码"] = "BAD"
    folder = root / "名录"
    folder.mkdir()
    table.iloc[:90].to_csv(folder / "a.csv", index=False)
    table.iloc[90:].to_csv(folder / "b.csv", index=False)
    out, store = root / "out", root / "audit.sqlite"
    done = CliRunner().invoke(main, ["classify", str(folder), "--year", str(YEAR), "--out", str(out), "--engine",
                                     "local", "--workers", "1", "--partition-size", "9", "--format", "csv",
                                     "--store", str(store)])
    assert done.exit_code == 1, done.output
    run_id = _run_id(done.output)
    return out, store, run_id


def _run_id(output: str) -> str:
    """The run id a recorded command prints."""
    return next(line.split()[3] for line in output.splitlines() if line.startswith("审计记录 audit run"))


def _store_copy(store: Path, tmp_path: Path) -> Path:
    """A copy of the module's store, with its copy of each trace, for a test that records more runs into it."""
    copy = tmp_path / "audit.sqlite"
    shutil.copy(store, copy)
    shutil.copytree(store.with_suffix(".traces"), copy.with_suffix(".traces"))
    return copy


def _each_verifies_as(store: Path, runs: dict[Path, str]):
    """`audit verify --out` of each folder passes as the run it names; the last one's result."""
    for folder, run in runs.items():
        done = _verify(store, "--out", str(folder))
        assert done.exit_code == 0, done.output
        assert f"is as run {run} wrote it" in done.output
    return done


def _verify(store: Path, *args: str):
    return CliRunner().invoke(main, ["audit", "verify", "--store", str(store), *args])


def test_the_folder_a_run_wrote_verifies_against_its_record(recorded) -> None:
    out, store, run_id = recorded
    parts = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["parts"]
    assert len(parts) >= 18  # at least 6 partitions × 结果, 层级, trace
    files = len(parts) + 6  # 结果.csv, 层级.csv, 汇总.csv, 层级分布.csv, provenance.json, rejects.csv
    for args in (["--out", str(out)], ["--out", str(out), "--run", run_id]):
        done = _verify(store, *args)
        assert done.exit_code == 0, done.output
        assert f"folder {out} is as run {run_id} wrote it: {files} 个文件的 SHA-256 均与审计记录相同" in done.output


def test_a_changed_missing_or_added_part_or_file_is_named(recorded, tmp_path) -> None:
    out, store, run_id = recorded
    copy = tmp_path / "拷贝 的 输出"
    shutil.copytree(out, copy)
    shutil.copy(copy / "结果" / "part-00001.parquet", copy / "结果" / "part-00077.parquet")
    (copy / "trace" / "part-00002.parquet").unlink()
    standing = copy / "层级" / "part-00000.parquet"
    data = bytearray(standing.read_bytes())
    data[100] ^= 1
    standing.write_bytes(bytes(data))
    with (copy / "结果.csv").open("a", encoding="utf-8") as f:
        f.write("91120000000000000X,添上的一行\n")
    (copy / "rejects.csv").unlink()
    done = _verify(store, "--out", str(copy), "--run", run_id)
    assert done.exit_code == 4, done.output
    assert (f"is not as run {run_id} wrote it: " in done.output
            and "rejects.csv (missing), trace/part-00002.parquet (missing), 层级/part-00000.parquet (changed), "
                "结果.csv (changed), 结果/part-00077.parquet (not recorded)" in done.output)
    # found from provenance.json as well, when it is left as the run wrote it
    assert _verify(store, "--out", str(copy)).output == done.output


def test_a_folder_no_run_matches_is_refused_with_what_to_do(recorded, tmp_path) -> None:
    out, store, _ = recorded
    copy = tmp_path / "o"
    shutil.copytree(out, copy)
    about = json.loads((copy / "provenance.json").read_text(encoding="utf-8"))
    (copy / "provenance.json").write_text(json.dumps(about | {"year": 2024}), encoding="utf-8")
    done = _verify(store, "--out", str(copy))
    assert done.exit_code == 3, done.output
    assert "审计库中没有一次记录的运行与" in done.output and "[out-folder-unmatched]" in done.output
    assert "--run RUN_ID" in done.output
    assert _verify(store, "--run", "x").exit_code == 2


def test_a_classify_and_a_select_in_the_same_partitions_each_verify_as_their_own(recorded, tmp_path) -> None:
    """Both runs hold the same register, year, date and part names: each folder is matched to the run that covers
    most of it (the classify's record also lists 汇总.csv …; the select's lists only its parts)."""
    out, store, run_id = recorded
    store = _store_copy(store, tmp_path)
    picked = CliRunner().invoke(main, ["select", str(out.parent / "名录"), "--year", str(YEAR), "--out",
                                       str(tmp_path / "名单"), "--engine", "local", "--workers", "1",
                                       "--partition-size", "9", "--store", str(store)])
    assert picked.exit_code == 1, picked.output
    select_id = _run_id(picked.output)
    done = _each_verifies_as(store, {out: run_id, tmp_path / "名单": select_id})
    assert "汇总.csv 未核对：运行 " + select_id in done.output


def test_two_runs_that_wrote_the_same_bytes_are_told_apart_by_their_out(recorded, tmp_path, monkeypatch) -> None:
    """The same register classified again into another folder (the same parts, byte for byte): each folder is
    reported as the run whose --out it was (the recorded command line, the test's own for the first run)."""
    out, store, run_id = recorded
    copy = _store_copy(store, tmp_path)
    args = ["classify", str(out.parent / "名录"), "--year", str(YEAR), "--out", str(tmp_path / "再一次"), "--engine",
            "local", "--workers", "1", "--partition-size", "9", "--format", "csv", "--store", str(copy)]
    monkeypatch.setattr(sys, "argv", ["tiering", *args])  # what the record keeps as the command line
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1, again.output
    second = _run_id(again.output)
    _each_verifies_as(copy, {out: run_id, tmp_path / "再一次": second})
