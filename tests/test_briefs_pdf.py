"""The one-page PDF briefs that `select` writes beside the Markdown ones, and `report --briefs` per listed firm:
one A4 page each, with the firm, its standing, scores, what it lacks, run id, input hash, rule versions and date."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from tiering.cli import main
from tiering.output.provenance import today

ROOT = Path(__file__).resolve().parent.parent
PANEL = ROOT / "datasets" / "generated" / "panel_s42.csv"
A4 = (595.3, 841.9)


def _text(path: Path) -> str:
    """The page's text without the spaces and NULs the extractor puts between CJK characters. (pypdf misreads a
    few glyphs of the footer's ToUnicode map, e.g. 生成日期; poppler's pdftotext reads every one right.)"""
    return re.sub(r"[\s\x00]+", "", PdfReader(path).pages[0].extract_text())


@pytest.fixture(scope="module")
def selected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("pdf")
    result = CliRunner().invoke(main, ["select", str(PANEL), "--year", "2025", "--out", str(base / "s"),
                                       "--store", str(base / "audit.sqlite")])
    assert result.exit_code == 0, result.output
    run_id = re.search(r"audit run (\S+)", result.output).group(1)
    chosen = pd.read_excel(base / "s" / "cultivation_list.xlsx", sheet_name="入选名单", dtype=str)
    return {"dir": base / "s", "run_id": run_id, "chosen": chosen, "output": result.output}


def test_select_writes_one_a4_page_per_listed_firm_beside_the_markdown(selected: dict) -> None:
    briefs = selected["dir"] / "briefs"
    pdfs = sorted(briefs.glob("*.pdf"))
    assert [p.stem for p in pdfs] == [p.stem for p in sorted(briefs.glob("*.md"))]
    assert len(pdfs) == len(selected["chosen"]) == 15
    for path in pdfs:
        reader = PdfReader(path)
        assert len(reader.pages) == 1, path.name
        box = reader.pages[0].mediabox
        assert (round(float(box.width), 1), round(float(box.height), 1)) == A4
    assert "15 份 PDF" in selected["output"]


def test_brief_names_firm_standing_scores_lacks_and_provenance(selected: dict) -> None:
    first = selected["chosen"].iloc[0]
    path = selected["dir"] / "briefs" / f"01_{first['统一社会信用代码']}.pdf"
    text = _text(path)
    assert f"一企一策培育简报：{first['企业名称']}" in text
    assert first["统一社会信用代码"] in text
    assert f"最高层级{first['最高层级']}" in text
    assert f"第1名（共15家）/{float(first['综合得分（分）']):.2f}分" in text
    for heading in ("层级现状", "得分", "入选理由", "尚缺（", "运行编号", "规则版本"):
        assert heading in text, heading
    assert selected["run_id"] in text
    sha = dict(pd.read_excel(selected["dir"] / "cultivation_list.xlsx", sheet_name="说明", dtype=str).values)
    assert sha["运行编号"] == selected["run_id"]
    assert re.search(r"SHA-256[0-9a-f]{64}", text)
    assert "（2022.1）" in text and today() in text


def test_report_writes_briefs_on_request(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(ROOT / "datasets" / "sample_register.xlsx"), "--year", "2025",
                                       "--out", str(tmp_path / "r"), "--briefs", "--firm", "91120116MA0500004A"])
    assert result.exit_code == 0, result.output
    pdfs = sorted((tmp_path / "r" / "briefs").glob("*.pdf"))
    assert "写出 wrote 2 PDF briefs" in result.output and len(pdfs) == 2
    assert all(len(PdfReader(p).pages) == 1 for p in pdfs)
