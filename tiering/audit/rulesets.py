"""Rule sets as they were: the exact text of every rule file a run used, kept in the store by content hash."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import tempfile
from pathlib import Path

from tiering.audit.db import StoreTampered
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.library import RULES_DIR, load_file


class StoredRulesError(Exception):
    """A rule text the store should hold is missing, altered, or no longer compiles."""


def save_texts(conn: sqlite3.Connection, rulesets: list[CompiledRuleSet]) -> None:
    """Store each rule file's bytes under its SHA-256 (once; the same version used again costs nothing)."""
    for rs in rulesets:
        content = rs.path.read_bytes()
        if hashlib.sha256(content).hexdigest() != rs.sha256:
            raise StoredRulesError(f"{rs.path} changed on disk after it was loaded (SHA-256 no longer "
                                   f"{rs.sha256[:12]}…); run the command again")
        conn.execute("INSERT OR IGNORE INTO rule_texts (sha256, ruleset_id, content) VALUES (?, ?, ?)",
                     (rs.sha256, rs.id, content))


def load_stored(conn: sqlite3.Connection, records: list[dict[str, str]]) -> list[CompiledRuleSet]:
    """Compile the rule sets a run used from the texts stored with it, in the run's (dependency) order."""
    out: list[CompiledRuleSet] = []
    for rec in records:
        row = conn.execute("SELECT typeof(content), content FROM rule_texts WHERE sha256 = ?",
                           (rec["sha256"],)).fetchone()
        if row is None:
            raise StoreTampered(f"the store has no text for rule set {rec['id']} (SHA-256 {rec['sha256'][:12]}…); "
                                f"run `tiering audit verify`")
        if row[0] != "blob" or hashlib.sha256(row[1]).hexdigest() != rec["sha256"]:
            raise StoreTampered(f"the stored text of rule set {rec['id']} was changed behind the tool's back "
                                f"({row[0].upper()} value no longer matching its SHA-256); run `tiering audit verify`")
        content = row[1]
        out.append(_compile(rec["id"], content, rec.get("path") or ""))
    return out


@functools.lru_cache(maxsize=256)
def _compile(ruleset_id: str, content: bytes, path: str) -> CompiledRuleSet:
    """Compile one stored text (cached: runs of a store mostly share rule versions, and parsing YAML is slow)."""
    with tempfile.TemporaryDirectory(prefix="tiering-audit-rules-") as tmp:
        file = Path(tmp) / f"{ruleset_id}.yaml"
        file.write_bytes(content)
        compiled, problems = load_file(file)
    if compiled is None:
        raise StoredRulesError(f"stored rule set {ruleset_id} does not compile with this tool version: "
                               + "; ".join(str(p) for p in problems))
    compiled.path = Path(path or file)
    return compiled


def current_file_note(record: dict[str, str]) -> str | None:
    """Why the rule file a run used is not what is on disk now, or None when it is byte-for-byte the same.

    The file is looked for where the run read it and, failing that (a fresh clone elsewhere), in the bundled
    rule folder under its id.
    """
    path = Path(record.get("path", ""))
    if not path.is_file():
        path = RULES_DIR / f"{record['id']}.yaml"
    if not path.is_file():
        return f"规则文件 {path} 已不存在 (rule file gone); 使用审计库中保存的版本 {record['id']} {record['version']}"
    now = hashlib.sha256(path.read_bytes()).hexdigest()
    if now == record["sha256"]:
        return None
    return (f"规则文件已修改 rule file changed since the run: {path} SHA-256 {record['sha256'][:12]}… → {now[:12]}…; "
            f"使用审计库中保存的原版本 {record['id']} {record['version']}")
