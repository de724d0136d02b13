"""``tiering report`` wall time on the bundled sample and on the generated panel; run on demand, never in CI.

    python bench/report_bench.py [--repeat 3] [--checkout DIR]

Each run is a fresh ``tiering report`` process (as an analyst runs it), output into a temporary folder; the
table gives the wall and CPU seconds (user + system of the process) of every run, their medians, and the target
(sample ≤ 5 s, panel ≤ 10 s). Each case runs once to fill the cache of parsed rule files (as on any machine that
has run the tool), then cold (the cached font subsets deleted before each run: the subset is cut) and warm (the
subset read from the cache, as when the same report is made again). The sample
writes a printable page per firm (43); the panel (269 firms) writes none unless asked. ``--checkout DIR`` times
another checkout of the project (e.g. an older commit in a git worktree) with this machine's interpreter, so
before/after figures come from the same load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = (
    ("sample (43 firms, 43 firm pages)", ["datasets/sample_register.xlsx", "--year", "2025"], 5.0),
    ("panel_s42 (269 firms, plan)", ["datasets/generated/panel_s42.csv", "--year", "2025", "--plan",
                                     "rules/plans/dongli-kjxzxqy-2011.yaml"], 10.0),
)


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_once(checkout: Path, args: list[str], cache: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one report run with ``cache`` as the tool's cache folder."""
    with tempfile.TemporaryDirectory() as out:
        cpu, start = _cpu_of_children(), time.perf_counter()
        done = subprocess.run([sys.executable, str(checkout / "cli.py"), "report", *args, "--out", out],
                              cwd=checkout, capture_output=True, text=True,
                              env={**os.environ, "TIERING_CACHE_DIR": str(cache)})
        elapsed, cpu = time.perf_counter() - start, _cpu_of_children() - cpu
    if done.returncode != 0:
        raise SystemExit(f"report failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    args = parser.parse_args()
    print(f"{'register':34} {'cache':5} {'wall runs (s)':22} {'CPU runs (s)':22} {'wall':>6} {'CPU':>6} "
          f"{'target':>6}")
    for label, cli_args, target in CASES:
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)
            _time_once(args.checkout.resolve(), cli_args, cache)  # parsed rule files cached, as on any machine
            for warm in (False, True):
                runs = []
                for _ in range(args.repeat):
                    if not warm:
                        shutil.rmtree(cache / "fonts", ignore_errors=True)
                    runs.append(_time_once(args.checkout.resolve(), cli_args, cache))
                walls, cpus = [w for w, _ in runs], [c for _, c in runs]
                print(f"{label:34} {'warm' if warm else 'cold':5} {' '.join(f'{t:.1f}' for t in walls):22} "
                      f"{' '.join(f'{t:.1f}' for t in cpus):22} {statistics.median(walls):6.1f} "
                      f"{statistics.median(cpus):6.1f} {target:6.1f}", flush=True)


if __name__ == "__main__":
    main()
