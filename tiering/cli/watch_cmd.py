"""``tiering watch``: keep tiers current from a stream of events, and report what changed.

durable-rules is imported only when the command runs: without it, ``watch`` says how to install it and every
other command works as before.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
from pathlib import Path

import click

from tiering import exit_codes
from tiering.cli.common import DAY, fail, header_row, register_options, rules_dir_option
from tiering.cli.progress import terminal_progress


@click.command("watch")
@click.argument("paths", metavar="REGISTER [EVENTS]...", nargs=-1,
                type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="状态目录（state）：SQLite 状态、alerts.jsonl、dead_letter.jsonl；再次使用即从断点继续。")
@click.option("--register", "register_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="名录（register）的旧写法，仍可用；此时所有位置参数都是事件来源。")
@click.option("--year", type=int, default=None,
              help="保持最新的申报年度（year），默认为名录最后一个财年 + 1。")
@rules_dir_option
@click.option("--follow", is_flag=True, help="持续读取（follow）：文件的新行、文件夹中新的 *.jsonl 文件。")
@click.option("--poll", type=float, default=1.0, show_default=True, help="持续读取时两次查看的间隔秒数（poll）。")
@click.option("--batch", "batch_size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="每个事务最多处理的事件数（batch）：越大越快，越小则积压时提示越早。")
@click.option("--clock", "clock_day", type=DAY, default=None,
              help="模拟的今天（clock），用于到期提醒；默认为系统日期。")
@click.option("--summary", is_flag=True, help="只打印一段期间的结果变化与提醒后退出（summary）。")
@click.option("--since", type=DAY, default=None, help="与 --summary 一起用：期间的第一天（since）。")
@click.option("--until", type=DAY, default=None, help="与 --summary 一起用：期间的最后一天（until）。")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="与 --summary 一起用：另把期间的提示写入此 Excel 工作簿的“提示”表（xlsx）。")
@click.option("--check", "check_tiers", is_flag=True,
              help="处理后核对（check）：实时层级应等于对最终数据的批量评价，也等于从空状态重放事件日志；"
                   "不同则退出码 4。")
@click.option("--tiers", "tiers_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="处理后把当前层级（企业 × 规则集）写入此 CSV 文件（tiers）。")
@register_options
def watch(paths: tuple[Path, ...], state_dir: Path, register_path: Path | None, year: int | None,
          rules_dir: Path | None, follow: bool, poll: float, batch_size: int, clock_day: dt.date | None,
          summary: bool, since: dt.date | None, until: dt.date | None, xlsx_path: Path | None, check_tiers: bool,
          tiers_path: Path | None, money_unit: str | None, encoding: str | None, sheet: str | None) -> None:
    """Apply events (JSON lines from files, folders or '-' for stdin) to the firms and alert every tier change.

    \b
    Examples:
      tiering watch datasets/sample_register.xlsx datasets/events/sample_events.jsonl --state out/watch
      tiering watch --summary --state out/watch --since 2025-06-01 --until 2025-06-30 --xlsx alerts.xlsx
      tiering watch datasets/sample_register.xlsx --check --state out/watch
    REGISTER comes first, as in classify (the earlier form EVENTS... --register REGISTER is still accepted).
    Alerts go to STATE/alerts.jsonl, unusable lines to STATE/dead_letter.jsonl. Event types: see
    tiering/watch/events.py or the README.
    """
    if summary:
        _summary(state_dir, since, until, xlsx_path)
        return
    sources = paths
    if register_path is None:
        if not paths or str(paths[0]) == "-":
            fail("处理事件需要名录 REGISTER（企业的起始数据），写在事件来源之前（the register comes first: "
                 "tiering watch REGISTER [EVENTS]...）", exit_codes.USAGE)
        register_path, sources = paths[0], paths[1:]
    from tiering.watch.clock import SimulatedClock, SystemClock
    from tiering.watch.monitor import Monitor, check
    from tiering.watch.sources import lines_ahead, read_path, read_stdin

    clock = SimulatedClock(clock_day) if clock_day is not None else SystemClock()
    read = {"money_unit": money_unit, "encoding": encoding, "sheet": sheet, "header_row": header_row()}
    monitor = Monitor(state_dir, register_path, year=year, rules_dir=rules_dir, clock=clock, batch_size=batch_size,
                      read=read)
    positions = monitor.positions()
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop ends the run like Ctrl-C: between batches
    try:
        progress = terminal_progress()
        for source in sources or (() if check_tiers else (Path("-"),)):
            if str(source) == "-" or follow:  # no end to count towards: the summary line says what was done
                lines, counted = read_stdin() if str(source) == "-" else read_path(source, positions, follow, poll), 0
            else:
                lines, counted = read_path(source, positions), lines_ahead(source, positions)
            monitor.run(lines, progress if counted else None, counted)
    except KeyboardInterrupt:
        click.echo("stopped; every committed batch is kept — run the same command to resume", err=True)
    s = monitor.stats
    click.echo(f"读取 {s.lines} 行：应用 {s.applied} 个事件，重复忽略 {s.duplicates}，死信 {s.dead}；"
               f"结果变化提醒 {s.alerts} 条，到期提醒 {s.reminders_fired} 条")
    click.echo(f"alerts: {monitor.alerts_path}")
    if s.dead:
        click.echo(f"dead letters: {monitor.dead_letter_path}")
    if tiers_path is not None:
        monitor.tiers().to_csv(tiers_path, index=False)
        click.echo(f"写出 wrote {tiers_path}")
    code = exit_codes.OK
    if check_tiers:
        problems = check(monitor)
        for problem in problems:
            click.echo(f"check failed: {problem}", err=True)
        if not problems:
            click.echo(f"check: live tiers = batch evaluation of the final data = replay of the "
                       f"{monitor.store.event_count()} logged events from empty state "
                       f"({len(monitor.outcomes)} outcomes)")
        code = exit_codes.CHECK_FAILED if problems else code
    monitor.close()
    sys.exit(code)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _summary(state_dir: Path, since_day: dt.date | None, until_day: dt.date | None, xlsx_path: Path | None) -> None:
    from tiering.watch.alerts import alert_table, summary_text
    from tiering.watch.state import Store

    since = since_day.isoformat() if since_day is not None else None
    until = until_day.isoformat() if until_day is not None else None
    if not (state_dir / "state.db").exists():
        fail(f"{state_dir} 中没有 watch 状态（no watch state）",
             hint=f"先运行 tiering watch REGISTER EVENTS --state {state_dir}")
    store = Store(state_dir)
    alerts = store.period_alerts(since, until)
    store.close()
    click.echo(summary_text(alerts, since, until))
    if xlsx_path is not None:
        from tiering.output.provenance import today
        from tiering.output.workbook import write_workbook

        about = [("状态目录", str(state_dir)), ("期间", f"{since or '…'} – {until or '…'}"), ("生成日期", today())]
        write_workbook(xlsx_path, {"提示": alert_table(alerts)}, about)
        click.echo(f"写出 wrote {xlsx_path}")


from tiering.cli import main  # noqa: E402  (registering here keeps commands.py free of watch's imports)

main.add_command(watch)
