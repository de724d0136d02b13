"""The workbook writer against a plain openpyxl write of the same trace-shaped sheet; run on demand, never in CI.

    python bench/workbook_bench.py [--rows 30000]

The sheet has the 追溯 sheet's 16 columns (codes, texts, numbers). The project's writer (XlsxWriter) adds Chinese
headers, value words, number formats, widths, filter, colours, 说明 and 列名对照; openpyxl writes the bare cells.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import pandas as pd

from tiering.output.workbook import workbook_bytes


def trace_like(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "uscc": [f"91120116MA05{i:06d}" for i in rng.integers(0, 300, n)], "name": ["天津某某科技有限公司"] * n,
        "ruleset_id": ["kjxzxqy-2022"] * n, "criterion_id": ["b4_staff"] * n,
        "criterion": ["科技人员占职工总数的比例不低于10%"] * n, "kind": rng.choice(["test", "points", "group"], n),
        "value": rng.random(n) * 100, "threshold": rng.random(n), "unit": ["%"] * n,
        "status": rng.choice(["pass", "fail", "unknown"], n), "points_min": rng.random(n),
        "points_max": rng.random(n), "band": ["10%以上"] * n, "document": ["国科发政〔2017〕115号"] * n,
        "clause": ["第六条"] * n, "provisional": ["否"] * n})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000)
    frame = trace_like(parser.parse_args().rows)
    start = time.perf_counter()
    workbook_bytes({"追溯": frame}, [("项目", "内容")])
    ours = time.perf_counter() - start
    start = time.perf_counter()
    with pd.ExcelWriter(io.BytesIO(), engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="追溯", index=False)
    plain = time.perf_counter() - start
    print(f"{len(frame):,} rows × {frame.shape[1]} columns: XlsxWriter, formatted {ours:.1f} s; "
          f"openpyxl, bare cells {plain:.1f} s")


if __name__ == "__main__":
    main()
