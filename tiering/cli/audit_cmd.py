"""``tiering audit``: verify the chain, show a firm's recorded decisions, replay a run, record an override, rebuild
the firm rows of an old run."""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tiering import exit_codes
from tiering.audit.backfill import backfill_firms
from tiering.audit.db import StoreTampered, connect, existing_store, store_path
from tiering.audit.orphans import remove_orphans
from tiering.audit.out_folder import check_out_folder
from tiering.audit.replay import replay as replay_run
from tiering.audit.show import firm_history
from tiering.audit.store import load_records, record_override
from tiering.audit.verify import verify as verify_store
from tiering.cli import SuggestingGroup
from tiering.cli.common import (
    echo_head,
    fail,
    load_rules,
    read_register,
    register_options,
    rules_dir_option,
    store_option_as,
)
from tiering.errors import TieringError
from tiering.outcome import OUTCOMES, WORD_TO_ENGLISH

"""The outcome words an analyst types, and the codes the store keeps."""


store_option = store_option_as("store")
"""--store of the audit, users and serve commands."""


TAMPER_HINT = "运行 tiering audit verify 找出第一处断链 (run `tiering audit verify`)"
"""What to do about a store the audit commands found tampered with."""


def tamper_guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Report a store that cannot be read as the tool wrote it as tampering (exit 4), never as a traceback."""
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except StoreTampered as exc:
            raise StoreTampered(f"审计库被改动 the audit store was tampered with: {exc.message}", where=exc.where,
                                hint=TAMPER_HINT, problems=exc.problems) from exc
        except TieringError:
            raise  # said what it is: a firm not recorded, a refused override, …
        except (sqlite3.Error, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StoreTampered(f"审计库被改动 the audit store was tampered with and cannot be read "
                                f"({type(exc).__name__}: {exc})", hint=TAMPER_HINT) from exc
    return guarded


def _register_then_run(first: str, second: str | None, register_option: Path | None) -> tuple[Path, str]:
    """REGISTER RUN_ID, or the earlier RUN_ID --register REGISTER."""
    if register_option is not None:
        if second is not None:
            fail(f"名录给了两次：--register {register_option} 和 {first}（the register is given twice）",
                 exit_codes.USAGE, hint="写成 tiering audit replay REGISTER RUN_ID")
        return register_option, first
    if second is None:
        fail("缺少运行编号 RUN_ID（missing RUN_ID）", exit_codes.USAGE,
             hint="写成 tiering audit replay REGISTER RUN_ID，运行编号见 tiering audit runs")
    path = click.Path(exists=True, path_type=Path).convert(first, None, None)
    return path, second


def _existing(store: Path | None) -> Path:
    return existing_store(store_path(store))


@click.group("audit", cls=SuggestingGroup)
def audit() -> None:
    """The audit store: every classify run recorded, hash-chained, explainable and replayable."""


@audit.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="HASH",
              help="锚点（anchor）：保存在审计库之外的记录哈希。"
                   "A record hash kept outside the store (from `audit runs`, ≥ 12 characters) that must still be "
                   "in the chain; catches records cut off the end. Repeatable.")
@click.option("--out", "out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="分区运行的输出文件夹（--out）：逐一核对其中每个分区文件与汇总文件是否与审计记录的 SHA-256 相同，"
                   "列出改动、缺少或多出的文件。Check a partitioned run's output folder against its record.")
@click.option("--run", "run_id", metavar="RUN_ID", default=None,
              help="与 --out 同用：写出该文件夹的运行编号；不给时按文件夹中的 provenance.json 找出。")
@store_option
@tamper_guard
def verify(anchors: tuple[str, ...], out_dir: Path | None, run_id: str | None, store: Path | None) -> None:
    """核验哈希链及其覆盖的每个追溯文件、决定与规则原文，指出第一处断链。

    Check the hash chain and every trace file, decision and rule text it covers; name the first broken link.
    With --out, also check that a partitioned run's output folder is the one the run wrote.

    \b
    Example: tiering audit verify --store out/audit.sqlite --anchor 3f9a2c1d0b7e5a41
             tiering audit verify --out out/big
    """
    if run_id is not None and out_dir is None:
        raise click.UsageError("--run 只与 --out 同用（--run is used with --out）")
    path = _existing(store)
    report = verify_store(path, anchors)
    for name in report.orphans:
        click.echo(f"提示 note: 孤立文件 {name} 不属于任何记录（中断的运行留下的），已忽略；`tiering audit clean` "
                   f"可删除 (orphan file ignored; remove with audit clean)")
    if not report.ok:
        assert report.broken is not None
        click.echo(f"校验 {report.records} 条记录通过，随后链条断开 chain broken after {report.records} good record(s)")
        click.echo(report.broken.message())
        sys.exit(exit_codes.CHECK_FAILED)
    lists = f"，{report.list_decisions} 项名单决定" if report.list_decisions else ""
    click.echo(f"审计链完整 chain intact: {report.records} 条记录（{report.runs} 次运行，"
               f"{report.overrides} 项人工调整{lists}），链头 head {report.head}")
    if out_dir is not None:
        _verify_out_folder(path, out_dir, run_id)


def _verify_out_folder(store: Path, out_dir: Path, run_id: str | None) -> None:
    """The folder against its run's record: exit 4 naming every part or file changed, missing or not recorded."""
    check = check_out_folder(store, out_dir, run_id)
    for name in check.uncovered:
        click.echo(f"提示 note: {name} 未核对：运行 {check.run_id} 的记录中没有它的哈希 (not covered by the record)")
    if not check.ok:
        click.echo(f"输出文件夹与运行 {check.run_id} 的记录不符 folder {out_dir} is not as run {check.run_id} wrote "
                   f"it: {check.held} file(s) hold; {', '.join(check.differ)}")
        sys.exit(exit_codes.CHECK_FAILED)
    click.echo(f"输出文件夹与记录相符 folder {out_dir} is as run {check.run_id} wrote it: "
               f"{check.held} 个文件的 SHA-256 均与审计记录相同")


@audit.command("clean")
@store_option
@tamper_guard
def clean(store: Path | None) -> None:
    """清除被中断、未提交的运行留下的追溯文件夹（不动已记录的运行）。

    Remove the trace folders that runs killed before their commit left behind (never a recorded run's).

    The chain is verified first: nothing is removed from a store that does not verify (exit 4). A folder whose
    run is still being written is left alone and named.

    \b
    Example: tiering audit clean --store out/audit.sqlite
    """
    path = _existing(store)
    report = verify_store(path)
    if not report.ok:
        assert report.broken is not None
        fail(f"审计链断开，未删除任何文件 chain broken, nothing removed: {report.broken.message()}",
             exit_codes.CHECK_FAILED)
    conn = connect(path, create=False)
    try:
        removed, busy = remove_orphans(path, conn)
    finally:
        conn.close()
    for name in removed:
        click.echo(f"已删除孤立文件 removed orphan {name}")
    for name in busy:
        click.echo(f"正在写入的运行，未删除 left alone (run still being written): {name}")
    click.echo(f"删除 {len(removed)} 个孤立文件 removed {len(removed)} orphan(s); {report.runs} 次运行不变 "
               f"(runs unchanged)")


@audit.command("runs")
@store_option
@tamper_guard
def runs(store: Path | None) -> None:
    """列出已记录的运行（按时间先后）及各自的记录哈希。

    List the recorded runs, oldest first, each with its record hash (keep it elsewhere as an anchor).

    \b
    Example: tiering audit runs
    """
    conn = connect(_existing(store), create=False)
    try:
        hashes = dict(conn.execute("SELECT ref, hash FROM records"))
        for r in load_records(conn, "run"):
            rulesets = ", ".join(f"{rs['id']}@{rs['version']}" for rs in r["rulesets"])
            click.echo(f"{r['run_id']}  {r['time']}  {r['user']}  申报年度 {r['year']}  {r['firms_evaluated']} 家  "
                       f"{Path(r['input']['file']).name}  hash {hashes[r['run_id']][:16]}  [{rulesets}]")
    finally:
        conn.close()


@audit.command("show")
@click.argument("firm_id")
@click.option("--year", type=int, default=None, help="申报年度（year）：只列这一年度的决定。")
@click.option("--run", "run_id", default=None, help="运行编号（run）：只列这次运行的决定。")
@click.option("--brief", is_flag=True, help="简要（brief）：只列结果行，不附逐条说明。")
@store_option
@tamper_guard
def show(firm_id: str, year: int | None, run_id: str | None, brief: bool, store: Path | None) -> None:
    """列出一家企业历次记录的全部决定，附说明与人工调整。

    Every decision ever recorded for FIRM_ID (统一社会信用代码 or 企业名称), with explanation and overrides.

    \b
    Example: tiering audit show 91120116MA0500004A --year 2025
    """
    click.echo(firm_history(_existing(store), firm_id, year, run_id, brief))


@audit.command("replay")
@click.argument("first", metavar="REGISTER")
@click.argument("second", metavar="RUN_ID", required=False)
@click.option("--register", "register_option", type=click.Path(exists=True, path_type=Path),
              default=None, help="名录（register）的旧写法 RUN_ID --register REGISTER，仍可用。")
@click.option("--current-rules", is_flag=True,
              help="用现行规则文件中同 id 的规则集代替审计库保存的原文（current-rules），看规则改动的影响。")
@rules_dir_option
@register_options
@store_option
@tamper_guard
def replay(first: str, second: str | None, register_option: Path | None, current_rules: bool,
           rules_dir: Path | None, money_unit: str | None, encoding: str | None, sheet: str | None,
           store: Path | None) -> None:
    """用 RUN_ID 当时的规则版本重新评价名录，核对结果是否完全一致。

    Evaluate REGISTER again with the exact rule versions of RUN_ID and confirm the results are identical.

    Exit code 4 when they differ; the report names changed data, changed rules and each differing criterion.
    REGISTER comes first, as in classify (the earlier form RUN_ID --register REGISTER is still accepted).

    \b
    Example: tiering audit replay datasets/sample_register.xlsx 20251122T104716Z-3f9a2c1d
    """
    register_path, run_id = _register_then_run(first, second, register_option)
    path = _existing(store)
    register = read_register(register_path, money_unit, encoding, sheet)
    library = load_rules(rules_dir) if current_rules else None
    report = replay_run(path, run_id, register, library)
    click.echo(report.text())
    sys.exit(exit_codes.OK if report.identical else exit_codes.CHECK_FAILED)


@audit.command("firms")
@click.argument("first", metavar="REGISTER")
@click.argument("second", metavar="RUN_ID", required=False)
@click.option("--register", "register_option", type=click.Path(exists=True, path_type=Path),
              default=None, help="名录（register）的旧写法 RUN_ID --register REGISTER，仍可用。")
@register_options
@store_option
@tamper_guard
def firms(first: str, second: str | None, register_option: Path | None, money_unit: str | None,
          encoding: str | None, sheet: str | None, store: Path | None) -> None:
    """补建 RUN_ID 的企业行（所在区、行业、最高层级），供复核台使用。

    Rebuild the firm rows (所在区, 行业, highest rung) of RUN_ID, recorded before they were kept, so that the review
    desk can list, filter and page its firms.

    The register (the file the run classified, checked by its SHA-256) is classified again with the run's stored
    rule texts; the rows are written only when every decision is the one recorded. REGISTER comes first, as in
    classify (the earlier form RUN_ID --register REGISTER is still accepted).

    \b
    Example: tiering audit firms datasets/sample_register.xlsx 20251122T104716Z-3f9a2c1d
    """
    register_path, run_id = _register_then_run(first, second, register_option)
    path = _existing(store)
    register = read_register(register_path, money_unit, encoding, sheet)
    n = backfill_firms(path, run_id, register)
    click.echo(f"已补录运行 {run_id} 的 {n} 家企业明细 (firm rows written)；tiering serve 中该运行可按区、行业、"
               f"梯度筛选")


@audit.command("override")
@click.argument("firm_id")
@click.option("--ruleset", "ruleset_id", required=True, help="规则集（ruleset）：被调整结果所属的规则集 id。")
@click.option("--outcome", type=click.Choice([*WORD_TO_ENGLISH, *OUTCOMES]), required=True,
              help="分析人员认定的结果：符合、不符合、待定（或 qualified、not_qualified、undetermined）。")
@click.option("--by", required=True, help="决定人（by）：分析人员或评审委员会的名称。")
@click.option("--why", required=True, help="理由（why）：机器判定结果为何不成立。")
@click.option("--evidence", default=None, help="依据（evidence）：文号、文件或函件。")
@click.option("--year", type=int, default=None, help="申报年度（year）：调整适用的年度，默认适用于所有年度。")
@store_option
@tamper_guard
def override(firm_id: str, ruleset_id: str, outcome: str, by: str, why: str, evidence: str | None, year: int | None,
             store: Path | None) -> None:
    """记录分析人员对一家企业结果的人工调整，与机器决定并存（不替换）。

    Record an analyst's override of FIRM_ID's outcome, beside (never replacing) the machine decisions.

    \b
    Example: tiering audit override 91120116MA0500004A --ruleset kjxzxqy-2022 --outcome 符合
    --by 王芳 --why "复核后研发费用应计入委托研发" --evidence "津科函〔2025〕12号"
    """
    path = _existing(store)
    outcome = WORD_TO_ENGLISH.get(outcome, outcome)
    ref = record_override(path, firm_id, ruleset_id, outcome, by, why, evidence, year)
    click.echo(f"已记录人工调整 override recorded: {ref}")
    echo_head(path, ref)


from tiering.cli import main  # noqa: E402  (registering at import keeps commands.py a list of imports)

main.add_command(audit)
