"""Hostile YAML (alias bombs, recursive aliases, deep nesting, oversized files, object tags) is refused at once,
with exit 3, ``file:line``, a Chinese message and a stable English id — never a traceback, never a hang.

The bad files are generated here; each is also tried as a rule file beside the bundled ones, as a cases file and
as a selection policy, the other YAML files read by the same reader.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.errors import Where
from tiering.rules.yamlsrc import MAX_BYTES, MAX_DEPTH, read_yaml


def alias_bomb(levels: int = 12) -> tuple[str, int]:
    """The "billion laughs": each level lists the previous one ten times (10**12 values once expanded)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    # level i holds 10**(i+1) values: the count passes MAX_NODES (200,000) at a5, on line 6
    return "\n".join(lines) + "\n", 6


def recursive_alias() -> tuple[str, int]:
    return "id: loop\ncriteria: &me\n  id: a\n  all:\n    - *me\n", 5


def recursive_flow_alias() -> tuple[str, int]:
    return "id: loop\nitems: &x [1, 2, *x]\n", 2


def deep_flow() -> tuple[str, int]:
    return "id: deep\ncriteria: " + "[" * 100_000 + "]" * 100_000 + "\n", 2


def deep_block() -> tuple[str, int]:
    lines = ["id: deep"] + [" " * i + f"k{i}:" for i in range(MAX_DEPTH + 5)]
    return "\n".join(lines) + " 1\n", MAX_DEPTH + 2  # the 65th mapping opens at its first key, k64


def oversized() -> tuple[str, int]:
    return "id: big\n" + "# padding\n" * (MAX_BYTES // 10 + 1), 1


def python_object() -> tuple[str, int]:
    return "id: evil\ncriteria: !!python/object/apply:os.system ['echo owned']\n", 2


def undefined_alias() -> tuple[str, int]:
    return "id: a\ncriteria:\n  all: *nowhere\n", 3


def two_documents() -> tuple[str, int]:
    return "id: a\n---\nid: b\n", 2


def syntax_error() -> tuple[str, int]:
    return "id: a\ncriteria:\n  all: [1, 2\n  label: x\n", 4


BAD: dict[str, tuple[Callable[[], tuple[str, int]], str]] = {
    "alias-bomb": (alias_bomb, "yaml-too-many-nodes"),
    "recursive-alias": (recursive_alias, "yaml-recursive-alias"),
    "recursive-flow-alias": (recursive_flow_alias, "yaml-recursive-alias"),
    "deep-flow": (deep_flow, "yaml-too-deep"),
    "deep-block": (deep_block, "yaml-too-deep"),
    "oversized": (oversized, "yaml-file-too-large"),
    "python-object": (python_object, "yaml-tag"),
    "undefined-alias": (undefined_alias, "yaml-undefined-alias"),
    "two-documents": (two_documents, "yaml-several-documents"),
    "syntax-error": (syntax_error, "yaml-syntax"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_reader_refuses_with_line_and_id(tmp_path: Path, name: str) -> None:
    make, code = BAD[name]
    text, line = make()
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    doc, problems = read_yaml(path)
    assert doc is None
    assert [(p.line, p.code) for p in problems] == [(line, code)]
    assert problems[0].where == Where(file=str(path), line=line)
    assert str(problems[0]).startswith(f"{path}:{line}: ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problems[0].message), problems[0].message


@pytest.mark.parametrize("name", sorted(BAD))
def test_rules_check_exits_3_naming_the_file_and_line(tmp_path: Path, root: Path, name: str) -> None:
    make, code = BAD[name]
    text, line = make()
    shutil.copy(root / "rules" / "kjxzxqy-2022.yaml", tmp_path)
    shutil.copy(root / "rules" / "kjxzxqy-2017.yaml", tmp_path)
    bad = tmp_path / f"{name}.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"  {bad}:{line}: " in result.output and f"[{code}]" in result.output


def test_classify_with_a_bomb_among_the_rules_exits_3(tmp_path: Path, root: Path, sample_register: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(root / "rules", rules)
    bomb = rules / "zz-bomb.yaml"
    bomb.write_text(alias_bomb()[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--rules", str(rules),
                                       "--out", str(tmp_path / "out"), "--no-audit"])
    assert result.exit_code == 3, result.output
    assert f"  {bomb}:6: " in result.output and "[yaml-too-many-nodes]" in result.output
    assert not (tmp_path / "out" / "provenance.json").exists()


def test_cases_file_with_a_recursive_alias_fails_the_run(tmp_path: Path, root: Path) -> None:
    shutil.copy(root / "rules" / "kjxzxqy-2022.yaml", tmp_path)
    shutil.copy(root / "rules" / "kjxzxqy-2017.yaml", tmp_path)
    bad = tmp_path / "kjxzxqy-2022.cases.yaml"
    bad.write_text("ruleset: kjxzxqy-2022\nyear: 2025\ndefaults: &d {employees: 1, x: *d}\ncases: []\n",
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "test", str(tmp_path)])
    assert result.exit_code == 4, result.output
    assert f"{bad}:3: " in result.output and "[yaml-recursive-alias]" in result.output


def test_aliases_within_the_limits_still_work(tmp_path: Path) -> None:
    """The bundled cases files share histories through anchors; a modest alias use must keep working."""
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {revenue: 100, employees: [1, 2]}\nuse: *b\nagain: *b\n", encoding="utf-8")
    doc, problems = read_yaml(path)
    assert problems == [] and doc is not None
    assert doc.data["again"] == {"revenue": 100, "employees": [1, 2]}
    assert doc.line_of(("again",)) == 3


@pytest.mark.parametrize("load", ["card", "mapping", "directions"])
def test_model_files_given_on_the_command_line_are_read_by_the_same_guarded_reader(tmp_path: Path, load: str) -> None:
    from tiering.growth.card import ModelCardError, load_card
    from tiering.growth.directions import DirectionsError, load_declarations
    from tiering.growth.mapping import MappingError, load_mapping

    text, _ = alias_bomb()
    path = tmp_path / f"bomb.{load}.yaml"
    path.write_text(text, encoding="utf-8")
    reader, error = {"card": (load_card, ModelCardError), "mapping": (load_mapping, MappingError),
                     "directions": (load_declarations, DirectionsError)}[load]
    with pytest.raises(error) as caught:
        reader(path)
    assert caught.value.where == Where(file=str(path))
    assert [(p.where.line, p.code) for p in caught.value.problems] == [(6, "yaml-too-many-nodes")]
