"""``tiering explain``: one firm of a register, criterion by criterion.

Only what explaining one firm needs is imported here (no workbook writer, no partitioned runner, no audit writer):
a cold ``tiering explain`` is answered while the analyst waits (bench/explain_cold.py measures it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering.app import classify_firm
from tiering.audit.db import store_path
from tiering.audit.lists import firm_list_lines
from tiering.audit.show import matching_run, overrides_of
from tiering.cli.common import (
    evaluation_purpose,
    load_rules,
    pick_rulesets,
    read_register,
    register_options,
    rules_options,
    store_option,
    year_option,
)
from tiering.explain.text import verdicts
from tiering.rules.currency import selection_lines


@click.command("explain")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("firm_id")
@year_option()
@register_options
@rules_options
@store_option
def explain(register_path: Path, firm_id: str, year: int, money_unit: str | None, encoding: str | None,
            sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...], eval_date: dt.date | None,
            programs: tuple[str, ...], purpose: str, certified: int | None, audit_store: Path | None) -> None:
    """Explain, criterion by criterion, why firm FIRM_ID (统一社会信用代码 or exact 企业名称) did or did not qualify.

    Example: tiering explain datasets/sample_register.xlsx 91120116MA0500004A --year 2025
    （或名称片段：tiering explain datasets/sample_register.xlsx 东丽智能 --year 2025）
    """
    library = load_rules(rules_dir)
    why = evaluation_purpose(purpose, certified)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs, why)
    register = read_register(register_path, money_unit, encoding, sheet, cached=True)
    uscc, one = classify_firm(register, firm_id, rulesets, year, on)
    name = str(one.evaluation.names[0])
    if firm_id not in (uscc, name):
        click.echo(f"按名称片段“{firm_id}”找到：{name}（{uscc}）", err=True)
    store = store_path(audit_store)
    hashes = {rs.id: rs.sha256 for rs in rulesets}
    run_id = matching_run(store, register.sha256, year, hashes)
    click.echo(f"企业：{name}（{uscc}）  申报年度：{year}  数据年度：{year - 1}")
    click.echo("结论一览 verdicts:")
    click.echo("\n".join(f"  {line}" for line in verdicts(rulesets, one.firm_results(uscc))))
    click.echo(f"运行编号 run：{run_id}（审计库中同一名录、同一规则版本的最近一次运行）" if run_id else
               "运行编号 run：无（审计库中没有同一名录、同一规则版本的运行；本说明直接评价名录）")
    click.echo(f"名录 {register_path.name} SHA-256 {register.sha256}")
    click.echo("规则 rules：" + "、".join(f"{rs.id}（{rs.version}，SHA-256 {rs.sha256[:12]}）" for rs in rulesets))
    click.echo("\n—— 逐条说明 details ——")
    click.echo("\n".join(selection_lines(rulesets, why, on)))
    click.echo(one.explain(uscc))
    for rs in rulesets:
        for line in overrides_of(store, uscc, rs.id, year):
            click.echo(f"人工调整 override（{rs.meta.program_title}）：{line}")
    for line in firm_list_lines(store, uscc, year):
        click.echo(f"名单决定 list decision：{line}")
