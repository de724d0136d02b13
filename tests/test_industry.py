"""Industry by GB/T 4754-2017 code: the table shipped as data, the 行业代码 cell at intake, prefix tests in rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rulefiles import DEMO_HEADER

from tiering.industry import IndustryCodeError, classification, membership
from tiering.register import load_register


@pytest.mark.parametrize(("cell", "stored"), [
    ("6510", "I6510"), ("I6510", "I6510"), ("c39", "C39"), (39, "C39"), ("K", "K"),
    ("软件和信息技术服务业", "I65"), ("制造业", "C"), (" 房地产业 ", "K70"),
])
def test_codes_and_exact_names_are_stored_with_their_section(cell: object, stored: str) -> None:
    assert classification().code_of(cell) == stored


def test_the_table_has_every_section_and_division() -> None:
    table = classification()
    assert len(table.sections) == 20 and len(table.divisions) == 97
    assert table.name_of("C16") == "烟草制品业" and table.name_of("R90") == "娱乐业"


@pytest.mark.parametrize(("cell", "message"), [
    ("软件开发业", "行业代码“软件开发业”不是《国民经济行业分类》（GB/T 4754-2017）的代码，也不是其门类或大类的名称"
                 "（名称须逐字相同）；相近的有：F 批发和零售业、51 批发业、65 软件和信息技术服务业"),
    ("I39", "相近的有：C39 计算机、通信和其他电子设备制造业"),
    (111, "行业代码 111 是数字，前导0已丢失"),
])
def test_other_cells_are_refused_with_suggestions(cell: object, message: str) -> None:
    with pytest.raises(IndustryCodeError) as err:
        classification().code_of(cell)
    assert message in str(err.value)


def test_prefix_membership_says_unknown_for_a_code_too_coarse_to_tell() -> None:
    codes = np.array(["K7010", "C", "C39", "C1610", None], dtype=object)
    assert membership(codes, ("K", "C16")).tolist() == [1, -1, 0, 1, -1]


def test_register_stores_codes_and_refuses_an_unmatched_name_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("统一社会信用代码,企业名称,年度,行业代码\n"
                    "91120116MA0500004A,甲公司,2024,6510\n"
                    "91120116MA05000011,乙公司,2024,软件和信息技术服务业\n"
                    "91120116MA05000011,乙公司,2023,软件开发业\n", encoding="utf-8")
    register = load_register(path)
    assert dict(zip(register.frame["name"], register.frame["industry_code"], strict=True)) == {
        "甲公司": "I6510", "乙公司": "I65"}
    [refusal] = register.refusals
    assert refusal.message().startswith('r.csv 行 4 列 "行业代码" 值 "软件开发业": 行业代码“软件开发业”不是')
    assert "65 软件和信息技术服务业" in refusal.message()


def test_a_rule_listing_an_unknown_code_is_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tiering.cli import main
    (tmp_path / "demo-2020.yaml").write_text("""id: demo-2020
""" + DEMO_HEADER + """criteria:
  id: root
  label: 行业不属于房地产业
  source: {document: 测试文件, clause: 第一条}
  test: {value: industry_code, op: not_in, values: [K, Z99]}
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 3
    assert "demo-2020.yaml:16 criteria.test.values[1]: " in result.output
    assert "行业代码“Z99”不是《国民经济行业分类》" in result.output
