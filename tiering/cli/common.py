"""Options and loading steps shared by the commands that read a register and rules."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from tiering import exit_codes
from tiering.app import rules_in_force
from tiering.errors import BY_EXIT_CODE, Where
from tiering.register import Register, RegisterError
from tiering.register.cache import CachedFirm, cached_firm, cached_register
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.currency import currency_warnings
from tiering.rules.library import RULES_DIR, RuleLibrary, load_library, rule_files
from tiering.rules.purpose import CERTIFY, EvaluationPurpose, Purpose


def fail(message: str, code: int = exit_codes.UNUSABLE_INPUT, *, hint: str | None = None) -> NoReturn:
    """Stop the command with an error of the family for exit ``code`` (2, 3 or 4); :func:`tiering.cli.main` prints
    it and exits, as for every other error."""
    raise BY_EXIT_CODE[code](message, hint=hint)


def echo_head(store: Path, ref: str) -> None:
    """Print the chain head record ``ref`` made: a bureau copies that hash somewhere the store's owner cannot edit,
    and `audit verify --anchor HASH` later proves nothing was cut off or re-chained."""
    from tiering.audit.store import record_hash_of  # the store's writer (pandas, Arrow): not for explain's lookups

    click.echo(f"链头 chain head {record_hash_of(store, ref)}  （请另行保存，用于 audit verify --anchor；keep it "
               f"outside the store）")


class Day(click.ParamType):
    """A calendar date written YYYY-MM-DD, given to the command as a :class:`datetime.date`."""

    name = "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"应为日期 YYYY-MM-DD，如 2025-06-30；得到 '{value}'（a date YYYY-MM-DD）", param, ctx)


DAY = Day()
"""The type of every date option (--date, watch --clock/--since/--until)."""

APPLICATION_YEARS = (1981, 2100)
"""Application years --year accepts: fiscal year YEAR-1 must be a year the register can hold (1980-2099)."""
YEAR = click.IntRange(*APPLICATION_YEARS)
"""The --year type of the commands that evaluate: outside the range is a usage error (exit 2) naming it."""
HEADER_ROW_KEY = "tiering.header_row"


def _remember_header_row(ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    ctx.meta[HEADER_ROW_KEY] = value
    return value


def register_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--unit, --encoding, --sheet and --header-row: how to read the analyst's register.

    --header-row is kept in the click context (read by read_register), so no command repeats it in its signature.
    """
    func = click.option("--header-row", type=click.IntRange(1, 1_048_576), default=None, expose_value=False,
                        callback=_remember_header_row,
                        help="表头所在行号（header-row），默认在前 20 行中自动查找。")(func)
    func = click.option("--sheet", default=None,
                        help="Excel 工作表名（sheet）；默认为含名录的可见工作表，按年度分表的会合并；隐藏的工作表"
                             "只在点名时读取。")(func)
    func = click.option("--encoding", default=None,
                        help="CSV 文件编码（encoding），如 gb18030；默认在 UTF-8、GB18030、UTF-16 中自动识别。")(func)
    func = click.option("--unit", "money_unit", type=click.Choice(["万元", "元"]), default=None,
                        help="金额单位（unit）：表头未写单位的金额列（如“销售收入”）按此单位读取。")(func)
    return func


def rules_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--rules: the rule folder, from $TIERING_RULES when not given (every command that reads rules takes it)."""
    return click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        default=None, envvar="TIERING_RULES", show_envvar=True,
                        help="规则文件夹（rules）；默认取环境变量 $TIERING_RULES，再否则用自带的 rules/。")(func)


def rules_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--rules, --rules-version, --date, --program, --purpose and --certified: which rule sets to apply."""
    func = click.option("--certified", type=click.IntRange(1990, 2100), default=None, metavar="YEAR",
                        help="被复核称号的认定年度（certified），与 --purpose 复核 一起用，如 2023。")(func)
    func = click.option("--purpose", type=click.Choice([p.value for p in Purpose]), default=Purpose.CERTIFY.value,
                        show_default=True,
                        help="评价目的（purpose）：认定（新认定）或 复核（已有称号的复核，须给 --certified YEAR，"
                             "以选用该次复核适用的规则版本）。")(func)
    func = click.option("--program", "programs", multiple=True,
                        help="只评价这些项目（program）及其依赖的项目，可重复，如 --program kjxzxqy。")(func)
    func = click.option("--date", "eval_date", type=DAY, default=None,
                        help="评价日期（date），决定哪些规则版本现行；默认为申报年度的 6 月 30 日。")(func)
    func = click.option("--rules-version", "pins", multiple=True, metavar="PROGRAM=VERSION",
                        help="指定项目的规则版本（rules-version），写版本号或规则集 id，可重复，"
                             "如 kjxzxqy=2017.1。")(func)
    return rules_dir_option(func)


def year_option(required: bool = True, note: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--year: the application year (YEAR-1 is the fiscal year the criteria read), the same for every command."""
    return click.option("--year", type=YEAR, required=required, default=None,
                        help=f"申报年度（year），{APPLICATION_YEARS[0]}–{APPLICATION_YEARS[1]}；评价读取 YEAR-1 "
                             f"财年的数据{note}。")


def out_folder_options(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--out and --overwrite of the commands that write a folder of results (classify, select, report)."""
    def add(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option("--overwrite", is_flag=True,
                            help="覆盖（overwrite）：输出文件夹中已有上一次运行的结果时，先删除这些文件再写。")(func)
        return click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
                            help=f"输出文件夹（out），默认 out/{command}-YEAR；开始前先检查能否写入。")(func)
    return add


def store_option_as(dest: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--store: the audit store (read for overrides and recorded runs, written by classify and select), given to
    the command as ``dest``."""
    return click.option("--store", dest, type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="审计库（store）；默认取环境变量 $TIERING_AUDIT_STORE，再否则为 out/audit.sqlite。")


store_option = store_option_as("audit_store")
"""--store of the commands that classify, select or explain."""


def audit_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store and --no-audit: where the run is recorded (every classify and select run is, by default)."""
    func = click.option("--no-audit", is_flag=True, help="不把这次运行记入审计库（no-audit）。")(func)
    return store_option(func)


def load_rules(rules_dir: Path | None) -> RuleLibrary:
    folder = rules_dir or RULES_DIR
    if not rule_files(folder):
        # an installed copy without the checkout's rules/ would otherwise classify against no rule set at all
        fail(f"没有找到规则文件 no rule files in {folder}: pass --rules DIR (the project's rules/ folder) "
             f"or set TIERING_RULES=DIR", exit_codes.UNUSABLE_INPUT)
    return load_library(folder)


def parse_pins(pins: tuple[str, ...]) -> dict[str, str]:
    """PROGRAM=VERSION pairs of --rules-version as a dict; exit 2 on a malformed one."""
    out: dict[str, str] = {}
    for pin in pins:
        if "=" not in pin:
            fail(f"--rules-version 应写成 项目=版本，得到 '{pin}'（takes PROGRAM=VERSION）", exit_codes.USAGE,
                 hint="例如 --rules-version kjxzxqy=2017.1")
        program, version = pin.split("=", 1)
        out[program.strip()] = version.strip()
    return out


def evaluation_purpose(purpose: str, certified: int | None) -> EvaluationPurpose:
    """--purpose and --certified as one value; exit 2 when --certified is given without 复核 or 复核 without it."""
    chosen = Purpose(purpose)
    if certified is not None and chosen != Purpose.REVIEW:
        fail("--certified 只用于 --purpose 复核 (--certified only applies to a 复核)", exit_codes.USAGE)
    if chosen == Purpose.REVIEW and certified is None:
        fail("--purpose 复核 需要 --certified YEAR（被复核称号的认定年度）, e.g. --purpose 复核 --certified 2023",
             exit_codes.USAGE)
    return EvaluationPurpose(chosen, certified)


def pick_rulesets(library: RuleLibrary, year: int, eval_date: dt.date | None, pins: tuple[str, ...],
                  programs: tuple[str, ...], purpose: EvaluationPurpose = CERTIFY,
                  ) -> tuple[list[CompiledRuleSet], dt.date]:
    """The rule sets in force on the evaluation date for the purpose, in dependency order, and that date; the
    warnings on their currency (:mod:`tiering.rules.currency`) are printed on stderr."""
    chosen, on = rules_in_force(library, year, eval_date,
                                parse_pins(pins), programs, purpose)
    for warning in currency_warnings(library, chosen, on):
        click.echo(f"注意 warning: {warning}", err=True)
    return chosen, on


def read_usable_register(path: Path, money_unit: str | None, encoding: str | None, sheet: str | None) -> Register:
    """The register, with its warnings and refused rows printed; exit 3 if no row is usable."""
    register = read_register(path, money_unit, encoding, sheet)
    echo_intake(register)
    if register.frame.empty:
        fail(f"no usable rows in {path} ({register.rows_read} read, {register.rows_refused} refused)")
    return register


def echo_intake(register: Register) -> None:
    """How the register was read, its warnings and every refused row, on stderr."""
    for note in register.notes:
        click.echo(f"读表 note: {note}", err=True)
    for warning in register.warnings:
        click.echo(f"提示 warning: {warning}", err=True)
    for refusal in register.refusals:
        click.echo(f"拒收 refused: {refusal.message()}", err=True)


def header_row() -> int | None:
    """The --header-row of the running command (see :func:`register_options`), None when not given."""
    context = click.get_current_context(silent=True)
    return context.meta.get(HEADER_ROW_KEY) if context is not None else None


def read_register(path: Path, money_unit: str | None, encoding: str | None, sheet: str | None,
                  cached: bool = False) -> Register:
    """The register as load_register reads it (with --header-row when given); exit 3 when it is unusable.

    ``cached``: a file read the same way before comes from the register cache (:mod:`tiering.register.cache`),
    for the commands that look at one firm and would otherwise spend most of their time reading the file."""
    options = _reading(money_unit, encoding, sheet)
    try:
        if cached:
            return cached_register(path, options, lambda: _load_file(path, options))
        return _load_file(path, options)
    except RegisterError as exc:
        raise exc.located(Where(file=str(path))) from None


def cached_firm_rows(path: Path, money_unit: str | None, encoding: str | None, sheet: str | None, firm_id: str,
                     data_year: int) -> CachedFirm | None:
    """The rows of the one firm ``firm_id`` names, with a row of ``data_year``, from the register cache when the
    file was read the same way before (see :func:`tiering.register.cache.cached_firm`); None otherwise — then
    :func:`read_register` reads it and says what is wrong."""
    return cached_firm(path, _reading(money_unit, encoding, sheet), firm_id, data_year)


def _reading(money_unit: str | None, encoding: str | None, sheet: str | None) -> dict[str, Any]:
    """How the register is read: its options as the register cache keys them."""
    return {"money_unit": money_unit, "encoding": encoding, "sheet": sheet, "header_row": header_row()}


def _load_file(path: Path, options: dict[str, Any]) -> Register:
    """The register file, or the register folder (a folder of parts, e.g. a Parquet dataset), read."""
    if path.is_dir():
        from tiering.register.dataset import load_dataset

        return load_dataset(path, **options)
    from tiering.register.load import load_register  # the readers, row contract and openpyxl: only when reading

    return load_register(path, **options)


def prepare_out_dir(out_dir: Path, overwrite: bool, earlier: tuple[str, ...]) -> None:
    """Make sure results can be written to ``out_dir`` before any work (exit 3 if not; nothing is created), and
    that no file of an earlier run stays beside the new ones: a folder holding any file such a run writes
    (``earlier``: the names the command writes) is refused without ``overwrite`` and cleared of them with it."""
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out {out_dir} 是一个文件，不是文件夹：请换一个文件夹")
    found = [name for name in earlier if (out_dir / name).exists() or (out_dir / name).is_symlink()]
    if found:
        if not overwrite:
            fail(f"--out {out_dir} 里已有上一次运行的结果（{'、'.join(found[:3])}）：加 --overwrite "
                 "先删除上一次的结果再写，或换一个文件夹")
        for name in earlier:
            old = out_dir / name
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
    # nothing is created before the work succeeds: the folder itself, or the nearest folder above it, must take files
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        fail(f"--out {out_dir} 无法写入：{existing} 是一个文件，不是文件夹；请换一个文件夹")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        fail(f"--out {out_dir} 无法写入（{exc.strerror or exc}）：请换一个可写的文件夹")
