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
