"""``tiering report``: the bureau's workbook, the HTML report with charts, and printable per-firm pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering.cli import main
from tiering.cli.common import fail, load_rules, pick_rulesets, read_register, register_options, rules_options
from tiering.cli.select_cmd import DEFAULT_POLICY
from tiering.cli.targets_cmd import parse_pins
from tiering.report.data import DEFAULT_INDICATORS, build_report_data
from tiering.report.write import write_report
from tiering.targets import PlanError, load_plan, track_plan

MAX_AUTO_FIRM_PAGES = 100


def _indicators(specs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not specs:
        return DEFAULT_INDICATORS
    out = []
    for spec in specs:
        if ":" not in spec:
            fail(f"--indicator takes PROGRAM:CRITERION_ID, e.g. gxjsqy:c4_staff; got '{spec}'")
        program, criterion = spec.split(":", 1)
        out.append((program, criterion))
    return tuple(out)


@click.command("report")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True, help="Application year; criteria read fiscal year YEAR-1.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: out/report-YEAR).")
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Also track this plan's targets, e.g. rules/plans/dongli-kjxzxqy-2011.yaml.")
@click.option("--plan-year", "plan_years", type=int, multiple=True,
              help="Years counted against the plan (default: the plan's years in the register).")
@click.option("--firm", "firms", multiple=True,
              help="Write a printable page for this firm (统一社会信用代码); repeatable. Default: every firm, "
                   f"when there are at most {MAX_AUTO_FIRM_PAGES}.")
@click.option("--all-firms", is_flag=True, help="Write a printable page for every firm evaluated.")
@click.option("--indicator", "indicators", multiple=True, metavar="PROGRAM:CRITERION_ID",
              help="Chart this criterion's distribution against its threshold; repeatable "
                   "(default: 高企 科技人员占比, 研发费用占比, 高新收入占比 and 小巨人 销售收入).")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEFAULT_POLICY, show_default=True, help="Selection policy for the cultivation list sheet.")
@click.option("--n", "count", type=int, default=None, help="Firms on the cultivation list (default: the policy's).")
@click.option("--no-selection", is_flag=True, help="Leave the cultivation list out.")
@register_options
@rules_options
def report(register_path: Path, year: int, out_dir: Path | None, plan_path: Path | None, plan_years: tuple[int, ...],
           firms: tuple[str, ...], all_firms: bool, indicators: tuple[str, ...], policy_path: Path, count: int | None,
           no_selection: bool, money_unit: str | None,
           encoding: str | None, sheet: str | None, rules_dir: Path | None, pins: tuple[str, ...],
           eval_date: dt.datetime | None, programs: tuple[str, ...]) -> None:
    """Write report.xlsx, report.html and firms/<统一社会信用代码>.html for one application year of REGISTER.

    Example: tiering report datasets/generated/panel_s42.csv --year 2025 --out out/report-2025
    --plan rules/plans/dongli-kjxzxqy-2011.yaml --plan-year 2015 --plan-year 2024
    """
    library = load_rules(rules_dir)
    rulesets, on = pick_rulesets(library, year, eval_date, pins, programs)
    register = read_register(register_path, money_unit, encoding, sheet)
    if register.frame.empty:
        fail(f"no usable rows in {register_path} ({register.rows_read} read, {register.rows_refused} refused)")
    tracking = None
    if plan_path is not None:
        try:
            tracking = track_plan(register.frame, library, load_plan(plan_path), list(plan_years), parse_pins(pins))
        except PlanError as exc:
            fail(f"{plan_path}: " + "; ".join(exc.problems))
        except ValueError as exc:
            fail(f"{register_path}: {exc}")
    data = build_report_data(register, library, rulesets, year, on, tracking, _indicators(indicators),
                             None if no_selection else policy_path, count)
    chosen = list(firms)
    evaluated = [str(u) for u in data.run.evaluation.firms]
    if all_firms or (not chosen and len(evaluated) <= MAX_AUTO_FIRM_PAGES):
        chosen = evaluated
    elif not chosen:
        data.notes.append(f"{len(evaluated)} 家企业超过 {MAX_AUTO_FIRM_PAGES} 家，未逐家写出说明页；"
                          "用 --firm 统一社会信用代码 或 --all-firms 写出")
    unknown = sorted(set(chosen) - set(evaluated))
    if unknown:
        fail(f"--firm {', '.join(unknown)}: not among the firms evaluated for {year} "
             f"(no accepted row of fiscal year {year - 1} in {register_path})")
    for path in write_report(data, out_dir or Path("out") / f"report-{year}", chosen)[:2]:
        click.echo(f"写出 wrote {path}")
    if chosen:
        click.echo(f"写出 wrote {len(chosen)} firm pages in {(out_dir or Path('out') / f'report-{year}') / 'firms'}")
    for note in data.notes:
        click.echo(f"提示 note: {note}")


main.add_command(report)
