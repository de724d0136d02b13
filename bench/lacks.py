"""尚缺 (what each firm still lacks) CPU per firm on a generated register, every program in force, one process; run
on demand (never in CI).

    python bench/lacks.py                    # 20,000 firms × 4 years (2021–2024), seed 1
    python bench/lacks.py --firms 5000 --runs 1

The register is generated once into ``--work`` and evaluated once; then :func:`tiering.ladder.lacks.lacks` runs
``--runs`` times and the fastest run's CPU time (``time.process_time``: the machine is shared, wall time follows the
load) is split into the lever searches, the wording of the texts and the rest (combining plans, costs, the table),
printed with the load average before and after (and Arrow's allocator: the C library's, as the command line sets it,
unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise), and the rule evaluations the searches made (calls and rows: the
same on a loaded machine, where CPU times are not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the allocator the command line runs 尚缺 under (tiering/cli/__init__.py: the C library's, not Arrow's own, whose
# large blocks go back to the system at once and whose next ones cost page faults again); a value set is kept
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def _timed(owner: Any, name: str, spent: dict[str, float], key: str) -> None:
    """Wrap ``owner.name`` so the CPU time of its outermost calls adds up in ``spent[key]``."""
    real: Callable[..., Any] = getattr(owner, name)
    depth = [0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        start = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                spent[key] = spent.get(key, 0.0) + time.process_time() - start

    setattr(owner, name, timed)


def _counted(owner: Any, name: str, seen: list[int]) -> None:
    """Wrap ``owner.name(self, sel, …)`` so that ``seen`` counts its calls and the rows of ``sel``."""
    real: Callable[..., Any] = getattr(owner, name)

    def counted(self: Any, sel: Any, *args: Any) -> Any:
        seen[0] += 1
        seen[1] += len(sel)
        return real(self, sel, *args)

    setattr(owner, name, counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of lacks(); the fastest is reported")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench-lacks")
    ns = parser.parse_args()

    from tiering.datasets import generate_panel, write_register
    from tiering.engine.evaluate import evaluate
    from tiering.ladder import lacks, levers
    from tiering.register import load_register
    from tiering.rules.library import load_library

    ns.work.mkdir(parents=True, exist_ok=True)
    path = ns.work / f"register_{ns.firms}_2021-2024.parquet"
    if not path.exists():
        write_register(generate_panel(ns.firms, (2021, 2024), seed=1).panel, path)
    rulesets = load_library(ROOT / "rules").in_force(dt.date(2025, 6, 30))
    evaluation = evaluate(load_register(path).frame, rulesets, 2025)
    firms = len(evaluation.firms)

    spent: dict[str, float] = {}
    _timed(levers._Search, "run", spent, "lever searches")
    _timed(lacks._RuleSetLacks, "texts", spent, "texts")
    evaluations = [0, 0]  # every evaluation of a rule in a search is on a context _patched builds
    _counted(levers._Search, "_patched", evaluations)
    load_before = os.getloadavg()[0]
    best: tuple[float, dict[str, float], int] | None = None
    for _ in range(ns.runs):
        spent.clear()
        evaluations[:] = [0, 0]
        start = time.process_time()
        rows = len(lacks.lacks(evaluation))
        total = time.process_time() - start
        if best is None or total < best[0]:
            best = (total, dict(spent), rows)
    assert best is not None
    total, parts, rows = best
    parts["rest"] = total - sum(parts.values())
    import pyarrow as pa

    print(f"{firms:,} firms, {len(rulesets)} rule sets, {rows:,} 尚缺 rows; fastest of {ns.runs} runs; "
          f"load average {load_before:.1f}–{os.getloadavg()[0]:.1f}; "
          f"Arrow allocator {pa.default_memory_pool().backend_name}")
    print(f"{'stage':<16} {'CPU s':>7} {'µs per firm':>12}")
    for name, cpu in [("尚缺 total", total), *parts.items()]:
        print(f"{name:<16} {cpu:>7.2f} {cpu / firms * 1e6:>12.0f}")
    print(f"rule evaluations in the searches: {evaluations[0]:,} calls, {evaluations[1]:,} rows")


if __name__ == "__main__":
    main()
