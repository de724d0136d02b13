"""One command line: shared option groups with Chinese help naming the English id, the register first as in
classify, dates typed as dates, $TIERING_RULES read by every command that reads rules."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tiering import exit_codes
from tiering.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "datasets" / "sample_register.xlsx")
EVENTS = str(ROOT / "datasets" / "events" / "sample_events.jsonl")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _command(*path: str) -> click.Command:
    ctx = click.Context(main)
    command: click.Command | None = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.get_command(ctx, name)
        assert command is not None, name
    return command


@pytest.mark.parametrize("path", [("classify",), ("explain",), ("select",), ("watch",), ("audit", "replay"),
                                  ("rules", "diff")])
def test_every_option_is_helped_in_chinese_with_its_english_id(path: tuple[str, ...]) -> None:
    for param in _command(*path).params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        name = param.opts[0].lstrip("-")
        assert param.help and CJK.search(param.help), (path, name)
        assert f"（{name}" in param.help, (path, name, param.help)


def test_shared_option_groups_are_the_same_objects_of_help_everywhere() -> None:
    def helps(*path: str) -> dict[str, str | None]:
        return {p.opts[0]: p.help for p in _command(*path).params if isinstance(p, click.Option)}

    classify, select, explain = helps("classify"), helps("select"), helps("explain")
    for option in ("--year", "--unit", "--encoding", "--sheet", "--header-row", "--rules", "--rules-version",
                   "--date", "--program", "--purpose", "--certified", "--store"):
        assert classify[option] == select[option] == explain[option], option
    assert helps("watch")["--rules"] == classify["--rules"] == helps("rules", "diff")["--rules"]
    assert classify["--out"] == "输出文件夹（out），默认 out/classify-YEAR；开始前先检查能否写入。"
    assert select["--overwrite"] == classify["--overwrite"]


def test_a_date_that_is_not_one_is_a_usage_error_naming_the_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["watch", SAMPLE, EVENTS, "--state", str(tmp_path / "w"),
                                       "--clock", "2025-13-01"])
    assert result.exit_code == exit_codes.USAGE
    assert ("错误 / error: 选项 --clock 的取值无效：应为日期 YYYY-MM-DD，如 2025-06-30；得到 '2025-13-01'（a date "
            "YYYY-MM-DD） [invalid-value]" in result.output)
    summary = CliRunner().invoke(main, ["watch", "--summary", "--state", str(tmp_path / "w"), "--since", "6/1/2025"])
    assert summary.exit_code == exit_codes.USAGE and "选项 --since 的取值无效" in summary.output
    classify = CliRunner().invoke(main, ["classify", SAMPLE, "--year", "2025", "--date", "30.06.2025"])
    assert classify.exit_code == exit_codes.USAGE and "选项 --date 的取值无效" in classify.output


def test_watch_takes_the_register_first_and_still_the_earlier_register_option(tmp_path: Path) -> None:
    first = CliRunner().invoke(main, ["watch", SAMPLE, EVENTS, "--state", str(tmp_path / "a"), "--clock",
                                      "2025-06-30", "--tiers", str(tmp_path / "a.csv")])
    assert first.exit_code == 0, first.output
    earlier = CliRunner().invoke(main, ["watch", EVENTS, "--register", SAMPLE, "--state", str(tmp_path / "b"),
                                        "--clock", "2025-06-30", "--tiers", str(tmp_path / "b.csv")])
    assert earlier.exit_code == 0, earlier.output
    assert first.output.splitlines()[0] == earlier.output.splitlines()[0]
    assert first.output.splitlines()[0].startswith("读取 ")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    none = CliRunner().invoke(main, ["watch", "--state", str(tmp_path / "c")])
    assert none.exit_code == exit_codes.USAGE
    assert none.output == ("错误 / error: 处理事件需要名录 REGISTER（企业的起始数据），写在事件来源之前（the register "
                           "comes first: tiering watch REGISTER [EVENTS]...） [usage]\n")


def test_audit_replay_takes_the_register_first() -> None:
    missing = CliRunner().invoke(main, ["audit", "replay", SAMPLE])
    assert missing.exit_code == exit_codes.USAGE
    assert missing.output == ("错误 / error: 缺少运行编号 RUN_ID（missing RUN_ID） [usage]\n"
                              "  建议 hint: 写成 tiering audit replay REGISTER RUN_ID，运行编号见 tiering audit runs\n")
    twice = CliRunner().invoke(main, ["audit", "replay", SAMPLE, "RUN", "--register", SAMPLE])
    assert twice.exit_code == exit_codes.USAGE and "名录给了两次" in twice.output


def test_rules_folder_comes_from_tiering_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TIERING_RULES", str(empty))
    for args in (["explain", SAMPLE, "91120116MA0500004A", "--year", "2025"],
                 ["rules", "diff", "--old", "kjxzxqy-2017", "--new", "kjxzxqy-2022", SAMPLE, "--year", "2025"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == exit_codes.UNUSABLE_INPUT, args
        assert f"没有找到规则文件 no rule files in {empty}" in result.output, args


def test_a_mistyped_subcommand_names_the_closest_one() -> None:
    result = CliRunner().invoke(main, ["audit", "replya"])
    assert result.exit_code == exit_codes.USAGE
    assert "没有命令 'replya'；是否要用：replay？（No such command 'replya'. Did you mean: replay?）" in result.output
    nothing = CliRunner().invoke(main, ["rules", "xyz"])
    assert nothing.exit_code == exit_codes.USAGE and "可用的命令见 tiering rules --help。" in nothing.output
