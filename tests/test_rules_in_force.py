"""Which rule version applies: the 2026 专精特新 sets from 2026-04-01, the purpose of an evaluation (认定 / 复核),
and the warnings that say when a rule set may be out of date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from rulefiles import DEMO_HEADER

from tiering.cli import main
from tiering.rules.currency import currency_warnings
from tiering.rules.library import RuleLibrary, load_library
from tiering.rules.purpose import CERTIFY, EvaluationPurpose, Purpose

REVIEW_2023 = EvaluationPurpose(Purpose.REVIEW, 2023)


@pytest.fixture(scope="module")
def library() -> RuleLibrary:
    return load_library()


def _ids(library: RuleLibrary, on: dt.date, purpose: EvaluationPurpose = CERTIFY) -> set[str]:
    return {r.id for r in library.in_force(on, programs=["zjtx_xjr"], purpose=purpose)}


def test_zjtx_2022_ends_the_day_before_the_2026_sets_begin(library: RuleLibrary) -> None:
    assert _ids(library, dt.date(2026, 3, 31)) >= {"zjtx-2022", "zjtx-xjr-2022"}
    assert _ids(library, dt.date(2026, 4, 1)) >= {"zjtx-2026", "zjtx-xjr-2026"}
    assert "kjxzxqy-2022" in _ids(library, dt.date(2026, 4, 1))  # the 科技和创新型 title reads 科技型中小企业 too


def test_review_of_a_2023_certification_in_2026_uses_63hao(library: RuleLibrary) -> None:
    assert _ids(library, dt.date(2026, 6, 30), REVIEW_2023) == {"cxxzxqy-2022", "zjtx-2022", "zjtx-xjr-2022"}


def test_review_of_other_years_or_after_the_round_uses_the_version_in_force(library: RuleLibrary) -> None:
    assert _ids(library, dt.date(2026, 6, 30), EvaluationPurpose(Purpose.REVIEW, 2024)) >= {"zjtx-xjr-2026"}
    assert _ids(library, dt.date(2027, 1, 1), REVIEW_2023) >= {"zjtx-2026", "zjtx-xjr-2026"}


def test_every_shipped_rule_set_records_when_it_was_verified(library: RuleLibrary) -> None:
    assert [r.id for r in library.rulesets if r.meta.verified_on is None] == []


def test_tianjin_2021_sets_warn_past_review_by_and_name_the_unencoded_leopard_scheme(library: RuleLibrary) -> None:
    on = dt.date(2026, 6, 30)
    warnings = currency_warnings(library, library.in_force(on, programs=["tj_cy"]), on)
    assert any(w.startswith("雏鹰企业 tj-cy-2021 应于 2025-01-01 前对照原文复查") for w in warnings)
    assert any(w.startswith("天津市猎豹企业：《天津市猎豹企业评价办法》2025–2026年在执行") for w in warnings)


def test_a_program_without_a_version_in_force_is_named(library: RuleLibrary) -> None:
    on = dt.date(2020, 6, 30)
    warnings = currency_warnings(library, library.in_force(on), on)
    assert any(w.startswith("雏鹰企业（tj_cy）在 2020-06-30 没有在用的已编码版本") for w in warnings)
    assert any(w.startswith("天津市瞪羚企业：津科规〔2019〕3号在此期间有效，但其评价条件未找到") for w in warnings)
    assert not any("猎豹" in w for w in warnings)


def test_explain_says_which_purpose_and_version_applied(sample_register: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(sample_register), "东丽智能装备有限公司", "--year", "2025",
                                       "--date", "2026-06-30", "--purpose", "复核", "--certified", "2023",
                                       "--program", "zjtx"])
    assert result.exit_code == 0, result.output
    assert ("评价目的 purpose：复核（2023年认定）；评价日期 2026-06-30；"
            "适用版本：cxxzxqy-2022（2022.1）、zjtx-2022") in result.output
    assert ("专精特新中小企业：评价目的：复核（2023年认定）；依 工信厅企业函〔2026〕117号（2026年复核：2023年认定的"
            "企业仍按63号标准复核），2023年认定的称号复核仍适用 zjtx-2022（2022.1）") in result.output
    assert "【专精特新中小企业】专精特新中小企业认定（工信部企业〔2022〕63号）" in result.output


def test_classify_2026_applies_the_2026_sets_and_says_so(sample_register: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2025", "--date", "2026-06-30",
                                       "--program", "zjtx_xjr", "--out", str(tmp_path), "--no-audit"])
    assert result.exit_code == 5, result.output  # the sample register has no 平台评价得分 column yet
    assert "专精特新中小企业：28 家待定，缺少列 平台评价得分" in result.output
    assert ("适用版本：kjxzxqy-2022（2022.1）、cxxzxqy-2022（2022.1）、zjtx-2026（2026.1）、"
            "zjtx-xjr-2026（2026.1）") in result.output


def test_classify_for_2026_on_2024_data_says_which_year_is_missing(sample_register: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(sample_register), "--year", "2026", "--out", str(tmp_path),
                                       "--no-audit"])
    assert result.exit_code == 0, result.output
    assert "zjtx-2026（2026.1）、zjtx-xjr-2026（2026.1）" in result.output
    assert "评价企业 0 家（2025 年度数据）；无 2025 年度数据未评价 43 家" in result.output
    assert "注意 warning: 没有企业有 2025 年度数据，未评价任何企业。" in result.output
    assert "Empty DataFrame" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--purpose", "复核"], "--purpose 复核 需要 --certified YEAR"),
    (["--certified", "2023"], "--certified 只用于 --purpose 复核"),
])
def test_purpose_options_are_checked(sample_register: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["explain", str(sample_register), "东丽智能装备有限公司", "--year", "2025",
                                       *args])
    assert result.exit_code == 2
    assert message in result.output


def test_rules_status_reads_as_a_dashboard() -> None:
    result = CliRunner().invoke(main, ["rules", "status", "--date", "2026-12-04"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    zjtx = lines.index("专精特新中小企业（zjtx，national）")
    assert lines[zjtx + 1].split()[:6] == ["zjtx-2022", "2022.1", "2022-06-01", "–", "2026-03-31", "provisional"]
    assert lines[zjtx + 2] == "      复核：2023年认定的称号复核仍用此版本（至 2026-12-31；工信厅企业函〔2026〕117号）"
    assert lines[zjtx + 3].split()[:7] == ["▶", "zjtx-2026", "2026.1", "2026-04-01", "–", "…", "provisional"]
    # 12 marked, and the two 称号 alternatives inside the provisional s0_title (provisional by the loader's rule)
    assert "暂定条件 14 条  核对于 2026-12-04  复查期限 2027-03-31" in lines[zjtx + 3]
    assert "天津市猎豹企业（tj_lb，天津）" in lines
    cy = lines.index("雏鹰企业（tj_cy，天津）")
    assert lines[cy + 2].startswith("    注意：雏鹰企业 tj-cy-2021 应于 2025-01-01 前对照原文复查")


def test_torch_dl_age_variant_differs_only_in_the_growth_route_age_cap(root: Path) -> None:
    main_set = load_library(files=[root / "rules" / "torch-dl-2014.yaml"]).by_id["torch-dl-2014"]
    variant = load_library(root / "rules" / "variants").by_id["torch-dl-2014-age10"]
    assert main_set.nodes.keys() == variant.nodes.keys()
    differ = {n for n in main_set.nodes
              if getattr(main_set.nodes[n], "threshold", None) != getattr(variant.nodes[n], "threshold", None)}
    assert differ == {"ta_age", "tb_age"}
    assert (main_set.nodes["ta_age"].threshold.fixed, variant.nodes["ta_age"].threshold.fixed) == (15.0, 10.0)


def test_variant_cases_pass(root: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(root / "rules" / "variants"), "--strict-coverage"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("coverage gaps: 0\n")


REVIEW_2024 = EvaluationPurpose(Purpose.REVIEW, 2024)


def test_a_review_under_2hao_reads_either_year_of_the_platform_score_and_skips_the_growth_test(
        library: RuleLibrary) -> None:
    """A 复核 not covered by a `reviews` clause applies the version in force, compiled for 复核 from its `purposes`."""
    on = dt.date(2026, 12, 4)
    certify = {r.id: r for r in library.in_force(on, programs=["zjtx_xjr"])}
    review = {r.id: r for r in library.in_force(on, programs=["zjtx_xjr"], purpose=REVIEW_2024)}
    assert set(certify) == set(review) >= {"zjtx-2026", "zjtx-xjr-2026"}
    assert "s6_platform_score" in certify["zjtx-2026"].nodes and "s6_platform_score_review" not in \
        certify["zjtx-2026"].nodes
    assert "s6_platform_score" not in review["zjtx-2026"].nodes
    assert {"s6_platform_score_review", "s6_platform_score_y1", "s6_platform_score_y2"} <= set(
        review["zjtx-2026"].nodes)
    assert "g1_growth" in certify["zjtx-xjr-2026"].nodes and "g1_growth" not in review["zjtx-xjr-2026"].nodes
    assert review["zjtx-xjr-2026"].purpose == "复核" and certify["zjtx-xjr-2026"].purpose_notes == ()
    # programs whose criteria do not differ are the very same rule set
    assert review["kjxzxqy-2022"] is certify["kjxzxqy-2022"]


def test_explain_says_what_the_review_changed(sample_register: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(sample_register), "东丽智能装备有限公司", "--year", "2025",
                                       "--date", "2026-12-04", "--purpose", "复核", "--certified", "2024",
                                       "--program", "zjtx_xjr"])
    assert result.exit_code == 0, result.output
    assert "评价目的 purpose：复核（2024年认定）；评价日期 2026-12-04；" in result.output
    assert ("  评价目的：复核改用：近两年任一年度平台评价得分达到50分以上（代替：平台评价得分"
            "（专精特新中小企业发展评价）达到50分以上）【暂定】（工信部企业〔2026〕2号 附件1 "
            "专精特新中小企业发展评价（复核：近两年任一年度得分50分以上）；"
            "据第三方转述（置信度B），原文未读；policy-2026.md §3）") in result.output
    assert ("  评价目的：复核不考核：近两年营业收入复合增长率不低于5%【暂定】（工信部企业〔2026〕2号 附件2 专业化"
            "（营业收入增长：复核不考核）") in result.output
    assert "前一年度平台评价得分达到50分以上【暂定标准】" in result.output
    certify = CliRunner().invoke(main, ["explain", str(sample_register), "东丽智能装备有限公司", "--year", "2025",
                                        "--date", "2026-12-04", "--program", "zjtx_xjr"])
    assert certify.exit_code == 0 and "评价目的：复核" not in certify.output
    assert "近两年营业收入复合增长率不低于5%【暂定标准】" in certify.output


@pytest.mark.parametrize(("purposes", "message"), [
    ("{复核: {source: {document: 测试文件, clause: 第一条}}}", "write either 'skip: true' or a 'criterion'"),
    ("{复核: {skip: true, source: {document: 测试文件, clause: 第一条}, criterion: {id: d, label: 职工不少于1人, "
     "source: {document: 测试文件, clause: 第一条}, test: {value: employees, op: '>=', threshold: 1}}}}",
     "write either 'skip: true' or a 'criterion'"),
    ("{复核: {criterion: {id: c, label: 职工不少于2人, source: {document: 测试文件, clause: 第一条}, "
     "test: {value: employeez, op: '>=', threshold: 2}}, source: {document: 测试文件, clause: 第一条}}}",
     "unknown name 'employeez'"),
])
def test_a_bad_purpose_entry_is_refused(tmp_path: Path, purposes: str, message: str) -> None:
    (tmp_path / "demo.yaml").write_text(f"""id: demo
{DEMO_HEADER}criteria:
  id: root
  label: 全部
  source: {{document: 测试文件, clause: 第一条}}
  all:
    - id: c
      label: 职工不少于1人
      source: {{document: 测试文件, clause: 第一条}}
      test: {{value: employees, op: ">=", threshold: 1}}
      purposes: {purposes}
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 3 and message in result.output and "demo.yaml:" in result.output, result.output


def test_a_review_run_replays_with_its_review_trees(library: RuleLibrary, sample_register: Path,
                                                    tmp_path: Path) -> None:
    """The run records which rule sets were compiled for 复核, and a replay compiles the same trees."""
    from tiering.app import classify
    from tiering.audit.replay import replay
    from tiering.audit.store import record_run
    from tiering.register import load_register

    on = dt.date(2026, 12, 4)
    chosen = library.in_force(on, programs=["zjtx_xjr"], purpose=REVIEW_2024)
    run = classify(load_register(sample_register), chosen, 2025, on)
    records = {r["id"]: r for r in run.provenance.rulesets}
    assert records["zjtx-xjr-2026"]["purpose"] == "复核" and "purpose" not in records["kjxzxqy-2022"]
    store = tmp_path / "audit.sqlite"
    run_id = record_run(store, run, ["tiering", "classify", str(sample_register), "--purpose", "复核"])
    report = replay(store, run_id, load_register(sample_register))
    assert report.identical, report.text()
