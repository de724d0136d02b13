"""Peak memory of `tiering select`, `tiering report` and `tiering targets` on a whole register and in partitions,
run on demand (never in CI).

    python bench/reduce_memory.py                                    # 10,000 and 40,000 firms × 4 years
    python bench/reduce_memory.py --firms 20000 --partition-size 2500

A whole `select` or `report` holds the register, every firm × program outcome, 尚缺 and (report) the whole trace;
with `--engine local` each partition is classified and reduced to its share of the list and of the report's counts
and distributions (targets: to its counts per plan year and its nearest firms), so peak memory is one partition
plus those small tables, whatever the register's size. Each
case is the command an analyst types, in a fresh process (one process: `--workers 1`), measured as bench/scale.py
measures (wall, CPU and peak memory from the OS's accounting; the load average before and after).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import ROOT, generated, measure  # noqa: E402  (bench/scale.py, beside this script)

PLAN = ROOT / "rules" / "plans" / "dongli-kjxzxqy-2011.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000, 40_000], help="register sizes (4 years)")
    parser.add_argument("--partition-size", type=int, default=5_000, help="firms per partition")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench-reduce")
    parser.add_argument("--commands", nargs="+", default=["select", "report", "targets"],
                        choices=["select", "report", "targets"])
    ns = parser.parse_args()
    ns.work.mkdir(parents=True, exist_ok=True)
    parts = ["--engine", "local", "--workers", "1", "--partition-size", str(ns.partition_size)]
    rows = []
    for firms in ns.firms:
        register = str(generated(ns.work, firms, "2021-2024", 3))
        for command in ns.commands:
            for how, engine in (("whole", []), (f"partitions of {ns.partition_size:,}", parts)):
                out = str(ns.work / f"{command}-{firms}-{'whole' if not engine else 'parts'}")
                args = {"select": ["--year", "2025", "--out", out, "--no-audit"],
                        "report": ["--year", "2025", "--out", out],
                        # 东丽's plan: two programmes, three plan years, the firms of one district
                        "targets": ["--plan", str(PLAN), "--year", "2022", "--year", "2023", "--year", "2024",
                                    *(["--parts", out, "--overwrite"] if engine else [])]}[command]
                if command != "targets":
                    args.append("--overwrite")
                rows.append(measure(f"{command}, {firms:,} firms × 4 years, {how}", firms,
                                    [command, register, *args, *engine]))
    width = max(len(str(r["case"])) for r in rows)
    print(f"{'case':<{width}}  {'wall s':>8}  {'CPU s':>8}  {'CPU ms/firm':>11}  {'peak GiB':>8}  exit  load avg")
    for r in rows:
        print(f"{r['case']:<{width}}  {r['wall_s']:>8}  {r['cpu_s']:>8}  {r['ms_per_firm']:>11}  {r['peak_gib']:>8}"
              f"  {r['exit']:>4}  {r['load']}")


if __name__ == "__main__":
    main()
