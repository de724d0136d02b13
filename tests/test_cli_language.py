"""The command line in the analyst's language: Chinese help, suggestions for mistyped commands and partial firm
names, explain's verdicts first with the rules it used, one 金额单位 line, override outcomes in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from tiering.cli import main
from tiering.output.provenance import money_lines

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "datasets" / "sample_register.xlsx")


def test_mistyped_command_names_the_closest_one() -> None:
    result = CliRunner().invoke(main, ["clasify", SAMPLE])
    assert result.exit_code == 2
    assert "没有命令 'clasify'；是否要用：classify？" in result.output
    nothing = CliRunner().invoke(main, ["zzzz"])
    assert nothing.exit_code == 2 and "可用的命令见 tiering --help" in nothing.output


def test_help_lists_commands_in_chinese() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "classify  逐家判定名录中每家企业在各现行项目中的结果" in result.output
    assert "explain   逐条说明一家企业" in result.output
    own = CliRunner().invoke(main, ["explain", "--help"])
    assert own.output.split("\n\n")[1].strip().startswith("逐条说明一家企业")
    assert "91120116MA0500004A" in own.output  # the example firm is in the sample


def test_explain_opens_with_one_verdict_per_program_then_rules_and_details() -> None:
    result = CliRunner().invoke(main, ["explain", SAMPLE, "东丽智能", "--year", "2025", "--program", "kjxzxqy",
                                       "--program", "tj_cy"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    head = out[:out.index("—— 逐条说明 details ——")]
    assert "企业：东丽智能装备有限公司（91120116MA0500004A）" in head
    assert "  ✘ 科技型中小企业：不符合  58分 —— 未满足：拥有有效期内高新技术企业资格证书" in head
    assert "  ✘ 雏鹰企业：不符合 —— 未满足：注册时间8年以内（截至上一年12月31日）" in head
    assert "运行编号 run：" in head and "SHA-256" in head and "kjxzxqy-2022（2022.1，SHA-256 " in head
    assert "按名称片段“东丽智能”找到：东丽智能装备有限公司" in result.output


def test_explain_partial_name_of_several_firms_lists_candidates() -> None:
    result = CliRunner().invoke(main, ["explain", SAMPLE, "东丽", "--year", "2025"])
    assert result.exit_code == 3
    assert "“东丽”与多家企业的名称相符：东丽智能装备有限公司（91120116MA0500004A）；" in result.output
    close = CliRunner().invoke(main, ["explain", SAMPLE, "东丽智慧装备", "--year", "2025"])
    assert close.exit_code == 3 and "相近的名称：东丽智能装备有限公司" in close.output


def test_money_unit_lines_fold_unless_they_differ(tmp_path: Path) -> None:
    notes = ["金额单位：万元（表头 销售收入(万元)）", "金额单位：万元（表头 资产总额(万元)）",
             "金额单位：万元（由表头 净利润(元) 换算）"]
    assert money_lines(notes) == ["金额单位：万元（2 列，表头已标明万元）",
                                  "金额单位：万元（1 列，由表头标明的元换算：净利润(元)）"]
    result = CliRunner().invoke(main, ["classify", SAMPLE, "--year", "2025", "--no-audit", "--program", "kjxzxqy",
                                       "--out", str(tmp_path / "c")])
    assert result.stdout.count("金额单位") == 1
    assert "金额单位：万元（13 列，表头已标明万元）" in result.stdout


CJK = re.compile(r"[\u4e00-\u9fff]")


def _commands(command: click.Command, ctx: click.Context) -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every command of the tree under ``command``, with its path and context (groups found as --help finds them)."""
    yield ctx.command_path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{ctx.command_path} {name}"
            yield from _commands(sub, click.Context(sub, info_name=name, parent=ctx))


def test_every_command_and_option_has_chinese_help() -> None:
    """Walk the whole click tree: each command's short help (the line its group's --help lists) and each option's
    help (-h/--help and --version included) contain Chinese, so no command of the CLI is left in English only."""
    seen, missing = [], []
    for path, command, ctx in _commands(main, click.Context(main, info_name="tiering")):
        seen.append(path)
        if not CJK.search(command.get_short_help_str(limit=200)):
            missing.append(f"{path}: {command.get_short_help_str(limit=200)}")
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not CJK.search(param.help or ""):
                missing.append(f"{path} {'/'.join(param.opts)}: {param.help!r}")
    assert not missing, "\n".join(missing)
    for path in ("tiering audit verify", "tiering model train", "tiering rules status", "tiering users passwd",
                 "tiering datasets generate", "tiering report", "tiering targets", "tiering serve", "tiering template"):
        assert path in seen  # the walk reached every family, nested ones included
    assert len(seen) >= 30


def test_converted_help_shows_chinese_then_english_id() -> None:
    out = CliRunner().invoke(main, ["model", "score", "--help"]).output
    assert "按分数给一个年度的企业排序" in out and "列出的企业数（top）" in out
    assert "显示本帮助并退出（help）" in out
    assert "显示版本并退出（version）" in CliRunner().invoke(main, ["--help"]).output


def _usage_error(*args: str) -> list[str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Usage:" not in result.output
    return result.output.splitlines()


def test_clicks_own_usage_errors_are_said_in_chinese_with_their_id_and_clicks_suggestion() -> None:
    usage = "  建议 hint: 用法 usage: tiering classify [OPTIONS] REGISTER；各选项见 tiering classify --help"
    assert _usage_error("classify", SAMPLE, "--year", "2025", "--no-audti") == [
        "错误 / error: 没有选项 --no-audti；是否要用：--no-audit、--out、--encoding？（No such option '--no-audti'. "
        "(Did you mean one of: '--encoding', '--no-audit', '--out'?)） [unknown-option]", usage]
    assert _usage_error("classify") == [
        "错误 / error: 缺少参数 REGISTER（Missing argument 'REGISTER'.） [missing-parameter]", usage]
    assert _usage_error("classify", SAMPLE, "--year", "3000") == [
        "错误 / error: 选项 --year 的取值无效：应为 1981–2100 之间的整数（Invalid value for '--year': 3000 is not in "
        "the range 1981<=x<=2100.） [invalid-value]", usage]
    assert _usage_error("classify", SAMPLE, "--year", "2025", "--unit", "千元")[0] == (
        "错误 / error: 选项 --unit 的取值无效：应为 万元、元 之一（Invalid value for '--unit': '千元' is not one of "
        "'万元', '元'.） [invalid-value]")
    assert _usage_error("classify", SAMPLE, "extra", "more", "--year", "2025") == [
        "错误 / error: 多余的参数：extra more（Got unexpected extra arguments (extra more)） [extra-arguments]", usage]
    assert _usage_error("classify", "nope.xlsx", "--year", "2025")[0] == (
        "错误 / error: 参数 REGISTER 的取值无效：路径不存在（Invalid value for 'REGISTER': Path 'nope.xlsx' does not "
        "exist.） [invalid-value]")
    assert _usage_error("classify", SAMPLE, "--year") == [
        "错误 / error: 选项 --year 需要一个值（Option '--year' requires an argument.） [option-usage]"]
    assert _usage_error("datasets", "generate", "--years", "2020-2021") == [
        "错误 / error: 缺少选项 --firms（Missing option '--firms'.） [missing-parameter]",
        "  建议 hint: 用法 usage: tiering datasets generate [OPTIONS]；各选项见 tiering datasets generate --help"]
    assert _usage_error("--bogus")[0] == "错误 / error: 没有选项 --bogus（No such option '--bogus'.） [unknown-option]"


def test_a_group_without_a_command_still_shows_its_help() -> None:
    result = CliRunner().invoke(main, ["audit"])
    assert result.exit_code == 2 and "verify" in result.output and "错误" not in result.output
