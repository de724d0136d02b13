"""``tiering targets``: a district plan's numeric targets against what the register shows, year by year."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from tiering.cli.common import (
    fail,
    header_row,
    load_rules,
    parse_pins,
    prepare_out_dir,
    read_register,
    register_options,
    rules_dir_option,
)
from tiering.cli.partitioned import PARTITIONED_RUN_FILES, chosen_engine, classify_in_partitions, engine_options
from tiering.engine.evaluate import default_eval_date
from tiering.output.provenance import today
from tiering.rules.library import RuleLibrary
from tiering.scale import ReadOptions
from tiering.targets import Plan, TargetTracking, load_plan, track_plan
from tiering.targets.parts import PlanReduce, plan_rules, run_year, track_parts
from tiering.targets.years import application_year


def _fmt(x: object) -> str:
    return "—" if x is None or (isinstance(x, float) and pd.isna(x)) else f"{x:g}" if isinstance(x, float) else str(x)


def print_tracking(tracking: TargetTracking) -> None:
    """The progress table, the nearest candidates per target, and the notes, as analysts read them."""
    plan = tracking.plan
    click.echo(f"{plan.title}（{plan.jurisdiction}，{plan.start}–{plan.end}）")
    click.echo(f"计数年度 {', '.join(map(str, tracking.years))}：按各年度数据（即 "
               f"{', '.join(str(application_year(y)) for y in tracking.years)} 年申报口径）符合条件的企业数")
    click.echo("")
    for t in plan.targets:
        rows = tracking.progress[tracking.progress["target_id"] == t.id]
        scope = f"{t.program}，{t.where.text()}" if t.where else t.program
        measure = "存量" if t.measure == "stock" else f"{t.since}年以来新增"
        stretch = f"，力争 {t.stretch} 家" if t.stretch else ""
        click.echo(f"■ {t.label}  [{scope}]  目标 {t.year} 年 {t.count} 家{stretch}（{measure}）")
        click.echo(f"  依据 {t.source.clause}：“{t.source.quote}”")
        for r in rows.itertuples():
            note = f"（{r.note}）" if r.note else ""
            click.echo(f"  {r.plan_year}: 实有 {_fmt(r.count)} 家，待定 {_fmt(r.undetermined)} 家，"
                       f"缺口 {_fmt(r.gap)} 家 — {r.status}{note}")
        near = tracking.candidates[tracking.candidates["target_id"] == t.id].head(5)
        if len(near):
            click.echo(f"  最接近的企业（{int(near['plan_year'].iloc[0])} 年）：")
            for c in near.itertuples():
                click.echo(f"    {c.rank}. {c.name} {c.uscc}  {c.outcome_zh}  {c.lacks}")
        click.echo("")
    for u in plan.untracked:
        click.echo(f"未跟踪 not tracked: {u.label}（“{u.quote}”）— {u.reason}")
    for note in tracking.notes:
        click.echo(f"提示 note: {note}")


@click.command("targets")
@click.argument("register_path", metavar="REGISTER", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="计划文件（plan），如 rules/plans/dongli-kjxzxqy-2011.yaml。"
                   "Plan file, e.g. rules/plans/dongli-kjxzxqy-2011.yaml.")
@click.option("--year", "years", type=int, multiple=True,
              help="年度（year）：按这些年度计数。Count these years (accounts of YEAR) against the targets; "
                   "default: the plan's years in the register.")
@click.option("--limit", type=int, default=10, show_default=True, help="每个目标列出的最接近企业数（limit）。")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出工作簿（out）：同时把各表写入这个 Excel 工作簿。")
@rules_dir_option
@click.option("--rules-version", "pins", multiple=True, metavar="PROGRAM=VERSION",
              help="指定项目的规则版本（rules-version），可重复。"
                   "Pin a program to a version or rule-set id, e.g. tj_lj=tj-lj-2018 for years before it took effect.")
@click.option("--parts", "parts_dir", type=click.Path(path_type=Path), default=None,
              help="分区文件夹（parts）：--engine local|dask 时分区运行的 Parquet 数据集写入的文件夹，"
                   "默认 out/targets-计划id。")
@click.option("--overwrite", is_flag=True, help="覆盖（overwrite）：--parts 文件夹中已有上一次分区运行的结果时先删除。")
@register_options
@engine_options
def targets(register_path: Path, plan_path: Path, years: tuple[int, ...], limit: int, out_path: Path | None,
            rules_dir: Path | None, pins: tuple[str, ...], parts_dir: Path | None, overwrite: bool,
            money_unit: str | None, encoding: str | None, sheet: str | None, engine: str | None,
            partition_size: int, scheduler: str | None, workers: int) -> None:
    """Count firms per target of a plan, year by year, with the gap and the firms closest to closing it.

    With --engine local or dask the register is classified in partitions of whole firms (its Parquet parts
    written into --parts): each partition counts the plan years it holds and gives its nearest firms, and the
    counts are added up, so the tables equal a whole run's while memory holds one partition.

    Example: tiering targets datasets/generated/panel_s42.csv --plan rules/plans/baotou-xjr-2015.yaml
    """
    plan = load_plan(plan_path)
    library = load_rules(rules_dir)
    engine = chosen_engine(engine, scheduler)
    if engine == "single":
        if parts_dir is not None:
            raise click.UsageError("--parts 只用于分区运行：加 --engine local 或 --engine dask，或去掉 --parts")
        register = read_register(register_path, money_unit, encoding, sheet)
        tracking = track_plan(register, library, plan, list(years), parse_pins(pins), limit)
        sha256 = register.sha256
    else:
        folder = parts_dir or Path("out") / f"targets-{plan.id}"
        prepare_out_dir(folder, overwrite, PARTITIONED_RUN_FILES)
        read = ReadOptions(money_unit, encoding, sheet, header_row())
        tracking, sha256 = _track_in_partitions(register_path, read, library, plan, list(years), parse_pins(pins),
                                                limit, folder, engine, partition_size, scheduler, workers)
    print_tracking(tracking)
    if out_path is not None:
        from tiering.output.workbook import write_workbook  # the writer loads only when a file is wanted

        about = [("输入文件", str(register_path)), ("输入文件SHA-256", sha256),
                 ("计划", f"{plan.title}（{plan_path.name}）"), ("计数年度", "、".join(map(str, tracking.years))),
                 ("规则", "各计数年度在当年评价日期施行的规则版本（规则集目录 " + str(rules_dir or "rules/") + "）"),
                 ("生成日期", today())]
        write_workbook(out_path, {"计划目标": tracking.progress, "最接近的企业": tracking.candidates}, about)
        click.echo(f"写出 wrote {out_path}")



def _track_in_partitions(register_path: Path, read: ReadOptions, library: RuleLibrary, plan: Plan, years: list[int],
                         pins: dict[str, str], limit: int, folder: Path, engine: str, partition_size: int,
                         scheduler: str | None, workers: int) -> tuple[TargetTracking, str]:
    """The tracking reduced from the register's partitions (see :mod:`tiering.targets.parts`), and the register's
    SHA-256. The run classifies the last plan year with a rule set in force; a partition reuses that
    classification where it counts every firm of that year."""
    rules = plan_rules(library, plan, years, pins)
    last = run_year(rules)
    if last is None:
        fail(f"计划 {plan.id} 的项目在所计年度都没有施行中的规则集（no rule set in force for the plan's programs "
             f"in {', '.join(map(str, rules))}）", hint="用 --year 选有规则集施行的年度，或去掉 --engine 逐年列出原因")
    year = application_year(last)
    parts = classify_in_partitions(register_path, read, rules[last][0], year, default_eval_date(year), folder, engine,
                                   partition_size, scheduler, workers, PlanReduce(plan, rules, limit))
    return track_parts(plan, parts.reduced, rules, years, limit, register_path), parts.register.sha256
