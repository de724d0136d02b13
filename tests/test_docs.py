"""docs/rule-language.md stays true: every YAML example loads through the rule loader (schema and compiler), and
the function list it gives is the compiler's."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from tiering.rules.expr import FUNCTIONS
from tiering.rules.library import load_file

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "rule-language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)

HEADER = """id: doc-example
title: 文档示例
title_en: Documentation example
program: doc_example
program_title: 文档示例
jurisdiction: national
version: "1"
status: stable
effective_from: 2020-01-01
references:
  - document: 示例
criteria:
  id: doc_root
  label: 示例
  source: {document: 示例, clause: 示例}
  all:
"""


def test_the_page_has_its_examples() -> None:
    assert len(BLOCKS) >= 7  # the regex still finds them (six criteria and one extending file)


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_every_yaml_example_loads(number: int, tmp_path: Path) -> None:
    text = BLOCKS[number]
    data = yaml.safe_load(text)
    if "criteria" in data or "extends" in data:  # a whole rule file, loaded beside the bundled rules it may extend
        for path in (ROOT / "rules").glob("*.yaml"):
            shutil.copy(path, tmp_path)
        path = tmp_path / f"{data['id']}.yaml"
    else:  # one criterion, loaded as the only child of a rule set's root group
        path = tmp_path / "doc-example.yaml"
        text = HEADER + textwrap.indent("- " + textwrap.indent(text, "  ")[2:], "    ")
    path.write_text(text, encoding="utf-8")
    compiled, problems = load_file(path)
    assert problems == [] and compiled is not None, f"example {number + 1}:\n{BLOCKS[number]}\n{problems}"


def test_function_list_is_the_compilers() -> None:
    section = DOC.split("## Expressions", 1)[1].split("\n## ", 1)[0]
    listed = section.split("the functions", 1)[1].split("Anything else", 1)[0]
    names = {re.match(r"[a-z_]+", token).group(0) for token in re.findall(r"`([^`]+)`", listed)}  # type: ignore[union-attr]
    assert names == set(FUNCTIONS)
