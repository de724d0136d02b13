"""`rules check` catches a label whose number, unit or comparison word disagrees with its rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rulefiles import DEMO_HEADER

from tiering.cli import main
from tiering.rules.labels import comparison, quantities
from tiering.rules.schema import Unit

HEAD = """id: demo-2020
""" + DEMO_HEADER + """criteria:
  id: root
  label: 测试条件
  source: {document: 测试文件, clause: 第一条}
  all:
"""


def _check(tmp_path: Path, criterion: str) -> tuple[int, str]:
    (tmp_path / "demo-2020.yaml").write_text(HEAD + criterion, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    return result.exit_code, result.output


def test_a_label_whose_number_disagrees_with_the_threshold_is_refused(tmp_path: Path) -> None:
    code, out = _check(tmp_path, """    - id: staff
      label: 职工总数不超过500人
      source: {document: 测试文件, clause: 第一条}
      test: {value: employees, op: "<=", threshold: 400}
""")
    assert code == 4
    assert (f"{tmp_path / 'demo-2020.yaml'}:18 criteria.all[0].label: 标签“职工总数不超过500人”写的 500 与阈值 400"
            "（count）不一致 [label-number-mismatch]") in out


def test_yi_yuan_in_a_label_is_ten_thousand_wan(tmp_path: Path) -> None:
    good = """    - id: revenue
      label: 营业收入2亿元以上
      source: {document: 测试文件, clause: 第一条}
      test: {value: operating_revenue, op: ">=", threshold: 20000}
"""
    assert _check(tmp_path, good)[0] == 0
    code, out = _check(tmp_path, good.replace("20000", "2000"))
    assert code == 4 and "写的 20000 与阈值 2000（wan）不一致" in out


def test_a_percent_label_and_an_operator_word_are_checked(tmp_path: Path) -> None:
    code, out = _check(tmp_path, """    - id: ratio
      label: 研发费用占比超过3%
      source: {document: 测试文件, clause: 第一条}
      test: {value: rd_expense / operating_revenue, op: ">=", threshold: 0.03, unit: percent}
""")
    assert code == 4
    assert "标签“研发费用占比超过3%”的措辞表示 >，条件却是 >=" in out and "[label-operator-mismatch]" in out


def test_a_band_label_must_name_its_edges(tmp_path: Path) -> None:
    code, out = _check(tmp_path, """    - id: total
      label: 总分
      source: {document: 测试文件, clause: 第一条}
      score:
        op: ">="
        threshold: 10
        of:
          - id: staff
            label: 科技人员得分
            source: {document: 测试文件, clause: 第一条}
            points:
              value: tech_staff / employees
              intervals: left-closed
              domain: [0, 1]
              bands:
                - {min: 0.3, points: 20, label: 30%以上（含）, source: {document: 测试文件, clause: 第一条}}
                - {max: 0.3, points: 0, label: 25%以下, source: {document: 测试文件, clause: 第一条}}
              missing: {undetermined: true, source: {document: 测试文件, clause: 第一条}}
""")
    assert code == 4
    assert "标签“25%以下”写的 25% 与本档的界值（30%）不一致" in out
    assert "30%以上（含）" not in out


@pytest.mark.parametrize(("label", "op"), [
    ("不低于3%", ">="), ("3%以上", ">="), ("超过1000万元", ">"), ("不超过500人", "<="), ("低于5000万元", "<"),
    ("成立10年以内", "<="), ("1000人以下（不含1000人）", "<"), ("营业收入1000万元以上，或低于1000万元", None),
])
def test_comparison_words_follow_the_written_convention(label: str, op: str | None) -> None:
    assert comparison(label) == op


def test_quantities_convert_units_and_skip_periods() -> None:
    assert quantities("近3年营业收入2亿元以上、占比3.5%、1,000人") == [
        (Unit.WAN, 20000.0), (Unit.PERCENT, 0.035), (Unit.COUNT, 1000.0)]


def test_every_shipped_rule_file_passes_rules_check() -> None:
    result = CliRunner().invoke(main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output
    assert "[label-number-mismatch]" not in result.output
