"""The ``tiering`` command line: one click group, one module per command family, each imported on first use."""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from typing import Any, NoReturn

# Arrow's own allocator (mimalloc) hands large freed blocks back to the system at once and takes them again for
# the next table: a whole classify spent about a quarter of its CPU in the kernel (3.8–4.2 s of 16 s for 50,000
# firms), the C library's allocator 2.2–2.3 s, with the same user time and about 8 % more peak memory. Arrow reads
# this once, when pandas first imports it; worker processes (local engine, Dask) inherit it. A value set by the
# user is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

import click

from tiering import __version__
from tiering.cli.help_zh import COMMAND_HELP_ZH
from tiering.cli.usage_errors import UnknownCommand, command_path, in_chinese
from tiering.errors import TieringError
from tiering.exit_codes import EXIT_CODES_HELP

COMMAND_MODULES = {
    "audit": "tiering.cli.audit_cmd",
    "classify": "tiering.cli.classify_cmd",
    "datasets": "tiering.cli.datasets_cmd",
    "explain": "tiering.cli.explain_cmd",
    "model": "tiering.cli.model_cmd",
    "report": "tiering.cli.report_cmd",
    "rules": "tiering.cli.rules_cmd",
    "select": "tiering.cli.select_cmd",
    "serve": "tiering.cli.serve_cmd",
    "targets": "tiering.cli.targets_cmd",
    "template": "tiering.cli.classify_cmd",
    "users": "tiering.cli.users_cmd",
    "watch": "tiering.cli.watch_cmd",
}
"""Which module defines each command. A command starts without importing the others (scikit-learn, durable…)."""

HELP_OPTION_ZH = "显示本帮助并退出（help）。Show this message and exit."
"""The help text of every command's -h/--help option (click's own is English only)."""


def chinese_help_option(command: click.Command | None, ctx: click.Context) -> None:
    """Give ``command``'s -h/--help option its Chinese help text (click creates the option once per command)."""
    option = command.get_help_option(ctx) if command is not None else None
    if option is not None:
        option.help = HELP_OPTION_ZH


class SuggestingGroup(click.Group):
    """A group whose unknown command names the closest known ones (``tiering clasify`` → classify, ``tiering audit
    replya`` → replay); every group of the command line is one."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            near = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.5)
            hint = f"是否要用：{'、'.join(near)}？" if near else f"可用的命令见 {command_path(ctx)} --help。"
            english = f" Did you mean: {', '.join(near)}?" if near else ""
            raise UnknownCommand(f"没有命令 '{name}'；{hint}（No such command '{name}'.{english}）")
        return super().resolve_command(ctx, args)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_ZH
        return option

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        chinese_help_option(command, ctx)
        return command


class LazyGroup(SuggestingGroup):
    """A group whose command modules are imported when a command is used (or when --help lists them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(COMMAND_MODULES[cmd_name])
            if cmd_name not in self.commands:
                self.add_command(getattr(module, cmd_name))
        command = self.commands.get(cmd_name)
        zh = COMMAND_HELP_ZH.get(cmd_name)
        if command is not None and zh and command.short_help != zh:
            command.help = f"{zh}。\n\n{command.help or ''}"
            command.short_help = zh
        chinese_help_option(command, ctx)
        return command

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """Parse the program's own options (``tiering --bogus``); a usage error is shown by :func:`show_error`."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            show_error(in_chinese(exc))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; any error of the family (:class:`tiering.errors.TieringError`), and click's own usage
        errors put into it, is shown by :func:`show_error`."""
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            show_error(in_chinese(exc))
        except TieringError as exc:
            show_error(exc)


def show_error(error: TieringError) -> NoReturn:
    """Print ``error`` on stderr — where, message and id, each listed problem at its place, what to do — and exit
    with its code: the one place where errors meet the command line."""
    first, *rest = error.lines()
    click.echo(f"错误 / error: {first}", err=True)
    for line in rest:
        click.echo(f"  {line}", err=True)
    sys.exit(error.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="tiering", help="显示版本并退出（version）。Show the version and exit.")
def main() -> None:
    """tiering —— 科技企业梯度培育：按现行规则逐家判定各项目层级，打分、遴选培育企业，并逐条说明依据。

    (Classify technology enterprises into S&T cultivation tiers and explain every decision.)
    """
