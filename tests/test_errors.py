"""One family of errors: every error class of the package is a TieringError with a stable id and an exit code,
and the command line turns any of them into its message and code in one place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from click.testing import CliRunner

import tiering
from tiering import exit_codes
from tiering.cli import main
from tiering.errors import TieringError, Where


def _error_classes() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(tiering.__path__, "tiering."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == info.name
                    and not name.startswith("_")):
                found.append(obj)
    return found


def test_every_error_class_is_one_of_the_family_with_its_own_id() -> None:
    classes = _error_classes()
    assert len(classes) >= 20
    outside = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, TieringError)]
    assert outside == []
    ids = [c.id for c in classes if c is not TieringError]
    assert all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", i) for i in ids), ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    codes = {c.exit_code for c in classes}
    assert codes <= {exit_codes.USAGE, exit_codes.UNUSABLE_INPUT, exit_codes.CHECK_FAILED, exit_codes.RUN_FAILED}


def test_an_error_says_where_what_to_do_and_its_id() -> None:
    error = TieringError("阈值必须是数字", where=Where(file="rules/x.yaml", line=12, field="threshold", rule_id="c4"),
                         hint="写成 0.6 而不是 60%")
    assert error.lines() == ["rules/x.yaml:12 threshold [c4]: 阈值必须是数字 [tiering-error]",
                             "建议 hint: 写成 0.6 而不是 60%"]
    cell = Where(file="名录.xlsx", sheet="2024", row=7, column="销售收入(万元)")
    assert str(cell) == "名录.xlsx 工作表 2024 第 7 行 列 销售收入(万元)"


def test_the_command_line_maps_an_error_to_its_message_and_exit_code(sample_register: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--program", "nope",
                                       "--no-audit"])
    assert result.exit_code == exit_codes.UNUSABLE_INPUT
    assert "no rule set for program 'nope'" in result.output and "[no-rule-set]" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, "\n".join(line for line in result.output.splitlines() if not line.startswith("注意"))


def test_named_bad_inputs_give_their_message_id_hint_and_exit_code(sample_register: Path, tmp_path: Path) -> None:
    register = str(sample_register)
    assert _run("rules", "diff", "--old", "kjxzxqy-2017", "--new", "tj-cy-2021", register, "--year", "2025") == (
        exit_codes.USAGE,
        "错误 / error: 只能比较同一项目的两个版本：kjxzxqy-2017 属于 'kjxzxqy'，tj-cy-2021 属于 'tj_cy'"
        "（compare two versions of one program） [rule-diff-refused]\n"
        "  建议 hint: --old 与 --new 写同一项目的两个版本，如 kjxzxqy@版本号 或其规则集 id")
    store = tmp_path / "none.sqlite"
    assert _run("report", "20251122T104716Z-3f9a2c1d", "--register", register, "--store", str(store)) == (
        exit_codes.UNUSABLE_INPUT,
        f"错误 / error: 没有审计库 {store}（no audit store at {store}） [no-audit-store]\n"
        "  建议 hint: 先运行 tiering classify 记录一次运行，或用 --store 指定审计库 (run `tiering classify` first, "
        "or pass --store PATH)")
    card = tmp_path / "none.card.yaml"
    assert _run("model", "score", "--model", str(card), "--register", register, "--year", "2025") == (
        exit_codes.UNUSABLE_INPUT,
        f"错误 / error: {card}: 模型卡不存在 [model-card]\n  建议 hint: 先运行 tiering model train --out {card}")
    assert _run("classify", register, "--year", "2025", "--rules-version", "kjxzxqy", "--no-audit",
                "--out", str(tmp_path / "c")) == (
        exit_codes.USAGE,
        "错误 / error: --rules-version 应写成 项目=版本，得到 'kjxzxqy'（takes PROGRAM=VERSION） [usage]\n"
        "  建议 hint: 例如 --rules-version kjxzxqy=2017.1")
    assert _run("explain", register, "91120116MA0500004Z", "--year", "2025") == (
        exit_codes.UNUSABLE_INPUT,
        f"错误 / error: 名录 {register} 的有效行中没有企业“91120116MA0500004Z”（firm '91120116MA0500004Z' is not "
        "among the accepted rows） [firm-not-found]")
    assert not (tmp_path / "c").exists()


def test_a_listed_file_shows_each_problem_with_its_place_under_the_message(tmp_path: Path,
                                                                           sample_register: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("id: bad\nprogram: [\n", encoding="utf-8")
    code, output = _run("classify", str(sample_register), "--year", "2025", "--rules", str(rules), "--no-audit",
                        "--out", str(tmp_path / "c"))
    lines = output.splitlines()
    assert code == exit_codes.UNUSABLE_INPUT
    assert lines[0] == ("错误 / error: 1 problem(s) in the rule files; run `tiering rules check` for the list "
                        "[unusable]")
    assert lines[1].startswith(f"  {rules / 'bad.yaml'}:3 ")
