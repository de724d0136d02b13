"""The rule sets of the tier ladder: every cases file passes with full coverage, the language extensions the ladder
needed agree on both evaluation paths, and dependencies order and refuse as documented."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiering.engine.cases import CasesFile, case_panel, cases_files, run_cases
from tiering.engine.evaluate import evaluate, evaluate_firm, firm_slice
from tiering.fields import FIELDS
from tiering.rules.expr import Compiler
from tiering.rules.library import RULES_DIR, RuleLoadError, load_library
from tiering.rules.nodes import ClassesNode
from tiering.rules.yamlsrc import read_yaml

LIBRARY = load_library()


@pytest.mark.parametrize("path", cases_files(RULES_DIR), ids=lambda p: p.name)
def test_cases_pass_and_cover_every_band_and_criterion(path: Path) -> None:
    results, coverage, problems = run_cases(LIBRARY, path)
    assert problems == []
    assert [(r.name, r.problems) for r in results if not r.ok] == []
    assert coverage is not None
    assert coverage.unreached_bands == [] and coverage.unexercised == []


def test_every_rule_set_has_a_cases_file() -> None:
    with_cases = {p.name.removesuffix(".cases.yaml") for p in cases_files(RULES_DIR)}
    assert {r.id for r in LIBRARY.rulesets} - with_cases == set()


def _case_classes(ruleset_id: str) -> dict[str, str | None]:
    """The class each case of a rule set's cases file falls in (classes cannot be asserted in a cases file)."""
    path = RULES_DIR / f"{ruleset_id}.cases.yaml"
    doc, _ = read_yaml(path)
    spec = CasesFile.model_validate(doc.data)  # type: ignore[union-attr]
    target = LIBRARY.by_id[ruleset_id]
    chain = LIBRARY.in_force(dt.date(spec.year, 6, 30), pins={target.program: target.id}, programs=[target.program])
    node = next(n for n in target.nodes.values() if isinstance(n, ClassesNode))
    out = {}
    for case in spec.cases:
        rows = case_panel(spec, case, spec.year - 1)
        band = evaluate_firm(rows, chain, spec.year)[ruleset_id][node.id].band
        out[case.name] = node.label_of(band)
    return out


def test_little_giant_revenue_classes() -> None:
    classes = _case_classes("tj-xjr-2010")
    assert classes["年销售收入1.5亿元（1–3亿元档）"] == "1–3亿元"
    assert classes["年销售收入恰为1亿元（以上含本数）"] == "1–3亿元"
    assert classes["年销售收入9,999万元"] == "1亿元以下"
    assert classes["年销售收入恰为3亿元（3–10亿元档）"] == "3–10亿元"
    assert classes["年销售收入12亿元（10亿元以上档）"] == "10亿元以上"
    assert classes["销售收入缺失：待定，规模档也无法判断"] is None


# --- the language extensions, on both evaluation paths ------------------------------------------------------------
EXT_RULES = """
id: ext-test
title: 语言扩展测试
title_en: language extension test
program: ext
program_title: 扩展测试
jurisdiction: test
version: "1"
status: draft
effective_from: 2020-01-01
references: [{document: test}]
metrics:
  growth: {label: 增长率, expr: "revenue / lag(revenue, 1) - 1", unit: percent}
  fy: {label: 会计年度数, expr: fiscal_years(registration_date), unit: years}
criteria:
  id: ext
  label: 扩展测试
  source: {document: test, clause: "1"}
  all:
    - id: total
      label: 总分
      source: {document: test, clause: "2"}
      score:
        op: ">="
        threshold: 10
        of:
          - id: capped
            label: 封顶小计
            source: {document: test, clause: "3"}
            subtotal:
              cap: 12
              of:
                - id: expert
                  label: 专家分
                  source: {document: test, clause: "4"}
                  points:
                    value: hitech_score_advance
                    intervals: left-closed
                    domain: [0, 8]
                    bands: [{min: 0, max: 8, points: value, source: {document: test, clause: "4"}}]
                    missing: {undetermined: true, source: {document: test, clause: "4"}}
                - id: growth_points
                  label: 增长分
                  source: {document: test, clause: "5"}
                  points:
                    value: growth
                    override: hitech_score_revenue_growth
                    intervals: left-closed
                    bands:
                      - {min: 0.05, points: [3, 4], source: {document: test, clause: "5"}}
                      - {min: 0, min_open: true, max: 0.05, points: [1, 2], source: {document: test, clause: "5"}}
                      - {max: 0, points: 0, source: {document: test, clause: "5"}}
                    missing: {undetermined: true, source: {document: test, clause: "5"}}
    - id: size
      label: 规模档
      source: {document: test, clause: "6"}
      classes:
        value: fy
        intervals: left-closed
        bands:
          - {max: 3, label: 三年以下, source: {document: test, clause: "6"}}
          - {min: 3, label: 三年及以上, source: {document: test, clause: "6"}}
"""


def _ext_panel() -> pd.DataFrame:
    firms = [  # (uscc, registration, revenue 2023, revenue 2024, expert score, expert growth score)
        ("A", "2015-01-01", 100.0, 100.0, 8.0, math.nan),     # growth exactly 0 → 0 points (min_open edge)
        ("B", "2015-01-01", 100.0, 101.0, 8.0, 2.0),          # growth 1 % → [1,2], expert 2 inside → 2
        ("C", "2023-06-01", 100.0, 110.0, math.nan, 9.0),     # expert missing → [0,8]; 9 outside [3,4] → range
        ("D", "2024-03-01", math.nan, 110.0, 7.0, math.nan),  # growth missing → span [0,4]; 1 fiscal year
        ("E", "2015-01-01", 100.0, 200.0, 9.5, 4.0),          # expert 9.5 outside the domain → span; 4 inside [3,4]
    ]
    rows = []
    for uscc, reg, r23, r24, score, growth_score in firms:
        for year, revenue in ((2023, r23), (2024, r24)):
            row = {f.id: np.nan for f in FIELDS}
            row.update(uscc=uscc, name=uscc, year=year, registration_date=pd.Timestamp(reg), revenue=revenue,
                       hitech_score_advance=score, hitech_score_revenue_growth=growth_score, province=None)
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def ext(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rules")
    (folder / "ext-test.yaml").write_text(EXT_RULES, encoding="utf-8")
    rs = load_library(folder).by_id["ext-test"]
    panel = _ext_panel()
    return rs, panel, evaluate(panel, [rs], 2025)


def test_extensions_batch_values(ext) -> None:
    rs, _, ev = ext
    nodes = ev.results[0].nodes
    assert nodes["expert"].pmin.tolist()[:4] == [8.0, 8.0, 0.0, 7.0]
    assert nodes["expert"].pmax.tolist()[:4] == [8.0, 8.0, 8.0, 7.0]
    assert (nodes["expert"].pmin[4], nodes["expert"].pmax[4]) == (0.0, 8.0)  # 9.5 is outside 0–8
    assert nodes["growth_points"].pmin.tolist() == [0.0, 2.0, 3.0, 0.0, 4.0]
    assert nodes["growth_points"].pmax.tolist() == [0.0, 2.0, 4.0, 4.0, 4.0]
    assert nodes["capped"].pmin.tolist() == [8.0, 10.0, 3.0, 7.0, 4.0]
    assert nodes["capped"].pmax.tolist() == [8.0, 10.0, 12.0, 11.0, 12.0]  # C: 8 + 4 = 12; E: 8 + 4 = 12
    assert nodes["total"].status.tolist() == [0, 1, -1, -1, -1]
    size = rs.nodes["size"]
    assert [size.label_of(int(b)) for b in nodes["size"].band] == ["三年及以上", "三年及以上", "三年以下", "三年以下",
                                                                  "三年及以上"]
    # classes decide nothing: the outcome is the score's
    assert ev.results[0].outcome.tolist() == [0, 1, -1, -1, -1]


def test_extensions_per_firm_path_agrees(ext) -> None:
    rs, panel, ev = ext
    for uscc in ev.firms:
        one = evaluate_firm(panel[panel["uscc"] == uscc], [rs], 2025)["ext-test"]
        batch = firm_slice(ev, uscc)["ext-test"]
        for node_id, got in one.items():
            want = batch[node_id]
            assert (got.status, got.band) == (want.status, want.band), (uscc, node_id)
            for a, b in ((got.pmin, want.pmin), (got.pmax, want.pmax), (got.value, want.value)):
                assert (math.isnan(a) and math.isnan(b)) or a == b, (uscc, node_id)


def test_fiscal_years_counts_calendar_years_on_both_paths() -> None:
    expr = Compiler({}).compile("fiscal_years(registration_date)")

    class Ctx:
        size = 3

        def __init__(self, batch: bool, i: int = 0) -> None:
            self.batch, self.i = batch, i

        def col(self, field: str, lag: int):
            days = [float((dt.date(y, m, d) - dt.date(1970, 1, 1)).days) for y, m, d in
                    ((2022, 6, 1), (2024, 12, 31), (2025, 1, 10))]
            return np.array(days) if self.batch else days[self.i]

        def data_year_end(self, lag: int) -> float:
            return float((dt.date(2024 - lag, 12, 31) - dt.date(1970, 1, 1)).days)

    assert expr.vec(Ctx(True), 0).tolist() == [3.0, 1.0, 0.0]
    assert [expr.one(Ctx(False, i), 0) for i in range(3)] == [3.0, 1.0, 0.0]
    assert expr.vec(Ctx(True), 1).tolist() == [2.0, 0.0, -1.0]


@pytest.mark.parametrize(("snippet", "message"), [
    ("""  any:
    - id: c
      label: 档
      source: {document: t, clause: "1"}
      classes: {value: revenue, intervals: left-closed, bands: [{label: 全部, source: {document: t, clause: "1"}}]}
""", "classes 'c' only describes a firm; put it directly under an 'all' group"),
    ("""  all:
    - id: t
      label: 测试
      source: {document: t, clause: "1"}
      test:
        value: revenue
        op: ">="
        threshold:
          by: revenue
          intervals: right-closed
          bands:
            - {max: 5, value: 1, source: {document: t, clause: "1"}}
            - {min: 5, min_open: true, value: 2, source: {document: t, clause: "1"}}
""", "band 2: min_open only makes sense in a left-closed table"),
    ("""  all:
    - id: s
      label: 分
      source: {document: t, clause: "1"}
      score:
        op: ">="
        threshold: 1
        of:
          - id: p
            label: 专家分
            source: {document: t, clause: "1"}
            points:
              value: hitech_score_advance
              intervals: left-closed
              bands: [{min: 0, points: value, source: {document: t, clause: "1"}}]
              missing: {points: 0, source: {document: t, clause: "1"}}
""", "a 'points: value' band needs finite edges (set min/max or domain)"),
])
def test_misused_extensions_are_refused(tmp_path: Path, snippet: str, message: str) -> None:
    head = EXT_RULES.split("criteria:")[0].replace("id: ext-test", "id: bad")
    root = "criteria:\n  id: bad\n  label: 坏\n  source: {document: t, clause: '1'}\n"
    (tmp_path / "bad.yaml").write_text(head + root + snippet, encoding="utf-8")
    with pytest.raises(RuleLoadError) as err:
        load_library(tmp_path)
    assert any(message in line for line in err.value.lines())


# --- growth formulas: compound (OECD, 火炬) vs the mean of yearly ratios (高企, 领军) ------------------------------
def test_compound_growth_and_mean_of_yearly_ratios_differ() -> None:
    rows = pd.DataFrame([{**{f.id: np.nan for f in FIELDS}, "uscc": "X", "name": "X", "year": y, "employees": e,
                          "operating_revenue": 1000.0, "registration_date": pd.Timestamp("2010-01-01")}
                         for y, e in ((2021, 1000.0), (2022, 2000.0), (2023, 1000.0), (2024, 1500.0))])
    nodes = evaluate_firm(rows, [LIBRARY.by_id["oecd-hge-2007"]], 2025)["oecd-hge-2007"]
    assert round(nodes["h2_staff"].value, 4) == 0.1447  # (1500/1000)^(1/3) − 1
    assert nodes["h2_staff"].status == 0
    mean_of_ratios = Compiler({}).compile(
        "(lag(employees, 2) / lag(employees, 3) + lag(employees, 1) / lag(employees, 2)"
        " + employees / lag(employees, 1)) / 3 - 1")

    class Ctx:
        size = 1

        def col(self, field: str, lag: int) -> float:
            return {0: 1500.0, 1: 1000.0, 2: 2000.0, 3: 1000.0}[lag]

    assert round(mean_of_ratios.one(Ctx(), 0), 4) == 0.3333


# --- dependencies ---------------------------------------------------------------------------------------------------
def test_dependencies_come_first() -> None:
    order = [r.program for r in LIBRARY.in_force(dt.date(2025, 6, 30))]
    for first, then in (("tj_kjxqy", "tj_xjr"), ("cxxzxqy", "zjtx"), ("zjtx", "zjtx_xjr"),
                        ("oecd_hge", "oecd_gazelle"), ("eurostat_hge", "eurostat_gazelle")):
        assert order.index(first) < order.index(then)
    assert [r.id for r in LIBRARY.in_force(dt.date(2020, 6, 30), programs=["tj_lj"])] == ["tj-kjxqy-2010", "tj-lj-2018"]


def test_requires_reads_the_dependency_outcome() -> None:
    from tiering.ladder.samples import load_sample

    panel, _, year = load_sample()
    ev = evaluate(panel, LIBRARY.in_force(dt.date(year, 6, 30), programs=["tj_xjr"]), year)
    dependency = ev.result("tj_kjxqy").outcome
    assert ev.result("tj_xjr").nodes["x1_tech_enterprise"].status.tolist() == dependency.tolist()
    assert 0 in dependency.tolist() and 1 in dependency.tolist()


def test_a_cycle_between_ladder_programmes_is_refused(tmp_path: Path) -> None:
    for name, other in (("a-1", "b"), ("b-1", "a")):
        text = (EXT_RULES.split("criteria:")[0].replace("id: ext-test", f"id: {name}")
                .replace("program: ext", f"program: {name[0]}"))
        text += (f"criteria:\n  id: r\n  label: 依赖\n  source: {{document: t, clause: '1'}}\n"
                 f"  requires: {{program: {other}}}\n")
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleLoadError) as err:
        load_library(tmp_path)
    assert any("programs depend on each other in a cycle" in p.message for p in err.value.problems)


# --- a score the register gives overrides the computed one -------------------------------------------------------
GIVEN_RULES = """
id: given-test
title: 登记得分测试
title_en: given score test
program: given
program_title: 登记得分测试
jurisdiction: test
version: "1"
status: draft
effective_from: 2020-01-01
references: [{document: test}]
criteria:
  id: given
  label: 登记得分测试
  source: {document: test, clause: "1"}
  all:
    - id: total
      label: 评价得分达到10分以上
      source: {document: test, clause: "2"}
      score:
        op: ">="
        threshold: 10
        override: zjtx_score
        of:
          - id: expert
            label: 专家分
            source: {document: test, clause: "3"}
            points:
              value: hitech_score_advance
              intervals: left-closed
              domain: [0, 8]
              bands: [{min: 0, max: 8, points: value, source: {document: test, clause: "3"}}]
              missing: {undetermined: true, source: {document: test, clause: "3"}}
          - id: fixed
            label: 固定分
            source: {document: test, clause: "4"}
            points:
              value: hitech_score_core_support
              intervals: left-closed
              domain: [0, 8]
              bands: [{min: 0, max: 8, points: value, source: {document: test, clause: "4"}}]
              missing: {points: 6, source: {document: test, clause: "4"}}
"""


def test_a_given_score_overrides_the_computed_range_on_both_paths_and_says_so(tmp_path: Path) -> None:
    from tiering.engine.trace import trace_table
    from tiering.explain.text import explain_firm, verdicts

    (tmp_path / "given-test.yaml").write_text(GIVEN_RULES, encoding="utf-8")
    rs = load_library(tmp_path).by_id["given-test"]
    firms = [  # (uscc, expert sub-score, given score): computed = expert + 6 (missing → [6, 14])
        ("A", math.nan, math.nan),  # [6, 14] straddles 10 → undetermined
        ("B", math.nan, 12.0),      # given 12 inside [6, 14] → 12, qualified
        ("C", 1.0, 12.0),           # computed 7, given 12 outside → still 12 (explicit override), flagged
        ("D", 8.0, 9.0),            # computed 14 passes, given 9 (outside) fails: the given score decides
    ]
    rows = []
    for uscc, expert, given in firms:
        row = {f.id: np.nan for f in FIELDS}
        row.update(uscc=uscc, name=uscc, year=2024, hitech_score_advance=expert, zjtx_score=given, province=None)
        rows.append(row)
    panel = pd.DataFrame(rows)
    ev = evaluate(panel, [rs], 2025)
    total = ev.results[0].nodes["total"]
    assert total.pmin.tolist() == [6.0, 12.0, 12.0, 9.0] and total.pmax.tolist() == [14.0, 12.0, 12.0, 9.0]
    assert total.band.tolist() == [-1, 0, 1, 1]
    assert ev.results[0].outcome.tolist() == [-1, 1, 1, 0]
    for uscc in ev.firms:
        one = evaluate_firm(panel[panel["uscc"] == uscc], [rs], 2025)["given-test"]["total"]
        batch = firm_slice(ev, uscc)["given-test"]["total"]
        assert (one.status, one.band, one.pmin, one.pmax) == (batch.status, batch.band, batch.pmin, batch.pmax)
    bands = trace_table(ev).to_pandas().query("criterion_id == 'total'")["band"].astype(str).tolist()
    assert bands[0] == "" and "在计算范围内" in bands[1] and "超出按各项计算的范围" in bands[2]
    text = explain_firm("C", "C", 2025, [rs], {"given-test": firm_slice(ev, "C")["given-test"]})
    assert "得分：12分（按登记的得分，人工覆盖）" in text
    assert "评价得分达到10分以上：12分（按登记的得分：人工覆盖计算结果，登记得分超出按各项计算的范围，请核对）" in text
    assert "人工覆盖" not in explain_firm("A", "A", 2025, [rs], {"given-test": firm_slice(ev, "A")["given-test"]})
    assert verdicts([rs], {"given-test": firm_slice(ev, "C")["given-test"]}) == [
        "✔ 登记得分测试（暂定）：符合  12分（按登记的得分）"]
    from tiering.ladder.lacks import lacks_for_firm

    # no band move changes a given score: D needs a new evaluation, not better sub-scores
    assert lacks_for_firm(ev, "D")["given-test"] == [
        "评价得分达到10分以上：按登记的得分9分（人工覆盖），要求≥10分，须经重新评价"]


def test_explain_says_which_gaoqi_sub_scores_the_register_gives() -> None:
    """高企's expert sub-scores (hitech_score_*) are read per part — as a value band's points, or as a table's
    ``override`` narrowing its band's range — not as an override of the whole score (the 70-point sum is computed);
    explain marks every part the register gave 按登记的得分, as zjtx-2022 does for its given score."""
    from click.testing import CliRunner

    from tiering.cli import main

    sample = str(Path(__file__).resolve().parent.parent / "datasets" / "sample_register.xlsx")

    def lines(firm: str) -> list[str]:
        got = CliRunner().invoke(main, ["explain", sample, firm, "--year", "2025", "--program", "gxjsqy"])
        assert got.exit_code == 0, got.output
        return [line.strip() for line in got.output.splitlines()]

    huaming = lines("华明光电有限公司")  # every hitech_score_* field registered for 2024
    assert "结果：符合  得分：80分" in huaming  # the sum of its parts: no whole-score override
    for line in [
        "• 科技成果转化能力（按近三年年均转化项数分档，满分30分）：5项 → 27分（A 转化能力强，≥5项（25–30分）；"
        "按登记的得分）—— 国科发火〔2016〕195号 四（二）2",
        "• 技术的先进程度（专家评分0–8分）：7分 → 7分（专家评分；按登记的得分）—— 国科发火〔2016〕195号 四（二）1（1）",
        "• 净资产增长率得分（满分10分）：12.00% → 4分（D ≥5%（3–4分）；按登记的得分）"
        "—— 国科发火〔2016〕195号 四（二）4",
        # the registered 8 lies outside 5–6: not taken, the band's range stands
        "？ 知识产权数量：Ⅱ类：6项 → 5–6分（B 5项及以上Ⅱ类（5–6分））—— 国科发火〔2016〕195号 四（二）1（3）",
    ]:
        assert line in huaming
    jinggong = lines("精工轴承科技有限公司")  # no expert sub-score registered: ranges from the tables
    assert ("？ 科技成果转化能力（按近三年年均转化项数分档，满分30分）：3项 → 13–18分（C 一般，≥3项（13–18分））"
            "—— 国科发火〔2016〕195号 四（二）2") in jinggong
    assert not any("按登记的得分" in line for line in jinggong)


def test_provisional_has_one_meaning_from_the_loader() -> None:
    """A criterion inside a provisional one is provisional; a rule set is provisional by its status or by any of
    its criteria — also once superseded — and every output names it by the same title."""
    from tiering.explain.outcomes import outcome_frame
    from tiering.ladder.lacks import _titles
    from tiering.ladder.summary import tier_summary
    from tiering.rules.schema import Status

    zjtx = LIBRARY.by_id["zjtx-2026"]
    assert [n.id for n in zjtx.nodes["s0_title"].walk() if n.provisional] == ["s0_title", "s0_kjxzxqy", "s0_cxxzxqy"]
    old = LIBRARY.by_id["tj-lj-2018"]
    assert old.meta.status is Status.SUPERSEDED and old.provisional
    assert old.shown_title == "科技领军企业（暂定）"
    assert not LIBRARY.by_id["kjxzxqy-2022"].provisional
    assert LIBRARY.by_id["kjxzxqy-2022"].shown_title == "科技型中小企业"
    rows = pd.DataFrame({"uscc": ["91120116MA05JX0001"], "name": ["甲"], "year": [2018], "revenue": [np.nan]})
    ev = evaluate(rows, LIBRARY.in_force(dt.date(2019, 6, 30), {"tj_lj": "tj-lj-2018"}, ["tj_lj"]), 2019)
    assert _titles(ev)["tj_lj"] == old.shown_title
    assert old.shown_title in tier_summary(ev, outcome_frame(ev)).loc[0, "pending"].split("、")
