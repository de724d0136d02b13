"""Throughput of ``tiering watch``: stream synthetic events over a generated register and time it.

    .venv/bin/python bench/watch_bench.py                      # 100,000 events over 10,000 firms
    .venv/bin/python bench/watch_bench.py --firms 500 --events 5000

Reports events per second (whole run: parse, route, apply, evaluate, diff, commit, write alerts), alert latency
(from reading an event's line to its alert being written), and checks the live tiers twice: against a batch
evaluation of the monitor's final panel, and against a batch evaluation of a panel rebuilt independently from the
register plus every applied event in shuffled order (what ``classify`` on the final data would say).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from tiering.datasets import generate_panel, write_register
from tiering.engine.evaluate import evaluate
from tiering.outcome import OUTCOME_TEXT
from tiering.register import load_register
from tiering.watch.clock import SimulatedClock
from tiering.watch.events import ops_of, parse_event
from tiering.watch.monitor import Monitor
from tiering.watch.panel import FirmPanel
from tiering.watch.sources import read_path
from tiering.watch.synth import synthetic_lines


def _independent_tiers(monitor: Monitor, register_path: Path, seed: int) -> dict[tuple[str, str], str]:
    panel = FirmPanel(load_register(register_path).frame)
    lines = list(monitor.store.event_lines())
    random.Random(seed).shuffle(lines)
    for line in lines:
        p = parse_event(line)
        panel.apply(p.event.firm_id, p.event.date, p.event.event_id, ops_of(p, monitor.data_year))
    ev = evaluate(panel.frame(), monitor.rulesets, monitor.year, monitor.eval_date)
    return {(str(f), r.ruleset.id): OUTCOME_TEXT[int(o)] for r in ev.results
            for f, o in zip(ev.firms, r.outcome, strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        generated = generate_panel(args.firms, (2021, 2024), seed=args.seed)
        register_path = work / "register.parquet"
        write_register(generated.panel, register_path)
        lines = synthetic_lines(generated.panel, args.events, args.seed, 2024, dt.date(2025, 1, 1))
        events_path = work / "events.jsonl"
        events_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"set-up: {args.firms} firms, {len(lines)} event lines in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        monitor = Monitor(work / "state", register_path, year=2025, clock=SimulatedClock(dt.date(2025, 1, 1)),
                          batch_size=args.batch)
        print(f"start-up (load register and rules, baseline evaluation, reminders): {time.perf_counter() - t:.1f} s; "
              f"{len(monitor.rulesets)} rule sets in force")

        t, cpu = time.perf_counter(), time.process_time()
        stats = monitor.run(read_path(events_path, {}))
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
        lat = np.array(stats.latencies) if stats.latencies else np.zeros(1)
        print(f"streamed {stats.lines} lines in {elapsed:.1f} s: {stats.lines / elapsed:,.0f} events/s "
              f"({stats.applied} applied, {stats.duplicates} repeated, {stats.dead} dead letters, "
              f"{stats.batches} batches of {args.batch})")
        print(f"CPU time of this process: {cpu:.1f} s = {stats.lines / cpu:,.0f} events per CPU-second "
              f"(the wall-clock figure is lower when other work shares the 2 cores; load average: "
              f"{os.getloadavg()[0]:.1f})")
        print(f"alerts: {stats.alerts} outcome changes; latency p50 {np.median(lat) * 1000:.0f} ms, "
              f"p95 {np.percentile(lat, 95) * 1000:.0f} ms, max {lat.max() * 1000:.0f} ms")
        print(f"durable-rules: {monitor.router.posts} routing decisions asked (memoised per event signature)")

        live = {(r.uscc, r.ruleset_id): r.outcome for r in monitor.tiers().itertuples()}
        batch = {(r.uscc, r.ruleset_id): r.outcome for r in monitor.batch_tiers().itertuples()}
        independent = _independent_tiers(monitor, register_path, args.seed)
        bad_batch = sum(live.get(k) != v for k, v in batch.items())
        bad_indep = sum(live.get(k) != v for k, v in independent.items())
        print(f"check: live tiers vs batch evaluation of the final panel: {bad_batch} differences "
              f"of {len(batch)} firm × rule-set outcomes")
        print(f"check: live tiers vs an independent rebuild (register + shuffled event log): {bad_indep} differences")
        monitor.close()
        if bad_batch or bad_indep:
            raise SystemExit(4)


if __name__ == "__main__":
    main()
