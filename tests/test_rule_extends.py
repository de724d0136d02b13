"""A rule file that extends another states only what changed; the merged rule set reports every problem at the
file and line where it was written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tiering.rules.library import RuleLoadError, load_file, load_library

BASE = """id: base
title: 基础
title_en: Base
program: demo
program_title: 测试项目
jurisdiction: national
version: "1"
status: superseded
effective_from: 2020-01-01
effective_to: 2021-12-31
references:
  - document: 旧文件
criteria:
  id: root
  label: 总体
  source: {document: 旧文件, clause: 第一条}
  all:
    - id: staff
      label: 职工不超过500人
      source: {document: 旧文件, clause: 第二条}
      test: {value: employees, op: "<=", threshold: 500}
    - id: revenue
      label: 收入不超过2亿元
      source: {document: 旧文件, clause: 第三条}
      test: {value: revenue, op: "<=", threshold: 20000}
"""

CHILD_HEAD = """id: child
extends: base
version: "2"
status: stable
effective_from: 2022-01-01
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(RuleLoadError) as err:
        load_library(folder)
    return [str(p) for p in err.value.problems]


def test_replace_add_and_default_source_merge_into_one_rule_set(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE)
    write(tmp_path, "child", CHILD_HEAD + """default_source: {document: 新文件, clause: 第九条}
replace:
  - id: staff
    label: 职工不超过300人
    test: {value: employees, op: "<=", threshold: 300}
add:
  - after: staff
    criterion:
      id: assets
      label: 资产不超过1亿元
      test: {value: total_assets, op: "<=", threshold: 10000}
""")
    library = load_library(tmp_path)
    child = library.by_id["child"]
    assert [n.id for n in child.root.children] == ["staff", "assets", "revenue"]
    staff, assets, revenue = child.root.children
    assert (staff.label, staff.threshold.fixed, staff.source.document) == ("职工不超过300人", 300.0, "新文件")
    assert (assets.source.document, assets.source.clause) == ("新文件", "第九条")
    assert (revenue.label, revenue.source.document) == ("收入不超过2亿元", "旧文件")
    assert child.meta.program == "demo" and child.meta.effective_to is None and child.meta.extends == "base"
    assert [b.id for b in child.bases] == ["base"]


def test_problems_are_reported_in_the_file_and_line_that_wrote_them(tmp_path: Path) -> None:
    base = write(tmp_path, "base", BASE.replace("op: \"<=\", threshold: 20000", "op: \"<=\", threshold: 20000, x: 1"))
    child = write(tmp_path, "child", CHILD_HEAD + """replace:
  - id: staff
    label: 职工
    source: {document: 新文件, clause: 第二条}
    test: {value: employes, op: "<=", threshold: 300}
  - id: nowhere
    label: 无
    source: {document: 新文件, clause: 第二条}
    test: {value: employees, op: "<=", threshold: 300}
""")
    found = problems(tmp_path)
    assert f"{child}:11 replace[1].id: 所继承的规则集中没有 id 为 'nowhere' 的条件，无法替换 [extends-unknown-id]" \
        in found
    assert any(p.startswith(f"{base}:25 criteria.all[1].test.x: 未知的键") for p in found), found


def test_remove_drops_an_inherited_criterion_and_refuses_an_unknown_id(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE)
    write(tmp_path, "child", CHILD_HEAD + "remove: [revenue]\n")
    child = load_library(tmp_path).by_id["child"]
    assert [n.id for n in child.root.children] == ["staff"] and "revenue" not in child.nodes
    child_path = write(tmp_path, "child", CHILD_HEAD + "remove:\n  - revenue\n  - revenu\n")
    assert problems(tmp_path) == [f"{child_path}:8 remove[1]: 所继承的规则集中没有 id 为 'revenu' 的条件，无法删除 "
                                  "[extends-unknown-id]"]


def test_root_renames_the_root_criterion_of_a_sibling_program_and_keeps_its_sub_criteria(tmp_path: Path) -> None:
    base = write(tmp_path, "base", BASE)
    write(tmp_path, "child", CHILD_HEAD + """root:
  id: sibling
  label: 培育条件
  source: {document: 旧文件, clause: 第九条}
""")
    child = load_library(tmp_path).by_id["child"]
    assert (child.root.id, child.root.label, child.root.source.clause) == ("sibling", "培育条件", "第九条")
    assert [n.id for n in child.root.children] == ["staff", "revenue"] and "root" not in child.nodes
    child_path = write(tmp_path, "child", CHILD_HEAD + """root:
  id: sibling
  label: 培育条件
  source: {document: 旧文件, clause: 第九条, page: 1}
""")
    write(tmp_path, "base", BASE.replace("clause: 第二条}", "clause: 第二条, page: 2}"))
    found = {tuple(p.split(" ")[:2]) for p in problems(tmp_path)}  # the base's problem: in the base and the child
    assert found == {(f"{base}:20", "criteria.all[0].source.page:"), (f"{child_path}:9", "criteria.source.page:")}, \
        found


def test_changing_the_extended_file_changes_the_merged_rule_set_through_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed-YAML cache is keyed by each file's bytes, so a cached extending file still sees its base change."""
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    base = write(folder, "base", BASE)
    write(folder, "child", CHILD_HEAD)
    first = load_library(folder).by_id["child"]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    base.write_text(BASE.replace("threshold: 20000", "threshold: 30000"), encoding="utf-8")
    second = load_library(folder).by_id["child"]
    assert (first.nodes["revenue"].threshold.fixed, second.nodes["revenue"].threshold.fixed) == (20000.0, 30000.0)
    assert first.bases[0].sha256 != second.bases[0].sha256
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3


def test_a_compile_problem_in_a_replacement_names_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE)
    child = write(tmp_path, "child", CHILD_HEAD + """replace:
  - id: staff
    label: 职工
    source: {document: 新文件, clause: 第二条}
    test: {value: employes, op: "<=", threshold: 300}
""")
    found = problems(tmp_path)
    assert found == [f"{child}:10 criteria.all[0].test.value: 表达式中有未知的名称：in 'employes' at column 1: "
                     "unknown name 'employes' (did you mean 'employees'?) [expr-unknown-name]"]


def test_a_default_source_with_a_problem_is_reported_at_its_own_line(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE)
    child = write(tmp_path, "child", CHILD_HEAD + """default_source: {document: 新文件}
replace:
  - id: staff
    label: 职工
    test: {value: employees, op: "<=", threshold: 300}
""")
    assert problems(tmp_path) == [f"{child}:6 criteria.all[0].source.clause: 缺少必填的键：Field required "
                                  "[schema-missing]"]


@pytest.mark.parametrize(("text", "line", "code"), [
    (CHILD_HEAD.replace("extends: base", "extends: gone"), 2, "extends-missing-base"),
    (CHILD_HEAD + "criteria: {id: a, label: a, source: {document: x, clause: y}, all: []}\n", 6,
     "extends-restates-criteria"),
    (CHILD_HEAD.replace("extends: base\n", "") + "replace: []\n", 5, "extends-without-base"),
    (CHILD_HEAD.replace("extends: base\n", "") + "remove: [staff]\n", 5, "extends-without-base"),
    (CHILD_HEAD + "remove: staff\n", 6, "extends-invalid"),
    (CHILD_HEAD + "remove: [root]\n", 6, "extends-remove-root"),
    (CHILD_HEAD + "root: {id: other, all: []}\n", 6, "extends-invalid"),
])
def test_malformed_extension_is_refused(tmp_path: Path, text: str, line: int, code: str) -> None:
    write(tmp_path, "base", BASE)
    child = write(tmp_path, "child", text)
    found = [p for p in problems(tmp_path) if p.startswith(str(child))]
    assert found and found[0].startswith(f"{child}:{line} ") and found[0].endswith(f"[{code}]"), found


def test_extends_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE.replace("id: base\n", "id: base\nextends: child\n"))
    child = write(tmp_path, "child", CHILD_HEAD)
    compiled, found = load_file(child)
    assert compiled is None and any("[extends-cycle]" in str(p) and "child → base → child" in str(p) for p in found)


def test_bundled_2022_states_only_what_67_changed(root: Path, tmp_path: Path) -> None:
    """kjxzxqy-2022 extends kjxzxqy-2017: the scoring table and 直通车 are 2017's nodes, the basic conditions
    67号 rewrote cite 67号, and a folder with the 2022 file alone is refused naming the missing base."""
    library = load_library(root / "rules")
    new, old = library.by_id["kjxzxqy-2022"], library.by_id["kjxzxqy-2017"]
    assert new.meta.extends == "kjxzxqy-2017" and [b.id for b in new.bases] == ["kjxzxqy-2017"]
    assert {n.id for n in new.root.walk()} - {n.id for n in old.root.walk()} == {
        "b3_no_super_deduction", "b3_119_code", "b3_119_name"}
    changed = sorted(n.id for n in new.root.walk() if n.source.document == "国科火字〔2022〕67号")
    assert changed == ["b1_resident", "b3_119_name", "b3_industry", "b3_no_super_deduction", "b4_abnormal",
                       "b4_accident", "b4_dishonest", "b4_misconduct"]
    for node in new.nodes["route"].walk():
        assert (node.label, node.source) == (old.nodes[node.id].label, old.nodes[node.id].source)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(root / "rules" / "kjxzxqy-2022.yaml", alone)
    assert problems(alone) == [f"{alone / 'kjxzxqy-2022.yaml'}:4 extends: 找不到所继承的规则集 kjxzxqy-2017："
                               "同一文件夹及上一级文件夹中都没有 kjxzxqy-2017.yaml [extends-missing-base]"]


def test_bundled_ljpy_2018_extends_lj_2018_with_its_own_root_and_three_conditions(root: Path) -> None:
    library = load_library(root / "rules")
    ljpy, lj = library.by_id["tj-ljpy-2018"], library.by_id["tj-lj-2018"]
    assert ljpy.meta.extends == "tj-lj-2018" and (ljpy.meta.program, ljpy.root.id) == ("tj_ljpy", "tj_ljpy")
    assert [n.id for n in ljpy.root.children] == [n.id for n in lj.root.children]
    same = {n.id for n in ljpy.root.children if (n.label, n.source) == (lj.nodes[n.id].label, lj.nodes[n.id].source)}
    assert same == {"l1_tech_enterprise", "l1_legal_person", "l6_core_ip"}
    assert (ljpy.nodes["l3_revenue"].threshold.fixed, lj.nodes["l3_revenue"].threshold.fixed) == (20000.0, 50000.0)


def test_the_bundled_age_variant_extends_the_main_torch_file_from_its_sub_folder(root: Path, tmp_path: Path) -> None:
    """rules/variants/torch-dl-2014-age10 replaces only the two growth routes: a problem in a criterion it inherits
    is reported in torch-dl-2014.yaml, one in a criterion it replaced in the variant file, each at its own line."""
    folder = tmp_path / "rules"
    (folder / "variants").mkdir(parents=True)
    main_text = (root / "rules" / "torch-dl-2014.yaml").read_text(encoding="utf-8")
    variant_text = (root / "rules" / "variants" / "torch-dl-2014-age10.yaml").read_text(encoding="utf-8")
    gate, age = "test: {value: rd_intensity_4y,", "test: {value: age, op: \"<=\", threshold: 10,"
    assert main_text.count(gate) == 1 and variant_text.count(age) == 2
    main = write(folder, "torch-dl-2014", main_text.replace(gate, "test: {value: rd_intensity_4yr,"))
    broken = variant_text.replace(age, age.replace("age,", "ages,"), 1)
    variant = write(folder / "variants", "torch-dl-2014-age10", broken)
    gate_line = main_text[:main_text.index(gate)].count("\n") + 1
    age_line = variant_text[:variant_text.index(age)].count("\n") + 1
    found = problems(folder / "variants")
    assert [p.split(" ")[0] for p in found] == [f"{main}:{gate_line}", f"{variant}:{age_line}"], found
    assert found[0].split(" ")[1] == "criteria.all[0].test.value:"
    assert found[1].split(" ")[1] == "criteria.all[1].paths[0].all[0].test.value:"
