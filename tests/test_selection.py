"""The annual cultivation list: policy checks, pool, ranking, quotas, tie-breaks, briefs and byte-for-byte runs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tiering.cli import main
from tiering.growth.card import build_card, save_card
from tiering.growth.directions import load_declarations
from tiering.growth.features import build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.scorecard import Scorecard
from tiering.growth.training import train_scorecard
from tiering.selection.brief import firm_brief
from tiering.selection.policy import PolicyError, load_policy
from tiering.selection.pool import read_cultivated
from tiering.selection.run import ListSizeRefused, select_firms
from tiering.selection.standing import standing_frame

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POLICY = ROOT / "rules" / "selection" / "jx-xjr-peiyu.yaml"
SAMPLE = ROOT / "datasets" / "generated" / "panel_s42.csv"
DEV_ZONE = "开发区（天津专用汽车产业园）企业集群"
NEW_TOWN = "蓟县新城企业集群"

# uscc, district, industry, 科小 outcome, 科小 score, 小巨人 outcome, revenue 2024 (2023 = 100), flag 2023
FIRMS = [
    ("F01", "蓟州区", "高端装备制造", "qualified", 90.0, "not_qualified", 150.0, 0.0),
    ("F02", "蓟州区", "高端装备制造", "qualified", 80.0, "not_qualified", 140.0, 0.0),
    ("F03", "蓟州区", "环保新材料", "qualified", 70.0, "not_qualified", 130.0, 0.0),
    ("F04", "蓟州区", "影音艺媒", "qualified", 60.0, "not_qualified", 120.0, 0.0),
    ("F11", "蓟州区", "影音艺媒", "qualified", 60.0, "not_qualified", 120.0, 0.0),
    ("F05", "蓟州区", "现代服务业", "qualified", 50.0, "not_qualified", 110.0, 0.0),
    ("F06", "蓟州区", "新材料", "not_qualified", 40.0, "not_qualified", 200.0, 0.0),
    ("F07", "蓟州区", "新材料", "qualified", 95.0, "qualified", 200.0, 0.0),
    ("F08", "蓟州区", "新材料", "qualified", 85.0, "not_qualified", 190.0, 1.0),
    ("F09", "东丽区", "新材料", "qualified", 99.0, "not_qualified", 300.0, 0.0),
    ("F10", "蓟州区", "生物", "qualified", 65.0, "not_qualified", 125.0, 0.0),
]


def small_policy(tmp_path: Path, **changes: object) -> Path:
    """The default policy cut down to one component per group and a list of 2–5 firms."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["count"] = {"min": 2, "max": 5, "default": 3}
    data["ranking"]["groups"][0]["components"] = [
        {"id": "kjxzxqy_score", "label": "科技型中小企业评价得分", "program_score": "kjxzxqy", "weight": 1.0}]
    data["ranking"]["groups"][1]["components"] = [
        {"id": "revenue_growth", "label": "上年营收增长", "feature": "revenue_growth_1y", "weight": 1.0}]
    data["quotas"] = [{"by": "cluster", "max": 2}]
    data["tie_break"] = ["uscc"]
    data.update(changes)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def hand_panel() -> pd.DataFrame:
    rows = []
    for uscc, district, industry, _, _, _, revenue, flag in FIRMS:
        for year, value, abnormal in ((2023, 100.0, flag), (2024, revenue, 0.0)):
            rows.append({"uscc": uscc, "name": f"企业{uscc}", "year": year, "district": district,
                         "industry": industry, "revenue": value, "abnormal_operation": abnormal,
                         "serious_dishonesty": 0.0, "research_misconduct": 0.0, "major_accident": 0.0})
    return pd.DataFrame(rows)


def hand_outcomes() -> pd.DataFrame:
    rows = []
    for uscc, _, _, kjx, score, xjr, _, _ in FIRMS:
        rows.append({"uscc": uscc, "name": f"企业{uscc}", "program": "kjxzxqy", "program_title": "科技型中小企业",
                     "outcome": kjx, "score_min": score, "failed": "", "missing": ""})
        rows.append({"uscc": uscc, "name": f"企业{uscc}", "program": "tj_cy", "program_title": "雏鹰企业",
                     "outcome": "not_qualified", "score_min": np.nan, "failed": "研发投入不足；无有效知识产权",
                     "missing": ""})
        rows.append({"uscc": uscc, "name": f"企业{uscc}", "program": "tj_xjr", "program_title": "科技小巨人",
                     "outcome": xjr, "score_min": np.nan,
                     "failed": "" if xjr == "qualified" else "销售收入1亿元以上", "missing": ""})
    return pd.DataFrame(rows)


RUNGS = {"kjxzxqy": 1, "tj_cy": 2, "tj_xjr": 4}


def run_small(tmp_path: Path, n: int = 3, cultivated: dict[str, int | None] | None = None, **changes: object):
    policy, _ = load_policy(small_policy(tmp_path, **changes))
    return select_firms(hand_panel(), hand_outcomes(), RUNGS, policy, 2025, n,
                        cultivated={"F10": 2024} if cultivated is None else cultivated)


# --- the hand-built register: exact picks ---------------------------------------------------------------

def test_exact_picks_quota_max_and_tie_break(tmp_path: Path) -> None:
    selection = run_small(tmp_path)
    assert selection.selected["uscc"].tolist() == ["F01", "F02", "F04"]
    assert selection.selected["combined"].round(4).tolist() == [100.0, 83.3333, 41.6667]
    runners = selection.runners_up
    assert runners["uscc"].tolist() == ["F03", "F11", "F05"]
    assert runners["missed_reason"].tolist() == [
        f"配额已满：产业集群 {DEV_ZONE} 已选 2 家（上限）",
        "与末位入选者同分 41.67，按并列规则（uscc）排在其后",
        "综合得分 16.67，比末位入选者（第3名，41.67）低 25.00 分",
    ]


def test_statuses_and_reasons_of_firms_outside_the_pool(tmp_path: Path) -> None:
    firms = run_small(tmp_path).firms.set_index("uscc")
    assert firms.loc[["F06", "F07", "F08", "F09", "F10"], ["status", "status_reason"]].values.tolist() == [
        ["不符合资格", "科技型中小企业：不符合（要求：符合）"],
        ["不符合资格", "科技小巨人：符合（不在遴选范围）"],
        ["排除", "近3年（2022–2024）列入经营异常名录（2023）"],
        ["范围外", "所在区 东丽区 不在遴选范围（蓟州区）"],
        ["排除", "往年已入选培育名单（2024年）"],
    ]
    assert sorted(firms.index[firms["status"] == "候选"]) == ["F01", "F02", "F03", "F04", "F05", "F11"]


def test_cultivated_in_the_selection_year_itself_is_not_excluded(tmp_path: Path) -> None:
    firms = run_small(tmp_path, cultivated={"F10": 2025}).firms.set_index("uscc")
    assert firms.loc["F10", "status"] == "候选"


def test_tie_break_follows_uscc_whatever_the_input_order(tmp_path: Path) -> None:
    policy, _ = load_policy(small_policy(tmp_path))
    panel, outcomes = hand_panel(), hand_outcomes()
    shuffled = [select_firms(panel.sample(frac=1, random_state=seed), outcomes.sample(frac=1, random_state=seed),
                             RUNGS, policy, 2025, 3, cultivated={"F10": 2024}) for seed in (1, 2, 3)]
    for selection in shuffled:
        assert selection.ranked["uscc"].tolist() == ["F01", "F02", "F03", "F04", "F11", "F05"]


def test_tie_break_by_group_before_uscc(tmp_path: Path) -> None:
    panel = hand_panel()
    panel.loc[(panel["uscc"] == "F11") & (panel["year"] == 2024), "revenue"] = 121.0  # F11 grows a bit faster
    outcomes = hand_outcomes()
    outcomes.loc[(outcomes["uscc"] == "F11") & (outcomes["program"] == "kjxzxqy"), "score_min"] = 59.0
    policy, _ = load_policy(small_policy(tmp_path, tie_break=["growth", "uscc"]))
    selection = select_firms(panel, outcomes, RUNGS, policy, 2025, 3, cultivated={"F10": 2024})
    ranked = selection.ranked.set_index("uscc")
    # F04 and F11 swap technical and growth percentile, so they tie on the combined score
    assert ranked.loc["F04", "combined"] == ranked.loc["F11", "combined"]
    assert selection.selected["uscc"].tolist() == ["F01", "F02", "F11"]


def test_quota_minimum_reserves_a_place(tmp_path: Path) -> None:
    quotas = [{"by": "cluster", "max": 2, "limits": {NEW_TOWN: {"min": 1}}}]
    selection = run_small(tmp_path, quotas=quotas)
    assert selection.selected["uscc"].tolist() == ["F01", "F02", "F05"]
    reasons = selection.ranked.set_index("uscc")["missed_reason"]
    assert reasons["F04"] == f"名额保留给配额下限：产业集群 {NEW_TOWN}"
    assert selection.warnings == []


def test_unmeetable_minimum_is_reported_not_hidden(tmp_path: Path) -> None:
    quotas = [{"by": "district", "limits": {"蓟州区": {"min": 1}, "宝坻区": {"min": 1}}}]
    selection = run_small(tmp_path, quotas=quotas)
    assert selection.selected["uscc"].tolist() == ["F01", "F02", "F03"]
    assert selection.warnings == ["配额下限无法满足：所在区 宝坻区 要求至少 1 家，候选池只有 0 家"]


def test_credit_flag_without_column_is_reported(tmp_path: Path) -> None:
    policy, _ = load_policy(small_policy(tmp_path))
    panel = hand_panel().drop(columns=["major_accident"])
    selection = select_firms(panel, hand_outcomes(), RUNGS, policy, 2025, 3, cultivated={})
    assert selection.warnings == ["登记表没有 重大事故或严重环境违法（major_accident）列，未据此排除任何企业"]


def test_firm_without_data_year_row_is_listed_not_dropped(tmp_path: Path) -> None:
    policy, _ = load_policy(small_policy(tmp_path))
    gone = pd.DataFrame([{"uscc": "F12", "name": "企业F12", "year": 2022, "district": "蓟州区", "industry": "生物",
                          "revenue": 80.0}])
    panel = pd.concat([hand_panel(), gone], ignore_index=True)
    firms = select_firms(panel, hand_outcomes(), RUNGS, policy, 2025, 3, cultivated={}).firms.set_index("uscc")
    assert firms.loc["F12", ["status", "status_reason"]].tolist() == ["未评价", "登记表无 2024 年度数据"]


def test_small_pool_is_reported(tmp_path: Path) -> None:
    selection = run_small(tmp_path, n=5, scope={"districts": ["东丽区"]})
    assert selection.selected["uscc"].tolist() == ["F09"]
    assert "候选池 1 家，只选出 1 家，少于要求的 5 家" in selection.warnings


def test_count_outside_policy_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ListSizeRefused, match="名单人数 6 不在政策 jx-xjr-peiyu 允许的 2–5 家之内"):
        run_small(tmp_path, n=6)


# --- standing and brief ---------------------------------------------------------------------------------

def test_standing_next_rung_and_lacks_fallback_and_override() -> None:
    outcomes = hand_outcomes()
    fallback = standing_frame(outcomes, RUNGS).set_index("uscc")
    assert fallback.loc["F01", ["highest_rung", "next_rung", "lacks"]].tolist() == [
        "科技型中小企业", "雏鹰企业", "研发投入不足；无有效知识产权"]
    assert fallback.loc["F07", ["highest_rung", "next_rung", "lacks"]].tolist() == ["科技小巨人", "", ""]
    assert fallback.loc["F06", "highest_rung"] == "未入梯队"
    given = pd.DataFrame({"uscc": ["F01", "F01", "F01"], "program": ["tj_cy", "tj_xjr", "gxjsqy"],
                          "lacks": ["Ⅰ类知识产权 还需1项（0项 → 1项）", "销售收入 需增加5,000万元", "高企"]})
    ladder = standing_frame(outcomes, RUNGS, given, goal="tj_xjr").set_index("uscc")
    assert ladder.loc["F01", ["lacks", "goal", "goal_lacks"]].tolist() == [
        "Ⅰ类知识产权 还需1项（0项 → 1项）", "科技小巨人", "销售收入 需增加5,000万元"]
    assert ladder.loc["F02", ["lacks", "goal", "goal_lacks"]].tolist() == ["", "科技小巨人", ""]
    assert ladder.loc["F07", ["goal", "goal_lacks"]].tolist() == ["", ""]


def test_brief_shows_components_lacks_and_clause(tmp_path: Path) -> None:
    selection = run_small(tmp_path)
    text = firm_brief(selection.selected.iloc[0], selection)
    assert text.startswith("# 一企一策 培育简报：企业F01\n")
    assert "| 名次 | 第 1 名（共 3 家） |" in text
    assert "| 技术水平（100.00） | 科技型中小企业评价得分 | 90分 | 100% | 50% | 50.00 |" in text
    assert "| 发展潜力（100.00） | 上年营收增长 | 50% | 100% | 50% | 50.00 |" in text
    assert "主要理由：科技型中小企业评价得分 90分（池内100%，+50.0分）；上年营收增长 50%（池内100%，+50.0分）" in text
    assert "## 尚缺（雏鹰企业）—— 一企一策的起点\n\n- 研发投入不足\n- 无有效知识产权\n" in text
    assert "## 距培育目标（科技小巨人）尚缺\n\n- 销售收入1亿元以上\n" in text
    assert "每年从全县科技型中小企业中遴选10—15家技术水平高、发展潜力大的企业进行重点培育" in text


# --- policy file checks ---------------------------------------------------------------------------------

def test_default_policy_loads_and_cites_the_seed() -> None:
    policy, digest = load_policy(DEFAULT_POLICY)
    assert (policy.count.min, policy.count.max, policy.count.default) == (10, 15, 15)
    assert policy.references[0].seed == "000_0585381ba3486674.txt"
    assert policy.programs() == ["kjxzxqy", "tj_xjr"]
    assert policy.goal == "tj_xjr"
    assert len(digest) == 64


@pytest.mark.parametrize("path", sorted((ROOT / "rules" / "selection").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_policy_loads_with_its_id_as_file_name(path: Path) -> None:
    policy, _ = load_policy(path)
    assert policy.id == path.stem
    assert all(ref.document for ref in policy.references)


def test_policy_weights_must_sum_to_one_with_line(tmp_path: Path) -> None:
    path = small_policy(tmp_path)
    text = path.read_text(encoding="utf-8").replace("weight: 0.5\n", "weight: 0.4\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert (problem.where.file, problem.where.field) == (str(path), "ranking")
    assert str(problem).endswith(" ranking: group weights must sum to 1; got 0.9")


def test_policy_refuses_model_component_without_model_and_unknown_feature(tmp_path: Path) -> None:
    data = yaml.safe_load(small_policy(tmp_path).read_text(encoding="utf-8"))
    data["ranking"]["groups"][1]["components"] = [
        {"id": "m", "label": "模型", "model": "scorecard", "weight": 1.0}]
    data["ranking"]["groups"][0]["components"][0] = {"id": "x", "label": "x", "feature": "patents", "weight": 1.0}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "unknown feature 'patents'" in messages
    assert "a model component belongs under with_model" in messages


def test_read_cultivated_takes_earliest_year_and_refuses_missing_column(tmp_path: Path) -> None:
    good = tmp_path / "done.csv"
    good.write_text("统一社会信用代码,年度\nf01,2023\nF01,2021\nF02,\n", encoding="utf-8")
    assert read_cultivated(good) == {"F01": 2021, "F02": None}
    bad = tmp_path / "bad.csv"
    bad.write_text("企业名称\n甲\n", encoding="utf-8")
    with pytest.raises(ValueError, match="缺少 统一社会信用代码 列"):
        read_cultivated(bad)


# --- the model only orders eligible firms ---------------------------------------------------------------

def test_model_orders_but_never_changes_the_pool(tmp_path: Path) -> None:
    panel = hand_panel()
    features = build_features(panel).frame
    labels = (features["revenue_growth_1y"].fillna(0) > 0.25).astype(int)
    model = Scorecard(features=["revenue_growth_1y"]).fit(features[["uscc", "year", "revenue_growth_1y"]], labels)
    policy, _ = load_policy(small_policy(tmp_path))
    plain = select_firms(panel, hand_outcomes(), RUNGS, policy, 2025, 3, cultivated={"F10": 2024})
    scored = select_firms(panel, hand_outcomes(), RUNGS, policy, 2025, 3, model=model, cultivated={"F10": 2024})
    assert scored.with_model
    assert sorted(scored.ranked["uscc"]) == sorted(plain.ranked["uscc"])
    assert scored.firms[["uscc", "status"]].equals(plain.firms[["uscc", "status"]])


# --- the command on the shipped generated sample --------------------------------------------------------

def sample_card(panel: pd.DataFrame, out: Path) -> Path:
    """A scorecard trained on the sample itself (as `tiering model train` would), saved as a card."""
    spec = LabelSpec("revenue", 0.2, 3, False, None)
    built = build_features(panel)
    data = built.frame.assign(label=growth_label(panel.reset_index(drop=True), spec)["label"].to_numpy())
    training = data[data["label"].notna()].reset_index(drop=True)
    trained = train_scorecard(training, list(built.used), load_declarations())
    model = trained.model
    card = build_card("sample", model, spec, training[["uscc", "year", *model.feature_names_, "label"]],
                      built.dropped, "test", checks=trained.checks)
    return save_card(card, out)


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from tiering.register import load_register

    base = tmp_path_factory.mktemp("select")
    card = sample_card(load_register(SAMPLE).frame, base / "sample")
    runner = CliRunner()
    first = runner.invoke(main, ["select", str(SAMPLE), "--year", "2025", "--out", str(base / "a")])
    second = runner.invoke(main, ["select", str(SAMPLE), "--year", "2025", "--out", str(base / "b")])
    top = pd.read_excel(base / "a" / "cultivation_list.xlsx", sheet_name="入选名单", dtype=str)
    cultivated = base / "cultivated.csv"
    cultivated.write_text(f"统一社会信用代码,年度\n{top['统一社会信用代码'][0]},2024\n", encoding="utf-8")
    third = runner.invoke(main, ["select", str(SAMPLE), "--year", "2025", "--n", "10", "--cultivated",
                                 str(cultivated), "--model", str(card), "--out", str(base / "c")])
    return {"base": base, "results": (first, second, third), "first_pick": top["统一社会信用代码"][0]}


def test_cli_list_respects_policy_constraints(cli_runs: dict) -> None:
    first = cli_runs["results"][0]
    assert first.exit_code == 0, first.output
    sheets = pd.read_excel(cli_runs["base"] / "a" / "cultivation_list.xlsx", sheet_name=None, dtype=str)
    assert list(sheets) == ["入选名单", "递补", "候选池", "未进入候选池", "说明", "列名对照"]
    chosen = sheets["入选名单"]
    assert len(chosen) == 15
    assert chosen["名次"].tolist() == [str(i) for i in range(1, 16)]
    assert set(chosen["所在区"]) == {"蓟州区"}
    assert chosen["产业集群"].value_counts().max() <= 6
    assert len(sheets["递补"]) == 5
    assert sheets["递补"]["未入选原因"].str.len().min() > 0
    briefs = sorted((cli_runs["base"] / "a" / "briefs").glob("*.md"))
    assert [p.name[:3] for p in briefs] == [f"{i:02d}_" for i in range(1, 16)]


def test_cli_list_members_are_eligible_by_the_rules(cli_runs: dict) -> None:
    from tiering.engine.evaluate import evaluate
    from tiering.explain.outcomes import outcome_frame
    from tiering.register import load_register
    from tiering.rules.library import load_library

    chosen = pd.read_excel(cli_runs["base"] / "a" / "cultivation_list.xlsx", sheet_name="入选名单", dtype=str)
    register = load_register(SAMPLE)
    outcomes = outcome_frame(evaluate(register.frame, load_library().in_force(dt.date(2025, 6, 30)), 2025))
    got = outcomes[outcomes["uscc"].isin(chosen["统一社会信用代码"])].pivot(
        index="uscc", columns="program", values="outcome").astype(str)
    assert (got["kjxzxqy"] == "qualified").all()
    assert (got["tj_xjr"] != "qualified").all()


def test_cli_same_inputs_give_the_same_bytes_but_the_run_id(cli_runs: dict) -> None:
    base = cli_runs["base"]
    assert cli_runs["results"][1].exit_code == 0
    files = sorted(p.relative_to(base / "a") for p in (base / "a").rglob("*") if p.is_file())
    assert len(files) == 32  # workbook, 15 Markdown and 15 PDF briefs, briefs.md
    for rel in [f for f in files if f.suffix == ".md"]:
        assert (base / "a" / rel).read_bytes() == (base / "b" / rel).read_bytes(), rel
    books = [pd.read_excel(base / run / "cultivation_list.xlsx", sheet_name=None, dtype=str) for run in "ab"]
    for name, sheet in books[0].items():
        other = books[1][name]
        if name == "说明":
            sheet, other = (s[s["项目"] != "运行编号"].reset_index(drop=True) for s in (sheet, other))
        pd.testing.assert_frame_equal(sheet, other)


def test_cli_cultivated_option_excludes_and_n_is_honoured(cli_runs: dict) -> None:
    third = cli_runs["results"][2]
    assert third.exit_code == 0, third.output
    sheets = pd.read_excel(cli_runs["base"] / "c" / "cultivation_list.xlsx", sheet_name=None, dtype=str)
    assert len(sheets["入选名单"]) == 10
    assert cli_runs["first_pick"] not in set(sheets["入选名单"]["统一社会信用代码"])
    outside = sheets["未进入候选池"].set_index("统一社会信用代码")
    assert outside.loc[cli_runs["first_pick"], "原因"] == "往年已入选培育名单（2024年）"


def test_cli_model_orders_the_same_pool_and_gives_reasons(cli_runs: dict) -> None:
    plain = pd.read_excel(cli_runs["base"] / "a" / "cultivation_list.xlsx", sheet_name=None, dtype=str)
    scored = pd.read_excel(cli_runs["base"] / "c" / "cultivation_list.xlsx", sheet_name=None, dtype=str)
    pool_plain = set(plain["候选池"]["统一社会信用代码"]) - {cli_runs["first_pick"]}
    assert set(scored["候选池"]["统一社会信用代码"]) == pool_plain
    assert "成长潜力评分卡（池内百分位%）" in scored["入选名单"].columns
    reasons = scored["入选名单"]["模型主要理由"].fillna("")
    # only features that raised the score are reasons, each with its declared rationale
    parts = [r for text in reasons for r in text.split("；") if r]
    assert parts and all(re.search(r"（\+\d+分）：\S", r) for r in parts if not r.startswith("无往年数据"))
    notes = scored["说明"].set_index("项目")["内容"]
    assert notes["成长潜力模型"].startswith("sample（sample.card.yaml，SHA-256 ")
    brief = sorted((cli_runs["base"] / "c" / "briefs").glob("01_*.md"))[0].read_text(encoding="utf-8")
    share = re.search(r"名次的来源：综合得分 ([\d.]+) 分中，"
                      r"技术水平 ([\d.]+) 分（\d+%），发展潜力 ([\d.]+) 分（\d+%）。", brief)
    assert share is not None, brief
    total, technical, growth = (float(g) for g in share.groups())
    assert technical + growth == pytest.approx(total, abs=0.011)
    assert "成长潜力模型的主要理由（为该企业加分最多的特征，括号内为加分）" in brief


def test_cli_refuses_count_outside_policy_range() -> None:
    # a folder left by an earlier run in the working directory (as out/select-2025 after a plain `tiering select`)
    # must not decide the answer: each test runs in an empty working directory of its own (conftest)
    assert not Path("out").exists()
    result = CliRunner().invoke(main, ["select", str(SAMPLE), "--year", "2025", "--n", "16"])
    assert result.exit_code == 2
    assert "--n 16 不在政策 jx-xjr-peiyu 允许的 10–15 家之内" in result.output


def test_cli_bad_policy_names_file_and_line(tmp_path: Path) -> None:
    path = small_policy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("years: 3", "years: 0"), encoding="utf-8")
    result = CliRunner().invoke(main, ["select", str(SAMPLE), "--year", "2025", "--policy", str(path)])
    assert result.exit_code == 3
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if "years: 0" in t)
    assert (f"错误 / error: {path}: 遴选政策有 1 处问题，请按各行所列位置修改（1 problem(s) in the selection policy） "
            "[policy-unusable]\n"
            f"  {path}:{line} exclusions.credit.years: Input should be greater than or equal to 1\n") in result.output


def test_report_lists_the_same_firms_as_select_with_the_same_model_and_earlier_lists(cli_runs: dict) -> None:
    """`tiering report` given select's policy, --n, --model and --cultivated writes select's list, pick by pick."""
    base = cli_runs["base"]
    third = cli_runs["results"][2]
    assert third.exit_code == 0, third.output
    card = base / "sample.card.yaml"
    cultivated = base / "cultivated.csv"
    report = CliRunner().invoke(main, ["report", str(SAMPLE), "--year", "2025", "--n", "10", "--cultivated",
                                       str(cultivated), "--model", str(card), "--firm", cli_runs["first_pick"],
                                       "--out", str(base / "report")])
    assert report.exit_code == 0, report.output
    selected = pd.read_excel(base / "c" / "cultivation_list.xlsx", sheet_name="入选名单", dtype=str)
    listed = pd.read_excel(base / "report" / "report.xlsx", sheet_name="培育名单", dtype=str)
    assert len(selected) == 10
    assert listed["统一社会信用代码"].tolist() == selected["统一社会信用代码"].tolist()
    assert cli_runs["first_pick"] not in listed["统一社会信用代码"].tolist()  # cultivated before: excluded by both
    without_model = CliRunner().invoke(main, ["report", str(SAMPLE), "--year", "2025", "--n", "10", "--cultivated",
                                              str(cultivated), "--firm", cli_runs["first_pick"],
                                              "--out", str(base / "report-plain")])
    assert without_model.exit_code == 0, without_model.output
    plain = pd.read_excel(base / "report-plain" / "report.xlsx", sheet_name="培育名单", dtype=str)
    assert plain["统一社会信用代码"].tolist() != selected["统一社会信用代码"].tolist()  # the model is what orders them
