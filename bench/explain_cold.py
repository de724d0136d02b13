"""Cold-process time of ``tiering explain`` for one firm of the sample register (issue 13 point 8: ≤ 0.5 s).

Runs the installed ``tiering`` console script RUNS times, each a fresh process, and prints each run's wall-clock
and CPU time (user + system of the child: what the run cost, whatever else the shared machine is doing), then the
median, minimum and maximum. The compiled-rule cache is warmed by one untimed run first unless --cold-cache is
given (then the cache is emptied before every run, so each run parses and compiles the rule files).

    .venv/bin/python bench/explain_cold.py [--runs 10] [--cold-cache] [--firm 东丽智能装备有限公司]

The ``tiering`` measured is the one beside the interpreter running this script: run it with an installed wheel's
interpreter (``/opt/tiering/bin/python bench/explain_cold.py``) to measure the package as users install it, without
the editable install's import hook. The warm runs read the firm from the register cache without pandas.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"


def one_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"explain failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--firm", default="东丽智能装备有限公司")
    parser.add_argument("--cold-cache", action="store_true", help="empty the compiled-rule cache before every run")
    args = parser.parse_args()
    tiering = Path(sys.executable).with_name("tiering")
    command = [str(tiering), "explain", str(SAMPLE), args.firm, "--year", "2025"]
    cache = Path(tempfile.mkdtemp(prefix="tiering-bench-cache-"))
    env = {**os.environ, "TIERING_CACHE_DIR": str(cache)}
    if not args.cold_cache:
        one_run(command, env)
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(args.runs):
        if args.cold_cache:
            shutil.rmtree(cache, ignore_errors=True)
        wall, cpu = one_run(command, env)
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {i + 1:>2}: wall {wall:.3f} s  cpu {cpu:.3f} s")
    shutil.rmtree(cache, ignore_errors=True)
    for name, values in (("wall", walls), ("cpu", cpus)):
        print(f"{name}: median {statistics.median(values):.3f} s  min {min(values):.3f} s  max {max(values):.3f} s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
