"""The analyst's commands end to end: exit codes, summary lines, files written, refusals and formula escaping."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
from click.testing import CliRunner

from tiering.cli import main
from tiering.uscc import make


def test_classify_sample_writes_results_trace_and_provenance(sample_register: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "读取 172 行 = 接受 172 行 + 拒收 0 行" in result.output
    assert re.search(r"kjxzxqy-2022\s+科技型中小企业\s+25\s+17\s+1\s+43", result.output)
    results = pd.read_excel(tmp_path / "results.xlsx", sheet_name="结果")
    firm = results[(results["企业名称"] == "东丽电子信息有限公司") & (results["规则集"] == "kjxzxqy-2022")].iloc[0]
    assert (firm["结果"], firm["未满足条件"]) == ("不符合", "职工总数不超过500人")
    trace = pd.read_parquet(tmp_path / "trace")
    row = trace[(trace["name"] == "蓟州生物医药有限公司") & (trace["criterion_id"] == "staff_points")].iloc[0]
    assert (row["value"], row["points_min"], row["band"], row["clause"]) == (0.2, 12.0, "20%（含）-25%", "第七条（一）")
    prov = json.loads((tmp_path / "provenance.json").read_text(encoding="utf-8"))
    assert prov["year"] == 2025 and len(prov["input_sha256"]) == 64
    assert {r["id"] for r in prov["rulesets"]} >= {"kjxzxqy-2022"}
    sheet = pd.read_excel(tmp_path / "results.xlsx", sheet_name="说明")
    assert "输入文件SHA-256" in sheet["项目"].tolist()


def test_refused_rows_are_named_and_exit_code_is_1(root: Path, tmp_path: Path) -> None:
    register = root / "datasets" / "sample_register_with_errors.xlsx"
    result = CliRunner().invoke(main, ["classify", str(register), "--year", "2025", "--out", str(tmp_path),
                                       "--format", "csv"])
    assert result.exit_code == 1
    assert "读取 173 行 = 接受 168 行 + 拒收 5 行" in result.output
    duplicate = '行 174 列 "统一社会信用代码" 值 "91120116MA0500004A": 同一企业同一年度出现多次：另见第 14 行'
    assert duplicate in result.output
    assert 'sample_register_with_errors.xlsx 工作表“企业名录” 行 3 列 "职工总数(人)" 值 "一百二十"' in result.output
    rejects = pd.read_csv(tmp_path / "rejects.csv", encoding="utf-8-sig")
    assert {"文件", "行号", "列", "值", "原因"} <= set(rejects.columns)
    assert 11 in rejects["行号"].tolist()


def test_unusable_file_exits_3_with_a_remedy(tmp_path: Path) -> None:
    bad = tmp_path / "firms.csv"
    bad.write_text("统一社会信用代码,企业名称,年度,销售收入\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", str(bad), "--year", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 3
    assert "--unit" in result.output


def test_formula_like_names_are_escaped(tmp_path: Path) -> None:
    uscc = make("91120116MA0599991")
    frame = pd.DataFrame([{"统一社会信用代码": uscc, "企业名称": "=HYPERLINK(\"http://x\")", "年度": 2024,
                           "职工总数": 10, "科技人员数": 3, "销售收入(万元)": 100}])
    path = tmp_path / "firms.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", str(path), "--year", "2025", "--out", str(tmp_path / "o")])
    assert result.exit_code == 5, result.output  # six columns only: most programs lack columns (exit 5)
    ws = openpyxl.load_workbook(tmp_path / "o" / "results.xlsx")["结果"]
    names = [c.value for c in ws["B"]][1:]
    assert names and all(n == "'=HYPERLINK(\"http://x\")" for n in names)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_explain_reads_like_a_person_wrote_it(sample_register: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(sample_register), "东丽智能装备有限公司", "--year", "2025",
                                       "--program", "kjxzxqy"])
    assert result.exit_code == 0, result.output
    assert "结果：不符合  得分：58分" in result.output
    assert "✘ 综合评价得分不低于60分：58分，要求 ≥ 60分 —— 国科发政〔2017〕115号 第六条（五）" in result.output
    assert "• 科技人员指标得分：25.00% → 16分（25%（含）-30%）" in result.output
    assert "结论：不符合。未满足：拥有有效期内高新技术企业资格证书" in result.output


def test_explain_unknown_firm_exits_3(sample_register: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(sample_register), "不存在的公司", "--year", "2025"])
    assert result.exit_code == 3
    assert "的有效行中没有企业“不存在的公司”" in result.output and "[firm-not-found]" in result.output


def test_template_lists_every_field(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    assert CliRunner().invoke(main, ["template", str(path)]).exit_code == 0
    headers = [c.value for c in openpyxl.load_workbook(path).worksheets[0][1]]
    assert "销售收入(万元)" in headers and "统一社会信用代码" in headers


def test_python_cli_py_and_console_script_agree(root: Path) -> None:
    via_file = subprocess.run([sys.executable, str(root / "cli.py"), "--help"], capture_output=True, text=True)
    assert via_file.returncode == 0 and via_file.stdout.startswith("Usage: tiering [OPTIONS] COMMAND")
    listed = via_file.stdout.split("Commands:")[1].split("Exit codes")[0]
    assert main.list_commands(None) == sorted(line.split()[0] for line in listed.splitlines()
                                           if line.strip() and not line.startswith("   "))


def test_rule_folder_without_rules_is_refused_not_run_empty(sample_register: Path, tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--rules", str(empty),
                                       "--no-audit", "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert f"no rule files in {empty}: pass --rules DIR (the project's rules/ folder) or set TIERING_RULES=DIR" in (
        result.output)


def test_rule_folder_from_the_environment(root: Path, sample_register: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in ("kjxzxqy-2022.yaml", "kjxzxqy-2017.yaml"):  # 2022 extends 2017, which is not in force in 2025
        (folder / name).write_bytes((root / "rules" / name).read_bytes())
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--no-audit", "--out",
                                       str(tmp_path / "out")], env={"TIERING_RULES": str(folder)})
    assert result.exit_code == 0, result.output
    assert re.search(r"kjxzxqy-2022\s+科技型中小企业\s+25\s+17\s+1\s+43", result.output)
    assert "tj-xjr-2010" not in result.output
