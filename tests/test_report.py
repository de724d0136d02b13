"""Reports: the workbook's sheets, Chinese headers and formatting; the HTML report's charts and embedded font;
the printable firm pages. The browser check is scripts/screenshot_reports.py, not part of the suite."""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from openpyxl import load_workbook
from pypdf import PdfReader

from tiering.app.selection import selection_inputs
from tiering.cli import main
from tiering.cli.select_cmd import DEFAULT_POLICY
from tiering.engine.evaluate import default_eval_date
from tiering.growth.card import ModelCard, load_card
from tiering.register import Register, load_register
from tiering.report.data import build_report_data, model_validation
from tiering.report.write import write_report
from tiering.rules.library import load_library
from tiering.rules.nodes import FAIL, UNKNOWN
from tiering.targets import load_plan, track_plan
from tiering.targets.plan import PLANS_DIR

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "datasets" / "generated" / "panel_s42.csv"
FIRM = "91120110292998668L"


def small_register() -> Register:
    """The first 12 firms of each district of the generated panel (the hand-made sample changes too often)."""
    register = load_register(PANEL)
    frame = register.frame
    keep = [u for d in ("东丽区", "宝坻区", "蓟州区")
            for u in sorted(frame.loc[frame["district"] == d, "uscc"].unique())[:12]]
    return dataclasses.replace(register, frame=frame[frame["uscc"].isin(keep)].reset_index(drop=True))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    register = small_register()
    library = load_library()
    on = default_eval_date(2025)
    tracking = track_plan(register, library, load_plan(PLANS_DIR / "dongli-kjxzxqy-2011.yaml"), [2024])
    inputs = selection_inputs(DEFAULT_POLICY, None, (), register.frame)
    data = build_report_data(register, library, library.in_force(on), 2025, on, tracking, selection_from=inputs)
    write_report(data, out, [FIRM])
    return out


def _font_chars(page: str) -> set[str]:
    match = re.search(r"url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)", page)
    assert match, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(match.group(1))))
    return {chr(c) for c in font.getBestCmap()}


def test_workbook_sheets_and_chinese_headers(written: Path) -> None:
    wb = load_workbook(written / "report.xlsx")
    assert wb.sheetnames[:2] == ["汇总", "梯队"]
    for sheet in ("科技型中小企业", "雏鹰企业", "瞪羚企业（暂定）", "科技小巨人（暂定）", "尚缺", "追溯", "计划目标",
                  "最接近的企业", "说明"):
        assert sheet in wb.sheetnames, sheet
    assert [c.value for c in wb["培育名单"][1]][:6] == [
        "入选序号", "统一社会信用代码", "企业名称", "所在区", "最高层级", "综合得分（分）"]
    assert [r[1] for r in wb["培育名单"].iter_rows(min_row=2, values_only=True)][:2] == [
        "91120119MA5A4Y181X", "91120119MA4HJGPN4M"]
    assert [c.value for c in wb["汇总"][1]] == ["规则集", "项目", "符合（家）", "不符合（家）", "待定（家）",
                                              "合计（家）"]
    assert [c.value for c in wb["尚缺"][1]] == ["统一社会信用代码", "企业名称", "层级序号", "最高层级",
                                               "符合的全部项目", "下一层级", "尚缺（一企一策起点）"]
    assert [c.value for c in wb["追溯"][1]][:9] == ["统一社会信用代码", "企业名称", "规则集", "条件代码", "条件",
                                                   "类型", "取值", "门槛", "单位"]
    assert [c.value for c in wb["计划目标"][1]][:2] == ["目标代码", "目标"]
    assert wb["梯队"]["A2"].value == "科技领军企业（暂定）"  # as explain and the 层级 sheet name it
    # the counts name every programme as the pyramid and the 梯队 sheet do
    counted = {r[0]: r[1] for r in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert counted["tj-lj-2021"] == "科技领军企业（暂定）" and counted["tj-xjr-2010"] == "科技小巨人（暂定）"
    assert counted["kjxzxqy-2022"] == "科技型中小企业" and counted["tj-cy-2021"] == "雏鹰企业"
    levels = [r[0] for r in wb["梯队"].iter_rows(min_row=2, values_only=True)]
    assert set(levels) - set(counted.values()) == {"未入梯队"}
    page = (written / "report.html").read_text(encoding="utf-8")
    assert "<td>tj-xjr-2010</td><td>科技小巨人（暂定）</td>" in page
    notes = [r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)]
    assert "候选池 9 家，只选出 9 家，少于要求的 15 家" in notes


def test_report_with_a_model_shows_what_its_card_records_of_the_out_of_time_validation(tmp_path: Path,
                                                                                       written: Path) -> None:
    """`tiering report --model CARD`: the card's lift and calibration by decile, as recorded, in both outputs."""
    card = ROOT / "models" / "panel_s42.card.yaml"
    done = CliRunner().invoke(main, ["report", str(PANEL), "--year", "2025", "--model", str(card),
                                     "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    metrics = load_card(card).data["metrics"]
    recorded = next(r for r in metrics["out_of_time_summary"] if r["model"] == "scorecard")
    wb = load_workbook(tmp_path / "r" / "report.xlsx")
    rows = [r for r in wb["成长模型校准"].iter_rows(values_only=True)]
    assert rows[0] == ("十分位（按预测概率，1 最低）", "企业年数（个）", "平均预测概率", "实际达标比例")
    assert len(rows) == 11
    for row, decile in zip(rows[1:], metrics["calibration_out_of_time"], strict=True):
        assert row == pytest.approx((decile["decile"], decile["n"], decile["predicted"], decile["observed"]))
    figures = dict(wb["成长模型检验"].iter_rows(min_row=2, values_only=True))
    assert figures["模型卡"] == "panel_s42" and figures["训练年份"] == "2015–2022（8 个年份）"
    assert figures["前10家提升度（lift@10）"] == pytest.approx(recorded["lift_at_10"])
    assert figures["前15家提升度（lift@15）"] == pytest.approx(recorded["lift_at_15"])
    assert figures["平均 ROC AUC"] == pytest.approx(recorded["roc_auc"])
    assert figures["检验口径"].startswith("样本外检验")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "七、成长模型样本外检验（模型卡 panel_s42）" in page
    assert f"<td>前10家提升度（lift@10）</td><td class=\"num\">{round(recorded['lift_at_10'], 3)}</td>" in page
    assert page.count("<tr>", page.index("校准表")) == 11  # header and ten deciles
    # without --model the report has neither the sheets nor the section
    plain = load_workbook(written / "report.xlsx").sheetnames
    assert "成长模型检验" not in plain and "成长模型校准" not in plain
    assert "成长模型样本外检验" not in (written / "report.html").read_text(encoding="utf-8")


def test_a_card_never_tested_out_of_time_says_so_instead_of_an_empty_table() -> None:
    card = load_card(ROOT / "models" / "panel_s42.card.yaml").data
    untested = model_validation(ModelCard({**card, "metrics": {"out_of_time": "not evaluated: too few years"}}))
    assert untested.calibration.empty and untested.metrics == []
    assert dict(untested.rows())["检验口径"] == (
        "模型卡未记录样本外检验（not evaluated: too few years），无校准表和提升度")


def test_workbook_formatting(written: Path) -> None:
    ws = load_workbook(written / "report.xlsx")["科技小巨人（暂定）"]
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E78")
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == ws.dimensions
    assert ws.column_dimensions["B"].width > 10
    outcome_col = [c.value for c in ws[1]].index("结果") + 1
    letter = ws.cell(row=1, column=outcome_col).column_letter
    rules = {r.formula[0]: r.dxf.fill.bgColor.rgb for cf in ws.conditional_formatting for r in cf.rules
             if str(cf.sqref).startswith(letter)}
    assert rules['"符合"'].endswith("C6EFCE")
    assert rules['"不符合"'].endswith("FFC7CE")
    assert rules['"待定（缺数据）"'].endswith("FFEB9C")


def test_html_report_is_self_contained_with_charts_and_font(written: Path) -> None:
    page = (written / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "科技企业梯度培育分析报告（2025 年申报，依据 2024 年度数据）" in page
    for heading in ("一、各项目评价结果", "二、梯队金字塔", "三、关键指标分布与门槛", "四、年度层级变化",
                    "五、计划目标跟踪", "六、入选企业情况"):
        assert heading in page
    charts = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', page)
    assert [alt for _, alt in charts][:2] == [
        "梯队金字塔", "从事研发和相关技术创新活动的科技人员占企业当年职工总数的比例不低于10%"]
    assert len(charts) == 8  # pyramid, 4 indicators, transitions, plan progress, selected firms' standing
    assert charts[-1][1] == "入选企业得分"
    svg = base64.b64decode(charts[0][0]).decode("utf-8")
    assert "<path" in svg and "<text" not in svg  # glyphs drawn as outlines: no font needed to show them
    assert not re.search(r'(src|href)="https?:', page)
    chars = _font_chars(page)
    assert set("梯队金字塔科技小巨人尚缺天津盛泓食品") <= chars
    assert "龘" not in chars  # a subset: only the page's characters


def test_firm_page_puts_the_standing_first_then_what_decides_each_program(written: Path) -> None:
    page = (written / "firms" / f"{FIRM}.html").read_text(encoding="utf-8")
    assert "<h1>企业：天津裕辉机械科技有限公司（91120110292998668L）  申报年度：2025  数据年度：2024</h1>" in page
    assert re.search(r"运行编号 未记录.*?；名录 panel_s42\.csv SHA-256 [0-9a-f]{64}；评价日期 2025-06-30；生成日期 "
                     r"\d{4}-\d{2}-\d{2}；规则版本 .*tj-cy-2021（2021\.1，SHA-256 [0-9a-f]{12}）", page)
    summary, details = page.split("<h2>各项目判定要点</h2>")
    assert "<b>最高层级：</b>" in summary and '<td class="prog">科技小巨人（暂定）</td>' in summary
    assert '<tr class="head"><th colspan="3">科技小巨人（暂定）　<span class="out' in details
    assert "@page { size: A4" in page and "break-inside: avoid" in page
    assert set("天津裕辉机械科技有限公司最高层级尚缺") <= _font_chars(page)


def test_condensed_explanation_lists_what_failed_in_full_and_what_passed_as_labels() -> None:
    from tiering.app import classify
    from tiering.explain.text import deciding

    on = default_eval_date(2025)
    rulesets = load_library().in_force(on)
    run = classify(small_register(), rulesets, 2025, on)
    results = run.firm_results(FIRM)
    full = run.explain(FIRM)
    failed = next(rs for rs in rulesets if results[rs.id][rs.root.id].status == FAIL)
    said = deciding(failed, results[failed.id])
    assert said.open and all(line in full for _, line in said.open)  # the very lines of tiering explain
    assert all(status in (FAIL, UNKNOWN) for status, _ in said.open)
    assert said.verdict in full and said.met
    assert not any(line.startswith(said.met[0] + "：") for _, line in said.open)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="chromium is not installed")
def test_longest_firm_pages_print_on_two_a4_pages(tmp_path: Path) -> None:
    assert CHROMIUM is not None, "CI=true but chromium is not installed: .ci/run installs it with apt-get"
    out = tmp_path / "r"
    done = CliRunner().invoke(main, ["report", str(ROOT / "datasets" / "sample_register.xlsx"), "--year", "2025",
                                     "--out", str(out), "--no-selection"])
    assert done.exit_code == 0, done.output
    longest = sorted((out / "firms").glob("*.html"), key=lambda p: p.stat().st_size)[-3:]
    for page in longest:
        pdf = tmp_path / f"{page.stem}.pdf"
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--no-pdf-header-footer", f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}",
                        page.as_uri()], capture_output=True, check=True, timeout=180)
        reader = PdfReader(pdf)
        assert len(reader.pages) <= 2, f"{page.name} prints on {len(reader.pages)} pages"
        assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4 portrait, 210 mm
        text = "".join(p.extract_text() for p in reader.pages).replace(" ", "")
        for key in ("运行编号", "SHA-256", "最高层级", "各项目判定要点", page.stem):
            assert key in text, f"{key} not printed on {page.name}"


def test_cli_report_refuses_unknown_firm(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(ROOT / "datasets" / "sample_register.xlsx"), "--year", "2025",
                                       "--out", str(tmp_path), "--firm", "NOPE", "--program", "tj_cy"])
    assert result.exit_code == 3
    assert "--firm NOPE: not among the firms evaluated for 2025" in result.output


def test_report_on_a_register_folder_reads_it_as_the_register_and_refuses_a_run_folder(tmp_path: Path) -> None:
    """An analyst's register kept as a folder (one file per year) reports as the same register in one file; the
    output folder of a run, or a folder without a register file, is refused with what to do."""
    import pandas as pd

    from tiering.datasets import generate_panel, write_register

    one = write_register(generate_panel(40, (2022, 2024), seed=3).panel, tmp_path / "one.parquet")
    folder = tmp_path / "名录"
    folder.mkdir()
    for year, rows in pd.read_parquet(one).groupby("年度"):
        rows.to_parquet(folder / f"{year}.parquet", index=False)
    args = ["--year", "2025", "--program", "tj_cy", "--program", "kjxzxqy", "--no-selection"]
    for name, source in (("file", one), ("folder", folder)):
        result = CliRunner().invoke(main, ["report", str(source), *args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    for sheet in ("汇总", "梯队", "科技型中小企业", "雏鹰企业", "尚缺", "追溯"):
        assert [list(r) for r in load_workbook(tmp_path / "folder" / "report.xlsx")[sheet].values] == \
            [list(r) for r in load_workbook(tmp_path / "file" / "report.xlsx")[sheet].values]
    assert len(list((tmp_path / "folder" / "firms").glob("*.html"))) == 40
    run = tmp_path / "run"
    classified = CliRunner().invoke(main, ["classify", str(one), "--year", "2025", "--program", "tj_cy", "--out",
                                           str(run), "--no-audit"])
    assert classified.exit_code == 0, classified.output
    refused = CliRunner().invoke(main, ["report", str(run), *args, "--out", str(tmp_path / "r")])
    assert refused.exit_code == 2
    assert f"{run} 是一次运行的输出文件夹（有 provenance.json），不是名录" in refused.output
    (tmp_path / "空").mkdir()
    empty = CliRunner().invoke(main, ["report", str(tmp_path / "空"), *args, "--out", str(tmp_path / "e")])
    assert empty.exit_code == 3 and "文件夹中没有名录文件（.xlsx、.csv 或 .parquet）" in empty.output
    no_year = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "y")])
    assert no_year.exit_code == 2 and "--year is required when reporting on a register" in no_year.output


def test_report_on_a_recorded_run_uses_its_rules_and_checks_the_register(tmp_path: Path) -> None:
    register = str(PANEL)
    classified = CliRunner().invoke(main, ["classify", register, "--year", "2025", "--program", "tj_cy", "--out",
                                           str(tmp_path / "c")])
    run_id = re.search(r"audit run (\S+)", classified.output).group(1)
    result = CliRunner().invoke(main, ["report", run_id, "--register", register, "--out", str(tmp_path / "r"),
                                       "--firm", FIRM, "--no-selection"])
    assert result.exit_code == 0, result.output
    assert f"提示 note: 报告依据审计记录 {run_id}：规则版本 tj-cy-2021，评价日期 2025-06-30" in result.output
    wb = load_workbook(tmp_path / "r" / "report.xlsx")
    assert [c.value for c in wb["汇总"]["A"][1:]] == ["tj-cy-2021"]
    other = str(ROOT / "datasets" / "sample_register.xlsx")
    refused = CliRunner().invoke(main, ["report", run_id, "--register", other, "--out", str(tmp_path / "x")])
    assert refused.exit_code == 3
    assert f"sample_register.xlsx is not the file run {run_id} classified" in refused.output
    missing = CliRunner().invoke(main, ["report", "no-such-run"])
    assert missing.exit_code == 2
    assert "'no-such-run' 不是文件或文件夹，按审计运行号读取：请用 --register 给出那次运行评价的名录" in missing.output


def test_font_subset_is_cut_once_and_then_read_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tiering.output import font

    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    first = font.cached_subset("梯队金字塔")
    stored = list((tmp_path / "cache" / "fonts").glob("*.otf"))
    assert len(stored) == 1 and stored[0].read_bytes() == first
    assert set("梯队金字塔") <= {chr(c) for c in TTFont(io.BytesIO(first)).getBestCmap()}

    def no_cutting(*_: object) -> bytes:
        raise AssertionError("the subset should come from the cache")

    monkeypatch.setattr(font, "subset_font_bytes", no_cutting)
    assert font.cached_subset("塔字金队梯") == first  # same glyph set, any order
    monkeypatch.undo()
    monkeypatch.setenv("TIERING_CACHE_DIR", str(stored[0] / "not-a-folder"))  # unwritable: cut, not cached
    assert font.cached_subset("梯队") != first
