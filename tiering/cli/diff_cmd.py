"""``tiering rules diff``: what a different (or draft) rule version would do to the firms of a register."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tiering.cli.common import DAY, load_rules, read_register, register_options, rules_dir_option, year_option
from tiering.engine.evaluate import default_eval_date
from tiering.output.provenance import today
from tiering.output.workbook import escape_formulas, in_words, write_workbook
from tiering.output.write import zh
from tiering.whatif.diff import diff_text, rule_diff
from tiering.whatif.resolve import resolve_ruleset


@click.command("diff")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--old", "old_spec", required=True,
              help="现行规则集（old）：规则集 id（如 kjxzxqy-2017）、项目@版本 或规则文件。")
@click.option("--new", "new_spec", required=True,
              help="拟用规则集（new）：规则集 id、项目@版本 或（草案）规则文件。")
@year_option()
@click.option("--date", "eval_date", type=DAY, default=None,
              help="评价日期（date），决定所依赖项目的规则版本；默认为申报年度的 6 月 30 日。")
@rules_dir_option
@click.option("--all", "show_all", is_flag=True, help="列出全部结果变化的企业（all），默认只列前 50 家。")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="另把结果变化的企业写入此 .csv 或 .xlsx 文件（out）。")
@register_options
def diff(register_path: Path, old_spec: str, new_spec: str, year: int, eval_date: dt.date | None,
         rules_dir: Path | None, show_all: bool, out_path: Path | None, money_unit: str | None, encoding: str | None,
         sheet: str | None) -> None:
    """在名录上比较一个项目的两个规则版本：哪些企业结果改变、由哪个条件引起。

    Compare two versions of a program's rules over REGISTER: who changes outcome and which criterion did it.

    \b
    Example: tiering rules diff --old kjxzxqy-2017 --new kjxzxqy-2022 datasets/sample_register.xlsx --year 2025
    """
    library = load_rules(rules_dir)
    old, new = resolve_ruleset(old_spec, library), resolve_ruleset(new_spec, library)
    on = eval_date if eval_date is not None else default_eval_date(year)
    register = read_register(register_path, money_unit, encoding, sheet)
    for refusal in register.refusals:
        click.echo(f"拒收 refused: {refusal.message()}", err=True)
    result = rule_diff(register, old, new, library, year, on)
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

