"""Read a YAML file of rules safely, refusing duplicate keys and remembering the line of every node.

Only plain data is built (mappings, sequences and the standard scalars), never Python objects. The document is
assembled from libyaml's event stream (pure-Python events where libyaml is missing) by a loop, not by recursion,
so that every limit below is checked while reading and a hostile file is refused at once, with its line:

- a file larger than :data:`MAX_BYTES`;
- nesting deeper than :data:`MAX_DEPTH` (no rule file needs more than a dozen levels);
- more than :data:`MAX_NODES` values once every alias is expanded — an "alias bomb" (a few lines whose aliases
  multiply into billions of values) is refused when the count passes the limit, without expanding anything;
- an alias used inside its own anchor (a recursive structure), or an alias with no anchor;
- tags other than the standard ones (``!!python/object`` and the like), and more than one document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

from tiering.errors import Where, placed
from tiering.rules import cache

if TYPE_CHECKING:
    from pydantic import ValidationError

Loc = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024
"""Largest rule, cases, policy or plan file read (the largest bundled file is about 22 KB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences (the bundled files reach 14)."""
MAX_NODES = 200_000
"""Most values in one file, every alias expanded (the bundled files have at most a few thousand)."""

_LIMITS = f"{MAX_BYTES}/{MAX_DEPTH}/{MAX_NODES}"
_Parser: Any = getattr(yaml, "CBaseLoader", None) or yaml.BaseLoader
"""Only its parser is used: libyaml's when PyYAML was built with it."""
_TOO_DEEP = f"嵌套超过 {MAX_DEPTH} 层；规则文件不需要这么深，请检查括号与缩进"
_PLAIN_ONLY = "规则文件只含普通的映射、列表、文字和数字"
_STANDARD_COLLECTIONS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
SCHEMA_WORDS = {
    "missing": "缺少必填的键",
    "extra_forbidden": "未知的键（拼错了？）",
    "literal_error": "不是允许的取值",
    "enum": "不是允许的取值",
    "string_pattern_mismatch": "写法不符合要求",
    "string_too_short": "不能为空",
    "too_short": "至少要有一项",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "dict_type": "应为键值对（key: value）",
    "model_type": "应为键值对（key: value）",
    "list_type": "应为列表（- 开头的各项）",
}
"""pydantic's checks of a YAML file in Chinese, by pydantic's error type (its English is kept after them); the
rule files and the growth model's files word their problems from it."""


@dataclass
class SourceProblem:
    """A problem found while reading a rule file, with where it is and a stable English id (``code``)."""

    file: str
    line: int
    field: str
    message: str
    code: str = ""

    @property
    def where(self) -> Where:
        """The place as the error family holds it: file, line and field."""
        return Where(file=self.file, line=self.line, field=self.field or None)

    def __str__(self) -> str:
        return placed(self.where, self.message, self.code)


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

    def schema_problems(self, exc: ValidationError) -> list[SourceProblem]:
        """Each error of validating this document at its file, line and field (a validator's own message without
        pydantic's "Value error, " in front)."""
        return [SourceProblem(str(self.path), self.line_of(tuple(e["loc"])), dotted(tuple(e["loc"])),
                              e["msg"].removeprefix("Value error, ")) for e in exc.errors()]


class _Refused(Exception):
    def __init__(self, line: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line, self.code, self.message = line, code, message


@dataclass
class _Open:
    """A mapping or sequence being read."""

    value: dict[Any, Any] | list[Any]
    loc: Loc
    anchor: str | None
    nodes: int = 1
    key: Any = None
    has_key: bool = False
    key_line: int = 0


class _Builder:
    """Turns parser events into plain data, lines and problems, enforcing the limits of this module."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Loc, int] = {}
        self.problems: list[SourceProblem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.total = 0
        self.first_line: list[dict[Any, int]] = []
        self.constructor = SafeConstructor()
        self.resolver = Resolver()
        self.root: Any = None
        self.documents = 0

    def _count(self, n: int, line: int) -> None:
        self.total += n
        if self.total > MAX_NODES:
            raise _Refused(line, "yaml-too-many-nodes",
                           f"文件展开后超过 {MAX_NODES} 个值（别名 alias 层层引用会成倍展开）；规则文件不需要这么多，"
                           f"请检查锚点 & 与别名 *")

    def _here(self) -> Loc | None:
        """The location the next value goes to; ``None`` when the next value is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top.loc + (len(top.value),)
        return top.loc + (top.key,) if top.has_key else None

    def _place(self, value: Any, nodes: int, line: int) -> None:
        if self.stack:
            self.stack[-1].nodes += nodes
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if not top.has_key:
            if isinstance(value, dict | list):
                raise _Refused(line, "yaml-complex-key", "映射的键必须是简单的文字或数字，不能是映射或列表")
            top.key, top.has_key, top.key_line = value, True, line
            return
        key, seen = top.key, self.first_line[-1]
        top.has_key = False
        if key in seen:
            self.problems.append(SourceProblem(
                self.file, top.key_line, dotted(top.loc + (str(key),)),
                f"重复的键 '{key}'（第一次在第 {seen[key]} 行）；后一个值会悄悄覆盖前一个 — 请删去其一",
                "yaml-duplicate-key"))
            return
        seen[key] = top.key_line
        top.value[key] = value

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node)
        except ConstructorError as exc:
            raise _Refused(line, "yaml-tag", f"不允许的标签 tag {tag}：{_PLAIN_ONLY}（{exc.problem}）") from exc

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(line, "yaml-several-documents", "一个文件只能有一个 YAML 文档（出现了第二个 ---）")
            return
        if isinstance(event, yaml.ScalarEvent):
            loc = self._here()
            if loc is not None:
                self.lines[loc] = line
            self._count(1, line)
            value = self._scalar(event, line)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1)
            self._place(value, 1, line)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if event.tag not in _STANDARD_COLLECTIONS:
                raise _Refused(line, "yaml-tag", f"不允许的标签 tag {event.tag}：{_PLAIN_ONLY}")
            if len(self.stack) >= MAX_DEPTH:
                raise _Refused(line, "yaml-too-deep", _TOO_DEEP)
            loc = self._here()
            if loc is None:
                raise _Refused(line, "yaml-complex-key", "映射的键必须是简单的文字或数字，不能是映射或列表")
            self.lines[loc] = line
            self._count(1, line)
            mapping = isinstance(event, yaml.MappingStartEvent)
            self.stack.append(_Open({} if mapping else [], loc, event.anchor))
            self.first_line.append({})
            if event.anchor is not None:
                self.open_anchors.add(event.anchor)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            done = self.stack.pop()
            self.first_line.pop()
            if done.anchor is not None:
                self.open_anchors.discard(done.anchor)
                self.anchors[done.anchor] = (done.value, done.nodes)
            self._place(done.value, done.nodes, line)
        elif isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in self.open_anchors:
                raise _Refused(line, "yaml-recursive-alias",
                               f"别名 *{name} 引用了包含它自己的锚点 &{name}（递归结构）；规则文件不能自我引用")
            if name not in self.anchors:
                raise _Refused(line, "yaml-undefined-alias", f"别名 *{name} 之前没有定义锚点 &{name}")
            value, nodes = self.anchors[name]
            loc = self._here()
            if loc is not None:
                self.lines[loc] = line
            self._count(nodes, line)
            self._place(value, nodes, line)


def read_yaml(path: Path) -> tuple[YamlDoc | None, list[SourceProblem]]:
    """Parse ``path``; return the document and the problems found (syntax errors, duplicate keys, limits).

    A file read before without problems comes from the parsed-document cache (:mod:`tiering.rules.cache`).
    """
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [SourceProblem(file, 1, "", f"文件有 {size} 字节，超过上限 {MAX_BYTES} 字节；"
                                                     "规则文件不会这么大，请确认选对了文件", "yaml-file-too-large")]
        raw = path.read_bytes()
        key = cache.key_of(raw, _LIMITS)
        cached = cache.load(key)
        if cached is not None:
            return YamlDoc(cached[0], cached[1], path), []
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SourceProblem(file, 1, "", f"无法读取文件（须为 UTF-8 文本）：{exc}", "yaml-unreadable")]
    doc, problems = parse_yaml(text, path)
    if doc is not None and not problems:
        cache.store(key, doc.data, doc.lines)
    return doc, problems


def read_plain(path: Path, refuse: Callable[[list[SourceProblem]], Exception]) -> YamlDoc:
    """Read a YAML file given from outside (a model card, a column mapping …) with the same guards as rule files;
    raise ``refuse(problems)`` (each at its file, line and id) when it cannot be read."""
    doc, problems = read_yaml(path)
    if doc is None or problems:
        raise refuse(problems)
    return doc


def parse_yaml(text: str, path: Path) -> tuple[YamlDoc | None, list[SourceProblem]]:
    """Parse the ``text`` of ``path`` (see :func:`read_yaml`)."""
    file = str(path)
    builder = _Builder(file)
    parser = _Parser(text)
    try:
        while parser.check_event():
            builder.feed(parser.get_event())
    except _Refused as exc:
        return None, [SourceProblem(file, exc.line, "", exc.message, exc.code)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        if "nesting depth" in str(exc.problem):  # libyaml's own limit (1000) is met first when it reads ahead
            return None, [SourceProblem(file, line, "", _TOO_DEEP, "yaml-too-deep")]
        return None, [SourceProblem(file, line, "", f"YAML 语法错误：{exc.problem or exc}", "yaml-syntax")]
    except yaml.YAMLError as exc:
        return None, [SourceProblem(file, 1, "", f"YAML 语法错误：{exc}", "yaml-syntax")]
    finally:
        parser.dispose()
    data = {} if builder.root is None else builder.root
    return YamlDoc(data, builder.lines, path), builder.problems


def dotted(loc: Loc) -> str:
    """``("criteria", "all", 0, "test")`` → ``criteria.all[0].test``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
