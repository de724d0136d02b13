"""``tiering explain``: one firm of a register, criterion by criterion.

Only what explaining one firm needs is imported here (no workbook writer, no partitioned runner, no audit writer):
a cold ``tiering explain`` is answered while the analyst waits (bench/explain_cold.py measures it). A register read
before comes from the register cache's one-firm lookup, and the firm is classified by the per-firm path
(:func:`tiering.app.classify_one`): neither loads pandas. The audit store is opened only where there is one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering.app import FirmResult, classify_one
from tiering.audit.db import store_path
from tiering.cli.common import (
    cached_firm_rows,
    evaluation_purpose,
    load_rules,
    pick_rulesets,
    read_register,
    register_options,
    rules_options,
    store_option,
    year_option,
)
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.currency import selection_lines


@click.command("explain")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.argument("firm_id")
@year_option()
@register_options
@rules_options
@store_option
def explain(register_path: Path, firm_id: str, year: int, money_unit: str | None, encoding: str | None,
            sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...], eval_date: dt.date | None,
            programs: tuple[str, ...], purpose: str, certified: int | None, audit_store: Path | None) -> None:
    """Explain, criterion by criterion, why firm FIRM_ID (统一社会信用代码 or exact 企业名称) did or did not qualify.

    REGISTER is a file or a folder of files (e.g. a Parquet dataset partitioned by year), as for classify.

    Example: tiering explain datasets/sample_register.xlsx 91120116MA0500004A --year 2025
    （或名称片段：tiering explain datasets/sample_register.xlsx 东丽智能 --year 2025）
    """
    library = load_rules(rules_dir)
    why = evaluation_purpose(purpose, certified)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs, why)
    cached = cached_firm_rows(register_path, money_unit, encoding, sheet, firm_id, year - 1)
    if cached is not None:
        one, register_sha256 = classify_one(cached.rows, cached.uscc, cached.name, rulesets, year, on), cached.sha256
    else:
        from tiering.app import classify_firm  # the register read (and cached for the next firm): pandas

        register = read_register(register_path, money_unit, encoding, sheet, cached=True)
        one, register_sha256 = classify_firm(register, firm_id, rulesets, year, on), register.sha256
    uscc, name = one.uscc, one.name
    if firm_id not in (uscc, name):
        click.echo(f"按名称片段“{firm_id}”找到：{name}（{uscc}）", err=True)
    store = store_path(audit_store)
    run_id = _recorded_run(store, register_sha256, year, rulesets)
    click.echo(f"企业：{name}（{uscc}）  申报年度：{year}  数据年度：{year - 1}")
    click.echo("结论一览 verdicts:")
    click.echo("\n".join(f"  {line}" for line in one.verdicts()))
    click.echo(f"运行编号 run：{run_id}（审计库中同一名录、同一规则版本的最近一次运行）" if run_id else
               "运行编号 run：无（审计库中没有同一名录、同一规则版本的运行；本说明直接评价名录）")
    click.echo(f"名录 {register_path.name} SHA-256 {register_sha256}")
    click.echo("规则 rules：" + "、".join(f"{rs.id}（{rs.version}，SHA-256 {rs.sha256[:12]}）" for rs in rulesets))
    click.echo("\n—— 逐条说明 details ——")
    click.echo("\n".join(selection_lines(rulesets, why, on)))
    click.echo(one.explain())
    _recorded_decisions(store, one, year)


def _recorded_run(store: Path, register_sha256: str, year: int, rulesets: list[CompiledRuleSet]) -> str | None:
    """The latest recorded run of this register and these rule versions, if the audit store exists."""
    if not store.is_file():
        return None
    from tiering.audit.show import matching_run  # the store's readers: only where there is a store

    return matching_run(store, register_sha256, year, {rs.id: rs.sha256 for rs in rulesets})


def _recorded_decisions(store: Path, one: FirmResult, year: int) -> None:
    """The overrides and the committee's list decisions recorded on the firm, if the audit store exists."""
    if not store.is_file():
        return
    from tiering.audit.lists import firm_list_lines
    from tiering.audit.show import overrides_of

    for rs in one.rulesets:
        for line in overrides_of(store, one.uscc, rs.id, year):
            click.echo(f"人工调整 override（{rs.meta.program_title}）：{line}")
    for line in firm_list_lines(store, one.uscc, year):
        click.echo(f"名单决定 list decision：{line}")
