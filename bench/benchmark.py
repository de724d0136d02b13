"""Batch-path speed and memory, stage by stage; run on demand, never in CI.

    python bench/benchmark.py --firms 100000 1000000

For each N it builds N firms with four years of history in the internal frame, writes it as Parquet, then
times: load (read the Parquet register through the loader's validation), derive (number the firms, align the
years, build every column the rules read), evaluate (every criterion of every rule set in force), write trace
(build the trace and write it as Parquet). Rule files are compiled before the clock starts.
Peak memory is the process's high-water mark (ru_maxrss) measured in a fresh subprocess per N.

Run 1 is the figure that counts: a fresh process, as a CLI run. ``--repeat 2`` runs the stages again in the same
process; on this VM the difference is mostly the cost of faulting in memory the process has not touched before
(fresh pages cost several times more than reused ones here), not computation.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def synthetic_register(n: int, seed: int = 7) -> pd.DataFrame:
    """N firms × 2021–2024 in the analysts' layout (English ids, amounts in 万元), vectorised."""
    from tiering.fields import FIELDS, DType, Kind
    from tiering.uscc import ALPHABET, make

    rng = np.random.default_rng(seed)
    ids = np.array([make(f"9112011{i:010d}") for i in range(n)]) if n <= 20_000 else _fast_ids(n, ALPHABET)
    years = np.repeat(np.array([2021, 2022, 2023, 2024]), n)
    firm = np.tile(np.arange(n), 4)
    employees = np.tile(rng.integers(5, 800, n), 4).astype(float)
    frame = pd.DataFrame({
        "uscc": ids[firm], "name": np.char.add("企业", firm.astype(str)), "year": years,
        "registration_date": pd.to_datetime("2005-01-01") + pd.to_timedelta(np.tile(rng.integers(0, 6000, n), 4), "D"),
        "employees": employees,
        "tech_staff": np.floor(employees * rng.uniform(0, 0.6, 4 * n)),
        "revenue": rng.lognormal(8, 1.2, 4 * n).round(2),
        "total_assets": rng.lognormal(8, 1.2, 4 * n).round(2),
        "rd_expense": rng.lognormal(5, 1.3, 4 * n).round(2),
        "cost_expense": rng.lognormal(8, 1.1, 4 * n).round(2),
        "ip_class1": rng.poisson(0.6, 4 * n).astype(float),
        "ip_class2": rng.poisson(2.0, 4 * n).astype(float),
        "industry": "高端装备制造",
    })
    for f in FIELDS:
        if f.dtype == DType.BOOL:  # a firm-level flag is the same in every year, as a real register has it
            flags = rng.random(n if f.kind == Kind.FIRM else 4 * n) < 0.03
            frame[f.id] = (np.tile(flags, 4) if f.kind == Kind.FIRM else flags).astype(float)
    frame["resident_enterprise"] = 1.0
    frame["rd_expense_domestic"] = frame["rd_expense"]
    return frame


def _fast_ids(n: int, alphabet: str) -> np.ndarray:
    from tiering.uscc import check_char

    bodies = np.char.add("9112011", np.char.zfill(np.arange(n).astype(str), 10))
    return np.array([b + check_char(b) for b in bodies.tolist()])


def measure(n: int, path: Path, programs: list[str] | None) -> list[dict[str, float | str]]:
    """Run every stage once for ``n`` firms; one row per stage: seconds, firms per second and the process's memory
    high-water mark when the stage ends (ru_maxrss never decreases, so a stage's row bounds its own peak)."""
    import datetime as dt

    from tiering.engine.evaluate import evaluate_firm, prepare, run
    from tiering.output.trace_file import write_trace
    from tiering.register import load_register
    from tiering.rules.library import load_library

    rulesets = load_library().in_force(dt.date(2025, 6, 30), programs=programs)
    rows: list[dict[str, float | str]] = []

    def stage(name: str, seconds: float, firms: int, **extra: float) -> None:
        rows.append({"firms": n, "rule_sets": len(rulesets), "stage": name, "seconds": seconds,
                     "firms_per_s": firms / seconds, **extra,
                     "rss_high_water_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2})

    t = time.perf_counter()
    register = load_register(path, money_unit="万元")
    stage("load", time.perf_counter() - t, n)
    t = time.perf_counter()
    prepared = prepare(register.frame, rulesets, 2025, numbering=register.firm_numbers())
    stage("derive", time.perf_counter() - t, n)
    t = time.perf_counter()
    evaluation = run(prepared, rulesets)
    stage("evaluate", time.perf_counter() - t, n)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        trace_rows = write_trace(evaluation, Path(tmp) / "trace")
        stage("write trace", time.perf_counter() - t, n, trace_rows=trace_rows)
    stage("total", sum(float(r["seconds"]) for r in rows), n)
    sample = register.frame[register.frame["uscc"].isin(evaluation.firms[:2000])]
    t = time.perf_counter()
    for _uscc, firm_rows in sample.groupby("uscc", sort=False):
        evaluate_firm(firm_rows, rulesets, 2025)
    stage("per-firm path (2,000 firms)", time.perf_counter() - t, sample["uscc"].nunique())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--programs", nargs="*", default=None,
                        help="Only these programs (default: every program in force), e.g. --programs kjxzxqy")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Run the stages this many times in the same process (run 1 is what a fresh CLI run "
                             "sees; later runs reuse memory the process has already touched)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps([{"run": k + 1, **row} for k in range(args.repeat)
                          for row in measure(args.firms[0], args.child, args.programs)]))
        return
    rows = []
    for n in args.firms:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "register.parquet"
            t = time.perf_counter()
            synthetic_register(n).to_parquet(path, index=False)
            print(f"N={n:,}: generated {4 * n:,} firm-years in {time.perf_counter() - t:.1f}s", flush=True)
            extra = ["--programs", *args.programs] if args.programs else []
            proc = subprocess.run([sys.executable, __file__, "--firms", str(n), "--child", str(path),
                                   "--repeat", str(args.repeat), *extra], capture_output=True, text=True, check=True)
            rows.extend(json.loads(proc.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(rows)
    table["trace_rows"] = table["trace_rows"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    with pd.option_context("display.width", 200, "display.float_format", "{:,.2f}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
