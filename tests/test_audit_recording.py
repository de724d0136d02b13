"""Recording decisions column by column: the rows, their digest and the stored values are those of the row-by-row
build that wrote the stores already kept, and a store written before (by 2a8ae4c) still verifies."""

from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from tiering.audit.chain import RowsHasher, rows_sha256
from tiering.audit.decisions import DECISION_COLUMNS, Decisions
from tiering.audit.store import load_records
from tiering.cli import main

OLD_STORE = Path(__file__).resolve().parent / "golden" / "audit_store_2a8ae4c"
"""An audit store written by commit 2a8ae4c (before decisions were recorded column by column): the sample register
classified whole, then with ``--engine local --workers 1 --partition-size 7`` (7 parts)."""


def _row_by_row(year: int, outcomes: pd.DataFrame) -> list[tuple]:
    """The decision rows as 2a8ae4c built them (``store.decision_rows`` without its run id and number)."""
    columns = []
    for key in DECISION_COLUMNS:
        col = outcomes[key]
        if key in ("score_min", "score_max"):
            columns.append([None if math.isnan(x) else x for x in col.to_numpy(dtype=float).tolist()])
        else:
            columns.append([None if x is None else str(x) for x in col.astype(object).where(col.notna(), None)])
    return list(zip([year] * len(outcomes), *columns, strict=True))


def _awkward() -> pd.DataFrame:
    """Outcomes with every kind of value a column can hold: blanks of each kind, -0.0 beside 0.0, texts JSON must
    escape, a categorical outcome, Arrow-backed and object texts."""
    n = 23
    texts = ["", "符合", 'say "高企"', "back\\slash", "line\nbreak\ttab", "\x01ctl", "ünï", None, np.nan, pd.NA]
    frame = pd.DataFrame({
        "uscc": pd.array([f"9112011{k:011d}" for k in range(n)], dtype="str"),
        "name": pd.array([f"企业{k % 5}号\u3000有限公司" for k in range(n)], dtype="str"),
        "program": [texts[k % len(texts)] for k in range(n)],
        "ruleset_id": pd.array([["gq-2016", "zjtx-2026", None][k % 3] for k in range(n)], dtype="str"),
        "version": ["2016.1"] * n,
        "outcome": pd.Categorical([["qualified", "not_qualified", "undetermined"][k % 3] for k in range(n)]),
        "score_min": [[0.0, -0.0, np.nan, 71.5, 1 / 3, 1e-7, 80.0][k % 7] for k in range(n)],
        "score_max": np.linspace(0, 100, n),
        "path": [texts[(k * 3) % len(texts)] for k in range(n)],
        "failed": pd.array([texts[(k * 7) % len(texts)] for k in range(n)], dtype=object),
        "missing": [None] * n,
    })
    return frame


def test_decisions_built_by_column_are_the_rows_built_one_by_one_and_hash_alike() -> None:
    outcomes = _awkward()
    expected = _row_by_row(2025, outcomes)
    decisions = Decisions(2025, outcomes)
    assert decisions.rows() == expected
    assert [type(v) for row in decisions.rows() for v in row] == [type(v) for row in expected for v in row]
    assert math.copysign(1, decisions.rows()[1][7]) == -1.0  # -0.0 kept apart from 0.0, as JSON writes it
    assert decisions.rows(5, 9) == expected[5:9]
    # JSON rows hashed in pieces across arrays of 4 rows: the digest of every row written as one JSON at a time
    hasher = RowsHasher(chunk=4)
    hasher.add_json(decisions.json(0, 3))
    hasher.add(expected[3:10])
    hasher.add_json(decisions.json(10, 10))
    hasher.add_json(decisions.json(10, len(decisions)))
    reference = RowsHasher(chunk=4)
    reference.add(expected)
    assert hasher.rows == reference.rows == 23
    assert hasher.hexdigest() == reference.hexdigest()
    assert decisions.json().to_pylist()[3] == ('[2025,"911201100000000003","企业3号\u3000有限公司","back\\\\slash",'
                                              '"gq-2016","2016.1","qualified",71.5,13.636363636363637,null,"符合",null]')


def test_decisions_are_stored_with_their_texts_numbered() -> None:
    outcomes = _awkward()
    ids: dict[str | None, int | None] = {None: None}

    def text_ids(texts: list) -> list:
        for t in texts:
            ids.setdefault(t, len(ids))
        return [ids[t] for t in texts]

    stored = list(Decisions(2025, outcomes).numbered(text_ids).rows(7, 100, 2, 6))
    names = {v: k for k, v in ids.items()}
    assert [row[:3] for row in stored] == [(7, 100, 2025), (7, 101, 2025), (7, 102, 2025), (7, 103, 2025)]
    coded = [DECISION_COLUMNS.index(c) + 3 for c in ("program", "ruleset_id", "version", "outcome", "path", "failed",
                                                     "missing")]
    decoded = [tuple(names[v] if k in coded else v for k, v in enumerate(row))[2:] for row in stored]
    assert decoded == _row_by_row(2025, outcomes)[2:6]


def test_a_store_written_before_verifies_and_its_decisions_hash_as_recorded_now(tmp_path) -> None:
    store = tmp_path / "audit.sqlite"
    shutil.copy(OLD_STORE / "audit.sqlite", store)
    shutil.copytree(OLD_STORE / "audit.traces", tmp_path / "audit.traces")
    result = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert result.exit_code == 0 and "2 次运行" in result.output, result.output

    with sqlite3.connect(store) as conn:
        runs = load_records(conn, "run")
        assert [len([k for k in r["attachments"] if k.startswith("part 结果/")]) for r in runs] == [0, 7]
        for run in runs:  # the old run's decisions, put through today's recording path, give the digest it recorded
            stored = pd.read_sql_query(f"SELECT {', '.join(DECISION_COLUMNS)} FROM decision_view WHERE run_id = ? "
                                       f"ORDER BY i", conn, params=(run["run_id"],))
            decisions = Decisions(run["year"], stored)
            hasher = RowsHasher()
            for start in range(0, len(decisions), 500):
                hasher.add_json(decisions.json(start, min(len(decisions), start + 500)))
            assert hasher.rows == run["decisions"]["rows"] == 688
            assert hasher.hexdigest() == run["decisions"]["sha256"] == rows_sha256(decisions.rows())
