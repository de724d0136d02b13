"""``tiering classify``, ``tiering explain`` and ``tiering template``: the analyst's batch job and its companions."""

from __future__ import annotations

import datetime as dt
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from tiering.audit.db import store_path
from tiering.audit.show import matching_run, override_table, overrides_of
from tiering.audit.store import new_run_id, record_run
from tiering.cli import exit_codes
from tiering.cli.common import (
    APPLICATION_YEARS,
    YEAR,
    audit_options,
    echo_head,
    evaluation_purpose,
    fail,
    load_rules,
    pick_rulesets,
    prepare_out_dir,
    read_register,
    read_usable_register,
    register_options,
    rules_options,
)
from tiering.engine.evaluate import Evaluation, evaluate, evaluate_firm
from tiering.explain.columns import column_gaps
from tiering.explain.outcomes import outcome_frame, summary_counts
from tiering.explain.text import explain_firm, verdicts
from tiering.ladder.lacks import lacks, lacks_for_firm
from tiering.ladder.summary import tier_summary
from tiering.output.overrides import beside_decisions
from tiering.output.provenance import Provenance, money_lines, ruleset_records
from tiering.output.trace_file import TRACE_DIR
from tiering.output.write import FORMATS, write_results
from tiering.register import Register, write_template
from tiering.register.refusals import rejects_frame
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.currency import selection_lines


@dataclass
class ClassifyRun:
    """Everything one classify run produced, for writing, printing and recording."""

    register: Register
    rulesets: list[CompiledRuleSet]
    evaluation: Evaluation
    outcomes: pd.DataFrame
    summary: pd.DataFrame
    provenance: Provenance
    lacks: pd.DataFrame
    """What each firm still lacks per rule set it does not meet (tiering.ladder.lacks), computed once per run."""


def run_classification(register: Register, rulesets: list[CompiledRuleSet], year: int, on: dt.date,
                       progress: bool = False) -> ClassifyRun:
    """Evaluate the accepted rows of ``register`` and build the outcome tables and provenance."""
    with click.progressbar(length=len(rulesets), label="评价中 evaluating", show_pos=True,
                           hidden=not progress) as bar:
        evaluation = evaluate(register.frame, rulesets, year, on, on_ruleset=lambda _rs: bar.update(1))
    if progress:  # on a large register these two steps take longer than the evaluation itself
        click.echo("整理结果与原因 outcomes and reasons …", err=True)
    outcomes = outcome_frame(evaluation)
    if progress:
        click.echo("计算尚缺 what each firm still lacks …", err=True)
    gaps = lacks(evaluation, register.frame)
    outcomes = outcomes.merge(gaps[["uscc", "ruleset_id", "lacks"]], on=["uscc", "ruleset_id"], how="left",
                              validate="one_to_one")
    outcomes["lacks"] = outcomes["lacks"].fillna("")
    missing = column_gaps(evaluation, set(register.columns), register.unused_columns)
    provenance = Provenance(
        input_file=str(register.path), input_sha256=register.sha256, year=year, eval_date=on.isoformat(),
        money_units={k: register.money_note(k) for k in sorted(register.money_units)},
        rulesets=ruleset_records(rulesets), rows_read=register.rows_read,
        rows_accepted=len(register.frame), rows_refused=register.rows_refused,
        firms_evaluated=len(evaluation.firms), firms_without_data_year=evaluation.not_evaluated,
        columns_mapped=dict(register.columns), columns_unused=list(register.unused_columns),
        intake_notes=list(register.notes), column_gaps=[gap.message() for gap in missing],
    )
    return ClassifyRun(register, rulesets, evaluation, outcomes, summary_counts(outcomes), provenance, gaps)


def _echo_summary(run: ClassifyRun, written: list[Path]) -> None:
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
    table = run.summary.rename(columns={"ruleset_id": "规则集", "program_title": "项目", "qualified": "符合",
                                        "not_qualified": "不符合", "undetermined": "待定", "total": "合计"})
    click.echo(table.to_string(index=False))
    click.echo("")
    for path in written:
        click.echo(f"写出 wrote {path}")


EARLIER_RUN_FILES = (
    TRACE_DIR, "provenance.json", "rejects.csv", "results.xlsx", "results.json",
    *(f"{sheet}.{suffix}" for sheet in ("层级", "结果", "汇总") for suffix in ("csv", "parquet")),
)
"""What a classify run writes into its folder (tiering.output.write), removed by --overwrite."""


@click.command("classify")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--year", type=YEAR, required=True,
              help=f"Application year ({APPLICATION_YEARS[0]}-{APPLICATION_YEARS[1]}); criteria read fiscal year "
                   "YEAR-1.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/classify-YEAR); checked before any work.")
@click.option("--overwrite", is_flag=True,
              help="Reuse an output folder that holds an earlier run: its result files are deleted first.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True,
              help="Format of the result tables; the full trace is always also written, as the Parquet folder trace/.")
@register_options
@rules_options
@audit_options
def classify(register_path: Path, year: int, out_dir: Path | None, overwrite: bool, fmt: str, money_unit: str | None,
             encoding: str | None, sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...],
             eval_date: dt.datetime | None, programs: tuple[str, ...], purpose: str, certified: int | None,
             audit_store: Path | None, no_audit: bool) -> None:
    """Classify every firm of REGISTER against every program in force, and write the results with their trace.

    Example: tiering classify datasets/sample_register.xlsx --year 2025 --out out/
    """
    out = out_dir or Path("out") / f"classify-{year}"
    prepare_out_dir(out, overwrite, EARLIER_RUN_FILES)
    library = load_rules(rules_dir)
    why = evaluation_purpose(purpose, certified)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs, why)
    register = read_usable_register(register_path, money_unit, encoding, sheet)
    click.echo("\n".join(selection_lines(rulesets, why, on)))
    run = run_classification(register, rulesets, year, on, progress=len(register.frame) > 50_000)
    store = store_path(audit_store)
    run_id = None if no_audit else new_run_id()
    decisions = beside_decisions(run.outcomes, override_table(store, year))
    sheets = {"层级": tier_summary(run.evaluation), "结果": decisions, "汇总": run.summary}
    rejects = rejects_frame(register) if register.refusals else None
    about = [("运行编号", run_id or "未记录（--no-audit）"), *run.provenance.rows()]
    written = write_results(out, fmt, sheets, run.evaluation, run.provenance, rejects, about)
    _echo_summary(run, written)
    if run_id is not None:
        trace = next(p for p in written if p.name == TRACE_DIR)
        record_run(store, run, sys.argv, trace_folder=trace, run_id=run_id)
        click.echo(f"审计记录 audit run {run_id} in {store}")
        echo_head(store, run_id)
    if run.provenance.column_gaps:
        sys.exit(exit_codes.MISSING_COLUMNS)
    sys.exit(exit_codes.ROWS_REFUSED if register.refusals else exit_codes.OK)


@click.command("explain")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("firm_id")
@click.option("--year", type=YEAR, required=True,
              help=f"Application year ({APPLICATION_YEARS[0]}-{APPLICATION_YEARS[1]}); criteria read fiscal year "
                   "YEAR-1.")
@register_options
@rules_options
def explain(register_path: Path, firm_id: str, year: int, money_unit: str | None, encoding: str | None,
            sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...], eval_date: dt.datetime | None,
            programs: tuple[str, ...], purpose: str, certified: int | None) -> None:
    """Explain, criterion by criterion, why firm FIRM_ID (统一社会信用代码 or exact 企业名称) did or did not qualify.

    Example: tiering explain datasets/sample_register.xlsx 91120116MA0500004A --year 2025
    （或名称片段：tiering explain datasets/sample_register.xlsx 东丽智能 --year 2025）
    """
    library = load_rules(rules_dir)
    why = evaluation_purpose(purpose, certified)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs, why)
    register = read_register(register_path, money_unit, encoding, sheet)
    rows = _firm_rows(register, firm_id, register_path, year)
    results = evaluate_firm(rows, rulesets, year, on)
    latest = rows[rows["year"] == year - 1].iloc[0]
    uscc = str(latest["uscc"])
    missing = lacks_for_firm(evaluate(rows, rulesets, year, on), uscc, rows)
    store = store_path(None)
    hashes = {rs.id: rs.sha256 for rs in rulesets}
    run_id = matching_run(store, register.sha256, year, hashes)
    click.echo(f"企业：{latest['name']}（{uscc}）  申报年度：{year}  数据年度：{year - 1}")
    click.echo("结论一览 verdicts:")
    click.echo("\n".join(f"  {line}" for line in verdicts(rulesets, results)))
    click.echo(f"运行编号 run：{run_id}（审计库中同一名录、同一规则版本的最近一次运行）" if run_id else
               "运行编号 run：无（审计库中没有同一名录、同一规则版本的运行；本说明直接评价名录）")
    click.echo(f"名录 {register_path.name} SHA-256 {register.sha256}")
    click.echo("规则 rules：" + "、".join(f"{rs.id}（{rs.version}，SHA-256 {rs.sha256[:12]}）" for rs in rulesets))
    click.echo("\n—— 逐条说明 details ——")
    click.echo("\n".join(selection_lines(rulesets, why, on)))
    click.echo(explain_firm(uscc, str(latest["name"]), year, rulesets, results, missing))
    for rs in rulesets:
        for line in overrides_of(store, uscc, rs.id, year):
            click.echo(f"人工调整 override（{rs.meta.program_title}）：{line}")


def _firm_rows(register: Register, firm_id: str, register_path: Path, year: int) -> pd.DataFrame:
    """The register rows of the firm ``firm_id`` names: its 统一社会信用代码, its exact name, or a part of its name
    that only one firm's name contains. Otherwise exit 3 listing the candidates (or the names closest to it)."""
    frame = register.frame
    rows = frame[(frame["uscc"] == firm_id) | (frame["name"] == firm_id)]
    if rows.empty:
        partial = frame[frame["name"].astype(str).str.contains(firm_id, regex=False)]
        firms = partial.drop_duplicates("uscc")
        if len(firms) == 1:
            click.echo(f"按名称片段“{firm_id}”找到：{firms['name'].iloc[0]}（{firms['uscc'].iloc[0]}）", err=True)
            rows = partial
        elif len(firms) > 1:
            shown = firms.head(10)
            listed = "；".join(f"{n}（{u}）" for u, n in zip(shown["uscc"], shown["name"], strict=True))
            more = f" 等 {len(firms)} 家" if len(firms) > 10 else ""
            fail(f"“{firm_id}”与多家企业的名称相符：{listed}{more}；请给出统一社会信用代码或完整名称"
                 f"（'{firm_id}' matches {len(firms)} firms）")
        else:
            names = sorted(set(frame["name"].astype(str)))
            near = difflib.get_close_matches(firm_id, names, n=5, cutoff=0.4)
            refused = [r.message() for r in register.refusals if firm_id in r.value]
            hint = ("；其行被拒收：" + " | ".join(refused)) if refused else ""
            close = f"；相近的名称：{'、'.join(near)}" if near else ""
            fail(f"名录 {register_path} 的有效行中没有企业“{firm_id}”{hint}{close}"
                 f"（firm '{firm_id}' is not among the accepted rows）")
    if rows["uscc"].nunique() > 1:
        fail(f"“{firm_id}”对应多家企业（{'、'.join(sorted(rows['uscc'].unique()))}）；请用统一社会信用代码")
    if not (rows["year"] == year - 1).any():
        present = "、".join(map(str, sorted(rows["year"].unique())))
        fail(f"企业“{firm_id}”没有 {year - 1} 年度的数据行；已有年度：{present}（no row for fiscal year {year - 1}）")
    return rows


@click.command("template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("tiering_template.xlsx"))
def template(path: Path) -> None:
    """Write an empty Excel register template with every known field, its Chinese label, unit and meaning.

    Example: tiering template 企业名录模板.xlsx
    """
    write_template(path)
    click.echo(f"写出 wrote {path}")
