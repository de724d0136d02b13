"""``tiering report``: the bureau's workbook, the HTML report with charts, and printable per-firm pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering import exit_codes
from tiering.app.selection import DEFAULT_POLICY, selection_inputs
from tiering.audit.db import store_path
from tiering.audit.lists import decided_list
from tiering.cli.common import (
    evaluation_purpose,
    fail,
    header_row,
    load_rules,
    out_folder_options,
    parse_pins,
    pick_rulesets,
    prepare_out_dir,
    read_register,
    register_options,
    rules_options,
    year_option,
)
from tiering.cli.partitioned import PARTITIONED_RUN_FILES, chosen_engine, classify_in_partitions, engine_options
from tiering.cli.progress import terminal_progress
from tiering.register import Register
from tiering.report.data import (
    DEFAULT_INDICATORS,
    ReportData,
    ReportReduce,
    build_report_data,
    previous_rules,
    report_from_parts,
)
from tiering.report.from_run import RecordedRun, recorded_run
from tiering.report.write import WRITTEN as REPORT_FILES
from tiering.report.write import write_briefs, write_report
from tiering.rules.compile import CompiledRuleSet
from tiering.scale import ReadOptions
from tiering.targets import load_plan, track_plan

MAX_AUTO_FIRM_PAGES = 100


def _indicators(specs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not specs:
        return DEFAULT_INDICATORS
    out = []
    for spec in specs:
        if ":" not in spec:
            fail(f"--indicator takes PROGRAM:CRITERION_ID, e.g. gxjsqy:c4_staff; got '{spec}'", exit_codes.USAGE)
        program, criterion = spec.split(":", 1)
        out.append((program, criterion))
    return tuple(out)


def _register_source(source: str, year: int | None) -> Path | None:
    """``source`` as a register (a file, or a folder of files such as a Parquet dataset), None when it names no
    file or folder (then it is a run id). Exit 2 without --year, and for a run's output folder, which is not a
    register."""
    path = Path(source)
    if not path.exists():
        return None
    if path.is_dir() and (path / "provenance.json").is_file():
        fail(f"{path} 是一次运行的输出文件夹（有 provenance.json），不是名录：报告那次运行请用 tiering report 运行号 "
             "--register 它评价的名录；报告名录请给名录文件或名录文件夹（the folder is a run's output, not a "
             "register）", exit_codes.USAGE, hint="运行号见 classify 输出的“审计记录 audit run”一行")
    if year is None:
        fail("--year is required when reporting on a register, e.g. --year 2025", exit_codes.USAGE)
    return path


def _recorded(run_id: str, register_path: Path | None, store: Path | None, year: int | None) -> RecordedRun:
    """Recorded run ``run_id`` (its rule sets, year and date), given with the register it classified."""
    if register_path is None:
        fail(f"'{run_id}' 不是文件或文件夹，按审计运行号读取：请用 --register 给出那次运行评价的名录"
             f"（审计库只存决定与追溯，不存名录数据）；'{run_id}' is not a file or folder, so it is read as an audit "
             "run id; give the register that run classified with --register FILE", exit_codes.USAGE)
    run = recorded_run(store_path(store), run_id)
    if year is not None and year != run.year:
        fail(f"run {run_id} classified application year {run.year}, not --year {year}; drop --year", exit_codes.USAGE)
    return run


def _check_register(run: RecordedRun, register_path: Path, sha256: str) -> str:
    """A note naming the run, once ``register_path`` (of SHA-256 ``sha256``) is the register it classified."""
    if sha256 != run.input_sha256:
        fail(f"{register_path} is not the file run {run.run_id} classified: SHA-256 {sha256[:16]}… ≠ recorded "
             f"{run.input_sha256[:16]}… ({run.input_file}); use that file, or report on today's data without a run id")
    return f"报告依据审计记录 {run.run_id}：规则版本 {'、'.join(r.id for r in run.rulesets)}，评价日期 {run.eval_date}"


def _from_run(run_id: str, register_path: Path | None, store: Path | None, year: int | None,
              read: tuple[str | None, str | None, str | None]) -> tuple[Register, list[CompiledRuleSet], int, dt.date,
                                                                       str]:
    """Register, rule sets, year and date of recorded run ``run_id``, with a note naming the run."""
    run = _recorded(run_id, register_path, store, year)
    assert register_path is not None
    register = read_register(register_path, *read)
    note = _check_register(run, register_path, register.sha256)
    return register, run.rulesets, run.year, run.eval_date, note


@click.command("report")
@click.argument("source", metavar="REGISTER|RUN_ID")
@year_option(required=False, note="；给出名录 REGISTER 时必填")
@click.option("--register", "run_register", type=click.Path(exists=True, dir_okay=True, path_type=Path), default=None,
              help="名录（register）：与 RUN_ID 一起用，该次运行评价的名录。"
                   "With a RUN_ID: the register (file or folder) that run classified (checked by its SHA-256).")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="审计库（store）。"
                   "The audit store: a RUN_ID's run, and the committee's decisions on the year's list shown beside the "
                   "cultivation list (default: $TIERING_AUDIT_STORE, else out/audit.sqlite).")
@out_folder_options("report")
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="计划文件（plan）：同时跟踪该计划的目标。"
                   "Also track this plan's targets, e.g. rules/plans/dongli-kjxzxqy-2011.yaml.")
@click.option("--plan-year", "plan_years", type=int, multiple=True,
              help="计划年度（plan-year）：按计划计数的年度。"
                   "Years counted against the plan (default: the plan's years in the register).")
@click.option("--firm", "firms", multiple=True,
              help="企业（firm）：为这家企业写打印页，可重复。"
                   "Write a printable page for this firm (统一社会信用代码); repeatable. Default: every firm, "
                   f"when there are at most {MAX_AUTO_FIRM_PAGES}.")
@click.option("--all-firms", is_flag=True, help="全部企业（all-firms）：为每家被评价的企业写打印页。")
@click.option("--indicator", "indicators", multiple=True, metavar="PROGRAM:CRITERION_ID",
              help="指标（indicator）：画出该条件的分布及其阈值，可重复。"
                   "Chart this criterion's distribution against its threshold; repeatable "
                   "(default: 高企 科技人员占比, 研发费用占比, 高新收入占比 and 小巨人 销售收入).")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEFAULT_POLICY, show_default=True, help="遴选政策（policy）：培育名单工作表所用的政策。")
@click.option("--n", "count", type=int, default=None, help="培育名单企业数（n），默认取政策中的数。")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="成长模型卡（model）。"
                   "Growth model card, as given to `tiering select`: the cultivation list is then the same list.")
@click.option("--cultivated", "cultivated_paths", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="往年已培育企业（cultivated），与 tiering select 相同，可重复。")
@click.option("--no-selection", is_flag=True, help="不含培育名单（no-selection）。")
@click.option("--briefs", is_flag=True, help="简报（briefs）：为培育名单上每家企业另写一页 PDF 简报。"
                                             "Also write a one-page PDF brief per firm on the cultivation list "
                                              "(briefs/NN_统一社会信用代码.pdf).")
@register_options
@rules_options
@engine_options
def report(source: str, year: int | None, run_register: Path | None, store: Path | None, out_dir: Path | None,
           overwrite: bool,
           plan_path: Path | None, plan_years: tuple[int, ...], firms: tuple[str, ...], all_firms: bool,
           indicators: tuple[str, ...], policy_path: Path, count: int | None, model_path: Path | None,
           cultivated_paths: tuple[Path, ...], no_selection: bool, briefs: bool,
           money_unit: str | None, encoding: str | None, sheet: str | None, rules_dir: Path | None,
           pins: tuple[str, ...], eval_date: dt.date | None, programs: tuple[str, ...], purpose: str,
           certified: int | None, engine: str | None, partition_size: int, scheduler: str | None,
           workers: int) -> None:
    """Write report.xlsx, report.html and firms/<统一社会信用代码>.html for one application year.

    SOURCE is a register file or folder (classified now with the rules in force), or the id of a run recorded by
    `tiering classify` (its exact rule versions, year and date; give the same register with --register).

    Examples: tiering report datasets/generated/panel_s42.csv --year 2025 --out out/report-2025
    --plan rules/plans/dongli-kjxzxqy-2011.yaml --plan-year 2015 --plan-year 2024;
    tiering report RUN_ID --register datasets/generated/panel_s42.csv --out out/report-run

    With --engine local or dask the register is classified in partitions of whole firms (its Parquet parts written
    into --out): the counts, pyramid, transitions, indicator distributions and cultivation list are reduced from
    the partitions and equal a whole report's, while memory holds one partition; the per-firm tables stay in the
    parts (no per-program, 尚缺 or 追溯 sheets, no firm pages), and --plan is left to tiering targets.
    """
    engine = chosen_engine(engine, scheduler)
    written_here = REPORT_FILES + (PARTITIONED_RUN_FILES if engine != "single" else ())
    if out_dir is not None:
        prepare_out_dir(out_dir, overwrite, written_here)
    library = load_rules(rules_dir)
    read = (money_unit, encoding, sheet)
    notes: list[str] = []
    if engine != "single":
        if plan_path is not None or firms or all_firms:
            raise click.UsageError(f"--engine {engine} 的报告不含计划跟踪与逐家说明页：去掉 --plan、--firm、--all-firms"
                                   "（计划用 tiering targets，单家企业用 tiering explain）")
        register_path = _register_source(source, year)
        if register_path is not None:
            assert year is not None
            rulesets, on = pick_rulesets(library, year, eval_date, pins, programs,
                                         evaluation_purpose(purpose, certified))
            recorded = None
        else:
            recorded = _recorded(source, run_register, store, year)
            rulesets, year, on, register_path = recorded.rulesets, recorded.year, recorded.eval_date, run_register
        folder = out_dir or Path("out") / f"report-{year}"
        if out_dir is None:
            prepare_out_dir(folder, overwrite, written_here)
        inputs = None if no_selection else selection_inputs(policy_path, model_path, cultivated_paths, None)
        before, before_on, why = previous_rules(library, rulesets, year)
        reduce = ReportReduce(_indicators(indicators), before, before_on, inputs)
        assert register_path is not None
        parts = classify_in_partitions(register_path, ReadOptions(money_unit, encoding, sheet, header_row()),
                                       rulesets, year, on, folder, engine, partition_size, scheduler, workers, reduce)
        if recorded is not None:
            notes.append(_check_register(recorded, register_path, parts.register.sha256))
        data = report_from_parts(parts.reduced, parts.provenance, parts.summary, rulesets, year, reduce, why, count)
        data.notes[:0] = [*notes, f"分区运行（每区约 {partition_size} 家企业）：逐家结果、层级与追溯在 {folder} 的 "
                                  "结果/、层级/、trace/（Parquet 数据集），报告中的计数与分布由各分区汇总"]
        _write(data, folder, [], briefs, store, source)
        return
    source_path = _register_source(source, year)
    if source_path is not None:
        assert year is not None
        rulesets, on = pick_rulesets(library, year, eval_date, pins, programs,
                                     evaluation_purpose(purpose, certified))
        register = read_register(source_path, *read)
    else:
        register, rulesets, year, on, note = _from_run(source, run_register, store, year, read)
        notes.append(note)
        source_path = register.path
    if register.frame.empty:
        fail(f"no usable rows in {source_path} ({register.rows_read} read, {register.rows_refused} refused)")
    folder = out_dir or Path("out") / f"report-{year}"
    if out_dir is None:  # the default folder is known once the year is (read from the run when reporting on one)
        prepare_out_dir(folder, overwrite, REPORT_FILES)
    tracking = None
    if plan_path is not None:
        plan = load_plan(plan_path)
        tracking = track_plan(register, library, plan, list(plan_years), parse_pins(pins))
    progress = terminal_progress()
    inputs = None if no_selection else selection_inputs(policy_path, model_path, cultivated_paths, register.frame)
    data = build_report_data(register, library, rulesets, year, on, tracking, _indicators(indicators), inputs,
                             count, progress)
    data.notes[:0] = notes
    assert data.run is not None
    evaluated = [str(u) for u in data.run.evaluation.firms]
    chosen = list(firms)
    if all_firms or (not chosen and len(evaluated) <= MAX_AUTO_FIRM_PAGES):
        chosen = evaluated
    elif not chosen:
        data.notes.append(f"{len(evaluated)} 家企业超过 {MAX_AUTO_FIRM_PAGES} 家，未逐家写出说明页；"
                          "用 --firm 统一社会信用代码 或 --all-firms 写出")
    unknown = sorted(set(chosen) - set(evaluated))
    if unknown:
        fail(f"--firm {', '.join(unknown)}: not among the firms evaluated for {year} "
             f"(no accepted row of fiscal year {year - 1} in {source_path})")
    _write(data, folder, chosen, briefs, store, source)


def _write(data: ReportData, folder: Path, chosen: list[str], briefs: bool, store: Path | None, source: str) -> None:
    """The committee's decisions beside the list, then the workbook, the HTML report, the firm pages in ``chosen``
    and (with ``briefs``) the list's PDF briefs, each file named as written."""
    if data.selection is not None:
        data.decided = decided_list(store_path(store), data.year)
    if not Path(source).exists():
        data.run_id = source
    for path in write_report(data, folder, chosen, terminal_progress())[:2]:
        click.echo(f"写出 wrote {path}")
    if chosen:
        click.echo(f"写出 wrote {len(chosen)} firm pages in {folder / 'firms'}")
    if briefs:
        pdfs = write_briefs(data, folder)
        click.echo(f"写出 wrote {len(pdfs)} PDF briefs in {folder / 'briefs'}")
    for note in data.notes:
        click.echo(f"提示 note: {note}")

