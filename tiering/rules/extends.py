"""A rule file that states only what changed: ``extends`` another rule set, ``replace``, ``remove`` and ``add``
criteria by id, ``root`` to give a sibling program's root criterion its own id, label and source, and
``default_source`` for every criterion, band and missing-data band of the file that cites none.

The merge works on the parsed data, before validation, so the merged rule set is checked exactly like a whole file;
each value keeps the file and line it was written on (the base's or the extending file's), so a problem is always
reported where it can be fixed. Keys of the header that describe the file itself (its id, version, status, dates,
review dates, what it supersedes) are never inherited; every other header key is, unless the file gives it, and
``metrics`` are merged by name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiering.rules.yamlsrc import Loc, SourceProblem, YamlDoc, dotted, read_yaml

OWN_KEYS = ("id", "version", "status", "effective_from", "effective_to", "supersedes", "verified_on", "review_by",
            "review_note", "reviews", "extends")
"""Header keys that describe one file and are never taken from the rule set it extends."""
MERGE_KEYS = ("root", "replace", "remove", "add", "default_source")
"""Keys that say how to build the rule set; they are consumed by the merge and are not part of the result."""
ROOT_KEYS = ("id", "label", "source", "note", "provisional")
"""What ``root`` may change of the root criterion, whose sub-criteria are kept (a sibling program's rule set)."""
_GROUPS = ("all", "any", "paths", "best_of")
_OF = ("score", "subtotal", "at_least")


@dataclass(frozen=True)
class Base:
    """A rule file a rule set is built on: its id, path and the SHA-256 of its bytes."""

    id: str
    path: Path
    sha256: str


@dataclass
class Located:
    """Plain rule-file data and, for each path in it, the file and line it comes from."""

    data: Any
    lines: dict[Loc, int]
    file: str
    files: dict[Loc, str] = field(default_factory=dict)
    bases: list[Base] = field(default_factory=list)

    def where(self, loc: Loc) -> tuple[str, int]:
        """File and line of the deepest node on ``loc`` that exists (pydantic error locations may go deeper)."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.files.get(loc[:cut], self.file), self.lines[loc[:cut]]
        return self.file, 1

    def problem(self, loc: Loc, message: str, code: str = "") -> SourceProblem:
        file, line = self.where(loc)
        return SourceProblem(file, line, dotted(loc), message, code)


def resolve(doc: YamlDoc, seen: tuple[str, ...] = ()) -> tuple[Located | None, list[SourceProblem]]:
    """The rule set ``doc`` describes, with ``extends``, ``root``, ``replace``, ``remove``, ``add`` and
    ``default_source`` applied."""
    own = Located(doc.data, doc.lines, str(doc.path))
    data = doc.data
    if not isinstance(data, dict):
        return own, []
    problems: list[SourceProblem] = []
    default = data.get("default_source")
    if default is not None:
        _fill_sources(data, default)
    if "extends" not in data:
        for key in ("root", "replace", "remove", "add"):
            if key in data:
                problems.append(own.problem((key,), f"'{key}' 只能用于继承另一规则集（extends）的文件",
                                            "extends-without-base"))
        if problems:
            return None, problems
        if default is None:
            return own, []
        located = _locate(data, {(): own}, own.file, _pinned(default, own))
        data.pop("default_source")
        for loc in [loc for loc in located.lines if loc[:1] == ("default_source",)]:
            del located.lines[loc]
        return located, []
    base_id = data["extends"]
    here = data.get("id")
    if not isinstance(base_id, str) or not base_id:
        return None, [own.problem(("extends",), "extends 应写所继承规则集的 id，例如 kjxzxqy-2017", "extends-invalid")]
    if base_id in seen or base_id == here:
        chain = " → ".join((*seen, str(here), base_id))
        return None, [own.problem(("extends",), f"继承形成循环 extends cycle: {chain}", "extends-cycle")]
    # a variant kept in a sub-folder (rules/variants/, not loaded by default) extends a rule set of the folder above
    folders = (doc.path.parent, doc.path.parent.parent)
    base_path = next((f / f"{base_id}.yaml" for f in folders if (f / f"{base_id}.yaml").is_file()), None)
    if base_path is None:
        return None, [own.problem(("extends",), f"找不到所继承的规则集 {base_id}：同一文件夹及上一级文件夹中都没有 "
                                                f"{base_id}.yaml", "extends-missing-base")]
    base_doc, found = read_yaml(base_path)
    if base_doc is None or found:
        return None, [*found, own.problem(("extends",), f"所继承的规则集 {base_id} 有错误，见上", "extends-bad-base")]
    base, found = resolve(base_doc, (*seen, str(here)))
    if base is None:
        return None, [*found, own.problem(("extends",), f"所继承的规则集 {base_id} 有错误，见上", "extends-bad-base")]
    if "criteria" in data:
        return None, [own.problem(("criteria",), "继承另一规则集的文件不重写整个 criteria："
                                                 "用 replace 按 id 替换、remove 按 id 删除、用 add 按位置增加条件",
                                  "extends-restates-criteria")]
    merged, origin = _merge_header(base.data, data, base, own)
    pinned = _pinned(default, own)
    if "root" in data:
        root = data["root"]
        if not isinstance(root, dict) or not root or set(root) - set(ROOT_KEYS):
            keys = "、".join(ROOT_KEYS)
            return None, [own.problem(("root",), f"root 只写根条件自己的 {keys}；其下的条件照旧继承",
                                      "extends-invalid")]
        merged["criteria"] = {**merged["criteria"], **root}
        pinned[id(merged["criteria"])] = (own, ("root",))
    problems += _replace(merged["criteria"], data.get("replace") or [], own)
    problems += _remove(merged["criteria"], data.get("remove") or [], own)
    problems += _add(merged["criteria"], data.get("add") or [], own)
    if problems:
        return None, problems
    located = _locate(merged, origin, own.file, pinned)
    located.bases = [Base(base_id, base_path, hashlib.sha256(base_path.read_bytes()).hexdigest()), *base.bases]
    return located, []


def _merge_header(base: dict[str, Any], child: dict[str, Any], base_located: Located,
                  own: Located) -> tuple[dict[str, Any], dict[Loc, Located]]:
    merged: dict[str, Any] = {}
    origin: dict[Loc, Located] = {}
    for key, value in base.items():
        if key not in OWN_KEYS:
            merged[key] = value
            origin[(key,)] = base_located
    for key, value in child.items():
        if key in MERGE_KEYS:
            continue
        if key == "metrics" and isinstance(value, dict) and isinstance(merged.get("metrics"), dict):
            metrics = dict(merged["metrics"])
            for name, metric in value.items():
                metrics[name] = metric
                origin[("metrics", name)] = own
            merged["metrics"] = metrics
            continue
        merged[key] = value
        origin[(key,)] = own
    return merged, origin


def _children(node: dict[str, Any]) -> list[Any] | None:
    """The list holding a criterion's sub-criteria, if it has one."""
    for kind in _GROUPS:
        if isinstance(node.get(kind), list):
            return node[kind]
    for kind in _OF:
        inner = node.get(kind)
        if isinstance(inner, dict) and isinstance(inner.get("of"), list):
            return inner["of"]
    return None


def _find(root: Any, criterion_id: Any) -> tuple[list[Any] | None, int]:
    """The list holding the criterion ``criterion_id`` and its index in it (the root: ``(None, -1)``)."""
    if isinstance(root, dict) and root.get("id") == criterion_id:
        return None, -1
    stack = [root]
    while stack:
        node = stack.pop()
        kids = _children(node) if isinstance(node, dict) else None
        for i, kid in enumerate(kids or []):
            if isinstance(kid, dict) and kid.get("id") == criterion_id:
                return kids, i
            stack.append(kid)
    return None, -2


def _replace(tree: dict[str, Any], items: Any, own: Located) -> list[SourceProblem]:
    if not isinstance(items, list):
        return [own.problem(("replace",), "replace 是条件的列表，每项带 id", "extends-invalid")]
    problems: list[SourceProblem] = []
    for i, item in enumerate(items):
        target = item.get("id") if isinstance(item, dict) else None
        holder, index = _find(tree, target) if target is not None else (None, -2)
        if index == -2:
            problems.append(own.problem(("replace", i, "id"), f"所继承的规则集中没有 id 为 '{target}' 的条件，无法替换",
                                        "extends-unknown-id"))
        elif holder is None:
            tree.clear()
            tree.update(item)
        else:
            holder[index] = item
    return problems


def _remove(tree: dict[str, Any], ids: Any, own: Located) -> list[SourceProblem]:
    if not isinstance(ids, list):
        return [own.problem(("remove",), "remove 是要删除的条件 id 的列表，例如 remove: [b4_abnormal]",
                            "extends-invalid")]
    problems: list[SourceProblem] = []
    for i, target in enumerate(ids):
        holder, index = _find(tree, target) if isinstance(target, str) else (None, -2)
        if index == -2:
            problems.append(own.problem(("remove", i), f"所继承的规则集中没有 id 为 '{target}' 的条件，无法删除",
                                        "extends-unknown-id"))
        elif holder is None:
            problems.append(own.problem(("remove", i), f"'{target}' 是整个规则集的根条件，不能删除；"
                                        "要换掉它请用 replace", "extends-remove-root"))
        else:
            del holder[index]
    return problems


def _add(tree: dict[str, Any], items: Any, own: Located) -> list[SourceProblem]:
    if not isinstance(items, list):
        return [own.problem(("add",), "add 是列表，每项写 after: <id> 与 criterion: {...}", "extends-invalid")]
    problems: list[SourceProblem] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"after", "criterion"}:
            problems.append(own.problem(("add", i), "add 的每项写 after: <同组中已有条件的 id> 与 criterion: {...}",
                                        "extends-invalid"))
            continue
        holder, index = _find(tree, item["after"])
        if holder is None:
            problems.append(own.problem(("add", i, "after"),
                                        f"所继承的规则集中没有可在其后增加条件的 '{item['after']}'",
                                        "extends-unknown-id"))
            continue
        holder.insert(index + 1, item["criterion"])
    return problems


def _fill_sources(data: dict[str, Any], default: Any) -> None:
    """Give ``default`` to every criterion, band and missing-data band of this file's own data that cites no source."""
    roots: list[Any] = [data.get("criteria"), data.get("root")]
    if isinstance(data.get("replace"), list):
        roots += data["replace"]
    if isinstance(data.get("add"), list):
        roots += [a.get("criterion") for a in data["add"] if isinstance(a, dict)]
    stack: list[tuple[Any, str]] = [(r, "") for r in roots if r is not None]
    while stack:
        node, key = stack.pop()
        if isinstance(node, list):
            stack.extend((item, key) for item in node)
        elif isinstance(node, dict):
            if "id" in node or key in ("bands", "missing"):
                node.setdefault("source", default)
            stack.extend((value, k) for k, value in node.items() if k != "source")


def _pinned(default: Any, own: Located) -> dict[int, tuple[Located, Loc]]:
    """A default source shared by many criteria is reported at its own line."""
    return {} if default is None else {id(default): (own, ("default_source",))}


def _locate(merged: dict[str, Any], origin: dict[Loc, Located], file: str,
            pinned: dict[int, tuple[Located, Loc]]) -> Located:
    """Lines (and files) of every path of ``merged``, found by the identity of each container in its source."""
    sources: dict[int, tuple[Located, Loc]] = dict(pinned)
    # the extending file first: the base's containers now also hold its replacements, which must keep its lines
    for located in sorted({id(v): v for v in origin.values()}.values(), key=lambda v: v.file != file):
        stack: list[tuple[Any, Loc]] = [(located.data, ())]
        while stack:
            value, loc = stack.pop()
            if isinstance(value, dict | list):
                sources.setdefault(id(value), (located, loc))
                items = value.items() if isinstance(value, dict) else enumerate(value)
                stack.extend((v, loc + (k,)) for k, v in items)
    out = Located(merged, {}, file)
    for key in merged:
        top = origin.get((key,)) or origin.get(())
        if top is not None:
            _walk(merged[key], (key,), top, (key,), sources, out)
    for loc, located in origin.items():
        if len(loc) == 2:
            _walk(merged[loc[0]][loc[1]], loc, located, loc, sources, out)
    return out


def _walk(value: Any, loc: Loc, src: Located, src_loc: Loc, sources: dict[int, tuple[Located, Loc]],
          out: Located) -> None:
    stack = [(value, loc, src, src_loc)]
    while stack:
        value, loc, src, src_loc = stack.pop()
        if isinstance(value, dict | list) and id(value) in sources:
            src, src_loc = sources[id(value)]
        file, line = src.where(src_loc)
        out.lines[loc] = line
        if file != out.file:
            out.files[loc] = file
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, loc + (k,), src, src_loc + (k,)) for k, v in items)
