"""``classify --engine local|dask``: the run in partitions of firms (tiering.scale), printed as any classify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from tiering.audit.out_folder import FILE, PART
from tiering.cli.common import echo_intake, fail
from tiering.cli.progress import terminal_progress
from tiering.output.overrides import beside_decisions
from tiering.output.trace_file import TRACE_DIR
from tiering.output.workbook import escape_formulas
from tiering.output.write import zh
from tiering.register.stream import file_sha256
from tiering.rules.compile import CompiledRuleSet
from tiering.scale import DEFAULT_PARTITION_SIZE, PartitionedRun, ReadOptions, classify_partitioned
from tiering.scale.local_engine import process_runner
from tiering.scale.merge import merged_parts
from tiering.scale.run import (
    LADDER_FILE,
    REJECTS_FILE,
    RESULTS_DIR,
    STANDING_DIR,
    SUMMARY_FILE,
    WORK_DIR,
    Reduce,
)

ENGINES = ("single", "local", "dask")
PARTITIONED_RUN_FILES = (RESULTS_DIR, STANDING_DIR, TRACE_DIR, SUMMARY_FILE, LADDER_FILE, "provenance.json",
                         REJECTS_FILE, WORK_DIR)
"""What a partitioned run writes into its folder."""


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --partition-size, --scheduler and --workers."""
    for option in reversed([
        click.option("--engine", type=click.Choice(ENGINES), default=None,
                     help="运行引擎（engine）：single 整个名录一次评价（默认）；local 按企业分区在本机的 --workers "
                          "个进程中评价（每个进程占一个分区的内存；--workers 1 则在本进程逐个评价）；dask 把分区交给 "
                          "Dask 集群（本地集群或 --scheduler）。分区运行写出 Parquet 数据集。"),
        click.option("--partition-size", type=click.IntRange(min=1), default=DEFAULT_PARTITION_SIZE,
                     show_default=True, help="每个分区的企业数（partition-size），用于 local 与 dask 引擎。"),
        click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
                     help="已运行的 Dask 调度器地址（scheduler），分区发往该处（即 --engine dask）。"),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="工作进程数（workers）：--engine local 同时评价的分区数；--engine dask 未给 --scheduler "
                          "时所启动本地集群的工作进程数。"),
    ]):
        command = option(command)
    return command


def chosen_engine(engine: str | None, scheduler: str | None) -> str:
    """The engine asked for: --scheduler means dask; exit 2 when it contradicts --engine."""
    if scheduler is not None:
        if engine not in (None, "dask"):
            raise click.UsageError(f"--scheduler 只用于 --engine dask（而不是 {engine}）")
        return "dask"
    return engine or "single"


def engine_format(engine: str, fmt: str, given: bool) -> str:
    """The result format of a run on ``engine``: a partitioned run writes Parquet datasets, and with
    ``--format csv`` also 结果.csv and 层级.csv (in a whole run's row order); xlsx and json are refused (exit 2) when
    asked for, since a national register does not fit a workbook (1,048,576 rows a sheet) nor one JSON text."""
    if engine == "single":
        return fmt
    if not given:
        return "parquet"
    if fmt not in ("parquet", "csv"):
        raise click.UsageError(f"--engine {engine} 写出 Parquet 数据集（结果/、层级/、trace/），不能写 --format {fmt}："
                               "请用 --format parquet（默认）或 csv（另写 结果.csv、层级.csv），或去掉 --engine")
    return fmt


def classify_in_partitions(source: Path, read: ReadOptions, rulesets: list[CompiledRuleSet], year: int, on: dt.date,
                           out: Path, engine: str, partition_size: int, scheduler: str | None,
                           workers: int, reduce: Reduce | None = None) -> PartitionedRun:
    """Run the partitions here or on Dask (progress on a terminal) and return the reduced run (with what
    ``reduce`` gave for each partition, see :func:`tiering.scale.classify_partitioned`). How the register was read
    is printed as a whole read prints it; exit 3 if no row was usable."""
    if engine == "dask":
        from tiering.scale.dask_engine import cluster_slots, dask_runner

        slots = workers if scheduler is None else cluster_slots(scheduler)
        where = f"{scheduler}，{slots} 个工作线程" if scheduler else f"本机 {workers} 个工作进程 local cluster"
        click.echo(f"分区运行 partitioned run on Dask（{where}），每区约 {partition_size} 家企业", err=True)
        runner = dask_runner(scheduler, workers)
    else:
        slots = workers
        where = "this process" if workers == 1 else f"{workers} local processes"
        click.echo(f"分区运行 partitioned run in {where}，每区约 {partition_size} 家企业", err=True)
        runner = process_runner(workers)
    run = classify_partitioned(source, rulesets, year, on, out, partition_size, runner, read, terminal_progress(),
                               reduce, slots)
    echo_intake(run.register)
    if not run.provenance.rows_accepted:
        fail(f"no usable rows in {source} ({run.register.rows_read} read, {run.register.rows_refused} refused)")
    return run


def write_partitioned_extras(run: PartitionedRun, fmt: str, overrides: pd.DataFrame) -> list[Path]:
    """With ``--format csv``, 结果.csv (with the committee's overrides beside the outcomes, as any run's) and
    层级.csv, the parts merged a block at a time into a whole run's row order (the same bytes as a whole run's
    files); returns the list of what the run wrote."""
    out = run.out_dir
    written = [out / RESULTS_DIR, out / STANDING_DIR, out / TRACE_DIR, out / SUMMARY_FILE, out / LADDER_FILE,
               out / "provenance.json"]
    if fmt == "csv":
        rulesets = [rs.id for rs in run.rulesets]
        for name, folder, order in (("结果", RESULTS_DIR, rulesets), ("层级", STANDING_DIR, None)):
            path = out / f"{name}.csv"
            parts = [out / part for part in run.files if part.startswith(f"{folder}/")]
            for k, frame in enumerate(merged_parts(parts, order)):
                if folder == RESULTS_DIR:
                    frame = beside_decisions(frame, overrides)
                # one BOM and one header line at the top: Excel reads the file as one UTF-8 table
                zh(escape_formulas(frame)).to_csv(path, mode="a" if k else "w", header=not k, index=False,
                                                  encoding="utf-8" if k else "utf-8-sig")
            written.append(path)
    if (out / REJECTS_FILE).exists():
        written.append(out / REJECTS_FILE)
    return written


def part_attachments(run: PartitionedRun, written: Sequence[Path] = ()) -> dict[str, str]:
    """Every result, standing and trace part by its SHA-256, and every other file of ``written`` (汇总.csv,
    provenance.json, …), for the run's audit record: the trace is also hashed whole as any run's, the parts' hashes
    let `audit verify` name the part of the stored trace that changed, and `audit verify --out` check the folder."""
    files = {f"{FILE}{path.name}": file_sha256(path) for path in written if path.is_file()}
    return files | {f"{PART}{name}": sha for name, sha in run.files.items()}
