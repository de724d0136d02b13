"""Scale-out figures: a whole classify of a generated register, every program in force, run on demand (never in CI).

    python bench/scale.py                       # 1M firms × 4 years; 5M firm-years; Dask with 1 and 2 workers
    python bench/scale.py --firms 100000 --panel-firms 0 --skip-dask   # a quick look
    python bench/scale.py --firms 50000 --panel-firms 0 --partition-size 12500 --bound   # Dask and its bound

Each case is the command an analyst types (``tiering classify … --engine local|dask``), run in a fresh process;
wall time is measured around it, CPU time and peak memory from the operating system's accounting of the finished
process and every process it waited for (``getrusage(RUSAGE_CHILDREN)``). "peak" is the largest single
process's high-water mark (the driver or one worker, whichever is larger); "all" is the largest sum of resident
memory over the command and every process under it (the local engine's and Dask's workers, the driver), sampled
every 0.2 s — what the machine must hold. Registers are generated once into ``--work`` and reused.

``--bound`` also runs the Dask cases' tasks one after another in one process — the register's slices cut, then
the partitions classified — timing each task's CPU and the driver's serial part (imports, rules, planning the
slices, reducing and writing), and prints the speed-up two workers could reach on those tasks: serial + every task,
over serial + the busier worker's slices + the busier worker's partitions (each task to the less busy worker, in the
order the run gives them: partitions largest first). On a machine busy with other work, wall times cannot show a
speed-up; this bound is what CPU time says.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tiering.cli.datasets_cmd import hidden_path, latent_path
from tiering.scale import DEFAULT_PARTITION_SIZE

ROOT = Path(__file__).resolve().parents[1]
TIERING = [sys.executable, str(ROOT / "cli.py")]


def generated(work: Path, firms: int, years: str, seed: int, by_year: bool = False) -> Path:
    """A generated register, made once by one ``tiering datasets generate`` (which makes and writes it a block of
    firms at a time, in bounded memory: about 2 GB at most for 1M firms × 4 years), then reused. ``by_year``: kept as
    national data is, a folder of one Parquet file per year (``2015.parquet`` …), which the run reads as one
    register."""
    single = work / f"register_{firms}_{years}.parquet"
    folder = work / f"register_{firms}_{years}"
    made = folder if by_year else single
    if made.exists():
        return made
    scratch = work / f"generating_{firms}_{years}.parquet"
    subprocess.run([*TIERING, "datasets", "generate", "--firms", str(firms), "--years", years, "--seed", str(seed),
                    "--out", str(scratch)], check=True, stdout=subprocess.DEVNULL)
    for name in (latent_path(scratch), hidden_path(scratch)):
        name.replace(single.with_name(name.name.replace(scratch.stem, single.stem)))
    if by_year:
        _split_by_year(scratch, work / f"splitting_{firms}_{years}", folder)
        scratch.unlink()
    else:
        scratch.replace(single)  # named when whole: an interrupted run leaves no register to reuse
    return made


def _split_by_year(register: Path, scratch: Path, folder: Path) -> None:
    """The register's rows of each year (column 年度) written as ``<year>.parquet`` in ``folder``, one year in
    memory at a time."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    data = ds.dataset(register)
    scratch.mkdir(parents=True, exist_ok=True)
    for year in sorted(pc.unique(data.to_table(columns=["年度"]).column(0)).to_pylist()):
        pq.write_table(data.to_table(filter=ds.field("年度") == year), scratch / f"{year}.parquet",
                       row_group_size=65_536)
    scratch.replace(folder)


def firm_years(register: Path) -> int:
    """Rows of a register file or folder (from the Parquet metadata)."""
    import pyarrow.parquet as pq

    files = sorted(register.glob("*.parquet")) if register.is_dir() else [register]
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


WATCH = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps([code, u.ru_utime + u.ru_stime, u.ru_stime, u.ru_maxrss]))\n"
)
"""A fresh process that runs the command and reports its accounting: its children's peak is only the command's
(this script's own children, e.g. the register generator, would otherwise count)."""


def measure(label: str, firms: int, args: list[str]) -> dict[str, object]:
    """Run one command in a fresh process: wall seconds, CPU seconds (and per firm; of them system time, mostly
    page faults and file writes), peak memory (GiB), exit code
    and the machine's 1-minute load average before and after (on a shared machine wall time follows the load;
    CPU time much less)."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        watch = subprocess.Popen([sys.executable, "-c", WATCH, *TIERING, *args], stdout=subprocess.PIPE, stderr=err)
        total = _tree_peak(watch)
        out = watch.communicate()[0].decode()
        wall = time.perf_counter() - start
        code, cpu, system, peak = json.loads(out.strip().splitlines()[-1])
        if code not in (0, 1):
            err.seek(0)
            print(err.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return {"case": label, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "sys_s": round(system, 1),
            "ms_per_firm": round(cpu / firms * 1000, 3), "peak_gib": round(peak / 2**20, 2),
            "total_gib": round(total / 2**30, 2), "exit": code,
            "load": f"{load_before:.1f}–{os.getloadavg()[0]:.1f}"}


def _tree_peak(watch: subprocess.Popen[bytes]) -> int:
    """The largest sum of resident memory over the command and every process under it (the local engine's and
    Dask's workers run at once), sampled every 0.2 s until it ends: what the machine must hold."""
    import psutil

    root, peak = psutil.Process(watch.pid), 0
    while watch.poll() is None:
        total = 0
        try:
            for proc in [root, *root.children(recursive=True)]:
                total += proc.memory_info().rss
        except psutil.Error:  # a process ended while being read: this sample is short, the next one is not
            pass
        peak = max(peak, total)
        time.sleep(0.2)
    return peak


BOUND = (
    "import json, sys, time\n"
    "from contextlib import contextmanager\n"
    "from pathlib import Path\n"
    "import tiering.cli  # the command line's process settings (Arrow's allocator)\n"
    "from tiering.app import rules_in_force\n"
    "from tiering.rules.library import load_library\n"
    "from tiering.scale import classify_partitioned\n"
    "register, out, size, slots = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
    "rulesets, on = rules_in_force(load_library(), 2025)\n"
    "steps = {}\n"
    "@contextmanager\n"
    "def timed():\n"
    "    def run(step, tasks, done):\n"
    "        results = []\n"
    "        for task in tasks:\n"
    "            start = time.process_time()\n"
    "            results.append(step(task))\n"
    "            steps.setdefault(step.__name__, []).append(time.process_time() - start)\n"
    "            done(results[-1])\n"
    "        return results\n"
    "    yield run\n"
    "classify_partitioned(register, rulesets, 2025, on, out, size, timed, slots=slots)\n"
    "print(json.dumps([time.process_time(), steps.get('cut_slice', []), steps.get('classify_part', [])]))\n"
)
"""One process: the slices and partitions of a 2-worker run cut and classified in turn, each timed, in the order
the run gives them to its workers; its whole CPU time at the end."""


def bound(register: Path, out: Path, partition_size: int, workers: int = 2) -> tuple[float, list[float], list[float],
                                                                                    float]:
    """(driver's serial CPU seconds, each slice's CPU seconds to cut, each partition's CPU seconds largest first,
    the speed-up ``workers`` workers can reach over one on these tasks: serial + every task over serial + the busier
    worker's slices + the busier worker's partitions, each task to the less busy worker in the order given)."""
    done = subprocess.run([sys.executable, "-c", BOUND, str(register), str(out), str(partition_size), str(workers)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    total, cuts, parts = json.loads(done.stdout.strip().splitlines()[-1])
    serial = total - sum(cuts) - sum(parts)
    return serial, cuts, parts, total / (serial + _busiest(cuts, workers) + _busiest(parts, workers))


def _busiest(tasks: list[float], workers: int) -> float:
    """The busiest worker's seconds when each task, in turn, goes to the least busy of ``workers``."""
    loads = [0.0] * workers
    for seconds in tasks:
        loads[loads.index(min(loads))] += seconds
    return max(loads)


def even_partitions(register: Path, size: int) -> int:
    """A partition size near ``size`` that cuts the register's firms into an even number of partitions, so that the
    Dask cases with 1 and with 2 workers classify the same partitions (with 2 workers the count is made even)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    firms = len(pc.unique(pq.read_table(register, columns=["统一社会信用代码"]).column(0)))
    count = 2 * math.ceil(math.ceil(firms / size) / 2)
    return math.ceil(firms / count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=1_000_000, help="firms of the main case (4 years each)")
    parser.add_argument("--panel-firms", type=int, default=800_000,
                        help="firms on the long panel's last year (10 years, with the firms that left before: "
                             "about 5.4M firm-years by default; 0 skips it)")
    parser.add_argument("--partition-size", type=int, default=None, help="firms per partition (default: the CLI's)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local engine's cases (default: the CLI's, 2)")
    parser.add_argument("--skip-dask", action="store_true", help="leave out the Dask cases")
    parser.add_argument("--dask-firms", type=int, default=None,
                        help="firms of the register the Dask cases classify (default: --firms)")
    parser.add_argument("--bound", action="store_true",
                        help="also time the Dask cases' slices, partitions and the driver's serial part "
                             "in one process, and print the speed-up two workers can reach on them")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench-scale")
    ns = parser.parse_args()
    ns.work.mkdir(parents=True, exist_ok=True)
    size = [] if ns.partition_size is None else ["--partition-size", str(ns.partition_size)]
    local = ["--engine", "local", *([] if ns.workers is None else ["--workers", str(ns.workers)])]

    def classify(register: Path, out: str, *engine: str, sized: list[str] = size) -> list[str]:
        return ["classify", str(register), "--year", "2025", "--out", str(ns.work / out), "--overwrite",
                "--no-audit", *engine, *sized]

    main_register = generated(ns.work, ns.firms, "2021-2024", 1)
    rows = [measure(f"{ns.firms:,} firms × 4 years ({firm_years(main_register):,} rows), local engine", ns.firms,
                    classify(main_register, "local", *local))]
    if ns.panel_firms:
        panel = generated(ns.work, ns.panel_firms, "2015-2024", 2, by_year=True)
        rows.append(measure(f"{firm_years(panel):,} firm-years ({ns.panel_firms:,} firms × 10 years, a file a year), "
                            "local engine",
                            ns.panel_firms,
                            classify(panel, "panel", *local)))
    if not ns.skip_dask:
        dask_firms = ns.dask_firms or ns.firms
        dask_register = generated(ns.work, dask_firms, "2021-2024", 1)
        dask_size = even_partitions(dask_register, ns.partition_size or DEFAULT_PARTITION_SIZE)
        for workers in (1, 2):
            rows.append(measure(f"{dask_firms:,} firms × 4 years, Dask {workers} worker(s)", dask_firms,
                                classify(dask_register, f"dask{workers}", "--engine", "dask", "--workers",
                                         str(workers), sized=["--partition-size", str(dask_size)])))
            about = json.loads((ns.work / f"dask{workers}" / "provenance.json").read_text(encoding="utf-8"))
            rows[-1]["case"] = f"{rows[-1]['case']}, {about['partitions']} partitions"
    width = max(len(str(r["case"])) for r in rows)
    print(f"{'case':<{width}}  {'wall s':>8}  {'CPU s':>8}  {'of it sys':>9}  {'CPU ms/firm':>11}  {'peak GiB':>8}"
          f"  {'all GiB':>7}"
          f"  exit  load avg")
    for r in rows:
        print(f"{r['case']:<{width}}  {r['wall_s']:>8}  {r['cpu_s']:>8}  {r['sys_s']:>9}  {r['ms_per_firm']:>11}"
              f"  {r['peak_gib']:>8}"
              f"  {r['total_gib']:>7}  {r['exit']:>4}  {r['load']}")
    first = rows[0]
    if ns.firms < 1_000_000:
        at_1m = float(first["ms_per_firm"]) * 1000  # type: ignore[arg-type]
        print(f"1,000,000 firms at the main case's CPU per firm (linear in firms, an extrapolation): {at_1m:.0f} s "
              f"CPU, at best {at_1m / 2:.0f} s wall on two free cores")
    dask = [r for r in rows if "Dask" in str(r["case"])]
    if len(dask) == 2:
        one, two = (float(r["wall_s"]) for r in dask)  # type: ignore[arg-type]
        print(f"Dask speed-up, 2 workers over 1: {one / two:.2f}× (wall time; see the load average)")
    if ns.bound and not ns.skip_dask:
        serial, cuts, parts, most = bound(dask_register, ns.work / "bound", dask_size)
        print(f"Dask cases' tasks in one process: driver's serial part {serial:.1f} s CPU; {len(cuts)} slices cut in "
              f"{', '.join(f'{c:.1f}' for c in cuts)} s CPU; {len(parts)} partitions of "
              f"{', '.join(f'{p:.1f}' for p in parts)} s CPU; two workers can reach {most:.2f}× on them (load "
              f"average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
