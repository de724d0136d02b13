"""Write results where analysts open them: Excel with Chinese headers, CSV for Excel, Parquet, JSON.

Cells that begin with = + - @ are written as text (a leading apostrophe), so a firm name can never become a
formula when the file is opened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tiering.engine.evaluate import Evaluation
from tiering.engine.trace import READABLE_COLUMNS
from tiering.output.provenance import Provenance
from tiering.output.trace_file import TRACE_DIR, write_trace

FORMATS = ("xlsx", "csv", "parquet", "json")
EXCEL_MAX_ROWS = 1_048_575

HEADERS_ZH = {
    "uscc": "统一社会信用代码", "name": "企业名称", "program": "项目代码", "program_title": "项目",
    "ruleset_id": "规则集", "version": "规则版本", "ruleset_status": "规则状态", "provisional": "含暂定标准",
    "outcome": "结果代码", "outcome_zh": "结果", "score_min": "得分（下限）", "score_max": "得分（上限）",
    "path": "符合路径", "failed": "未满足条件", "missing": "缺数据条件", "lacks": "尚缺（一企一策起点）",
    "criterion_id": "条件代码", "criterion": "条件", "kind": "类型", "value": "取值", "threshold": "门槛",
    "status": "判定", "points_min": "得分下限", "points_max": "得分上限", "band": "档位", "document": "依据文件",
    "clause": "条款", "text": "文本取值", "qualified": "符合", "not_qualified": "不符合", "undetermined": "待定",
    "total": "合计", "highest_rung": "最高层级", "rung": "层级序号", "programs_qualified": "符合的全部项目",
}
_FORMULA_START = ("=", "+", "-", "@")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells starting with = + - @ are prefixed with an apostrophe."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype | pd.CategoricalDtype):
            text = out[col].astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            if risky.any():
                out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with Chinese headers (unknown columns keep their id)."""
    return frame.rename(columns={c: HEADERS_ZH.get(c, c) for c in frame.columns})


def _autosize(writer: pd.ExcelWriter, sheet: str, frame: pd.DataFrame) -> None:
    ws = writer.sheets[sheet]
    ws.freeze_panes = "A2"
    if len(frame.columns):
        ws.auto_filter.ref = ws.dimensions
    for i, col in enumerate(frame.columns, start=1):
        sample = [str(col)] + [str(v) for v in frame[col].head(200).tolist()]
        width = min(60, max(len(s.encode("gbk", "replace")) for s in sample) + 2)
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width


def write_results(out_dir: Path, fmt: str, sheets: dict[str, pd.DataFrame], evaluation: Evaluation,
                  provenance: Provenance, rejects: pd.DataFrame | None = None) -> list[Path]:
    """Write the result tables, the evaluation's trace and the provenance into ``out_dir``; return the files written.

    ``sheets`` maps a Chinese sheet name to a frame with id columns, e.g. {"结果": outcomes, "汇总": summary}.
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
        path = out_dir / "results.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                shown = zh(escape_formulas(frame))
                shown.to_excel(writer, sheet_name=name, index=False)
                _autosize(writer, name, shown)
            if trace_rows <= EXCEL_MAX_ROWS:
                # read back what was just written rather than build the trace a second time
                shown = zh(escape_formulas(pd.read_parquet(trace_path, columns=READABLE_COLUMNS)))
                shown.to_excel(writer, sheet_name="追溯", index=False)
                _autosize(writer, "追溯", shown)
            prov = pd.DataFrame(provenance.rows(), columns=["项目", "内容"])
            prov.to_excel(writer, sheet_name="说明", index=False)
            _autosize(writer, "说明", prov)
        written.append(path)
    elif fmt == "csv":
        for name, frame in sheets.items():
            path = out_dir / f"{name}.csv"
            zh(escape_formulas(frame)).to_csv(path, index=False, encoding="utf-8-sig")
            written.append(path)
    elif fmt == "parquet":
        for name, frame in sheets.items():
            path = out_dir / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            written.append(path)
    else:
        path = out_dir / "results.json"
        payload = {name: json.loads(frame.to_json(orient="records", force_ascii=False))
                   for name, frame in sheets.items()}
        payload["provenance"] = provenance.as_dict()
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written
