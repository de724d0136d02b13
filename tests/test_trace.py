"""The trace: firm-major rows, batches of whole firms, and the Parquet file that the audit store reads back."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tiering.audit.db import traces_dir
from tiering.audit.traces import firm_trace
from tiering.audit.verify import verify
from tiering.cli import main
from tiering.engine.evaluate import Evaluation, evaluate
from tiering.engine.trace import TRACE_SCHEMA, _Criteria, trace_batches, trace_table
from tiering.output import trace_file
from tiering.output.trace_file import trace_parts, write_trace
from tiering.register import load_register
from tiering.rules.library import load_library

YEAR = 2025


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    register = load_register(Path(__file__).resolve().parents[1] / "datasets" / "sample_register.xlsx")
    rulesets = load_library().in_force(dt.date(YEAR, 6, 30), programs=["kjxzxqy", "gxjsqy"])
    return evaluate(register.frame, rulesets, YEAR)


def _criteria(evaluation: Evaluation) -> list[tuple[str, str]]:
    return [(r.ruleset.id, node.id) for r in evaluation.results for node in r.ruleset.root.walk()]


def test_rows_are_firm_major_in_register_order(evaluation: Evaluation) -> None:
    trace = trace_table(evaluation).to_pandas()
    criteria = _criteria(evaluation)
    firms = trace["uscc"].astype(str).tolist()
    assert len(trace) == 43 * len(criteria)
    assert firms == sorted(firms)
    first = trace.iloc[: len(criteria)]
    assert set(first["uscc"].astype(str)) == {evaluation.firms[0]}
    assert list(zip(first["ruleset_id"].astype(str), first["criterion_id"].astype(str), strict=True)) == criteria


def test_named_firm_rows_carry_value_band_text_and_clause(evaluation: Evaluation) -> None:
    trace = trace_table(evaluation).to_pandas()
    firm = trace[trace["name"] == "蓟州生物医药有限公司"].set_index("criterion_id")
    staff = firm.loc["staff_points"]
    assert (staff["value"], staff["points_min"], staff["band"], staff["band_index"], staff["clause"]) == (
        0.2, 12.0, "20%（含）-25%", 2, "第七条（一）")
    industry = firm.loc["b3_119_name"]
    assert (industry["text"], industry["status"]) == ("生物医药", "pass")


def test_batches_hold_whole_firms_and_only_their_own_firm_dictionary(evaluation: Evaluation) -> None:
    per_firm = len(_criteria(evaluation))
    batches = list(trace_batches(evaluation, rows_per_batch=5 * per_firm + 1))
    assert [b.num_rows // per_firm for b in batches] == [5] * 8 + [3]
    assert all(b.num_rows % per_firm == 0 for b in batches)
    second = batches[1].column("uscc")
    assert second.dictionary.to_pylist() == evaluation.firms[5:10].tolist()
    whole = trace_table(evaluation).to_pandas()
    for column in ("uscc", "criterion_id", "value", "status", "band"):
        pieces = [v for b in batches for v in b.column(column).to_pylist()]
        expected = whole[column].astype(object).where(whole[column].notna(), None).tolist()
        assert pieces == expected


def test_written_folder_reads_back_as_the_trace_and_finds_one_firm(evaluation: Evaluation, tmp_path: Path) -> None:
    folder = tmp_path / "trace"
    rows = write_trace(evaluation, folder)
    assert [p.name for p in trace_parts(folder)] == ["part-0.parquet"]
    table = pq.read_table(folder)
    assert rows == table.num_rows == 43 * len(_criteria(evaluation))
    assert table.schema.names == TRACE_SCHEMA.names
    assert table.to_pandas().astype(str).equals(trace_table(evaluation).to_pandas().astype(str))
    uscc = evaluation.firms[20]
    one = firm_trace(folder, uscc)
    assert one.num_rows == len(_criteria(evaluation))
    assert set(one.column("uscc").to_pylist()) == {uscc}


def test_large_trace_is_two_parts_of_whole_firms_in_order(evaluation: Evaluation, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace_file, "ROWS_PER_PART", 100)
    folder = tmp_path / "trace"
    (folder / "stale").mkdir(parents=True)  # whatever was there before goes
    write_trace(evaluation, folder)
    parts = trace_parts(folder)
    assert [p.name for p in parts] == ["part-0.parquet", "part-1.parquet"] == sorted(p.name for p in folder.iterdir())
    first, second = (pq.read_table(p).column("uscc").unique().to_pylist() for p in parts)
    assert (first, second) == (evaluation.firms[:21].tolist(), evaluation.firms[21:].tolist())
    assert pd.read_parquet(folder).astype(str).equals(trace_table(evaluation).to_pandas().astype(str))
    assert firm_trace(folder, evaluation.firms[30]).num_rows == len(_criteria(evaluation))


def test_classify_records_the_very_trace_it_wrote(tmp_path: Path) -> None:
    store = tmp_path / "audit.sqlite"
    register = Path(__file__).resolve().parents[1] / "datasets" / "sample_register.xlsx"
    result = CliRunner().invoke(main, ["classify", str(register), "--year", "2025", "--out", str(tmp_path / "out"),
                                       "--format", "csv", "--store", str(store), "--program", "kjxzxqy"])
    assert result.exit_code == 0, result.output
    run_id = re.search(r"audit run (\S+) in", result.output).group(1)
    written, stored = trace_parts(tmp_path / "out" / "trace"), trace_parts(traces_dir(store) / run_id)
    assert [p.read_bytes() for p in stored] == [p.read_bytes() for p in written]
    assert verify(store).ok


def test_criteria_laid_side_by_side_keep_every_bit_whether_constant_or_not() -> None:
    """A batch's numbers are the criteria's arrays side by side, bit for bit: criteria with one number for every
    firm (−0.0, NaN, 2.5) come from a tiled row, the others are copied; mixed dtypes promote as np.stack does."""
    n = 7
    arrays = [np.full(n, -0.0), np.full(n, np.nan), np.arange(n, dtype=float), np.where(np.arange(n) < 3, 0.0, -0.0),
              np.full(n, 2.5), np.arange(n, dtype=np.int8)]
    criteria = _Criteria(arrays)
    assert criteria.varying == [2, 3, 5]
    for start, stop in ((0, 7), (2, 5), (3, 5), (6, 7)):
        want = np.stack([a[start:stop] for a in arrays], axis=1).ravel()
        got = criteria.rows(start, stop)
        assert got.dtype == want.dtype and np.array_equal(got.view(np.uint64), want.view(np.uint64))
