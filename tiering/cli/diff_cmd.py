"""``tiering rules diff``: what a different (or draft) rule version would do to the firms of a register."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering.cli.common import YEAR, fail, load_rules, read_register, register_options, rules_dir_option
from tiering.engine.evaluate import default_eval_date
from tiering.output.provenance import today
from tiering.output.workbook import escape_formulas, in_words, write_workbook
from tiering.output.write import zh
from tiering.whatif.diff import diff_text, rule_diff
from tiering.whatif.resolve import RuleSpecError, resolve_ruleset


@click.command("diff")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--old", "old_spec", required=True, help="Rule set now: id (kjxzxqy-2017), PROGRAM@VERSION or a file.")
@click.option("--new", "new_spec", required=True, help="Rule set proposed: id, PROGRAM@VERSION or a (draft) file.")
@click.option("--year", type=YEAR, required=True, help="Application year; criteria read fiscal year YEAR-1.")
@click.option("--date", "eval_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date that picks the versions of programs the rule sets depend on (default: 30 June of --year).")
@rules_dir_option
@click.option("--all", "show_all", is_flag=True, help="List every changed firm (default: the first 50).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the changed firms to this .csv or .xlsx file.")
@register_options
def diff(register_path: Path, old_spec: str, new_spec: str, year: int, eval_date: dt.datetime | None,
         rules_dir: Path | None, show_all: bool, out_path: Path | None, money_unit: str | None, encoding: str | None,
         sheet: str | None) -> None:
    """Compare two versions of a program's rules over REGISTER: who changes outcome and which criterion did it.

    \b
    Example: tiering rules diff --old kjxzxqy-2017 --new kjxzxqy-2022 datasets/sample_register.xlsx --year 2025
    """
    library = load_rules(rules_dir)
    try:
        old, new = resolve_ruleset(old_spec, library), resolve_ruleset(new_spec, library)
    except RuleSpecError as exc:
        fail(str(exc))
    on = eval_date.date() if eval_date is not None else default_eval_date(year)
    register = read_register(register_path, money_unit, encoding, sheet)
    for refusal in register.refusals:
        click.echo(f"拒收 refused: {refusal.message()}", err=True)
    try:
        result = rule_diff(register, old, new, library, year, on)
    except (ValueError, KeyError) as exc:
        fail(str(exc.args[0]))
    click.echo(diff_text(result, None if show_all else 50))
    if out_path is not None:
        if out_path.suffix.lower() == ".xlsx":
            about = [("输入文件", str(register_path)), ("输入文件SHA-256", register.sha256),
                     ("申报年度", str(year)), ("评价日期（选取依赖项目的规则版本）", on.isoformat()),
                     *[(f"{label}规则集 {rs.id}", f"版本 {rs.version}  SHA-256 {rs.sha256}")
                       for label, rs in (("旧", old), ("新", new))],
                     ("生成日期", today())]
            write_workbook(out_path, {"结果变化": result.changes}, about)
        else:
            zh(escape_formulas(in_words(result.changes))).to_csv(out_path, index=False, encoding="utf-8-sig")
        click.echo(f"写出 wrote {out_path}")

