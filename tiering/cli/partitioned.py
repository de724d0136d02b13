"""``classify --engine local|dask``: the run in partitions of firms (tiering.scale), printed as any classify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tiering.output.trace_file import TRACE_DIR
from tiering.output.workbook import escape_formulas
from tiering.register import Register
from tiering.register.refusals import rejects_frame
from tiering.rules.compile import CompiledRuleSet
from tiering.scale import DEFAULT_PARTITION_SIZE, PartitionedRun, classify_partitioned
from tiering.scale.run import LADDER_FILE, RESULTS_DIR, STANDING_DIR, SUMMARY_FILE, run_here

ENGINES = ("single", "local", "dask")


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --partition-size, --scheduler and --workers."""
    for option in reversed([
        click.option("--engine", type=click.Choice(ENGINES), default=None,
                     help="single: the whole register at once (default); local: in partitions of firms, one after "
                          "another in this process (memory of one partition); dask: the partitions on a Dask "
                          "cluster (a local one, or --scheduler). Partitioned runs write Parquet datasets."),
        click.option("--partition-size", type=click.IntRange(min=1), default=DEFAULT_PARTITION_SIZE,
                     show_default=True, help="Firms per partition (local and dask engines)."),
        click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
                     help="A running Dask scheduler to send the partitions to (implies --engine dask)."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                     help="Worker processes of the local Dask cluster started when no --scheduler is given."),
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


def classify_in_partitions(register: Register, rulesets: list[CompiledRuleSet], year: int, on: dt.date,
                           out: Path, engine: str, partition_size: int, scheduler: str | None,
                           workers: int) -> PartitionedRun:
    """Run the partitions here or on Dask and return the reduced run."""
    if engine == "dask":
        from tiering.scale.dask_engine import dask_runner

        where = scheduler or f"本机 {workers} 个工作进程 local cluster"
        click.echo(f"分区运行 partitioned run on Dask（{where}），每区约 {partition_size} 家企业", err=True)
        return classify_partitioned(register, rulesets, year, on, out, partition_size, dask_runner(scheduler, workers))
    click.echo(f"分区运行 partitioned run in this process，每区约 {partition_size} 家企业", err=True)
    return classify_partitioned(register, rulesets, year, on, out, partition_size, run_here)


def write_partitioned_extras(run: PartitionedRun, register: Register) -> list[Path]:
    """The refused rows beside the run (rejects.csv), and the list of what the run wrote."""
    written = [run.out_dir / RESULTS_DIR, run.out_dir / STANDING_DIR, run.out_dir / TRACE_DIR,
               run.out_dir / SUMMARY_FILE, run.out_dir / LADDER_FILE, run.out_dir / "provenance.json"]
    if register.refusals:
        path = run.out_dir / "rejects.csv"
        escape_formulas(rejects_frame(register)).to_csv(path, index=False, encoding="utf-8-sig")
        written.append(path)
    return written


def part_attachments(run: PartitionedRun) -> dict[str, str]:
    """Every result and standing part by its SHA-256, for the run's audit record (the trace parts are hashed
    there as any run's trace)."""
    return {f"part {name}": sha for name, sha in run.files.items() if not name.startswith(f"{TRACE_DIR}/")}
