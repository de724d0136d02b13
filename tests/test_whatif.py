"""What-if: two rule versions over one register — counts, transition matrix, and the criterion that decided."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_audit import FIRMS, ON, YEAR, write_register

from tiering import exit_codes
from tiering.cli import main
from tiering.register import load_register
from tiering.rules.library import RULES_DIR, RuleLibrary, load_library
from tiering.whatif.diff import rule_diff
from tiering.whatif.resolve import RuleSpecError, resolve_ruleset

OLD, NEW = "kjxzxqy-2017", "kjxzxqy-2022"
SOFTWARE = "软件和信息技术服务业"


@pytest.fixture(scope="module")
def library() -> RuleLibrary:
    return load_library(RULES_DIR, files=[RULES_DIR / f"{OLD}.yaml", RULES_DIR / f"{NEW}.yaml"])


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """Firms 2 and 3 qualify on score; under 2022 firm 2 lacks its 行业 and firm 3 is in 批发和零售业."""
    return write_register(tmp_path / "firms.csv", industries=(SOFTWARE, SOFTWARE, "", "批发和零售业"))


def test_2017_to_2022_counts_matrix_and_deciding_criterion(register: Path, library: RuleLibrary) -> None:
    diff = rule_diff(load_register(register), library.by_id[OLD], library.by_id[NEW], library, YEAR, ON)
    assert diff.directions() == {"符合 → 不符合": 1, "符合 → 待定（缺数据）": 1}
    matrix = diff.matrix()
    assert matrix.loc["符合"].tolist() == [0, 1, 1, 2]
    assert matrix.loc["不符合"].tolist() == [0, 2, 0, 2]
    assert matrix.loc["合计"].tolist() == [0, 3, 1, 4]
    assert diff.changes[["uscc", "was", "now"]].values.tolist() == [
        [FIRMS[2], "qualified", "undetermined"], [FIRMS[3], "qualified", "not_qualified"]]
    rule = "不属于财税〔2015〕119号规定的不适用税前加计扣除政策的行业"
    assert diff.changes["deciding"].tolist() == [rule, rule]
    assert diff.changes["details"].tolist() == [
        f"{rule}：旧 无此条件 → 新 缺数据（缺失） —— 国科火字〔2022〕67号 评价条件（三）",
        f"{rule}：旧 无此条件 → 新 不满足（批发和零售业） —— 国科火字〔2022〕67号 评价条件（三）",
    ]
    assert diff.by_criterion().to_dict() == {rule: 2}


def test_draft_pass_mark_names_the_threshold_change(register: Path, library: RuleLibrary, tmp_path: Path) -> None:
    draft = tmp_path / "draft" / f"{NEW}.yaml"
    draft.parent.mkdir()
    draft.write_bytes((RULES_DIR / f"{NEW}.yaml").read_bytes())
    # NEW keeps the pass mark of the rule set it extends (OLD): the draft folder holds that file with the mark at 50
    base = draft.with_name(f"{OLD}.yaml")
    base.write_text((RULES_DIR / f"{OLD}.yaml").read_text(encoding="utf-8").replace("threshold: 60", "threshold: 50"),
                    encoding="utf-8")
    diff = rule_diff(load_register(register), library.by_id[NEW], resolve_ruleset(str(draft), library),
                     library, YEAR, ON)
    assert diff.directions() == {"不符合 → 符合": 1}
    [row] = diff.changes.to_dict("records")
    assert (row["uscc"], row["name"]) == (FIRMS[1], "测试企业1")
    assert row["details"] == ("综合评价得分不低于60分：旧 不满足（54分，要求 ≥ 60分） → 新 满足（54分，要求 ≥ 50分）"
                              " —— 国科发政〔2017〕115号 第六条（五）")


def test_rule_sets_are_named_by_id_program_at_version_or_file(library: RuleLibrary) -> None:
    assert resolve_ruleset("kjxzxqy@2017.1", library).id == OLD
    assert resolve_ruleset("kjxzxqy-2022@2022.1", library).id == NEW
    assert resolve_ruleset(NEW, library).version == "2022.1"
    assert resolve_ruleset(str(RULES_DIR / f"{OLD}.yaml"), library).id == OLD
    with pytest.raises(RuleSpecError, match="no rule set kjxzxqy@2019.1; versions of 'kjxzxqy': kjxzxqy@2017.1, "
                                            "kjxzxqy@2022.1"):
        resolve_ruleset("kjxzxqy@2019.1", library)
    with pytest.raises(RuleSpecError, match="'nope' is neither a rule-set id"):
        resolve_ruleset("nope", library)


def test_cli_prints_the_comparison_and_writes_the_changed_firms(register: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for rs in (OLD, NEW):
        (rules / f"{rs}.yaml").write_bytes((RULES_DIR / f"{rs}.yaml").read_bytes())
    out = tmp_path / "changes.xlsx"
    result = CliRunner().invoke(main, ["rules", "diff", "--old", OLD, "--new", NEW, str(register), "--year", "2025",
                                       "--rules", str(rules), "--out", str(out)])
    assert result.exit_code == exit_codes.OK, result.output
    lines = result.output.splitlines()
    assert lines[1] == "结果变化 changed: 2 家；不变 unchanged: 2 家"
    assert lines[2:4] == ["  符合 → 不符合: 1 家", "  符合 → 待定（缺数据）: 1 家"]
    assert f"  {FIRMS[3]} 测试企业3: 符合 → 不符合" in lines
    table = pd.read_excel(out, sheet_name="结果变化")
    assert table.columns.tolist() == ["统一社会信用代码", "企业名称", "旧版本结果", "新版本结果", "起决定作用的条件",
                                      "说明"]
    assert table["统一社会信用代码"].tolist() == [FIRMS[2], FIRMS[3]]


def test_cli_names_an_unknown_rule_set(register: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "diff", "--old", "kjxzxqy@1999", "--new", NEW, str(register),
                                       "--year", "2025"])
    assert result.exit_code == exit_codes.UNUSABLE_INPUT
    assert "no rule set kjxzxqy@1999; versions of 'kjxzxqy':" in result.output
