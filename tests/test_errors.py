"""One family of errors: every error class of the package is a TieringError with a stable id and an exit code,
and the command line turns any of them into its message and code in one place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rulefiles import DEMO_HEADER

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
    cell = Where(file="名录.xlsx", sheet="2024", row=7, column="销售收入(万元)", field="revenue")
    assert str(cell) == '名录.xlsx 工作表“2024” 行 7 列 "销售收入(万元)" revenue'


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
        f"错误 / error: {store}: 没有审计库（no audit store here） [no-audit-store]\n"
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
        f"错误 / error: {register}: 名录的有效行中没有企业“91120116MA0500004Z”（firm '91120116MA0500004Z' is not "
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
    assert lines[0] == (f"错误 / error: {rules / 'bad.yaml'}: 规则文件有 1 处问题，请按各行所列位置修改（1 problem(s) "
                        "in the rule files） [rules-unusable]")
    assert lines[1].startswith(f"  {rules / 'bad.yaml'}:3: YAML 语法错误")
    assert lines[-1] == "  建议 hint: 改正后可用 tiering rules check 再查一遍"


def _error(*args: str) -> tuple[int, list[str], BaseException | None]:
    """Exit code, stderr lines and the family error behind them (click's runner keeps it on the exit's context)."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception
    error = result.exception.__context__
    return result.exit_code, [line for line in result.output.splitlines() if not line.startswith("注意")], error


DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def test_a_firm_whose_row_was_refused_names_the_refused_cell_by_file_sheet_row_column_and_field() -> None:
    register = DATASETS / "sample_register_with_errors.xlsx"
    code, lines, error = _error("explain", str(register), "91120116MA0500010X", "--year", "2025")
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "firm-not-found"
    assert error.where == Where(file=str(register))
    (cell,) = error.problems
    assert cell.where == Where(file=register.name, sheet="企业名录", row=11, column="统一社会信用代码", field="uscc")
    assert lines == [
        f"错误 / error: {register}: 名录的有效行中没有企业“91120116MA0500010X”（firm '91120116MA0500010X' is not "
        "among the accepted rows） [firm-not-found]",
        '  sample_register_with_errors.xlsx 工作表“企业名录” 行 11 列 "统一社会信用代码" uscc: 其行被拒收：'
        '值 "91120116MA0500010X": 校验位错误：第18位应为 Y，实为 X']


def test_a_bad_rule_file_is_refused_at_file_line_and_field(tmp_path: Path, sample_register: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    text = DEMO_HEADER + ("id: demo\ncriteria:\n  id: revenue\n  label: 收入\n"
                          "  source: {document: 测试文件, clause: 一}\n"
                          "  test:\n    value: revenue\n    op: '>='\n    threshold: 六十\n")
    (rules / "demo.yaml").write_text(text, encoding="utf-8")
    code, lines, error = _error("classify", str(sample_register), "--year", "2025", "--rules", str(rules),
                                "--no-audit", "--out", str(tmp_path / "c"))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "rules-unusable"
    assert error.where == Where(file=str(rules / "demo.yaml"))
    (problem,) = error.problems
    line = text.splitlines().index("    threshold: 六十") + 1
    assert problem.where == Where(file=str(rules / "demo.yaml"), line=line, field="criteria.test.threshold")
    assert lines[1] == f"  {rules / 'demo.yaml'}:{line} criteria.test.threshold: {problem.message}" + (
        f" [{problem.code}]" if problem.code else "")
    assert not (tmp_path / "c").exists()


def test_an_unknown_rule_set_or_version_names_it_and_the_rule_folder(sample_register: Path) -> None:
    code, lines, error = _error("rules", "diff", "--old", "kjxzxqy-2017", "--new", "kjxzxqy@1999", str(sample_register),
                                "--year", "2025")
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "rule-spec"
    assert error.where is not None and error.where.rule_id == "kjxzxqy@1999"
    assert lines[0].startswith(f"错误 / error: {error.where.file} [kjxzxqy@1999]: 没有规则集 kjxzxqy@1999（no rule "
                               "set ")
    code, lines, error = _error("classify", str(sample_register), "--year", "2025", "--rules-version",
                                "kjxzxqy=1999", "--no-audit")
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "no-rule-set"
    assert error.where is not None and error.where.rule_id == "1999"
    assert "项目 'kjxzxqy' 没有版本 '1999'（program 'kjxzxqy' has no version '1999'; versions: " in lines[0]


def test_a_bad_plan_file_lists_each_problem_at_its_line_and_field(tmp_path: Path, sample_register: Path) -> None:
    plan = tmp_path / "dongli-kjxzxqy-2011.yaml"
    text = (DATASETS.parent / "rules" / "plans" / "dongli-kjxzxqy-2011.yaml").read_text(encoding="utf-8")
    plan.write_text(text.replace("measure: stock\n    year: 2015\n    count: 2000",
                                 "measure: stock\n    year: 2015\n    count: 两千", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(plan.read_text(encoding="utf-8").splitlines(), start=1) if "两千" in t)
    code, lines, error = _error("targets", str(sample_register), "--plan", str(plan))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "plan-unusable"
    assert error.where == Where(file=str(plan))
    (problem,) = error.problems
    assert problem.where == Where(file=str(plan), line=line, field="targets[0].count")
    assert lines == [f"错误 / error: {plan}: 计划文件有 1 处问题，请按各行所列位置修改（1 problem(s) in the plan "
                     "file） [plan-unusable]",
                     f"  {plan}:{line} targets[0].count: {problem.message}"]


def test_a_bad_selection_policy_lists_each_problem_at_its_line_and_field(tmp_path: Path,
                                                                         sample_register: Path) -> None:
    source = DATASETS.parent / "rules" / "selection" / "jx-xjr-peiyu.yaml"
    policy = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    policy.write_text(text.replace("tie_break:", "tie_brake:", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(policy.read_text(encoding="utf-8").splitlines(), start=1) if "tie_brake" in t)
    code, lines, error = _error("select", str(sample_register), "--year", "2025", "--policy", str(policy),
                                "--no-audit", "--out", str(tmp_path / "s"))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "policy-unusable"
    assert error.where == Where(file=str(policy))
    assert Where(file=str(policy), line=line, field="tie_brake") in [p.where for p in error.problems]
    assert lines[0].startswith(f"错误 / error: {policy}: 遴选政策有 ")


def test_a_bad_model_card_names_the_card_line_and_field(tmp_path: Path, sample_register: Path) -> None:
    card = tmp_path / "old.card.yaml"
    text = (DATASETS.parent / "models" / "panel_s42.card.yaml").read_text(encoding="utf-8")
    card.write_text(text.replace("card_version: 1\n", "card_version: 9\n", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(card.read_text(encoding="utf-8").splitlines(), start=1)
                if t.startswith("card_version"))
    code, lines, error = _error("model", "score", "--model", str(card), "--register", str(sample_register),
                                "--year", "2025")
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "model-card"
    assert error.where == Where(file=str(card), line=line, field="card_version")
    assert lines[0].startswith(f"错误 / error: {card}:{line} card_version: card_version 9")


@pytest.mark.parametrize("command", [("train", "--out", "x.card.yaml"), ("evaluate",)])
def test_a_bad_column_mapping_lists_each_problem_at_its_line_and_field(tmp_path: Path,
                                                                       command: tuple[str, ...]) -> None:
    mapping = tmp_path / "m.yaml"
    text = (DATASETS.parent / "models" / "mappings" / "register.yaml").read_text(encoding="utf-8")
    mapping.write_text(text.replace("reader: register", "reader: excel", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(mapping.read_text(encoding="utf-8").splitlines(), start=1)
                if t.startswith("reader:"))
    code, lines, error = _error("model", *command, "--panel", str(DATASETS / "sample_register.xlsx"),
                                "--mapping", str(mapping))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "column-mapping"
    assert error.where == Where(file=str(mapping))
    assert [p.where for p in error.problems] == [Where(file=str(mapping), line=line, field="reader")]
    assert lines[0] == f"错误 / error: {mapping}: 列映射有 1 处问题 [column-mapping]"
    assert lines[1].startswith(f"  {mapping}:{line} reader: ")


@pytest.mark.parametrize(("command", "message"), [
    (("train", "--out", "x.card.yaml"),
     "没有任何特征在训练数据中符合其声明方向；无法训练评分卡（见 models/directions.yaml）"),
    (("evaluate",),
     "没有可检验的年度：须有带标签的企业，且 3 年以前有至少 30 行两类标签都有的训练数据（no test cohort）"),
])
def test_a_panel_the_model_cannot_use_keeps_its_own_id_and_names_the_data_set(tmp_path: Path,
                                                                               command: tuple[str, ...],
                                                                               message: str) -> None:
    """The growth library's own error (PanelUnusable: two firms, four years) reaches the person with its id and
    exit code, placed at the data set, not re-worded as a generic unusable input (model-input-unusable)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("mapping_version: 1\nid: tiny\ntitle: 小面板\nreader: csv\nkey: {column: 企业}\n"
                       "year: {column: 年度}\namounts:\n  revenue: {column: 收入, unit: 万元}\n", encoding="utf-8")
    panel = tmp_path / "p.csv"
    panel.write_text("企业,年度,收入\nA,2020,10\nA,2021,20\nA,2022,40\nA,2023,80\n"
                     "B,2020,10\nB,2021,10\nB,2022,10\nB,2023,10\n", encoding="utf-8")
    code, lines, error = _error("model", *command, "--panel", str(panel), "--mapping", str(mapping))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "panel-unusable"
    assert error.where == Where(file=f"panel {panel}")
    assert lines[0] == f"错误 / error: panel {panel}: {message} [panel-unusable]"


BAD_INPUTS = [
    ("classify", "{register}", "--year", "2025", "--no-audit", "--out", "{tmp}/a", "--rules", "{tmp}"),
    ("explain", "{register}", "不存在的企业", "--year", "2025"),
    ("explain", "{tmp}/none.xlsx", "x", "--year", "2025"),
    ("explain", "{tmp}/notes.txt", "x", "--year", "2025"),
    ("select", "{register}", "--year", "2025", "--n", "99", "--no-audit", "--out", "{tmp}/s"),
    ("targets", "{register}", "--plan", "{tmp}/notes.txt"),
    ("report", "{register}", "--year", "2025", "--policy", "{tmp}/notes.txt", "--out", "{tmp}/r"),
    ("rules", "check", "{tmp}"),
    ("rules", "diff", "--old", "nope", "--new", "kjxzxqy-2022", "{register}", "--year", "2025"),
    ("audit", "replay", "{register}", "no-such-run", "--store", "{tmp}/none.sqlite"),
    ("audit", "verify", "--store", "{tmp}/notes.txt"),
    ("model", "score", "--model", "{tmp}/notes.txt", "--register", "{register}", "--year", "2025"),
    ("model", "train", "--panel", "{register}", "--mapping", "{tmp}/notes.txt", "--out", "{tmp}/m.card.yaml"),
    ("watch", "{tmp}/notes.txt", "--state", "{tmp}/w", "--clock", "2025-06-30"),
    ("datasets", "generate", "--firms", "0", "--out", "{tmp}/g.csv"),
    ("classify", "{register}", "--year", "2025", "--purpose", "复核"),
    ("classify", "{register}", "--year", "twenty"),
    ("clasify",),
]


def test_no_bad_input_ends_in_a_traceback(tmp_path: Path, sample_register: Path) -> None:
    """Each named bad input ends in a message of the family and its exit code, never a Python traceback."""
    (tmp_path / "notes.txt").write_text("id: [unclosed\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("id: bad\nprogram: [\n", encoding="utf-8")
    for args in BAD_INPUTS:
        filled = [a.replace("{register}", str(sample_register)).replace("{tmp}", str(tmp_path)) for a in args]
        result = CliRunner().invoke(main, filled)
        assert isinstance(result.exception, SystemExit), (args, result.exception, result.output)
        assert "Traceback" not in result.output, args
        if result.exit_code == exit_codes.CHECK_FAILED:  # a check's own report (e.g. audit verify), not an error
            continue
        assert result.exit_code in (exit_codes.USAGE, exit_codes.UNUSABLE_INPUT), (args, result.output)
        errors = [t for t in result.output.splitlines() if t.startswith("错误 / error: ")]
        assert len(errors) == 1 and re.search(r" \[[a-z-]+\]$", errors[0]), (args, result.output)


_CSV_MAPPING = ("mapping_version: 1\nid: kept\ntitle: 千元面板\nreader: csv\nkey: {column: Code}\n"
                "year: {column: FY}\namounts:\n  revenue: {column: Sales, unit: 千元}\n"
                "  total_assets: {column: Assets, unit: 元}\n")


@pytest.mark.parametrize(("edit", "line", "field", "message"), [
    (("revenue:", "revenu:"), 8, "amounts.revenu", "未知金额字段“revenu”；已知："),
    (("unit: 元", "unit: 万"), 9, "amounts.total_assets.unit", "未知金额单位“万”；可用：万元、wan、元、yuan、千元"),
    (("Assets", "Sales"), 9, "amounts.total_assets.column", "列“Sales”已映射为字段 revenue；每列只能是一个字段"),
])
def test_a_bad_amount_in_a_column_mapping_is_refused_at_its_own_line(tmp_path: Path, edit: tuple[str, str],
                                                                      line: int, field: str, message: str) -> None:
    """An unknown field, an unknown unit and a column mapped to two fields are each placed at the line and field
    of the amount concerned (before, the first two at the line of ``amounts:`` and the third not refused)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(_CSV_MAPPING.replace(*edit), encoding="utf-8")
    panel = tmp_path / "p.csv"
    panel.write_text("Code,FY,Sales,Assets\nA,2020,10,20\n", encoding="utf-8")
    code, lines, error = _error("model", "evaluate", "--panel", str(panel), "--mapping", str(mapping))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "column-mapping"
    assert [p.where for p in error.problems] == [Where(file=str(mapping), line=line, field=field)]
    assert lines[1].startswith(f"  {mapping}:{line} {field}: {message}")


def test_a_directions_file_with_a_bad_direction_word_or_no_reason_is_refused_in_chinese(tmp_path: Path) -> None:
    """pydantic's own checks of the growth model's YAML are worded in Chinese with a stable id (before: only
    pydantic's English, e.g. "Field required")."""
    shipped = (DATASETS.parent / "models" / "directions.yaml").read_text(encoding="utf-8")
    directions = tmp_path / "d.yaml"
    no_reason = "{match: age, direction: decreasing, reason: 年轻企业增长更快（OECD 瞪羚即年轻的高增长企业）}"
    directions.write_text(shipped.replace("{match: roa, direction: increasing,", "{match: roa, direction: up,", 1)
                          .replace(no_reason, "{match: age, direction: decreasing}", 1), encoding="utf-8")
    lines_of = shipped.splitlines()
    roa = next(i for i, t in enumerate(lines_of, start=1) if "{match: roa," in t)
    age = next(i for i, t in enumerate(lines_of, start=1) if "{match: age," in t)
    code, lines, error = _error("model", "evaluate", "--register", str(DATASETS / "sample_register.xlsx"),
                                "--directions", str(directions))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "model-directions"
    assert sorted((p.line, p.code) for p in error.problems) == sorted([(roa, "schema-literal-error"),
                                                                       (age, "schema-missing")])
    assert any(t.startswith(f"  {directions}:{roa} ") and "direction: 不是允许的取值：Input should be" in t
               for t in lines)
    assert any(t.startswith(f"  {directions}:{age} ") and "reason: 缺少必填的键：Field required" in t for t in lines)


def test_a_directions_entry_that_matches_no_feature_is_refused_at_its_line(tmp_path: Path) -> None:
    """A typo in a pattern (roaa) would leave roa undeclared and so silently out of the score: refused instead."""
    shipped = (DATASETS.parent / "models" / "directions.yaml").read_text(encoding="utf-8")
    directions = tmp_path / "d.yaml"
    directions.write_text(shipped.replace("{match: roa, direction:", "{match: roaa, direction:", 1), encoding="utf-8")
    line = next(i for i, t in enumerate(shipped.splitlines(), start=1) if "{match: roa," in t)
    index = sum(1 for t in shipped.splitlines()[:line - 1] if t.lstrip().startswith("- {match:"))
    code, lines, error = _error("model", "evaluate", "--register", str(DATASETS / "sample_register.xlsx"),
                                "--directions", str(directions))
    assert code == exit_codes.UNUSABLE_INPUT and isinstance(error, TieringError) and error.id == "model-directions"
    assert [(p.line, p.field, p.code) for p in error.problems] == [(line, f"declarations[{index}].match",
                                                                    "unknown-feature")]
    assert lines[1] == (f"  {directions}:{line} declarations[{index}].match: 没有特征与“roaa”匹配（拼错了？特征见 "
                        "tiering/growth/features.py 与 amounts.yaml） [unknown-feature]")
