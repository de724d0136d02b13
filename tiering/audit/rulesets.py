"""Rule sets as they were: the exact text of every rule file a run used, kept in the store by content hash."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from tiering.audit.db import StoreTampered
from tiering.errors import TieringError, Where
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RULES_DIR, load_file


class StoredRulesError(TieringError, error_id="stored-rules"):
    """A rule text the store should hold is missing, altered, or no longer compiles."""


def save_texts(conn: sqlite3.Connection, rulesets: list[CompiledRuleSet]) -> None:
    """Store each rule file's bytes, and those of the files it extends, under their SHA-256 (once; the same version
    used again costs nothing)."""
    for rs in rulesets:
        for ruleset_id, path, sha256 in ((rs.id, rs.path, rs.sha256), *((b.id, b.path, b.sha256) for b in rs.bases)):
            content = path.read_bytes()
            if hashlib.sha256(content).hexdigest() != sha256:
                raise StoredRulesError(f"规则文件在载入后被改动（changed on disk after it was loaded: SHA-256 no "
                                       f"longer {sha256[:12]}…）", where=Where(file=str(path), rule_id=ruleset_id),
                                       hint="重新运行这条命令 (run the command again)")
            conn.execute("INSERT OR IGNORE INTO rule_texts (sha256, ruleset_id, content) VALUES (?, ?, ?)",
                         (sha256, ruleset_id, content))


def load_stored(conn: sqlite3.Connection, records: list[dict[str, Any]]) -> list[CompiledRuleSet]:
    """Compile the rule sets a run used from the texts stored with it, in the run's (dependency) order."""
    out: list[CompiledRuleSet] = []
    for rec in records:
        bases = tuple((b["id"], _stored_text(conn, b["id"], b["sha256"])) for b in rec.get("bases", []))
        compiled = _compile(rec["id"], _stored_text(conn, rec["id"], rec["sha256"]), rec.get("path") or "", bases)
        out.append(compiled.for_purpose(rec.get("purpose", "认定")))
    return out


def _stored_text(conn: sqlite3.Connection, ruleset_id: str, sha256: str) -> bytes:
    row = conn.execute("SELECT typeof(content), content FROM rule_texts WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise StoreTampered(f"the store has no text for rule set {ruleset_id} (SHA-256 {sha256[:12]}…); "
                            f"run `tiering audit verify`")
    if row[0] != "blob" or hashlib.sha256(row[1]).hexdigest() != sha256:
        raise StoreTampered(f"the stored text of rule set {ruleset_id} was changed behind the tool's back "
                            f"({row[0].upper()} value no longer matching its SHA-256); run `tiering audit verify`")
    return row[1]


@functools.lru_cache(maxsize=256)
def _compile(ruleset_id: str, content: bytes, path: str, bases: tuple[tuple[str, bytes], ...] = ()) -> CompiledRuleSet:
    """Compile one stored text, beside the stored texts of the files it extends (cached: runs of a store mostly
    share rule versions)."""
    with tempfile.TemporaryDirectory(prefix="tiering-audit-rules-") as tmp:
        file = Path(tmp) / f"{ruleset_id}.yaml"
        file.write_bytes(content)
        for base_id, text in bases:
            (Path(tmp) / f"{base_id}.yaml").write_bytes(text)
        compiled, problems = load_file(file)
    if compiled is None:
        raise StoredRulesError(f"stored rule set {ruleset_id} does not compile with this tool version: "
                               + "; ".join(str(p) for p in problems))
    compiled.path = Path(path or file)
    for variant in compiled.variants.values():
        variant.path = compiled.path
    return compiled


def current_file_note(record: dict[str, Any]) -> str | None:
    """Why a rule file a run used — the rule set's own or one it extends — is not what is on disk now, or None when
    each is byte-for-byte the same.

    A file is looked for where the run read it and, failing that (a fresh clone elsewhere), in the bundled
    rule folder under its id.
    """
    for used in (record, *record.get("bases", [])):
        path = Path(used.get("path", ""))
        if not path.is_file():
            path = RULES_DIR / f"{used['id']}.yaml"
        if not path.is_file():
            return (f"规则文件 {path} 已不存在 (rule file gone); "
                    f"使用审计库中保存的版本 {record['id']} {record['version']}")
        now = hashlib.sha256(path.read_bytes()).hexdigest()
        if now != used["sha256"]:
            return (f"规则文件已修改 rule file changed since the run: {path} SHA-256 {used['sha256'][:12]}… → "
                    f"{now[:12]}…; 使用审计库中保存的原版本 {record['id']} {record['version']}")
    return None
