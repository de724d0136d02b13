"""Review-desk page times on a large recorded run; run on demand, never in CI.

    python bench/desk_bench.py --firms 100000 [--programs kjxzxqy]

Builds a synthetic register of N firms (bench/benchmark.py's generator, with five districts), records it with
`tiering classify` into a fresh store, creates an account, starts the desk on a free port and times, over real
HTTP as a signed-in browser would ask: the run page, a filtered page (program + outcome + district, page 3), a
search by part of a name, and firm pages of different firms. Each page is asked 5 times: the first ("cold") pays
for what the process computes once per run (counts, ladder) or per rule version (compiling the stored rule texts);
the rest show what every later visit costs. Targets: run and filtered pages ≤ 1 s, a firm page ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import synthetic_register  # noqa: E402

from tiering.desk.server import running  # noqa: E402
from tiering.desk.users import Users  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS = ["东丽区", "宝坻区", "蓟州区", "滨海新区", "西青区"]


def timed(client: httpx.Client, url: str, repeat: int = 5) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        answer = client.get(url)
        out.append(time.perf_counter() - t)
        assert answer.status_code == 200, (url, answer.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--programs", nargs="*", default=None, help="Only these programs (default: all in force)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tiering-desk-bench-") as tmp:
        work = Path(tmp)
        frame = synthetic_register(args.firms)
        frame["district"] = np.array(DISTRICTS)[np.arange(len(frame)) % args.firms % len(DISTRICTS)]
        register = work / "register.parquet"
        frame.to_parquet(register, index=False)
        store = work / "audit.sqlite"
        programs = [a for p in args.programs or [] for a in ("--program", p)]
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "classify", str(register), "--year", "2025",
                        "--unit", "万元", "--format", "parquet", "--out", str(work / "out"), "--store", str(store),
                        *programs], check=False, stdout=subprocess.DEVNULL)  # 5: some programs lack a column
        if not store.is_file():
            sys.exit("the classify run was not recorded")
        print(f"recorded {args.firms:,} firms in {time.perf_counter() - t:.0f} s; store "
              f"{sum(p.stat().st_size for p in store.parent.glob('audit.sqlite*')) / 1e6:,.0f} MB", flush=True)
        Users(store).add("bench", "viewer", "bench-password")
        with running(store) as base, httpx.Client(base_url=base, timeout=120) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
            client.post("/login", data={"csrf": token, "name": "bench", "password": "bench-password"})
            run_id = re.search(r'href="/runs/([^"/]+)"', client.get("/").text).group(1)
            program = "kjxzxqy" if not args.programs else args.programs[0]
            pages = {
                "run page": f"/runs/{run_id}",
                "filtered page": f"/runs/{run_id}?program={program}&outcome=qualified&district=东丽区&page=3",
                "search (part of a name)": f"/runs/{run_id}?q=企业4242",
            }
            print(f"{'page':<36}{'cold':>10}{'median':>10}{'max warm':>10}")
            for name, url in pages.items():
                times = timed(client, url)
                print(f"{name:<36}{times[0] * 1000:>8.0f}ms{statistics.median(times) * 1000:>8.0f}ms"
                      f"{max(times[1:]) * 1000:>8.0f}ms")
            firms = re.findall(r'/firms/([0-9A-Z]{18})"', client.get(f"/runs/{run_id}?page=7").text)[:5]
            for k, uscc in enumerate(firms):
                times = timed(client, f"/runs/{run_id}/firms/{uscc}")
                print(f"{f'firm page {k + 1} ({uscc})':<36}{times[0] * 1000:>8.0f}ms"
                      f"{statistics.median(times) * 1000:>8.0f}ms{max(times[1:]) * 1000:>8.0f}ms")


if __name__ == "__main__":
    main()
