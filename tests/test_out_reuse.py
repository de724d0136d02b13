"""Reusing an output folder: select and report refuse a folder holding an earlier run unless --overwrite, which
removes that run's files first, so no file of an earlier run is left beside the new ones."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tiering.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"


def _earlier_run(out: Path, files: list[str]) -> None:
    for name in files:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("上一次运行", encoding="utf-8")


def test_select_refuses_an_earlier_list_and_overwrite_leaves_none_of_its_briefs(tmp_path: Path) -> None:
    out = tmp_path / "select"
    _earlier_run(out, ["cultivation_list.xlsx", "briefs/99_91120116OLD0000000.pdf", "briefs.md"])
    runner = CliRunner()
    refused = runner.invoke(main, ["select", str(SAMPLE), "--year", "2025", "--out", str(out), "--no-audit"])
    assert refused.exit_code == 3, refused.output
    assert f"--out {out} 里已有上一次运行的结果（cultivation_list.xlsx、briefs、briefs.md）" in refused.output
    assert (out / "briefs" / "99_91120116OLD0000000.pdf").exists()  # refused before touching anything
    done = runner.invoke(main, ["select", str(SAMPLE), "--year", "2025", "--out", str(out), "--no-audit",
                                "--overwrite"])
    assert done.exit_code == 0, done.output
    briefs = sorted(p.name for p in (out / "briefs").iterdir())
    assert "99_91120116OLD0000000.pdf" not in briefs
    assert briefs and all(name[:3] == f"{int(name[:2]):02d}_" for name in briefs)
    assert (out / "briefs.md").read_text(encoding="utf-8") != "上一次运行"


def test_report_refuses_an_earlier_report_and_overwrite_leaves_none_of_its_pages(tmp_path: Path) -> None:
    out = tmp_path / "report"
    _earlier_run(out, ["report.html", "firms/91120116OLD0000000.html"])
    runner = CliRunner()
    refused = runner.invoke(main, ["report", str(SAMPLE), "--year", "2025", "--out", str(out)])
    assert refused.exit_code == 3, refused.output
    assert "已有上一次运行的结果（report.html、firms）" in refused.output
    done = runner.invoke(main, ["report", str(SAMPLE), "--year", "2025", "--out", str(out), "--overwrite",
                                "--no-selection"])
    assert done.exit_code == 0, done.output
    pages = {p.name for p in (out / "firms").iterdir()}
    assert "91120116OLD0000000.html" not in pages
    assert "91120116MA0500004A.html" in pages  # 东丽智能装备有限公司, written anew
    assert (out / "report.xlsx").exists()
