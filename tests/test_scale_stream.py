"""A partitioned run reads the register piece by piece and still refuses, counts and classifies exactly as a
whole read; a partition that fails ends the run cleanly; --format and progress with an engine."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tiering.app import classify, rules_in_force
from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
from tiering.register.dataset import load_dataset
from tiering.register.refusals import rejects_frame
from tiering.rules.library import load_library
from tiering.scale import ReadOptions, classify_partitioned
from tiering.scale.buckets import ARROW, PICKLED, bucket_register, read_partition
from tiering.scale.local_engine import process_runner
from tiering.scale.run import CUTTING, PARTITIONS, REJECTS_FILE, RESULTS_DIR, WORK_DIR
from tiering.scale.runner import map_here

YEAR = 2025
PIECES = ReadOptions(piece_bytes=3000, piece_rows=40)
"""Pieces of a few dozen rows, so that a small register is read in many."""


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> pd.DataFrame:
    """A generated register as analysts' files hold it (Chinese headers with units)."""
    path = tmp_path_factory.mktemp("gen") / "g.parquet"
    return pd.read_parquet(write_register(generate_panel(60, (2021, 2024), seed=11).panel, path))


@pytest.fixture(scope="module")
def rules():
    return rules_in_force(load_library(), YEAR)


@pytest.fixture(scope="module")
def messy(panel: pd.DataFrame, tmp_path_factory) -> Path:
    """A CSV shaped the way analysts' exports go wrong: a title row, a 合计 line in the middle, a remark under the
    table, a firm-year repeated far apart, a line with an unquoted comma, a code typed in lower case with a
    space, and a bad number."""
    lines = panel.to_csv(index=False).splitlines()
    header, body = lines[0], lines[1:]
    body[150] = body[3]
    body[20] = body[20].replace(",", ",,", 1) + ",x"
    code = body[30].split(",")[0]
    body[30] = body[30].replace(code, f" {code.lower()}", 1)
    cells = body[40].split(",")
    cells[-1] = "abc"
    body[40] = ",".join(cells)
    rows = ["2024年 企业名录（测试）", header, *body[:100], "合计,,,", *body[100:], "注：数据来源 测试"]
    path = tmp_path_factory.mktemp("messy") / "名录.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_read_in_pieces_the_register_is_refused_counted_and_classified_as_a_whole(messy, rules, tmp_path) -> None:
    whole = load_register(messy)
    assert whole.refusals, "the messy register must refuse rows"
    run = classify_partitioned(messy, rules[0], YEAR, rules[1], tmp_path, partition_size=25, read=PIECES)
    assert run.partitions >= 2
    assert sorted(r.message() for r in run.register.refusals) == sorted(r.message() for r in whole.refusals)
    p = run.provenance
    assert (p.rows_read, p.rows_accepted, p.rows_refused) == (whole.rows_read, len(whole.frame), whole.rows_refused)
    assert p.rows_read == p.rows_accepted + p.rows_refused
    assert run.register.sha256 == whole.sha256
    assert run.register.notes == whole.notes  # title, 合计 and remark rows found as a whole read finds them
    single = classify(whole, rules[0], YEAR, rules[1])
    keys = ["uscc", "ruleset_id"]
    got = pd.read_parquet(tmp_path / RESULTS_DIR).sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, single.results.sort_values(keys).reset_index(drop=True), check_dtype=False,
                                  check_categorical=False)
    rejects = pd.read_csv(tmp_path / REJECTS_FILE, dtype=str, keep_default_na=False)
    expected = rejects_frame(whole).astype(str).replace("nan", "")
    order = ["行号", "列"]
    assert rejects[order].sort_values(order).values.tolist() == expected[order].sort_values(order).values.tolist()
    assert not (tmp_path / WORK_DIR).exists()


def test_a_folder_read_in_pieces_finds_a_firm_year_in_two_files(panel, rules, tmp_path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    panel[panel["年度"] <= 2022].to_csv(folder / "a.csv", index=False)
    panel[panel["年度"] >= 2022].to_parquet(folder / "b.parquet")  # its pandas index is written beside the columns
    whole = load_dataset(folder)
    assert whole.refusals
    run = classify_partitioned(folder, rules[0], YEAR, rules[1], tmp_path / "out", partition_size=25, read=PIECES)
    assert sorted(r.message() for r in run.register.refusals) == sorted(r.message() for r in whole.refusals)
    assert run.register.sha256 == whole.sha256
    p = run.provenance
    assert (p.rows_read, p.rows_accepted, p.rows_refused) == (whole.rows_read, len(whole.frame), whole.rows_refused)


def test_a_parquet_file_is_cut_by_two_workers_a_run_of_row_groups_each(panel, rules, tmp_path) -> None:
    path = tmp_path / "g.parquet"
    repeated = pd.concat([panel, panel.iloc[[5]]], ignore_index=True)  # a firm-year of the first row group, again
    repeated.to_parquet(path, index=False, row_group_size=50)  # in the last
    whole = load_register(path)
    assert whole.refusals
    heard: list[tuple[str, int, int]] = []
    run = classify_partitioned(path, rules[0], YEAR, rules[1], tmp_path / "out", partition_size=25, read=PIECES,
                               runner=process_runner(2), progress=lambda step, done, total: heard.append(
                                   (step, done, total)), slots=2)
    groups = pq.ParquetFile(path).num_row_groups
    assert groups >= 4 and [(d, t) for s, d, t in heard if s == CUTTING] == [(k, groups) for k in range(groups + 1)]
    assert sorted(r.message() for r in run.register.refusals) == sorted(r.message() for r in whole.refusals)
    assert run.register.sha256 == whole.sha256
    p = run.provenance
    assert (p.rows_read, p.rows_accepted, p.rows_refused) == (whole.rows_read, len(whole.frame), whole.rows_refused)
    single = classify(whole, rules[0], YEAR, rules[1])
    keys = ["uscc", "ruleset_id"]
    got = pd.read_parquet(tmp_path / "out" / RESULTS_DIR).sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, single.results.sort_values(keys).reset_index(drop=True), check_dtype=False,
                                  check_categorical=False)


def test_spills_are_arrow_when_arrow_holds_the_columns_else_pickles(panel, messy, tmp_path) -> None:
    path = tmp_path / "g.parquet"
    panel.to_parquet(path, index=False)
    for register, kept in ((path, {ARROW}), (messy, {ARROW, PICKLED})):  # a piece with a flagged line: pickled
        work = tmp_path / register.suffix
        cut = bucket_register(register, work, 25, PIECES, map_here)
        spills = sorted(work.glob("*.spill"))
        assert spills and {s.read_bytes()[8:9] for s in spills} == kept
        whole = load_register(register)
        back = [read_partition(p, register).register for p in cut.partitions]
        assert sum(len(r.frame) for r in back) == len(whole.frame)
        assert sorted(r.message() for b in back for r in b.refusals) == sorted(r.message() for r in whole.refusals)
        got = pd.concat([r.frame for r in back]).sort_values(["uscc", "year"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, whole.frame.sort_values(["uscc", "year"]).reset_index(drop=True))


def test_progress_hears_of_the_cutting_and_of_every_partition(panel, rules, tmp_path) -> None:
    path = tmp_path / "g.parquet"
    panel.to_parquet(path, index=False)
    heard: list[tuple[str, int, int]] = []
    run = classify_partitioned(path, rules[0], YEAR, rules[1], tmp_path / "out", partition_size=25,
                               progress=lambda step, done, total: heard.append((step, done, total)))
    assert heard[:2] == [(CUTTING, 0, 1), (CUTTING, 1, 1)]
    done = [d for step, d, total in heard if step == PARTITIONS]
    assert done == list(range(run.partitions + 1))


def test_a_failing_partition_ends_the_run_cleanly_with_nothing_recorded(panel, tmp_path, monkeypatch) -> None:
    import tiering.scale.run as scale_run

    path = tmp_path / "g.parquet"
    panel.to_parquet(path, index=False)
    real = scale_run.classify
    calls = []

    def second_fails(register, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("磁盘已满 (simulated)")
        return real(register, *args, **kwargs)

    monkeypatch.setattr(scale_run, "classify", second_fails)  # in this process: one worker, this one
    store, out = tmp_path / "audit.sqlite", tmp_path / "out"
    done = CliRunner().invoke(main, ["classify", str(path), "--year", str(YEAR), "--out", str(out), "--engine",
                                     "local", "--workers", "1", "--partition-size", "25", "--store", str(store)])
    assert done.exit_code == 6, done.output
    assert re.search(r"分区 \d+ 评价失败：OSError: 磁盘已满 \(simulated\) \[partition-failed\]", done.output)
    assert "审计库中没有这次运行" in done.output
    assert not store.exists()
    assert not (out / RESULTS_DIR).exists() and not (out / WORK_DIR).exists()
    assert "审计记录" not in done.output


def test_format_with_an_engine_csv_is_written_and_xlsx_refused(panel, tmp_path) -> None:
    path = tmp_path / "g.parquet"
    panel.to_parquet(path, index=False)
    base = ["classify", str(path), "--year", str(YEAR), "--no-audit"]
    refused = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "x"), "--engine", "local", "--format", "xlsx"])
    assert refused.exit_code == 2
    assert "不能写 --format xlsx" in refused.output
    single = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "a"), "--format", "csv"])
    parts = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "b"), "--format", "csv", "--engine", "local",
                                      "--partition-size", "25"])
    assert single.exit_code == parts.exit_code == 0, parts.output
    for name in ("结果.csv", "层级.csv"):
        a = pd.read_csv(tmp_path / "a" / name, dtype=str)
        b = pd.read_csv(tmp_path / "b" / name, dtype=str)
        assert list(a.columns) == list(b.columns)
        keys = list(a.columns[:2])
        pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True),
                                      b.sort_values(keys).reset_index(drop=True))
    assert (tmp_path / "b" / "结果.csv").read_bytes().count(b"\xef\xbb\xbf") == 1


def test_report_select_and_targets_work_on_a_partitioned_runs_register_folder(panel, tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "reg"
    frame = panel.rename(columns={"年度": "year"})
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), folder, partition_cols=["year"])
    store = tmp_path / "audit.sqlite"
    classified = CliRunner().invoke(main, ["classify", str(folder), "--year", str(YEAR), "--program", "tj_cy",
                                           "--out", str(tmp_path / "c"), "--engine", "local", "--partition-size",
                                           "25", "--store", str(store)])
    assert classified.exit_code == 0, classified.output
    run_id = classified.output.split("审计记录 audit run ")[1].split()[0]
    counts = pd.read_csv(tmp_path / "c" / "汇总.csv")
    report = CliRunner().invoke(main, ["report", run_id, "--register", str(folder), "--store", str(store),
                                       "--out", str(tmp_path / "r"), "--no-selection"])
    assert report.exit_code == 0, report.output
    assert f"报告依据审计记录 {run_id}" in report.output
    summary = pd.read_excel(tmp_path / "r" / "report.xlsx", sheet_name="汇总")
    assert summary.iloc[0, 0] == "tj-cy-2021"
    assert int(counts["符合（家）"].iloc[0]) in summary.iloc[0].tolist()
    chosen = CliRunner().invoke(main, ["select", str(folder), "--year", str(YEAR), "--n", "10", "--out",
                                       str(tmp_path / "s"), "--no-audit"])
    assert chosen.exit_code == 0, chosen.output
    assert (tmp_path / "s" / "cultivation_list.xlsx").exists()
    plan = Path(__file__).resolve().parents[1] / "rules" / "plans" / "dongli-kjxzxqy-2011.yaml"
    tracked = CliRunner().invoke(main, ["targets", str(folder), "--plan", str(plan), "--year", "2024"])
    assert tracked.exit_code == 0, tracked.output
