"""The audit store changed behind the tool's back in ways the hash alone does not describe — a value's SQL type,
a table's column types, an unreadable record, a file that is not a database — is reported as tampering (exit 4),
never as a traceback; the chain head is printed after every write; orphan traces are removed by `audit clean`."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from test_audit import FIRMS, cli, record, untriggered

from tiering import exit_codes
from tiering.audit import chain
from tiering.audit.db import traces_dir
from tiering.audit.orphans import writing
from tiering.audit.verify import verify


@pytest.fixture
def register(tmp_path: Path) -> Path:
    from test_audit import write_register
    return write_register(tmp_path / "firms.csv")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.sqlite"


def _tampered_everywhere(store: Path, register: Path, run_id: str, message: str) -> None:
    """verify, replay, runs and show all exit 4 naming the problem, with no traceback."""
    code, out = cli("audit", "verify", "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and message in out, out
    assert "Traceback" not in out
    code, out = cli("audit", "replay", run_id, "--register", str(register), "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and "Traceback" not in out, out
    assert "the audit store was tampered with" in out and message in out, out


def test_rule_text_turned_into_text_by_a_plain_update_is_tampering(store: Path, register: Path) -> None:
    run_id = record(store, register)
    # what `UPDATE … replace()` leaves: the same characters, now a TEXT value instead of the BLOB written
    untriggered(store).execute("UPDATE rule_texts SET content = replace(content, 'zzz-never', 'zzz-never')")
    assert sqlite3.connect(store).execute("SELECT typeof(content) FROM rule_texts").fetchone() == ("text",)
    report = verify(store)
    assert report.broken is not None and report.broken.ref == run_id
    assert report.broken.problem == ("the stored text of rule set kjxzxqy-2022 2022.1 is a TEXT value, not the BLOB "
                                     "the tool wrote (changed behind the tool's back)")
    _tampered_everywhere(store, register, run_id, "is a TEXT value, not the BLOB the tool wrote")
    code, out = cli("audit", "show", FIRMS[0], "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and "was changed behind the tool's back" in out, out


@pytest.mark.parametrize("table, column, new_type", [
    ("decisions", "score_min", "TEXT"), ("rule_texts", "content", "TEXT"), ("records", "hash", "BLOB")])
def test_a_changed_column_type_is_tampering(store: Path, register: Path, table: str, column: str,
                                            new_type: str) -> None:
    run_id = record(store, register)
    conn = untriggered(store)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    old_decl = next(line for line in sql.splitlines() if line.strip().startswith(column + " "))
    new_decl = old_decl.replace(old_decl.split()[1], new_type, 1)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql.replace(old_decl, new_decl), table))
    conn.execute("PRAGMA writable_schema = OFF")
    conn.close()
    report = verify(store)
    assert report.broken is not None and report.broken.problem.startswith(f"the layout of {table} was changed")
    assert f"{column} {new_type}" in report.broken.problem
    _tampered_everywhere(store, register, run_id, f"the layout of {table} was changed")


def test_record_body_stored_as_blob_is_tampering(store: Path, register: Path) -> None:
    run_id = record(store, register)
    untriggered(store).execute("UPDATE records SET body = CAST(body AS BLOB)")
    report = verify(store)
    assert report.broken is not None
    assert report.broken.problem == "the record's content does not match its hash (the record was edited)"
    _tampered_everywhere(store, register, run_id, "does not match its hash")


def test_rechained_unreadable_record_is_tampering_not_a_crash(store: Path, register: Path) -> None:
    run_id = record(store, register)
    conn = untriggered(store)
    body = "[not, json"
    conn.execute("UPDATE records SET body = ?, hash = ? WHERE ref = ?",
                 (body, chain.record_hash(chain.GENESIS, body), run_id))
    conn.close()
    report = verify(store)
    assert report.broken is not None and report.broken.problem.startswith(
        "the record cannot be read as the tool wrote it (JSONDecodeError")
    for args in (("audit", "verify"), ("audit", "runs"), ("audit", "show", FIRMS[0]),
                 ("audit", "replay", run_id, "--register", str(register))):
        code, out = cli(*args, "--store", str(store))
        assert code == exit_codes.CHECK_FAILED and "Traceback" not in out, (args, out)
        assert "the audit store was tampered with" in out or "cannot be read as the tool wrote it" in out, out


def test_a_file_that_is_not_a_database_is_tampering(store: Path, register: Path) -> None:
    record(store, register)
    for extra in store.parent.glob(store.name + "-*"):
        extra.unlink()
    store.write_bytes(b"this is not sqlite " * 100)
    code, out = cli("audit", "verify", "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and "cannot be opened as an audit store" in out, out
    code, out = cli("audit", "runs", "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and "Traceback" not in out, out


def test_clean_removes_orphans_of_killed_runs_but_not_a_run_being_written(store: Path, register: Path) -> None:
    kept = record(store, register)
    folder = traces_dir(store)
    (folder / ".20250101T000000Z-deadbeef.tmp").mkdir()          # killed while writing its trace
    (folder / "20250101T000001Z-feedface").mkdir()                # killed between rename and commit
    (folder / "20250101T000001Z-feedface" / "part-0.parquet").write_bytes(b"x")
    (folder / ".20250101T000002Z-0badf00d.lock").touch()          # a lock its dead writer never removed
    in_progress = "20250101T000003Z-c0ffee00"
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with writing(store, in_progress):
            (folder / f".{in_progress}.tmp").mkdir()
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(30)
    report = verify(store)
    assert (report.ok, report.runs) == (True, 1)  # orphans are never runs
    assert report.orphans == [".20250101T000000Z-deadbeef.tmp", f".{in_progress}.tmp", "20250101T000001Z-feedface"]
    code, out = cli("audit", "runs", "--store", str(store))
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith(kept)
    code, out = cli("audit", "clean", "--store", str(store))
    release.set()
    thread.join()
    assert code == 0, out
    assert out.splitlines() == [
        "已删除孤立文件 removed orphan .20250101T000000Z-deadbeef.tmp",
        "已删除孤立文件 removed orphan 20250101T000001Z-feedface",
        f"正在写入的运行，未删除 left alone (run still being written): .{in_progress}.tmp",
        "删除 2 个孤立文件 removed 2 orphan(s); 1 次运行不变 (runs unchanged)"]
    assert sorted(p.name for p in folder.iterdir()) == [f".{in_progress}.tmp", kept]
    assert verify(store).runs == 1


def test_clean_refuses_a_broken_store(store: Path, register: Path) -> None:
    record(store, register)
    (traces_dir(store) / ".20250101T000000Z-deadbeef.tmp").mkdir()
    untriggered(store).execute("UPDATE decisions SET score_min = 99")
    code, out = cli("audit", "clean", "--store", str(store))
    assert code == exit_codes.CHECK_FAILED and "chain broken, nothing removed" in out, out
    assert (traces_dir(store) / ".20250101T000000Z-deadbeef.tmp").exists()


def test_every_write_prints_the_chain_head(store: Path, register: Path) -> None:
    record(store, register)
    code, out = cli("audit", "override", FIRMS[0], "--ruleset", "kjxzxqy-2022", "--outcome", "qualified",
                    "--by", "王芳", "--why", "复核", "--store", str(store))
    head = sqlite3.connect(store).execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert code == 0 and out.splitlines()[1].startswith(f"链头 chain head {head}"), out
    code, out = cli("audit", "verify", "--anchor", head[:16], "--store", str(store))
    assert code == 0 and out.endswith(f"链头 head {head}\n"), out
