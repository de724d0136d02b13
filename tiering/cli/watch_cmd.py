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
from tiering.cli.common import fail, header_row, register_options, rules_dir_option
from tiering.cli.progress import terminal_progress


def _parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} takes a date YYYY-MM-DD, got '{value}'", exit_codes.USAGE)


@click.command("watch")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="State folder (SQLite state, alerts.jsonl, dead_letter.jsonl); reuse it to resume.")
@click.option("--register", "register_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Register giving the firms' starting data (needed to process events).")
@click.option("--year", type=int, default=None,
              help="Application year to keep current (default: the register's last fiscal year + 1).")
@rules_dir_option
@click.option("--follow", is_flag=True, help="Keep reading: new lines of a file, new *.jsonl files of a folder.")
@click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between looks when following.")
@click.option("--batch", "batch_size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most events per transaction (a followed source flushes sooner when idle); "
                   "larger is faster, smaller gives alerts sooner on a backlog.")
@click.option("--clock", "clock_day", default=None, metavar="YYYY-MM-DD",
              help="Simulated today for reminders (default: the system date).")
@click.option("--summary", is_flag=True, help="Print the changes and reminders of a period and exit.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="With --summary: first day of the period.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="With --summary: last day of the period.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --summary: also write the period's alerts to this Excel workbook (提示 sheet).")
@click.option("--check", "check_tiers", is_flag=True,
              help="Afterwards, check the live tiers against a batch evaluation of the final data and against a "
                   "replay of the event log from empty state; exit 4 if they differ.")
@click.option("--tiers", "tiers_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="After processing, write the current tiers (firm × rule set) to this CSV file.")
@register_options
def watch(sources: tuple[Path, ...], state_dir: Path, register_path: Path | None, year: int | None,
          rules_dir: Path | None, follow: bool, poll: float, batch_size: int, clock_day: str | None, summary: bool,
          since: str | None, until: str | None, xlsx_path: Path | None, check_tiers: bool,
          tiers_path: Path | None, money_unit: str | None, encoding: str | None, sheet: str | None) -> None:
    """Apply events (JSON lines from files, folders or '-' for stdin) to the firms and alert every tier change.

    \b
    Examples:
      tiering watch datasets/events/sample_events.jsonl --register datasets/sample_register.xlsx --state out/watch
      tiering watch --summary --state out/watch --since 2025-06-01 --until 2025-06-30 --xlsx alerts.xlsx
      tiering watch --check --register datasets/sample_register.xlsx --state out/watch
    Alerts go to STATE/alerts.jsonl, unusable lines to STATE/dead_letter.jsonl. Event types: see
    tiering/watch/events.py or the README.
    """
    if summary:
        _summary(state_dir, since, until, xlsx_path)
        return
    if register_path is None:
        fail("--register is needed to process events (the firms' starting data)", exit_codes.USAGE)
    try:
        from tiering.watch.routing import DurableMissing
    except ImportError as exc:
        fail(f"tiering.watch could not be loaded: {exc}")
    from tiering.register import RegisterError
    from tiering.rules.library import RuleLoadError
    from tiering.watch.clock import SimulatedClock, SystemClock
    from tiering.watch.monitor import Monitor, WatchError, check
    from tiering.watch.sources import lines_ahead, read_path, read_stdin

    day = _parse_day(clock_day, "--clock")
    clock = SimulatedClock(day) if day is not None else SystemClock()
    try:
        read = {"money_unit": money_unit, "encoding": encoding, "sheet": sheet, "header_row": header_row()}
        monitor = Monitor(state_dir, register_path, year=year, rules_dir=rules_dir, clock=clock,
                          batch_size=batch_size, read=read)
    except DurableMissing as exc:
        fail(str(exc), exit_codes.UNUSABLE_INPUT)
    except (WatchError, RegisterError, RuleLoadError, KeyError) as exc:
        fail(str(exc))
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


def _summary(state_dir: Path, since: str | None, until: str | None, xlsx_path: Path | None) -> None:
    from tiering.watch.alerts import alert_table, summary_text
    from tiering.watch.state import Store

    _parse_day(since, "--since")
    _parse_day(until, "--until")
    if not (state_dir / "state.db").exists():
        fail(f"no watch state in {state_dir}; run `tiering watch EVENTS --register REGISTER --state {state_dir}` first")
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
