"""Revenue columns a rule set's documents make equal (docs/revenue.md): a register holding only 营业收入 is read for
科技型中小企业 and 高企 as their 销售收入, visibly in the trace and the explanation, and what a firm lacks names the
column it holds. A register holding 销售收入 reads exactly as before."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from rulefiles import DEMO_HEADER

from tiering.app import classify
from tiering.cli import main
from tiering.register import load_register
from tiering.rules.library import RuleLoadError, load_library

LIBRARY = load_library()
ON = dt.date(2025, 6, 30)
PROGRAMS = ("kjxzxqy-2022", "gxjsqy-2016")
GUIDE = "销售收入由 营业收入 按 工作指引 口径取得"


@pytest.fixture(scope="module")
def only_yingye(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample register with its 销售收入 column given as 营业收入 (and no other revenue column of that name)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pd.read_excel(Path(__file__).resolve().parents[1] / "datasets" / "sample_register.xlsx")
    frame = frame.drop(columns=["营业收入(万元)"]).rename(columns={"销售收入(万元)": "营业收入(万元)"})
    path = tmp_path_factory.mktemp("revenue") / "only_yingye.xlsx"
    frame.to_excel(path, index=False)
    return path


def _classified(path: Path):  # noqa: ANN202
    return classify(load_register(path), LIBRARY.in_force(ON), 2025, ON)


@pytest.fixture(scope="module")
def both(only_yingye: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    sample = Path(__file__).resolve().parents[1] / "datasets" / "sample_register.xlsx"
    return _classified(sample), _classified(only_yingye)


def test_kjxzxqy_and_gxjsqy_read_yingye_as_xiaoshou_with_the_same_outcomes_and_scores(both) -> None:  # noqa: ANN001
    held, derived = both
    cols = ["uscc", "ruleset_id", "outcome", "score_min", "score_max", "path", "failed"]
    a = held.outcomes[held.outcomes["ruleset_id"].isin(PROGRAMS)][cols].reset_index(drop=True)
    b = derived.outcomes[derived.outcomes["ruleset_id"].isin(PROGRAMS)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_no_program_with_a_declared_equivalent_is_pending_for_the_column(both) -> None:  # noqa: ANN001
    _, derived = both
    gaps = derived.provenance.column_gaps
    assert not [g for g in gaps if g.startswith(("科技型中小企业", "高新技术企业"))], gaps
    # 天津 科技小巨人's 年销售收入 has no defined equivalent (docs/revenue.md): still named as missing
    assert "科技小巨人：42 家待定，缺少列 销售收入" in gaps


def test_explain_shows_the_derivation_under_the_criterion_and_only_where_it_happened(both) -> None:  # noqa: ANN001
    held, derived = both
    text = derived.explain("北方重型传动有限公司")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "年销售收入不超过2亿元：32,000万元" in line)
    assert lines[at + 1].strip() == (
        f"口径：{GUIDE}【暂定口径】（国科发政〔2017〕115号 第六条（二）、第七条（二）销售收入"
        "（按工作指引：主营业务收入与其他业务收入之和））")
    assert f"口径：{GUIDE}（国科发火〔2016〕195号 工作指引 销售收入（主营业务收入与其他业务收入之和））" in text
    assert "  口径：" not in held.explain("北方重型传动有限公司")


def test_lacks_name_the_column_the_firm_holds(both) -> None:  # noqa: ANN001
    held, derived = both

    def lacks(c, name: str, rs: str) -> str:  # noqa: ANN001
        return " ".join(c.firm_lacks(c.firm_code(name))[rs])

    assert "当前3.2亿元，超过上限" in lacks(held, "北方重型传动有限公司", "kjxzxqy-2022")
    assert "年销售收入不超过2亿元，当前营业收入3.2亿元，超过上限" in lacks(derived, "北方重型传动有限公司",
                                                                   "kjxzxqy-2022")
    # the R&D share: lowering the revenue the firm reports, by its own name
    assert "或销售收入（2024年） 需减少800万元（2.4亿元 → 2.32亿元，−3.3%）" in lacks(held, "西青汽车电子有限公司",
                                                                            "kjxzxqy-2022")
    assert "或营业收入（2024年） 需减少800万元（2.4亿元 → 2.32亿元，−3.3%）" in lacks(derived, "西青汽车电子有限公司",
                                                                            "kjxzxqy-2022")
    # a growth points band reached by raising this year's revenue
    assert "营业收入（2024年） 需增加2,857.2万元（5,000万元 → 7,857.2万元，+57.1%）" in lacks(
        derived, "东丽智能装备有限公司", "gxjsqy-2016")


def test_the_trace_carries_the_derivation(both) -> None:  # noqa: ANN001
    from tiering.engine.trace import trace_batches

    _, derived = both
    table = pd.concat(b.to_pandas() for b in trace_batches(derived.evaluation))
    rows = table[(table["ruleset_id"] == "kjxzxqy-2022") & (table["criterion_id"] == "b2_revenue")]
    assert len(rows) == 43 and rows["text"].astype(str).str.startswith(GUIDE).all()


def test_a_firm_without_either_column_is_asked_for_both_names(tmp_path: Path) -> None:
    import numpy as np

    from tiering.engine.evaluate import evaluate
    from tiering.ladder.lacks import lacks_for_firm
    from tiering.ladder.samples import load_sample

    panel, _, year = load_sample()
    firm = panel["uscc"].iloc[0]
    panel = panel[panel["uscc"] == firm].copy()
    panel["revenue"] = np.nan
    panel["operating_revenue"] = np.nan
    ev = evaluate(panel, LIBRARY.in_force(dt.date(year, 6, 30)), year)
    said = " ".join(lacks_for_firm(ev, firm)["kjxzxqy-2022"])
    assert f"（缺失：{year - 1}年 销售收入（revenue，或营业收入 operating_revenue））" in said


@pytest.mark.parametrize(("entry", "message"), [
    ("{field: revenue, equals: turnover, basis: 指引, source: {document: 测试文件, clause: 第一条}}",
     "unknown field 'turnover'"),
    ("{field: revenue, equals: industry, basis: 指引, source: {document: 测试文件, clause: 第一条}}",
     "'industry' is not one"),
])
def test_a_bad_equivalent_is_refused_with_its_line(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(f"""id: demo
{DEMO_HEADER}equivalents:
  - {entry}
criteria:
  id: c
  label: 销售收入不超过2亿元
  source: {{document: 测试文件, clause: 第一条}}
  test: {{value: revenue, op: "<=", threshold: 20000}}
""", encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_library(tmp_path)
    (problem,) = caught.value.problems
    assert message in problem.message and problem.where.line == 13 and problem.where.file.endswith("demo.yaml")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 3 and message in result.output
