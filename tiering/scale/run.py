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

import datetime as dt
import json
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tiering import exit_codes
from tiering.app import Classification, Progress, classify
from tiering.errors import TieringError
from tiering.output.provenance import Provenance, ruleset_records
from tiering.output.trace_file import TRACE_DIR, write_trace_part
from tiering.output.workbook import escape_formulas
from tiering.output.write import write_parquet, zh
from tiering.register import Refusal, Register
from tiering.register.dataset import ORDER_COLUMNS
from tiering.register.refusals import RegisterError
from tiering.register.stream import file_sha256
from tiering.rules.compile import CompiledRuleSet
from tiering.scale.buckets import PartitionFiles, ReadOptions, bucket_register, read_partition
from tiering.scale.partition import DEFAULT_PARTITION_SIZE
from tiering.scale.runner import Runner, run_here

RESULTS_DIR, STANDING_DIR = "结果", "层级"
SUMMARY_FILE, LADDER_FILE, REJECTS_FILE = "汇总.csv", "层级分布.csv", "rejects.csv"
WORK_DIR = ".partitions"
"""Where the register's partitions wait for the workers (removed when the run ends)."""
CUTTING = "读入并分区 reading and cutting the register"
PARTITIONS = "分区评价 partitions classified"
FIRM_FACTS = ("uscc", "year", "district", "industry")
"""What the audit store keeps of each firm beside its outcomes (its district and industry in the data year)."""


class PartitionFailed(TieringError, error_id="partition-failed", exit_code=exit_codes.RUN_FAILED):
    """A partition of a partitioned run could not be classified; the run stops, leaves no part and records
    nothing (exit 6)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="查明原因（上面的错误；Dask 集群是否还有工作进程）后重新运行；"
                                       "已写出的分区结果已删除，审计库中没有这次运行")


Reduce = Callable[[Classification], Any]
"""What a command needs of each partition's classification besides its parts (e.g. its share of the cultivation
list, :func:`tiering.app.selection.selection_part`): small, since it travels back from the worker; picklable, since
it travels to it."""


@dataclass(frozen=True)
class PartTask:
    """What a worker needs for one partition: the partition's files (never its rows), the register's path, the
    rule sets, the year and date, and where to write."""

    partition: PartitionFiles
    register_path: Path
    rulesets: list[CompiledRuleSet]
    year: int
    on: dt.date
    out_dir: Path
    reduce: Reduce | None = None


@dataclass
class PartResult:
    """What a worker sends back: small tables and facts, never the partition's accepted rows."""

    index: int
    summary: pd.DataFrame
    ladder: pd.DataFrame
    provenance: Provenance | None
    """None when every row of the partition was refused (nothing to classify)."""
    files: dict[str, str]
    """Relative path of every part file written -> its SHA-256."""
    rows_read: int
    rows_accepted: int
    refusals: list[Refusal]
    rejects: pd.DataFrame
    warnings: list[str]
    notes: list[str]
    firms: pd.DataFrame
    """The data year's rows of the partition's firms, :data:`FIRM_FACTS` columns only."""
    reduced: Any = None
    """What the task's ``reduce`` gave for the partition's classification (None without one)."""


def classify_part(task: PartTask) -> PartResult:
    """Read one partition back, check it as the register's files are checked, classify it with the application
    core and write its parts (each under a temporary name, then renamed, so a worker lost mid-part leaves no part
    behind and a retry writes the same bytes)."""
    try:
        return _classify_part(task)
    except Exception as exc:  # whatever stopped it, the run must end as one error for people (exit 6)
        raise PartitionFailed(f"分区 {task.partition.index} 评价失败：{type(exc).__name__}: {exc}") from exc


def _classify_part(task: PartTask) -> PartResult:
    rows = read_partition(task.partition, task.register_path)
    register = rows.register
    frame = register.frame
    facts = frame.loc[frame["year"] == task.year - 1, [c for c in FIRM_FACTS if c in frame.columns]]
    done = PartResult(task.partition.index, pd.DataFrame(), pd.DataFrame(), None, {}, register.rows_read,
                      len(frame), register.refusals, rows.rejects, register.warnings, register.notes,
                      facts.reset_index(drop=True))
    if frame.empty:
        return done
    result = classify(register, task.rulesets, task.year, task.on)
    name = f"part-{task.partition.index:05d}.parquet"
    for folder, write in ((RESULTS_DIR, lambda p: write_parquet(result.results, p)),
                          (STANDING_DIR, lambda p: write_parquet(result.standing, p)),
                          (TRACE_DIR, lambda p: write_trace_part(result.evaluation, p))):
        target = task.out_dir / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.partial")
        write(partial)
        partial.replace(target)
        done.files[f"{folder}/{name}"] = file_sha256(target)
    done.ladder = result.standing.groupby(["rung", "highest"], sort=True).size().rename("firms").reset_index()
    done.summary, done.provenance = result.summary, result.provenance
    if task.reduce is not None:
        done.reduced = task.reduce(result)
    return done


@dataclass
class PartitionedRun:
    """The reduced tables of a partitioned run and the files it wrote; what the audit store records of any run
    (the outcomes and the standing) is read back from the parts, one part at a time (:meth:`parts`).

    ``register`` describes the register as a whole read would (path, hash, row counts, refusals, notes); its
    ``frame`` holds only the data year's :data:`FIRM_FACTS` of every firm, not the register's rows."""

    out_dir: Path
    register: Register
    rulesets: list[CompiledRuleSet]
    summary: pd.DataFrame
    ladder: pd.DataFrame
    provenance: Provenance
    partitions: int
    files: dict[str, str] = field(default_factory=dict)
    """Relative path of every part file -> SHA-256, in partition order."""
    reduced: list[Any] = field(default_factory=list)
    """What ``reduce`` gave for each classified partition, in partition order."""

    def parts(self, columns: Sequence[str] | None = None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """(outcomes, standing) of each partition in turn — its firm × rule set rows (the 结果 part, only
        ``columns`` of it when given) and its firms' places on the ladder (the 层级 part) — read only when
        reached, so that only one part is in memory at a time; together, in this order, they are the run's
        outcomes and standing."""
        for name in self.files:
            if name.startswith(f"{RESULTS_DIR}/"):
                standing = self.out_dir / STANDING_DIR / Path(name).name
                yield pd.read_parquet(self.out_dir / name, columns=columns), pd.read_parquet(standing)


@contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM (``kill``, a scheduler's or service manager's stop) ends the run as Ctrl-C does, through its
    clean-up: the workers finish their task and stop, the parts written are removed and nothing is recorded.
    Without this the driver died at once, leaving parts that look like a run and its workers running on. Signal
    handlers can only be set in the main thread; elsewhere SIGTERM keeps its default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def classify_partitioned(source: Path, rulesets: Sequence[CompiledRuleSet], year: int, on: dt.date,
                         out_dir: Path, partition_size: int = DEFAULT_PARTITION_SIZE, runner: Runner = run_here,
                         read: ReadOptions | None = None, progress: Progress | None = None,
                         reduce: Reduce | None = None, slots: int = 1) -> PartitionedRun:
    """Classify the register at ``source`` (a file or a register folder) in partitions of about
    ``partition_size`` firms and write the run into ``out_dir`` (see the module text). The register is read
    piece by piece and cut (tiering.scale.buckets), never held whole; ``runner`` runs both steps, the cutting of
    the register's slices and the partitions (:func:`run_here`, the local engine's
    :func:`tiering.scale.local_engine.process_runner` or a Dask cluster's
    :func:`tiering.scale.dask_engine.dask_runner`), ``slots`` partitions at once: the partitions are made a
    multiple of ``slots`` and given to it largest first, so that no worker idles at the end while another
    finishes a last one; ``progress`` hears of the cutting, slice by slice, and of
    each partition done; ``reduce``, when given, is applied to each partition's classification where it is
    made, and what it gives is kept in order in ``PartitionedRun.reduced``. Every row of the results is the
    single-process run's row. RegisterError when a file cannot be a register; on any failure no part is left in
    ``out_dir``."""
    if partition_size < 1:
        raise ValueError(f"partition_size 应为正整数，实为 {partition_size}")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / WORK_DIR
    shutil.rmtree(work, ignore_errors=True)
    try:
        with _terminated_as_interrupted(), runner() as run_map:
            try:
                cut = bucket_register(source, work, partition_size, read or ReadOptions(), run_map,
                                      None if progress is None else (lambda k, n: progress(CUTTING, k, n)), slots)
                largest_first = sorted(cut.partitions, key=lambda p: p.rows, reverse=True)
                tasks = [PartTask(p, source, list(rulesets), year, on, out_dir, reduce) for p in largest_first]
                finished = iter(range(1, len(tasks) + 1))
                if progress is not None:
                    progress(PARTITIONS, 0, len(tasks))
                parts: list[PartResult] = sorted(
                    run_map(classify_part, tasks,
                            lambda _r: progress and progress(PARTITIONS, next(finished), len(tasks))),
                    key=lambda r: r.index)
            except (PartitionFailed, RegisterError):
                raise
            except KeyboardInterrupt as exc:
                raise PartitionFailed("分区运行被中断（Ctrl-C 或 SIGTERM）") from exc
            except Exception as exc:  # the cluster's own errors: a worker lost with no other left, a lost scheduler
                raise PartitionFailed(f"分区运行中断：{type(exc).__name__}: {exc}") from exc
    except BaseException:
        for folder in (RESULTS_DIR, STANDING_DIR, TRACE_DIR):  # a failed run leaves no parts to be taken for one
            shutil.rmtree(out_dir / folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    register = Register(
        frame=_concat([p.firms for p in parts]), refusals=[r for p in parts for r in p.refusals],
        rows_read=cut.rows_read, path=source, sha256=cut.sha256, money_units=cut.money_units, columns=cut.columns,
        warnings=list(dict.fromkeys([*cut.warnings, *(w for p in parts for w in p.warnings)])),
        notes=list(dict.fromkeys([*cut.notes, *(n for p in parts for n in p.notes)])),
        unused_columns=cut.unused_columns,
    )
    run = PartitionedRun(out_dir, register, list(rulesets), _summary(parts, rulesets), _ladder(parts),
                         _provenance(register, parts, rulesets, year, on), len(parts),
                         {k: v for p in parts for k, v in p.files.items()},
                         [p.reduced for p in parts if p.provenance is not None])
    _write_reduced(run, _concat([p.rejects for p in parts]))
    return run


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _summary(parts: list[PartResult], rulesets: Sequence[CompiledRuleSet]) -> pd.DataFrame:
    counts = ["qualified", "not_qualified", "undetermined", "total"]
    table = _concat([p.summary for p in parts])
    if table.empty:
        return pd.DataFrame(columns=["ruleset_id", "program_title", *counts])
    table = table.groupby(["ruleset_id", "program_title"], sort=False)[counts].sum()
    order = {rs.id: k for k, rs in enumerate(rulesets)}
    table = table.reset_index()
    return table.sort_values("ruleset_id", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def _ladder(parts: list[PartResult]) -> pd.DataFrame:
    table = _concat([p.ladder for p in parts])
    if table.empty:
        return pd.DataFrame(columns=["rung", "highest", "firms"])
    table = table.groupby(["rung", "highest"], sort=True)["firms"].sum()
    return table.reset_index().sort_values(["rung", "highest"], ascending=[False, True]).reset_index(drop=True)


def _provenance(register: Register, parts: list[PartResult], rulesets: Sequence[CompiledRuleSet], year: int,
                on: dt.date) -> Provenance:
    """The whole register's provenance: its file, hash and row counts, the parts' firms and gaps summed."""
    classified = [p.provenance for p in parts if p.provenance is not None]
    return Provenance(
        input_file=str(register.path), input_sha256=register.sha256, year=year, eval_date=on.isoformat(),
        money_units={k: register.money_note(k) for k in sorted(register.money_units)},
        rulesets=ruleset_records(list(rulesets)), rows_read=register.rows_read,
        rows_accepted=sum(p.rows_accepted for p in parts), rows_refused=register.rows_refused,
        firms_evaluated=sum(p.firms_evaluated for p in classified),
        firms_without_data_year=sorted(u for p in classified for u in p.firms_without_data_year),
        columns_mapped=dict(register.columns), columns_unused=list(register.unused_columns),
        intake_notes=list(register.notes),
        column_gaps=list(dict.fromkeys(g for p in classified for g in p.column_gaps)),
    )


def _write_reduced(run: PartitionedRun, rejects: pd.DataFrame) -> None:
    # Chinese headers, as the 汇总.csv of a whole run with --format csv (tiering.output.write)
    zh(run.summary).to_csv(run.out_dir / SUMMARY_FILE, index=False, encoding="utf-8-sig")
    zh(run.ladder).to_csv(run.out_dir / LADDER_FILE, index=False, encoding="utf-8-sig")
    if not rejects.empty:  # in the order a whole read lists them: file by file, sheet by sheet, row by row
        rejects = rejects.sort_values([*ORDER_COLUMNS, "行号"], kind="stable").drop(columns=list(ORDER_COLUMNS))
        escape_formulas(rejects).to_csv(run.out_dir / REJECTS_FILE, index=False, encoding="utf-8-sig")
    about = run.provenance.as_dict() | {"partitions": run.partitions, "parts": run.files}
    (run.out_dir / "provenance.json").write_text(json.dumps(about, ensure_ascii=False, indent=2), encoding="utf-8")
