"""``tiering report`` wall time on the bundled sample and on the generated panel; run on demand, never in CI.

    python bench/report_bench.py [--repeat 3] [--checkout DIR]

Each run is a fresh ``tiering report`` process (as an analyst runs it), output into a temporary folder; the
table gives the wall time of every run, the median, and the target (sample ≤ 5 s, panel ≤ 10 s). The sample
writes a printable page per firm (43); the panel (269 firms) writes none unless asked. ``--checkout DIR`` times
another checkout of the project (e.g. an older commit in a git worktree) with this machine's interpreter, so
before/after figures come from the same load.
"""

from __future__ import annotations

import argparse
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


def _time_once(checkout: Path, args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(checkout / "cli.py"), "report", *args, "--out", out],
                              cwd=checkout, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"report failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    args = parser.parse_args()
    print(f"{'register':34} {'runs (s)':30} {'median':>8} {'target':>7}")
    for label, cli_args, target in CASES:
        runs = [_time_once(args.checkout.resolve(), cli_args) for _ in range(args.repeat)]
        shown = " ".join(f"{t:.1f}" for t in runs)
        print(f"{label:34} {shown:30} {statistics.median(runs):8.1f} {target:7.1f}", flush=True)


if __name__ == "__main__":
    main()
