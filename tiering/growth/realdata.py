"""Adapter for the real benchmark panel ``../shared/data/cn_machinery_listed_2000_2013.csv``.

The file (Chinese A-share listed machinery firms, 2000–2013, from the R package ``dppbar``) stays outside
the repository; this module only reads it into the internal panel contract. The stock code stands in for
the ``uscc`` key (listed firms' codes are unique and stable, which is all the model needs), amounts are
converted from 元 to 万元, and the founding year becomes a 1 January ``registration_date``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tiering.fields import MONEY_UNITS

FILE_NAME = "cn_machinery_listed_2000_2013.csv"

_MONEY_COLUMNS = {
    "营业收入": "revenue",
    "主营业务收入": "main_revenue",
    "总资产": "total_assets",
    "总负债": "total_liabilities",
    "净利润": "net_profit",
}
_TEXT_COLUMNS = {"股票名": "name", "省份": "province", "所有制": "ownership", "分类": "industry"}


def default_path() -> Path:
    """Where the file sits beside a checkout: ``<repo>/../shared/data/``, whatever the working directory."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / FILE_NAME


def load_cn_machinery(path: str | Path | None = None) -> pd.DataFrame:
    """Read the benchmark CSV into the internal panel contract (money in 万元, one row per uscc and year).

    ``revenue`` is 营业收入 (main plus other business revenue, the 销售收入 definition); ``main_revenue`` keeps
    主营业务收入. Columns the file lacks (employees, R&D, patents) are simply absent.
    """
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise FileNotFoundError(f"找不到真实数据文件 {path}；"
                                f"它应在仓库旁的 ../shared/data/{FILE_NAME}（不要复制进仓库）")
    raw = pd.read_csv(path, dtype={"股票": str}, encoding="utf-8")
    expected = {"年份", "股票", "创立日期", *_MONEY_COLUMNS, *_TEXT_COLUMNS}
    absent = sorted(expected - set(raw.columns))
    if absent:
        raise ValueError(f"{path}: 缺少列 {absent}；这不是预期的 {FILE_NAME}")
    to_wan = MONEY_UNITS["元"]
    panel = pd.DataFrame({
        "uscc": raw["股票"].astype(str),
        "year": raw["年份"].astype("int64"),
        "registration_date": pd.to_datetime(raw["创立日期"].astype("Int64").astype(str) + "-01-01",
                                            errors="coerce").astype("datetime64[ns]"),
    })
    for source, target in _TEXT_COLUMNS.items():
        panel[target] = raw[source].astype(str)
    for source, target in _MONEY_COLUMNS.items():
        panel[target] = raw[source].astype("float64") * to_wan
    return panel.sort_values(["uscc", "year"], kind="stable").reset_index(drop=True)
