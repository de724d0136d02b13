"""A register kept as a folder of parts: a Parquet dataset partitioned by year, or several files side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
from tiering.register.dataset import load_dataset


@pytest.fixture(scope="module")
def register_file(tmp_path_factory) -> Path:
    return write_register(generate_panel(120, (2021, 2024), seed=5).panel,
                          tmp_path_factory.mktemp("reg") / "g.parquet")


def _by_year(register_file: Path, folder: Path) -> Path:
    """The register written as a dataset partitioned by year (the year only in the folder names)."""
    frame = pd.read_parquet(register_file).rename(columns={"年度": "year"})
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), folder, partition_cols=["year"])
    return folder


def test_a_dataset_partitioned_by_year_classifies_like_the_single_file(register_file: Path, tmp_path: Path) -> None:
    folder = _by_year(register_file, tmp_path / "ds")
    assert len(list(folder.glob("year=*/*.parquet"))) == 4
    single = CliRunner().invoke(main, ["classify", str(register_file), "--year", "2025", "--out",
                                       str(tmp_path / "a"), "--format", "csv", "--no-audit"])
    parts = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / "b"),
                                      "--format", "csv", "--no-audit"])
    assert single.exit_code == parts.exit_code == 0, parts.output
    rows = len(pd.read_parquet(register_file))
    assert f"读取 {rows} 行 = 接受 {rows} 行 + 拒收 0 行" in parts.output
    for name in ("结果.csv", "层级.csv", "汇总.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "trace"), pd.read_parquet(tmp_path / "b" / "trace"))


def test_a_firm_year_in_two_files_is_refused_in_both(register_file: Path, tmp_path: Path) -> None:
    frame = pd.read_parquet(register_file)
    folder = tmp_path / "parts"
    folder.mkdir()
    early, late = frame[frame["年度"] <= 2022], frame[frame["年度"] >= 2022]  # 2022 is in both files
    early.to_csv(folder / "a.csv", index=False)
    late.to_parquet(folder / "b.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    register = load_dataset(folder)
    twice = int((frame["年度"] == 2022).sum())
    assert register.rows_read == len(early) + len(late)
    assert register.rows_refused == 2 * twice
    assert len(register.frame) + register.rows_refused == register.rows_read
    assert set(register.frame["year"]) == {2021, 2023, 2024}
    first = frame[frame["年度"] == 2022].iloc[0]
    mine = [r for r in register.refusals if r.value == first["统一社会信用代码"]]
    assert {r.file for r in mine} == {"a.csv", "b.parquet"}
    in_a = next(r for r in mine if r.file == "a.csv")
    assert in_a.reason.startswith("同一企业同一年度（2022）出现在多个文件中：另见 b.parquet 第 ")
    # each part on its own is clean: the repeat is only seen across the folder
    assert not load_register(folder / "b.parquet").refusals


def test_a_folder_read_whole_keeps_the_refused_rows_cells_as_a_partitioned_run(register_file: Path,
                                                                               tmp_path: Path) -> None:
    """rejects.csv of a firm-year found in two files: the reasons and the original cells of each refused row, the
    same whether the folder is read whole or partition by partition."""
    frame = pd.read_parquet(register_file)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame[frame["年度"] <= 2022].to_csv(folder / "a.csv", index=False)
    frame[frame["年度"] >= 2022].to_parquet(folder / "b.parquet", index=False)
    tables = {}
    for name, engine in (("whole", []), ("local", ["--engine", "local", "--workers", "1", "--partition-size", "40"])):
        done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / name),
                                         "--format", "csv", "--no-audit", *engine])
        assert done.exit_code == 1, done.output
        table = pd.read_csv(tmp_path / name / "rejects.csv", dtype=str, keep_default_na=False)
        tables[name] = table.sort_values(["文件", "行号"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(tables["whole"], tables["local"])
    whole = tables["whole"]
    twice = frame[frame["年度"] == 2022]
    assert len(whole) == 2 * len(twice)
    first = twice.iloc[0]
    rows = whole[whole["值"] == first["统一社会信用代码"]]
    assert set(rows["文件"]) == {"a.csv", "b.parquet"}
    assert set(rows["企业名称"]) == {first["企业名称"]} and set(rows["年度"]) == {"2022"}


def test_a_folder_without_register_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    result = CliRunner().invoke(main, ["classify", str(tmp_path), "--year", "2025", "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "中没有名录文件" in result.output


@pytest.mark.parametrize("engine", [[], ["--engine", "local", "--workers", "1", "--partition-size", "40"]])
def test_what_a_desktop_leaves_in_a_register_folder_is_not_a_part(register_file: Path, tmp_path: Path,
                                                                  engine: list[str]) -> None:
    """Excel's owner file of an open workbook (``~$名录.xlsx``, a few bytes, no rows), macOS's ``.DS_Store`` and a
    read-me are not register files: the folder reads as its registers alone."""
    folder = tmp_path / "名录"
    folder.mkdir()
    frame = pd.read_parquet(register_file)
    frame[frame["年度"] <= 2022].to_csv(folder / "名录_早.csv", index=False, encoding="gbk")
    frame[frame["年度"] > 2022].to_excel(folder / "名录_近.xlsx", index=False)
    (folder / "~$名录_近.xlsx").write_bytes(b"\x0bAnalyst   " + b"\x00" * 150)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "README.txt").write_text("2021–2024 年名录", encoding="utf-8")
    done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / "o"),
                                     "--format", "csv", "--no-audit", *engine])
    assert done.exit_code == 0, done.output
    assert f"读取 {len(frame)} 行 = 接受 {len(frame)} 行 + 拒收 0 行" in done.output
    assert "~$" not in done.output


def test_a_blank_file_and_a_header_only_file_in_a_folder_are_named_and_the_run_goes_on(register_file: Path,
                                                                                           tmp_path: Path) -> None:
    """A failed export (0 bytes, or a byte-order mark and a line break) and a file with its header alone: the
    run goes on with the other files, each named in the notes on stderr and in provenance.json, the same notes
    whole and in partitions (a partition without the header-only file's rows used to add a second, other count
    of the folder's files)."""
    folder = tmp_path / "名录 2024"
    folder.mkdir()
    frame = pd.read_parquet(register_file)
    frame.to_csv(folder / "a.csv", index=False)
    (folder / "b.csv").write_bytes(b"")
    (folder / "c.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    frame.iloc[:0].to_csv(folder / "d.csv", index=False)
    notes = [f"读入文件夹 {folder} 的 2 个文件",
             "b.csv：是空文件（没有表头，也没有数据行），未读入；若应有数据，请重新导出",
             "c.csv：是空文件（没有表头，也没有数据行），未读入；若应有数据，请重新导出",
             "d.csv：只有表头，没有数据行（0 个企业年度）"]
    for name, engine in (("whole", []), ("parts", ["--engine", "local", "--workers", "1", "--partition-size", "7"])):
        done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / name),
                                         "--no-audit", *engine])
        assert done.exit_code == 0, done.output
        assert f"读取 {len(frame)} 行 = 接受 {len(frame)} 行 + 拒收 0 行" in done.output
        assert [line.removeprefix("读表 note: ") for line in done.output.splitlines()
                if line.startswith("读表 note: ")] == notes, name
        provenance = json.loads((tmp_path / name / "provenance.json").read_text(encoding="utf-8"))
        assert provenance["intake_notes"] == notes, name


def test_a_runs_output_folder_inside_the_register_folder_is_left_out_and_named(register_file: Path,
                                                                              tmp_path: Path) -> None:
    """--out inside the register folder (a path with spaces and Chinese characters): the next run of the folder
    does not read the first run's 结果.csv, rejects.csv or Parquet parts as register files (it stopped with exit 3
    on trace/part-00000.parquet) but names the folder it leaves out, whole and in partitions."""
    folder = tmp_path / "登记 表 2024"
    folder.mkdir()
    frame = pd.read_parquet(register_file)
    frame.to_csv(folder / "a.csv", index=False)
    local = ["--engine", "local", "--workers", "1", "--partition-size", "40"]
    args = ["classify", str(folder), "--year", "2025", "--format", "csv", "--no-audit"]
    first = CliRunner().invoke(main, [*args, "--out", str(folder / "输出 一"), *local])
    assert first.exit_code == 0, first.output
    assert (folder / "输出 一" / "trace" / "part-00000.parquet").is_file()
    for name, engine in (("输出 二", []), ("输出 三", local)):
        done = CliRunner().invoke(main, [*args, "--out", str(folder / name), *engine])
        assert done.exit_code == 0, done.output
        assert f"读取 {len(frame)} 行 = 接受 {len(frame)} 行 + 拒收 0 行" in done.output
        assert "读表 note: 输出 一/：是一次运行的输出文件夹（其中有 provenance.json），未作为名录读入" in done.output
    assert (folder / "输出 二" / "结果.csv").read_bytes() == (folder / "输出 三" / "结果.csv").read_bytes()


def test_files_whose_headers_differ_say_and_refuse_the_same_whole_and_in_partitions(register_file: Path,
                                                                                    tmp_path: Path) -> None:
    """Two files side by side, the second with its columns reversed and a column no field knows: the warning on
    that column is said once, naming the file, as a whole read says it (partitioned runs also said it a second
    time without the file), and rejects.csv has the same columns in the same order."""
    folder = tmp_path / "名录"
    folder.mkdir()
    frame = pd.read_parquet(register_file).astype(str)
    frame.loc[3, "统一社会信用代码"] = "BAD"
    frame.iloc[:200].to_csv(folder / "a.csv", index=False)
    later = frame.iloc[200:].copy()
    later.loc[later.index[4], "年度"] = "二〇二三x"
    later[list(reversed(later.columns))].assign(备注="x").to_csv(folder / "b.csv", index=False)
    said, rejects = {}, {}
    for name, engine in (("whole", []), ("parts", ["--engine", "local", "--workers", "1", "--partition-size", "9"])):
        done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / name),
                                         "--no-audit", *engine])
        assert done.exit_code == 1, done.output
        said[name] = [line for line in done.output.splitlines() if line.startswith(("提示 warning", "读表 note"))]
        rejects[name] = pd.read_csv(tmp_path / name / "rejects.csv", dtype=str)
    assert said["parts"] == said["whole"]
    assert [line for line in said["whole"] if "备注" in line] == ['提示 warning: b.csv：列 "备注" 不是已知字段，已忽略']
    assert list(rejects["parts"].columns) == list(rejects["whole"].columns)
    assert list(rejects["whole"].columns[-2:]) == [frame.columns[-1], "备注"]
    assert len(rejects["whole"]) == 2


def test_rejects_are_listed_file_by_file_sheet_by_sheet_row_by_row_whole_and_in_partitions(register_file: Path,
                                                                                          tmp_path: Path) -> None:
    """A workbook of year sheets with refused rows in its later sheets at lower rows than in the first, and a CSV
    file holding one of its firm-years again: rejects.csv is the same file whole and in partitions, in the
    workbook's sheet order (partitioned runs interleaved the sheets by row number) and with the firm-year found
    in two files where its rows are (a whole read listed those last), each naming the other's sheet and row
    (the whole read stopped with a traceback, a partitioned run with exit 6: the repeat had no sheet)."""
    folder = tmp_path / "名录"
    folder.mkdir()
    frame = pd.read_parquet(register_file).astype(str)
    frame.loc[frame.index[frame["年度"] == "2024"][0], "统一社会信用代码"] = "BAD1"
    frame.loc[frame.index[frame["年度"] == "2021"][40], "统一社会信用代码"] = "BAD2"
    with pd.ExcelWriter(folder / "a.xlsx") as book:
        for year, rows in frame.groupby("年度"):
            rows.to_excel(book, sheet_name=year, index=False)
    frame[frame["年度"] == "2023"].iloc[[7]].to_csv(folder / "b.csv", index=False)
    for name, engine in (("whole", []), ("parts", ["--engine", "local", "--workers", "1", "--partition-size", "9"])):
        done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / name),
                                         "--no-audit", *engine])
        assert done.exit_code == 1, done.output
    whole = (tmp_path / "whole" / "rejects.csv").read_bytes()
    assert (tmp_path / "parts" / "rejects.csv").read_bytes() == whole
    rejects = pd.read_csv(tmp_path / "whole" / "rejects.csv", dtype=str)
    assert rejects[["文件", "工作表"]].fillna("").agg(" ".join, axis=1).tolist() == [
        "a.xlsx 2021", "a.xlsx 2023", "a.xlsx 2024", "b.csv "]
    assert rejects["值"].tolist()[::2] == ["BAD2", "BAD1"]
    assert rejects["原因"].iloc[3].endswith("另见 a.xlsx 工作表“2023”第 9 行")


def test_audit_replay_takes_the_register_folder_of_a_partitioned_run(register_file: Path, tmp_path: Path) -> None:
    """The auditor replays a run made on a register folder from that folder (it was refused: 'is a directory',
    exit 2); a changed cell of one of its files makes the replay fail (exit 4)."""
    folder = _by_year(register_file, tmp_path / "名录 按年")
    store = tmp_path / "audit.sqlite"
    done = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / "o"),
                                     "--engine", "local", "--workers", "1", "--partition-size", "40", "--store",
                                     str(store)])
    assert done.exit_code == 0, done.output
    run_id = next(line.split()[3] for line in done.output.splitlines() if line.startswith("审计记录 audit run"))
    replay = CliRunner().invoke(main, ["audit", "replay", str(folder), run_id, "--store", str(store)])
    assert replay.exit_code == 0, replay.output
    assert "结果完全一致 identical" in replay.output
    part = next(folder.glob("year=2024/*.parquet"))
    table = pd.read_parquet(part)
    table.loc[0, "销售收入(万元)"] = 1.0
    table.to_parquet(part, index=False)
    assert CliRunner().invoke(main, ["audit", "replay", str(folder), run_id, "--store", str(store)]).exit_code == 4


def test_explain_firm_after_firm_of_a_register_folder_reads_it_once(register_file: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    """The folder read once goes to the register cache as a file does: the next firms are looked up in it without
    reading the folder again (it was read whole for every firm); a file of the folder changed is read afresh."""
    from tiering.register import dataset

    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    folder = _by_year(register_file, tmp_path / "ds")
    firms = pd.read_parquet(register_file).drop_duplicates("统一社会信用代码")["统一社会信用代码"].astype(str)
    first = CliRunner().invoke(main, ["explain", str(folder), firms.iloc[0], "--year", "2025"])
    assert first.exit_code == 0, first.output
    reads = []
    load = dataset.load_dataset
    monkeypatch.setattr(dataset, "load_dataset", lambda *a, **k: reads.append(a) or load(*a, **k))
    for firm in firms.iloc[:3]:
        done = CliRunner().invoke(main, ["explain", str(folder), firm, "--year", "2025"])
        assert done.exit_code == 0, done.output
        assert f"（{firm}）  申报年度：2025" in done.output
    again = CliRunner().invoke(main, ["explain", str(folder), firms.iloc[0], "--year", "2025"])
    assert again.output == first.output and reads == []
    (folder / "说明.txt").write_text("2021–2024 年名录", encoding="utf-8")
    again = CliRunner().invoke(main, ["explain", str(folder), firms.iloc[0], "--year", "2025"])
    assert len(reads) == 1 and again.output == first.output  # a changed folder is read again


def test_a_folder_of_blank_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"")
    result = CliRunner().invoke(main, ["classify", str(tmp_path), "--year", "2025", "--out", str(tmp_path / "o")])
    assert result.exit_code == 3, result.output
    assert "都是空文件（0 字节）" in result.output


def test_explain_reads_a_register_folder_and_finds_its_partitioned_run(register_file: Path, tmp_path: Path) -> None:
    folder = _by_year(register_file, tmp_path / "ds")
    store = tmp_path / "audit.sqlite"
    classified = CliRunner().invoke(main, ["classify", str(folder), "--year", "2025", "--out", str(tmp_path / "c"),
                                           "--engine", "local", "--workers", "1", "--partition-size", "40",
                                           "--store", str(store)])
    assert classified.exit_code == 0, classified.output
    run_id = classified.output.split("审计记录 audit run ")[1].split()[0]
    firm = str(pd.read_parquet(register_file)["统一社会信用代码"].iloc[0])
    explained = {}
    for name, register in (("folder", folder), ("file", register_file)):
        done = CliRunner().invoke(main, ["explain", str(register), firm, "--year", "2025", "--store", str(store)])
        assert done.exit_code == 0, done.output
        explained[name] = done.output
    assert f"运行编号 run：{run_id}（审计库中同一名录、同一规则版本的最近一次运行）" in explained["folder"]
    details = [text.split("—— 逐条说明 details ——")[1] for text in explained.values()]
    assert details[0] == details[1] and firm in explained["folder"]
