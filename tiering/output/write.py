"""Write results where analysts open them: Excel with Chinese headers, CSV for Excel, Parquet, JSON.

Cells that begin with = + - @ are written as text (a leading apostrophe), so a firm name can never become a
formula when the file is opened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tiering.engine.evaluate import Evaluation
from tiering.engine.trace import READABLE_COLUMNS
from tiering.output.provenance import Provenance
from tiering.output.trace_file import TRACE_DIR, write_trace
from tiering.output.workbook import escape_formulas, header, write_workbook
from tiering.rules.compile import CompiledRuleSet
from tiering.rules.schema import Unit

UNIT_TEXT = {Unit.PERCENT: "%", Unit.WAN: "万元", Unit.COUNT: "项", Unit.PEOPLE: "人", Unit.YEARS: "年",
             Unit.DAYS: "天", Unit.POINTS: "分"}
"""The unit a person reads beside a value of each kind."""

FORMATS = ("xlsx", "csv", "parquet", "json")
EXCEL_MAX_ROWS = 1_048_575


def zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with Chinese headers and units (unknown columns keep their id), for CSV files and HTML tables."""
    return frame.rename(columns={c: header(str(c), {}) for c in frame.columns})


def unit_column(trace: pd.DataFrame, rulesets: Sequence[CompiledRuleSet]) -> pd.DataFrame:
    """The trace as a person reads it: a 单位 column after 门槛 with the unit of each criterion's value and
    threshold (万元, %, 项 …), and ratios shown in percent (0.042 → 4.2 with unit %)."""
    units = {(rs.id, node.id): UNIT_TEXT.get(node.unit, "") for rs in rulesets for node in rs.root.walk()}
    keys = zip(trace["ruleset_id"].astype(str), trace["criterion_id"].astype(str), strict=True)
    unit = pd.Series([units.get(k, "") for k in keys], index=trace.index, dtype=object)
    out = trace.copy()
    percent = (unit == "%").to_numpy()
    for col in ("value", "threshold"):
        out[col] = out[col].where(~percent, out[col] * 100)
    out.insert(out.columns.get_loc("threshold") + 1, "unit", unit)
    return out


STATISTICS = ("uscc",)
"""The only column of a result table written with min/max statistics: what lets a reader find one firm's row
group. Those of the long text columns (reasons, 尚缺) cost about a seventh of writing 结果 and serve no reader."""


DICTIONARY_PAGE_BYTES = 8 << 20
"""How large a column's dictionary may grow before Parquet gives up on it and writes the rest of the column plain
(Arrow's default is 1 MiB). A 50,000-firm partition's 结果 repeats each firm's code and name once per programme:
their dictionaries (about 1.1 and 2.1 MiB) outgrew the default, so both were hashed for nothing and then written
plain. Kept as dictionaries, 结果 is about a third smaller and cheaper to write and to hash; the values read back
are the same."""


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` (a result table) as the Parquet file ``path``, without its index."""
    frame.to_parquet(path, index=False, write_statistics=[c for c in STATISTICS if c in frame.columns],
                     dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)


def write_results(out_dir: Path, fmt: str, sheets: dict[str, pd.DataFrame], evaluation: Evaluation,
                  provenance: Provenance, rejects: pd.DataFrame | None = None,
                  about: list[tuple[str, str]] | None = None) -> list[Path]:
    """Write the result tables, the evaluation's trace and the provenance into ``out_dir``; return the files written.

    ``sheets`` maps a Chinese sheet name to a frame with id columns, e.g. {"结果": outcomes, "汇总": summary};
    ``about`` is the 说明 sheet (default: the provenance's rows).
    The trace is always written as Parquet (the folder ``TRACE_DIR``); in Excel it is also a sheet when it fits.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    trace_path = out_dir / TRACE_DIR
    trace_rows = write_trace(evaluation, trace_path)
    written.append(trace_path)
    prov_path = out_dir / "provenance.json"
    prov_path.write_text(json.dumps(provenance.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(prov_path)
    if rejects is not None and len(rejects):
        rej_path = out_dir / "rejects.csv"
        escape_formulas(rejects).to_csv(rej_path, index=False, encoding="utf-8-sig")
        written.append(rej_path)
    if fmt == "xlsx":
        book = dict(sheets)
        if rejects is not None and len(rejects):
            book["拒收"] = rejects
        if trace_rows <= EXCEL_MAX_ROWS:
            # read back what was just written rather than build the trace a second time
            trace = pd.read_parquet(trace_path, columns=READABLE_COLUMNS)
            book["追溯"] = unit_column(trace, [r.ruleset for r in evaluation.results])
        path = write_workbook(out_dir / "results.xlsx", book, about or provenance.rows())
        written.append(path)
    elif fmt == "csv":
        for name, frame in sheets.items():
            path = out_dir / f"{name}.csv"
            zh(escape_formulas(frame)).to_csv(path, index=False, encoding="utf-8-sig")
            written.append(path)
    elif fmt == "parquet":
        for name, frame in sheets.items():
            path = out_dir / f"{name}.parquet"
            write_parquet(frame, path)
            written.append(path)
    else:
        path = out_dir / "results.json"
        payload = {name: json.loads(frame.to_json(orient="records", force_ascii=False))
                   for name, frame in sheets.items()}
        payload["provenance"] = provenance.as_dict()
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written
