"""click's own usage errors as errors of the family: said in Chinese first, click's English (and its suggestion)
kept in brackets, each with a stable id, exit 2 and the command's usage line as the hint.

click words these errors in English (``No such option '--no-audti'. (Did you mean …)``, ``Missing argument``,
``Invalid value for``, ``Got unexpected extra argument``); :func:`in_chinese` turns each kind into its member of
the family from the exception's own fields (option name, parameter, its type, click's suggestions), so the one
error printer of the command line (:mod:`tiering.cli`) shows them like every other error.
"""

from __future__ import annotations

import re

import click

from tiering.errors import UsageError


class UnknownCommand(UsageError, error_id="unknown-command"):
    """A subcommand name no group of the command line has (with the nearest names)."""


class UnknownOption(UsageError, error_id="unknown-option"):
    """An option the command does not take (with click's nearest options)."""


class OptionUsage(UsageError, error_id="option-usage"):
    """An option given without its value, or with a value it does not take."""


class MissingParameter(UsageError, error_id="missing-parameter"):
    """A required argument or option not given."""


class InvalidValue(UsageError, error_id="invalid-value"):
    """A value its option or argument does not accept (not a number, out of range, not one of the choices …)."""


class ExtraArguments(UsageError, error_id="extra-arguments"):
    """More arguments than the command takes."""


_CJK = re.compile(r"[\u4e00-\u9fff]")
_EXTRA = re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)")
_NEEDS = re.compile(r"requires (?:an|(?P<n>\d+)) arguments?")


def command_path(ctx: click.Context) -> str:
    """The command as the user types it (``tiering audit replay``), whatever name the program was run under."""
    return " ".join(["tiering", *ctx.command_path.split()[1:]])


def _usage_hint(ctx: click.Context | None) -> str | None:
    if ctx is None:
        return None
    path = command_path(ctx)
    return f"用法 usage: {path} {' '.join(ctx.command.collect_usage_pieces(ctx))}；各选项见 {path} --help"


def _named(param: click.Parameter | None, fallback: str | None) -> str:
    if isinstance(param, click.Option):
        return f"选项 {' / '.join(param.opts)}"
    if param is not None:
        return f"参数 {param.human_readable_name}"
    return fallback or "参数"


def _range(kind: click.IntRange | click.FloatRange) -> str:
    if kind.min is not None and kind.max is not None:
        return f"{kind.min}–{kind.max} 之间的"
    return f"不小于 {kind.min} 的" if kind.min is not None else f"不大于 {kind.max} 的"


def _what_is_wanted(param: click.Parameter | None, english: str) -> str | None:
    """What the parameter takes, in Chinese, from its click type (the English message says what was given); None
    for a type of the command line's own, whose messages are Chinese already."""
    kind = param.type if param is not None else None
    if isinstance(kind, click.Choice):
        return f"应为 {'、'.join(map(str, kind.choices))} 之一"
    if isinstance(kind, click.IntRange | click.FloatRange):
        number = "整数" if isinstance(kind, click.IntRange) else "数"
        return f"应为 {_range(kind)}{number}"
    if isinstance(kind, click.types.IntParamType):
        return "应为整数"
    if isinstance(kind, click.types.FloatParamType):
        return "应为数字"
    if isinstance(kind, click.types.BoolParamType):
        return "应为 是/否（true/false）"
    if isinstance(kind, click.Path):
        if "does not exist" in english:
            return "路径不存在"
        if "is a directory" in english:
            return "是文件夹，应为文件"
        if "is a file" in english:
            return "是文件，应为文件夹"
        return "路径不可用（无权读写？）"
    return None


def in_chinese(exc: click.UsageError) -> UsageError:
    """click's usage error ``exc`` as the family's member for its kind: Chinese, click's English in brackets."""
    english = exc.format_message()
    hint = _usage_hint(exc.ctx)
    if isinstance(exc, click.NoSuchOption):
        near = f"；是否要用：{'、'.join(exc.possibilities)}？" if exc.possibilities else ""
        return UnknownOption(f"没有选项 {exc.option_name}{near}（{english}）", hint=hint)
    if isinstance(exc, click.BadOptionUsage):
        needs = _NEEDS.search(english)
        if needs:
            count = f"{needs.group('n')} 个" if needs.group("n") else "一个"
            return OptionUsage(f"选项 {exc.option_name} 需要{count}值（{english}）", hint=hint)
        if "does not take a value" in english:
            return OptionUsage(f"选项 {exc.option_name} 不带值（{english}）", hint=hint)
        return OptionUsage(f"选项 {exc.option_name} 用法有误（{english}）", hint=hint)
    if isinstance(exc, click.MissingParameter):
        return MissingParameter(f"缺少{_named(exc.param, exc.param_hint and str(exc.param_hint))}（{english}）",
                                hint=hint)
    if isinstance(exc, click.BadParameter):
        wanted = _what_is_wanted(exc.param, english)
        if wanted is None and _CJK.search(exc.message):
            said = exc.message
        else:
            said = f"{wanted or '取值不被接受'}（{english}）"
        fallback = None if exc.param_hint is None else f"参数 {exc.param_hint}"
        return InvalidValue(f"{_named(exc.param, fallback)} 的取值无效：{said}", hint=hint)
    extra = _EXTRA.fullmatch(english)
    if extra:
        return ExtraArguments(f"多余的参数：{extra.group('args')}（{english}）", hint=hint)
    if _CJK.search(english):
        return UsageError(english, hint=hint)
    return UsageError(f"命令行有误（{english}）", hint=hint)
