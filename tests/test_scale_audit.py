"""A partitioned run in the audit store: recorded once, part by part (never every 结果 part in memory), with the
same decisions and firm rows as a whole run of the same register, and verified, shown and hashed as any run."""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
import weakref
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.app import classify, rules_in_force
from tiering.audit.chain import RowsHasher, rows_sha256
from tiering.audit.store import record_run
from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.scale import PartitionedRun, classify_partitioned
from tiering.scale.run import RESULTS_DIR

YEAR = 2025


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    path = write_register(generate_panel(120, (2021, 2024), seed=14).panel, tmp_path_factory.mktemp("r") / "g.parquet")
    return load_register(path)


@pytest.fixture(scope="module")
def rules():
    return rules_in_force(load_library(), YEAR)


def test_rows_hashed_batch_by_batch_hash_as_all_rows_at_once() -> None:
    rows = [(i, f"企业{i}", None if i % 7 else 1.5 * i) for i in range(230_001)]
    # the digest of every record written so far: JSON arrays of 100,000 rows each
    expected = hashlib.sha256()
    for start in range(0, len(rows), 100_000):
        expected.update(json.dumps(rows[start:start + 100_000], ensure_ascii=False, separators=(",", ":")).encode())
    assert rows_sha256(rows) == expected.hexdigest()
    hasher = RowsHasher()
    at = 0
    for size in (0, 1, 99_998, 3, 0, 120_000):
        hasher.add(rows[at:at + size])
        at += size
    assert len(rows) - at == 9_999
    hasher.add(rows[at:])
    assert hasher.rows == len(rows)
    assert hasher.hexdigest() == expected.hexdigest()
    assert RowsHasher().hexdigest() == rows_sha256([]) == hashlib.sha256().hexdigest()


def _decisions(store: Path, run_id: str) -> pd.DataFrame:
    with sqlite3.connect(store) as conn:
        frame = pd.read_sql_query("SELECT * FROM decision_view WHERE run_id = ?", conn, params=(run_id,))
    return frame.drop(columns=["run_id", "run", "i"]).sort_values(["uscc", "ruleset_id"]).reset_index(drop=True)


def _firms(store: Path, run_id: str) -> pd.DataFrame:
    with sqlite3.connect(store) as conn:
        frame = pd.read_sql_query("SELECT * FROM firms WHERE run = (SELECT seq FROM records WHERE ref = ?)", conn,
                                  params=(run_id,))
    return frame.drop(columns=["run", "i"]).sort_values("uscc").reset_index(drop=True)


def test_a_partitioned_run_is_recorded_one_part_at_a_time_as_a_whole_run_is(register, rules, tmp_path,
                                                                            monkeypatch) -> None:
    run = classify_partitioned(register.path, rules[0], YEAR, rules[1], tmp_path / "out", partition_size=30)
    whole = classify(register, rules[0], YEAR, rules[1])
    store = tmp_path / "audit.sqlite"
    whole_id = record_run(store, whole, ["classify"])

    read, alive = [], []
    parts = PartitionedRun.parts

    def one_at_a_time(self: PartitionedRun, columns=None):
        for outcomes, standing in parts(self, columns):
            gc.collect()
            assert [ref() for ref in alive] == [None] * len(alive), f"part {len(read)} read while an earlier is held"
            read.append(len(outcomes))
            alive.extend([weakref.ref(outcomes), weakref.ref(standing)])
            yield outcomes, standing

    monkeypatch.setattr(PartitionedRun, "parts", one_at_a_time)
    run_id = record_run(store, run, ["classify", "--engine", "local"], trace_folder=tmp_path / "out" / "trace")
    assert len(read) == run.partitions == len(list((tmp_path / "out" / RESULTS_DIR).glob("part-*.parquet"))) >= 4
    assert sum(read) == len(whole.outcomes)

    pd.testing.assert_frame_equal(_decisions(store, run_id), _decisions(store, whole_id))
    firms = _firms(store, run_id)
    pd.testing.assert_frame_equal(firms, _firms(store, whole_id))
    assert firms["district"].notna().all() and firms["industry"].notna().all()

    verify = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert verify.exit_code == 0 and "2 次运行" in verify.output, verify.output
    with sqlite3.connect(store) as conn:  # a decision changed behind the tool's back is found in the streamed hash
        conn.execute("DROP TRIGGER decisions_no_update")
        conn.execute("UPDATE decisions SET score_min = 99 WHERE run = (SELECT seq FROM records WHERE ref = ?) "
                     "AND i = (SELECT MAX(i) FROM decisions WHERE run = (SELECT seq FROM records WHERE ref = ?))",
                     (run_id, run_id))
    verify = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert verify.exit_code == 4 and run_id in verify.output and "decisions table rows" in verify.output, \
        verify.output
