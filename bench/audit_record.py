"""Recording a partitioned run in the audit store: CPU and wall time of the record alone, run on demand (never in CI).

    python bench/audit_record.py --firms 100000            # a generated register, 100,000 firms × 4 years
    python bench/audit_record.py --register big.parquet    # a register of your own

The register is classified once with the local engine into ``--work`` (not timed here: bench/scale.py times the
classify), every program in force, application year 2025; then the run is recorded ``--runs`` times into one store
in ``--work`` — each record after the first lands in a store that already holds the earlier ones, as a bureau's store
does — and each record is timed: CPU time of this process (user and system, from ``getrusage``: the machine is
shared, wall time follows the load), wall time, the decisions recorded and the store's size after it; then
``audit verify`` of the whole store, timed the same way. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2025


def _timed(what: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """What ``what`` returns, with the user and system CPU seconds of this process and the wall seconds it took."""
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    out = what()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return out, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, time.perf_counter() - start


def _register(args: argparse.Namespace) -> Path:
    if args.register is not None:
        return args.register
    path = args.work / f"register_{args.firms}_2021-2024.parquet"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "datasets", "generate", "--firms", str(args.firms),
                        "--years", "2021-2024", "--seed", "1", "--out", str(path)], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100_000, help="firms of the generated register")
    parser.add_argument("--register", type=Path, default=None, help="a register instead of a generated one")
    parser.add_argument("--work", type=Path, default=Path("out/bench-audit"), help="where the run and store go")
    parser.add_argument("--workers", type=int, default=2, help="local engine's processes for the classify")
    parser.add_argument("--runs", type=int, default=2, help="records of the run, one after the other, in one store")
    args = parser.parse_args()

    from tiering.app import rules_in_force
    from tiering.audit.store import record_run
    from tiering.audit.verify import verify
    from tiering.cli.partitioned import part_attachments
    from tiering.rules.library import load_library
    from tiering.scale import classify_partitioned
    from tiering.scale.local_engine import process_runner

    args.work.mkdir(parents=True, exist_ok=True)
    register = _register(args)
    rulesets, on = rules_in_force(load_library(), YEAR)
    out = args.work / "out"
    print(f"classifying {register} into {out} ({args.workers} processes, not timed)…", flush=True)
    run = classify_partitioned(register, rulesets, YEAR, on, out, runner=process_runner(args.workers),
                               slots=args.workers)
    store = args.work / "audit.sqlite"
    for old in (store, store.with_name(f"{store.name}-wal"), store.with_name(f"{store.name}-shm")):
        old.unlink(missing_ok=True)
    shutil.rmtree(args.work / "audit.traces", ignore_errors=True)
    print(f"{run.provenance.firms_evaluated:,} firms, {len(rulesets)} rule sets, {run.partitions} partitions; "
          f"load average {os.getloadavg()[0]:.1f} at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC")
    print("| step | decisions | CPU user | CPU system | wall | store |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in range(args.runs):
        run_id, user, system, wall = _timed(lambda: record_run(store, run, ["bench/audit_record.py"],
                                                                part_attachments(run), trace_folder=out / "trace"))
        rows = _decisions(store, run_id)
        print(f"| record {k + 1} | {rows:,} | {user:.1f} s | {system:.1f} s | {wall:.1f} s | "
              f"{store.stat().st_size / 2**20:,.0f} MiB |", flush=True)
    report, user, system, wall = _timed(lambda: verify(store))
    print(f"| audit verify ({report.runs} runs, {'ok' if report.ok else 'BROKEN'}) | | {user:.1f} s | {system:.1f} s | "
          f"{wall:.1f} s | |")
    print(f"load average {os.getloadavg()[0]:.1f} at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC")


def _decisions(store: Path, run_id: str) -> int:
    import json
    import sqlite3

    with sqlite3.connect(store) as conn:
        body = conn.execute("SELECT body FROM records WHERE ref = ?", (run_id,)).fetchone()[0]
    return int(json.loads(body)["decisions"]["rows"])


if __name__ == "__main__":
    main()
