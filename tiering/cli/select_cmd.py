"""``tiering select``: the annual list of 10–15 firms to cultivate, with a one-page brief per firm."""

from __future__ import annotations

import datetime as dt
import sys
from functools import partial
from pathlib import Path

import click

from tiering import exit_codes
from tiering.app import classify
from tiering.app.selection import DEFAULT_POLICY, SelectionInputs, select_parts, selection_inputs, selection_part
from tiering.app.selection import select as select_list
from tiering.audit.db import store_path
from tiering.audit.lists import decided_list
from tiering.audit.selections import brief_inputs, list_entries, save_brief_inputs
from tiering.audit.store import new_run_id, record_run
from tiering.cli import main
from tiering.cli.common import (
    audit_options,
    echo_head,
    evaluation_purpose,
    fail,
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
    PARTITIONED_RUN_FILES,
    chosen_engine,
    classify_in_partitions,
    engine_options,
    part_attachments,
)
from tiering.cli.progress import terminal_progress
from tiering.output.provenance import today
from tiering.output.trace_file import TRACE_DIR
from tiering.scale import ReadOptions
from tiering.selection.brief_pdf import BriefStamp
from tiering.selection.run import Selection
from tiering.selection.write import BRIEFS_DIR, COMBINED_FILE, LIST_FILE, write_selection

EARLIER_LIST_FILES = (LIST_FILE, BRIEFS_DIR, COMBINED_FILE)
"""What a select run writes into its folder, removed by --overwrite."""


def _inputs(policy_path: Path, model_path: Path | None, cultivated_paths: tuple[Path, ...],
            panel: object | None) -> SelectionInputs:
    return selection_inputs(policy_path, model_path, cultivated_paths, panel)  # type: ignore[arg-type]


def _meta(selection: Selection, policy_path: Path, policy_sha: str, register_name: str, register_sha: str,
          rulesets: str, model_text: str, cultivated_files: list[Path], lacks_source: str) -> list[tuple[str, str]]:
    policy = selection.policy
    counts = selection.firms["status"].value_counts().sort_index()
    return [
        ("遴选政策", f"{policy.title}（{policy.id} 版本 {policy.version}，{policy_path.name}）"),
        ("政策文件 SHA-256", policy_sha),
        ("申报年度 / 数据年度", f"{selection.year} / {selection.data_year}"),
        ("名单人数", f"{selection.n}（政策允许 {policy.count.min}–{policy.count.max} 家）"),
        ("登记表", f"{register_name}（SHA-256 {register_sha}）"),
        ("规则集", rulesets),
        ("成长潜力模型", model_text),
        ("往年培育名单", "、".join(p.name for p in cultivated_files) or "未提供"),
        ("企业状态", "；".join(f"{k} {v} 家" for k, v in counts.items())),
        ("差距来源", lacks_source),
    ]


@click.command("select")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@year_option()
@click.option("--n", "count", type=int, default=None,
              help="入选企业数（n），默认按遴选政策，须在政策允许的范围内（如 10–15）。")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="遴选政策 YAML（policy），默认为自带的 rules/selection/jx-xjr-peiyu.yaml。")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="成长潜力模型卡（model，由 tiering model train 生成）：只给合格企业排序，从不排除企业。")
@click.option("--cultivated", "cultivated_paths", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="往年已培育企业名单（cultivated），CSV 或 Excel（统一社会信用代码，可有 年度 列），可重复。")
@out_folder_options("select")
@register_options
@rules_options
@audit_options
@engine_options
def select(register_path: Path, year: int, count: int | None, policy_path: Path | None, model_path: Path | None,
           cultivated_paths: tuple[Path, ...], out_dir: Path | None, overwrite: bool, money_unit: str | None,
           encoding: str | None,
           sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...], eval_date: dt.date | None,
           programs: tuple[str, ...], purpose: str, certified: int | None, audit_store: Path | None,
           no_audit: bool, engine: str | None, partition_size: int, scheduler: str | None, workers: int) -> None:
    """Select the year's firms for cultivation (技术水平高、发展潜力大) and write the list with a brief per firm.

    The policy decides everything: the scope (districts), eligibility as program outcomes (default: 科技型中小企业
    符合 and not yet 科技小巨人), exclusions (firms cultivated before, credit flags), the weighted within-pool
    percentiles of 技术水平 and 发展潜力 components, the count and the quotas. Ties go to the policy's tie-break
    keys, then the 统一社会信用代码. With --model the growth component is the scorecard's percentile.

    Writes into --out: cultivation_list.xlsx (入选名单, 递补, 候选池, 未进入候选池, 说明, 列名对照), briefs/NN_USCC.md
    and a one-page A4 briefs/NN_USCC.pdf per firm, and briefs.md (the list, the next five and why they missed, then
    every brief). The same inputs give the same Markdown bytes and workbook cells; only the run id (workbook, PDF)
    and the date (PDF) differ.

    With --engine local or dask the register is classified in partitions of whole firms as by classify (its
    Parquet parts written into --out too): each partition gives its firms' statuses and component values, and
    the percentiles, the order and the pick are made over all candidates at once, so the list is the same as
    without an engine while memory holds one partition and the candidates' values.

    Example: tiering select datasets/generated/panel_s42.csv --year 2025 --n 15 --out out/select-2025
    """
    out = out_dir or Path("out") / f"select-{year}"
    engine = chosen_engine(engine, scheduler)
    prepare_out_dir(out, overwrite, EARLIER_LIST_FILES + (PARTITIONED_RUN_FILES if engine != "single" else ()))
    policy_path = policy_path or DEFAULT_POLICY
    library = load_rules(rules_dir)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs,
                                 evaluation_purpose(purpose, certified))
    register = None if engine != "single" else read_usable_register(register_path, money_unit, encoding, sheet)
    # read in partitions, the model card is checked against the features of all of them (select_parts)
    inputs = _inputs(policy_path, model_path, cultivated_paths, None if register is None else register.frame)
    policy = inputs.policy
    n = count if count is not None else policy.count.default
    if not policy.count.min <= n <= policy.count.max:
        fail(f"--n {n} 不在政策 {policy.id} 允许的 {policy.count.min}–{policy.count.max} 家之内", exit_codes.USAGE)
    parts = None
    if register is None:
        read = ReadOptions(money_unit, encoding, sheet, header_row())
        parts = classify_in_partitions(register_path, read, rulesets, year, on, out, engine, partition_size,
                                       scheduler, workers, partial(selection_part, inputs=inputs))
        register = parts.register
        run = parts
        selection = select_parts(parts.reduced, inputs, year, n)
    else:
        run = classify(register, rulesets, year, on, progress=terminal_progress())
        selection = select_list(run, inputs, n)
    rules_text = "、".join(f"{rs.id}（{rs.version}）" for rs in rulesets)
    lacks_source = str(selection.ranked["lacks_source"].iloc[0]) if len(selection.ranked) else "—"
    meta = _meta(selection, policy_path, inputs.policy_sha256, register_path.name, register.sha256, rules_text,
                 inputs.model_text, inputs.cultivated_files, lacks_source)
    run_id = None if no_audit else new_run_id()
    stamp = BriefStamp(run_id or "未记录（--no-audit）", register_path.name, register.sha256, rules_text, today())
    written = write_selection(selection, out, meta, stamp, decided_list(store_path(audit_store), year))
    _echo(selection, written)
    if run_id is not None:
        attachments = {"selection_policy": inputs.policy_sha256}
        if inputs.model_sha256 is not None:
            attachments["model_card"] = inputs.model_sha256
        if parts is not None:
            attachments |= part_attachments(parts)
        store = store_path(audit_store)
        kept = save_brief_inputs(store, brief_inputs(selection))
        record_run(store, run, sys.argv, attachments, list_entries(selection), run_id=run_id, brief_inputs=kept,
                   trace_folder=None if parts is None else out / TRACE_DIR)
        click.echo(f"审计记录 audit run {run_id} in {store}")
        echo_head(store, run_id)
    sys.exit(exit_codes.ROWS_REFUSED if register.refusals else exit_codes.OK)


def _echo(selection: Selection, written: list[Path]) -> None:
    for warning in selection.warnings:
        click.echo(f"提示 warning: {warning}", err=True)
    chosen = selection.selected
    click.echo(f"{selection.year} 年度重点培育企业 {len(chosen)} 家（候选 {len(selection.ranked)} 家）：")
    for _, row in chosen.iterrows():
        click.echo(f"{int(row['pick']):>3}  {row['uscc']}  {row['name']}  {row['combined']:.2f}  "
                   f"{row['highest_rung']} → {row['next_rung'] or '—'}")
    click.echo("递补 runners-up:")
    for _, row in selection.runners_up.iterrows():
        click.echo(f"  {row['uscc']}  {row['name']}  {row['combined']:.2f}  {row['missed_reason']}")
    pdfs = sum(1 for p in written if p.suffix == ".pdf")
    click.echo(f"写出 wrote {written[0]}、{len(written) - 2 - pdfs} 份简报 briefs（Markdown）、{pdfs} 份 PDF、"
               f"{written[-1]}")


main.add_command(select)
