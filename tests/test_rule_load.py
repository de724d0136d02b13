"""Bad rule files are refused at load with file:line and the field in error; `rules check` lists every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.rules.library import RuleLoadError, load_library

SOURCE = "source: {document: 测试文件, clause: 第一条}"


def rule(name: str, body: str, program: str = "demo", start: str = "2020-01-01", end: str = "null") -> str:
    return f"""id: {name}
title: 测试
title_en: Test
program: {program}
program_title: 测试项目
jurisdiction: national
version: "1"
status: stable
effective_from: {start}
effective_to: {end}
references:
  - document: 测试文件
criteria:
{body}"""


POINTS = """  id: total
  label: 总分
  {source}
  score:
    op: ">="
    threshold: 10
    of:
      - id: staff
        label: 科技人员得分
        {source}
        points:
          value: tech_staff / employees
          intervals: left-closed
          domain: [0, 1]
          bands:
            - {{min: 0.3, points: 20, {source}}}
            - {{min: 0.1, max: {edge}, points: 10, {source}}}
            - {{max: 0.1, points: 0, {source}}}
          missing: {{undetermined: true, {source}}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(RuleLoadError) as err:
        load_library(tmp_path)
    return [str(p) for p in err.value.problems]


def test_gap_in_points_table_names_file_line_and_bands(tmp_path: Path) -> None:
    path = write(tmp_path, "gap", rule("gap", POINTS.format(source=SOURCE, edge=0.25)))
    assert problems(tmp_path) == [f"{path}:29 criteria.score.of[0].points.bands: "
                                  "区间表有缺口，落在缺口里的值不属于任何一档：gap between band 2 (to 0.25) and band 1 "
                                  "(from 0.3) [bands-gap]"]


def test_overlap_in_points_table(tmp_path: Path) -> None:
    path = write(tmp_path, "overlap", rule("overlap", POINTS.format(source=SOURCE, edge=0.35)))
    assert problems(tmp_path) == [f"{path}:29 criteria.score.of[0].points.bands: "
                                  "区间表的两档重叠：bands 2 and 1 overlap (0.3 to 0.35) [bands-overlap]"]


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    body = f"""  id: a
  label: 甲
  {SOURCE}
  test: {{value: employees, op: "<=", threshold: 500, threshold: 600}}
"""
    path = write(tmp_path, "dup", rule("dup", body))
    found = problems(tmp_path)
    assert len(found) == 1 and found[0] == (
        f"{path}:17 criteria.test.threshold: 重复的键 'threshold'（第一次在第 17 行）；"
        "后一个值会悄悄覆盖前一个 — 请删去其一 [yaml-duplicate-key]")


def test_unknown_field_suggests_the_closest(tmp_path: Path) -> None:
    body = f"""  id: a
  label: 甲
  {SOURCE}
  test: {{value: employes, op: "<=", threshold: 500}}
"""
    path = write(tmp_path, "typo", rule("typo", body))
    assert problems(tmp_path) == [f"{path}:17 criteria.test.value: 表达式中有未知的名称：in 'employes' at column 1: "
                                  "unknown name 'employes' (did you mean 'employees'?) [expr-unknown-name]"]


def test_criterion_without_source_clause(tmp_path: Path) -> None:
    body = """  id: a
  label: 甲
  test: {value: employees, op: "<=", threshold: 500}
"""
    path = write(tmp_path, "nosource", rule("nosource", body))
    assert problems(tmp_path) == [f"{path}:14 criteria.source: 缺少必填的键：Field required [schema-missing]"]


def test_overlapping_effective_dates_for_one_program(tmp_path: Path) -> None:
    body = f"""  id: a
  label: 甲
  {SOURCE}
  test: {{value: employees, op: "<=", threshold: 500}}
"""
    write(tmp_path, "old", rule("old", body, end="2022-12-31"))
    new = write(tmp_path, "new", rule("new", body, start="2022-06-01"))
    assert problems(tmp_path) == [f"{new}:1 effective_from: 同一项目的两个版本有效期重叠：program 'demo': old "
                                  "(2020-01-01 – 2022-12-31) overlaps new (from 2022-06-01); end the older one the day "
                                  "before [ruleset-overlap]"]


def test_dependency_cycle_is_refused(tmp_path: Path) -> None:
    def needing(other: str) -> str:
        return f"""  id: a
  label: 甲
  {SOURCE}
  requires: {{program: {other}}}
"""
    write(tmp_path, "p1", rule("p1", needing("p2"), program="p1"))
    write(tmp_path, "p2", rule("p2", needing("p1"), program="p2"))
    found = problems(tmp_path)
    assert len(found) == 1 and "项目之间循环依赖：programs depend on each other in a cycle" in found[0]
    assert found[0].endswith("[ruleset-cycle]")


def test_unreachable_pass_mark(tmp_path: Path) -> None:
    text = rule("high", POINTS.format(source=SOURCE, edge=0.3)).replace("threshold: 10", "threshold: 25")
    path = write(tmp_path, "high", text)
    assert problems(tmp_path) == [f"{path}:19 criteria.score.threshold: 及格线无法达到：pass mark >= 25 cannot be "
                                  "reached: the parts add up to 20 [score-unreachable]"]


def test_rules_check_reports_every_problem_in_one_run(tmp_path: Path, root: Path) -> None:
    shutil.copy(root / "rules" / "kjxzxqy-2022.yaml", tmp_path)
    shutil.copy(root / "rules" / "kjxzxqy-2017.yaml", tmp_path)
    write(tmp_path, "gap", rule("gap", POINTS.format(source=SOURCE, edge=0.25), program="p_gap"))
    write(tmp_path, "wrong-name", rule("other", POINTS.format(source=SOURCE, edge=0.3), program="p_name"))
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 3
    assert "gap between band 2 (to 0.25) and band 1 (from 0.3)" in result.output
    assert "id 'other' must equal the file name 'wrong-name'" in result.output
    assert "2 problem(s)" in result.output


def test_bundled_rules_load_and_pick_by_date(root: Path) -> None:
    import datetime as dt

    library = load_library(root / "rules")
    assert [r.id for r in library.in_force(dt.date(2021, 6, 30), programs=["kjxzxqy"])] == ["kjxzxqy-2017"]
    assert [r.id for r in library.in_force(dt.date(2025, 6, 30), programs=["kjxzxqy"])] == ["kjxzxqy-2022"]
    pinned = library.in_force(dt.date(2025, 6, 30), pins={"kjxzxqy": "2017.1"}, programs=["kjxzxqy"])
    assert [r.id for r in pinned] == ["kjxzxqy-2017"]
