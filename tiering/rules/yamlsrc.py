"""Read a YAML rule file safely, refusing duplicate keys and remembering the line of every node.

Loading is ``yaml.SafeLoader``-level: only plain data (mappings, sequences, scalars), never Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass
class SourceProblem:
    """A problem found while reading a rule file, with where it is."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where} {self.message}"


@dataclass
class YamlDoc:
    """The plain data of a YAML file and the line (1-based) where each path starts."""

    data: Any
    lines: dict[Loc, int]
    path: Path

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest node on ``loc`` that exists (pydantic error locations may go deeper)."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return 1


def _to_python(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[SourceProblem],
               file: str, constructor: yaml.SafeLoader) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if key in out:
                problems.append(SourceProblem(
                    file, key_node.start_mark.line + 1, dotted(loc + (str(key),)),
                    f"duplicate key '{key}' (first at line {first_line[key]}); a second value would silently "
                    "replace the first — remove one"))
                continue
            first_line[key] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, loc + (key,), lines, problems, file, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, loc + (i,), lines, problems, file, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def read_yaml(path: Path) -> tuple[YamlDoc | None, list[SourceProblem]]:
    """Parse ``path``; return the document and the problems found (syntax errors, duplicate keys)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SourceProblem(file, 1, "", f"cannot read the file: {exc}")]
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            problems: list[SourceProblem] = []
            lines: dict[Loc, int] = {}
            data = {} if root is None else _to_python(root, (), lines, problems, file, loader)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [SourceProblem(file, line, "", f"YAML syntax error: {reason}")]
    return YamlDoc(data, lines, path), problems


def dotted(loc: Loc) -> str:
    """``("criteria", "all", 0, "test")`` → ``criteria.all[0].test``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
