"""``tiering classify`` and ``tiering template``: the analyst's batch job and its blank register."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from tiering import exit_codes
from tiering.app import Classification
from tiering.app import classify as classify_register
from tiering.audit.db import store_path
from tiering.audit.show import override_table
from tiering.audit.store import new_run_id, record_run
from tiering.cli.common import (
    audit_options,
    echo_head,
    evaluation_purpose,
    header_row,
    load_rules,
    out_folder_options,
    pick_rulesets,
    prepare_out_dir,
    read_usable_register,
    register_options,
    rules_options,
    year_option,
)
from tiering.cli.partitioned import (
    chosen_engine,
    classify_in_partitions,
    engine_format,
    engine_options,
    part_attachments,
    write_partitioned_extras,
)
from tiering.cli.progress import terminal_progress
from tiering.output.overrides import beside_decisions
from tiering.output.provenance import money_lines
from tiering.output.trace_file import TRACE_DIR
from tiering.output.write import FORMATS, write_results
from tiering.register import Register, write_template
from tiering.register.refusals import rejects_frame
from tiering.rules.currency import selection_lines
from tiering.scale import PartitionedRun, ReadOptions
from tiering.scale.run import LADDER_FILE, RESULTS_DIR, STANDING_DIR, WORK_DIR


def _echo_summary(run: Classification | PartitionedRun, written: list[Path]) -> None:
    p = run.provenance
    click.echo(f"读取 {p.rows_read} 行 = 接受 {p.rows_accepted} 行 + 拒收 {p.rows_refused} 行"
               f"  (rows read = rows classified + rows refused)")
    click.echo(f"评价企业 {p.firms_evaluated} 家（{p.year - 1} 年度数据）；"
               f"无 {p.year - 1} 年度数据未评价 {len(p.firms_without_data_year)} 家")
    for line in money_lines(list(p.money_units.values())):
        click.echo(f"  {line}")
    click.echo(f"读取的列 {len(p.columns_mapped)} 列；未使用的列：{'、'.join(p.columns_unused) or '无'}")
    for gap in p.column_gaps:
        click.echo(f"缺列待定 missing column: {gap}")
    click.echo("")
    if p.firms_evaluated == 0:
        click.echo(f"注意 warning: 没有企业有 {p.year - 1} 年度数据，未评价任何企业。申报年度 {p.year} 读上一年度"
                   f"（{p.year - 1}）的数据：请补充 {p.year - 1} 年度的行，或把 --year 设为登记表最新年度加一。")
        click.echo("")
    else:
        table = run.summary.rename(columns={"ruleset_id": "规则集", "program_title": "项目", "qualified": "符合",
                                            "not_qualified": "不符合", "undetermined": "待定", "total": "合计"})
        click.echo(table.to_string(index=False))
        click.echo("")
    for path in written:
        click.echo(f"写出 wrote {path}")


EARLIER_RUN_FILES = (
    TRACE_DIR, "provenance.json", "rejects.csv", "results.xlsx", "results.json",
    *(f"{sheet}.{suffix}" for sheet in ("层级", "结果", "汇总") for suffix in ("csv", "parquet")),
    RESULTS_DIR, STANDING_DIR, LADDER_FILE, WORK_DIR,
)
"""What a classify run writes into its folder (tiering.output.write), removed by --overwrite."""


@click.command("classify")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@year_option()
@out_folder_options("classify")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True,
              help="结果表的格式（format）；完整追溯总是另写为 Parquet 文件夹 trace/。用 --engine local 或 dask 时："
                   "默认为 parquet 数据集，也可加写 csv；不接受 xlsx 与 json。")
@register_options
@rules_options
@audit_options
@engine_options
def classify(register_path: Path, year: int, out_dir: Path | None, overwrite: bool, fmt: str, money_unit: str | None,
             encoding: str | None, sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...],
             eval_date: dt.date | None, programs: tuple[str, ...], purpose: str, certified: int | None,
             audit_store: Path | None, no_audit: bool, engine: str | None, partition_size: int,
             scheduler: str | None, workers: int) -> None:
    """Classify every firm of REGISTER against every program in force, and write the results with their trace.

    REGISTER is a file or a folder of files (e.g. a Parquet dataset partitioned by year).

    Example: tiering classify datasets/sample_register.xlsx --year 2025 --out out/
    """
    out = out_dir or Path("out") / f"classify-{year}"
    engine = chosen_engine(engine, scheduler)
    given = click.get_current_context().get_parameter_source("fmt") is not ParameterSource.DEFAULT
    fmt = engine_format(engine, fmt, given)
    prepare_out_dir(out, overwrite, EARLIER_RUN_FILES)
    library = load_rules(rules_dir)
    why = evaluation_purpose(purpose, certified)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs, why)
    if engine != "single":  # the register is read piece by piece while it is cut, never whole
        click.echo("\n".join(selection_lines(rulesets, why, on)))
        read = ReadOptions(money_unit, encoding, sheet, header_row())
        run = classify_in_partitions(register_path, read, rulesets, year, on, out, engine, partition_size, scheduler,
                                     workers)
        written = write_partitioned_extras(run, fmt, override_table(store_path(audit_store), year))
        _echo_summary(run, written)
        _record(run, audit_store, no_audit, out / TRACE_DIR, attachments=part_attachments(run, written))
        _exit(run, run.register)
    register = read_usable_register(register_path, money_unit, encoding, sheet)
    click.echo("\n".join(selection_lines(rulesets, why, on)))
    run = classify_register(register, rulesets, year, on,
                            progress=terminal_progress())
    store = store_path(audit_store)
    run_id = None if no_audit else new_run_id()
    decisions = beside_decisions(run.results, override_table(store, year))
    sheets = {"层级": run.standing, "结果": decisions, "汇总": run.summary}
    rejects = rejects_frame(register) if register.refusals else None
    about = [("运行编号", run_id or "未记录（--no-audit）"), *run.provenance.rows()]
    written = write_results(out, fmt, sheets, run.evaluation, run.provenance, rejects, about)
    _echo_summary(run, written)
    if run_id is not None:
        trace = next(p for p in written if p.name == TRACE_DIR)
        _record(run, audit_store, no_audit, trace, run_id)
    _exit(run, register)


def _record(run: Classification | PartitionedRun, audit_store: Path | None, no_audit: bool, trace: Path,
            run_id: str | None = None, attachments: dict[str, str] | None = None) -> None:
    """Record the run in the audit store, once, with its trace (unless --no-audit)."""
    if no_audit:
        return
    store = store_path(audit_store)
    run_id = run_id or new_run_id()
    record_run(store, run, sys.argv, attachments, trace_folder=trace, run_id=run_id)
    click.echo(f"审计记录 audit run {run_id} in {store}")
    echo_head(store, run_id)


def _exit(run: Classification | PartitionedRun, register: Register) -> None:
    if run.provenance.column_gaps:
        sys.exit(exit_codes.MISSING_COLUMNS)
    sys.exit(exit_codes.ROWS_REFUSED if register.refusals else exit_codes.OK)


@click.command("template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("tiering_template.xlsx"))
def template(path: Path) -> None:
    """Write an empty Excel register template with every known field, its Chinese label, unit and meaning.

    Example: tiering template 企业名录模板.xlsx
    """
    write_template(path)
    click.echo(f"写出 wrote {path}")
