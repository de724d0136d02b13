"""A partitioned classify: the register cut into partitions of whole firms, each classified by the application
core and written as parts of Parquet datasets, the tables that need every firm reduced from the parts.

Output folder of a partitioned run::

    结果/part-NNNNN.parquet   firm × rule set: outcome, score, path, reasons, what the firm lacks (the 结果 sheet)
    层级/part-NNNNN.parquet   per firm: highest rung and programmes (the 层级 sheet)
    trace/part-NNNNN.parquet  every criterion of every firm (the trace folder of any run)
    汇总.csv                  counts per rule set and outcome, over every partition
    层级分布.csv              firms per highest rung, over every partition
    provenance.json           as for any run, plus the partitions and every part's SHA-256
    rejects.csv               refused rows, when there are any

Read a dataset as one table with ``pandas.read_parquet("out/big/结果")``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from tiering.app import classify
from tiering.output.provenance import Provenance
from tiering.output.trace_file import TRACE_DIR, write_trace_part
from tiering.register import Register
from tiering.rules.compile import CompiledRuleSet
from tiering.scale.partition import DEFAULT_PARTITION_SIZE, PartitionFile, write_partitions

RESULTS_DIR, STANDING_DIR = "结果", "层级"
SUMMARY_FILE, LADDER_FILE = "汇总.csv", "层级分布.csv"
WORK_DIR = ".partitions"
"""Where the register's partitions wait for the workers (removed when the run ends)."""


@dataclass(frozen=True)
class PartTask:
    """What a worker needs for one partition: the partition's path (never its rows), the register's description
    without rows, the rule sets, the year and date, and where to write."""

    partition: PartitionFile
    register: Register
    rulesets: list[CompiledRuleSet]
    year: int
    on: dt.date
    out_dir: Path


@dataclass
class PartResult:
    """What a worker sends back: small tables and facts, never the partition's rows."""

    index: int
    summary: pd.DataFrame
    ladder: pd.DataFrame
    provenance: Provenance
    files: dict[str, str]
    """Relative path of every part file written -> its SHA-256."""


def classify_part(task: PartTask) -> PartResult:
    """Classify one partition with the application core and write its parts (each written under a temporary name
    and renamed, so a worker lost mid-part leaves no part behind and a retry writes the same bytes)."""
    frame = pd.read_parquet(task.partition.path)
    register = dataclasses.replace(task.register, frame=frame, rows_read=len(frame))
    result = classify(register, task.rulesets, task.year, task.on)
    name = f"part-{task.partition.index:05d}.parquet"
    files = {}
    for folder, write in ((RESULTS_DIR, lambda p: result.results.to_parquet(p, index=False)),
                          (STANDING_DIR, lambda p: result.standing.to_parquet(p, index=False)),
                          (TRACE_DIR, lambda p: write_trace_part(result.evaluation, p))):
        target = task.out_dir / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.partial")
        write(partial)
        partial.replace(target)
        files[f"{folder}/{name}"] = _sha256(target)
    ladder = result.standing.groupby(["rung", "highest"], sort=True).size().rename("firms").reset_index()
    return PartResult(task.partition.index, result.summary, ladder, result.provenance, files)


Runner = Callable[[Sequence[PartTask]], list[PartResult]]


def run_here(tasks: Sequence[PartTask]) -> list[PartResult]:
    """Every partition in this process, one after another: memory is that of one partition."""
    return [classify_part(t) for t in tasks]


@dataclass
class PartitionedRun:
    """The reduced tables of a partitioned run and the files it wrote; what the audit store records of any run
    (the register, the rule sets, the outcomes and the standing) is read back from the parts on first use."""

    out_dir: Path
    register: Register
    rulesets: list[CompiledRuleSet]
    summary: pd.DataFrame
    ladder: pd.DataFrame
    provenance: Provenance
    partitions: int
    files: dict[str, str] = field(default_factory=dict)
    """Relative path of every part file -> SHA-256, in partition order."""

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """Every firm × rule set row (the 结果 dataset), partition by partition."""
        return self._read(RESULTS_DIR)

    @cached_property
    def standing(self) -> pd.DataFrame:
        """Every firm's place on the ladder (the 层级 dataset), partition by partition."""
        return self._read(STANDING_DIR)

    def _read(self, folder: str) -> pd.DataFrame:
        parts = [self.out_dir / name for name in self.files if name.startswith(f"{folder}/")]
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def classify_partitioned(register: Register, rulesets: Sequence[CompiledRuleSet], year: int, on: dt.date,
                         out_dir: Path, partition_size: int = DEFAULT_PARTITION_SIZE,
                         runner: Runner = run_here) -> PartitionedRun:
    """Classify ``register`` in partitions of about ``partition_size`` firms and write the run into ``out_dir``
    (see the module text); ``runner`` runs the partitions (:func:`run_here`, or a Dask cluster's
    :func:`tiering.scale.dask_engine.runner`). Every row of the results is the single-process run's row."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / WORK_DIR
    try:
        partitions = write_partitions(register.frame, work, partition_size)
        bare = dataclasses.replace(register, frame=register.frame.iloc[:0], refusals=[], rows_read=0,
                                   rejected=pd.DataFrame(), notes=[], warnings=[])
        tasks = [PartTask(p, bare, list(rulesets), year, on, out_dir) for p in partitions]
        parts = sorted(runner(tasks), key=lambda r: r.index)
    except BaseException:
        for folder in (RESULTS_DIR, STANDING_DIR, TRACE_DIR):  # a failed run leaves no parts to be taken for one
            shutil.rmtree(out_dir / folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run = PartitionedRun(out_dir, register, list(rulesets), _summary(parts, rulesets), _ladder(parts),
                         _provenance(register, parts), len(parts), {k: v for p in parts for k, v in p.files.items()})
    _write_reduced(run)
    return run


def _summary(parts: list[PartResult], rulesets: Sequence[CompiledRuleSet]) -> pd.DataFrame:
    counts = ["qualified", "not_qualified", "undetermined", "total"]
    table = pd.concat([p.summary for p in parts]).groupby(["ruleset_id", "program_title"], sort=False)[counts].sum()
    order = {rs.id: k for k, rs in enumerate(rulesets)}
    table = table.reset_index()
    return table.sort_values("ruleset_id", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def _ladder(parts: list[PartResult]) -> pd.DataFrame:
    table = pd.concat([p.ladder for p in parts]).groupby(["rung", "highest"], sort=True)["firms"].sum()
    return table.reset_index().sort_values(["rung", "highest"], ascending=[False, True]).reset_index(drop=True)


def _provenance(register: Register, parts: list[PartResult]) -> Provenance:
    """The whole register's provenance: its file, hash and row counts, the parts' firms and notes summed."""
    first = parts[0].provenance if parts else None
    gaps = list(dict.fromkeys(g for p in parts for g in p.provenance.column_gaps))
    base: dict[str, Any] = first.as_dict() if first is not None else {}
    base.update(
        input_file=str(register.path), input_sha256=register.sha256, rows_read=register.rows_read,
        rows_accepted=len(register.frame), rows_refused=register.rows_refused,
        firms_evaluated=sum(p.provenance.firms_evaluated for p in parts),
        firms_without_data_year=sorted(u for p in parts for u in p.provenance.firms_without_data_year),
        intake_notes=list(register.notes), column_gaps=gaps,
    )
    return Provenance(**base)


def _write_reduced(run: PartitionedRun) -> None:
    run.summary.to_csv(run.out_dir / SUMMARY_FILE, index=False, encoding="utf-8-sig")
    run.ladder.to_csv(run.out_dir / LADDER_FILE, index=False, encoding="utf-8-sig")
    about = run.provenance.as_dict() | {"partitions": run.partitions, "parts": run.files}
    (run.out_dir / "provenance.json").write_text(json.dumps(about, ensure_ascii=False, indent=2), encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
