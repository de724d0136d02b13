"""The audit store: chain, tampering caught, explanations from the stored trace, replay, concurrency, crashes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tiering.cli.audit_cmd  # noqa: F401  (registers ``audit`` on ``main``)
from tiering import exit_codes, uscc
from tiering.app import Classification
from tiering.app import classify as run_classification
from tiering.audit import db as audit_db
from tiering.audit import store as audit_store
from tiering.audit.db import traces_dir
from tiering.audit.replay import replay
from tiering.audit.show import firm_history, overrides_of
from tiering.audit.store import AuditWriteError, NothingRecorded, OverrideRefused, record_override, record_run
from tiering.audit.verify import verify
from tiering.cli import main
from tiering.register import load_register
from tiering.rules.library import RULES_DIR, RuleLibrary, load_library

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2025
ON = dt.date(2025, 6, 30)
RULE_FILE = "kjxzxqy-2022.yaml"
BASE_FILE = "kjxzxqy-2017.yaml"
"""The file RULE_FILE extends: a rule folder holding one holds both."""
FIRMS = [uscc.make(f"91120116MA05JX{k:02d}A") for k in range(4)]
HEADERS = {
    "uscc": "统一社会信用代码", "name": "企业名称", "year": "年度", "resident_enterprise": "境内居民企业",
    "employees": "职工总数", "tech_staff": "科技人员数", "revenue": "销售收入(万元)", "total_assets": "资产总额(万元)",
    "cost_expense": "成本费用支出总额(万元)", "rd_expense": "研发费用总额(万元)", "ip_class1": "Ⅰ类知识产权数量",
    "ip_class2": "Ⅱ类知识产权数量", "industry": "行业", "restricted_industry": "限制淘汰类或不适用加计扣除行业",
    "major_accident": "重大事故或严重环境违法", "research_misconduct": "科研严重失信",
    "abnormal_operation": "列入经营异常名录", "serious_dishonesty": "严重违法失信",
    "hitech_cert": "高新技术企业证书有效", "national_award_top3": "近五年国家级科技奖励前三",
    "rd_institution": "省部级以上研发机构", "standard_lead": "近五年主导制定标准",
}


def write_register(path: Path, rd: tuple[float, ...] = (30, 50, 70, 90),
                   industries: tuple[str, ...] = ("软件和信息技术服务业",) * 4) -> Path:
    """Four firms that differ in 研发费用 and 科技人员 (so two qualify on score and two do not)."""
    rows = []
    for k, code in enumerate(FIRMS):
        rows.append({
            "uscc": code, "name": f"测试企业{k}", "year": YEAR - 1, "resident_enterprise": "是", "employees": 100,
            "tech_staff": 5 + 5 * k, "revenue": 1500, "total_assets": 3000, "cost_expense": 1000, "rd_expense": rd[k],
            "ip_class1": k, "ip_class2": 2, "industry": industries[k], "restricted_industry": "否",
            "major_accident": "否", "research_misconduct": "否", "abnormal_operation": "否", "serious_dishonesty": "否",
            "hitech_cert": "否", "national_award_top3": "否", "rd_institution": "否", "standard_lead": "否",
        })
    pd.DataFrame(rows).rename(columns=HEADERS).to_csv(path, index=False)
    return path


def library(rules_dir: Path = RULES_DIR) -> RuleLibrary:
    """Only the 科技型中小企业 rule file: these tests must not move when other programs' rules are added."""
    return load_library(rules_dir, files=[rules_dir / RULE_FILE])


def classify(register: Path, rules_dir: Path = RULES_DIR) -> Classification:
    return run_classification(load_register(register), library(rules_dir).in_force(ON), YEAR, ON)


def record(store: Path, register: Path, rules_dir: Path = RULES_DIR) -> str:
    run = classify(register, rules_dir)
    return record_run(store, run, ["tiering", "classify", str(register)])


@pytest.fixture
def register(tmp_path: Path) -> Path:
    return write_register(tmp_path / "firms.csv")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.sqlite"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def untriggered(store: Path) -> sqlite3.Connection:
    """A raw connection with the append-only triggers dropped: what someone editing behind the tool's back does."""
    conn = sqlite3.connect(store, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


# --- chain -------------------------------------------------------------------------------------------------------


def test_runs_chain_to_each_other_and_verify(store: Path, register: Path) -> None:
    first, second = record(store, register), record(store, register)
    conn = sqlite3.connect(store)
    rows = conn.execute("SELECT ref, prev_hash, hash FROM records ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [first, second]
    assert rows[0][1] == "0" * 64 and rows[1][1] == rows[0][2]
    assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 2 * len(FIRMS)
    report = verify(store)
    assert (report.ok, report.records, report.runs, report.head, report.orphans) == (True, 2, 2, rows[1][2], [])
    code, out = cli("audit", "verify", "--store", str(store))
    assert code == exit_codes.OK
    assert out == f"审计链完整 chain intact: 2 条记录（2 次运行，0 项人工调整），链头 head {rows[1][2]}\n"


def test_run_record_holds_user_command_input_and_rule_hashes(store: Path, register: Path) -> None:
    run_id = record(store, register)
    conn = sqlite3.connect(store)
    body = audit_store.run_record(conn, run_id)
    rules = library().in_force(ON)
    assert body["command"] == ["tiering", "classify", str(register)]
    assert body["input"]["sha256"] == load_register(register).sha256
    assert [(r["id"], r["version"], r["sha256"]) for r in body["rulesets"]] == [(r.id, r.version, r.sha256)
                                                                                 for r in rules]
    assert body["user"] and body["tool_version"] and body["year"] == YEAR and body["eval_date"] == "2025-06-30"
    trace = pq.read_table(traces_dir(store) / run_id)
    assert trace.num_rows == body["trace"]["rows"] == len(FIRMS) * len(rules[0].root.walk())


def test_runs_lists_each_run_with_its_record_hash(store: Path, register: Path) -> None:
    run_id = record(store, register)
    digest = sqlite3.connect(store).execute("SELECT hash FROM records").fetchone()[0]
    code, out = cli("audit", "runs", "--store", str(store))
    assert code == exit_codes.OK
    [line] = out.splitlines()
    assert line.startswith(f"{run_id}  ")
    assert line.endswith(f"申报年度 2025  4 家  firms.csv  hash {digest[:16]}  [kjxzxqy-2022@2022.1]")


def test_store_refuses_updates_and_deletes(store: Path, register: Path) -> None:
    record(store, register)
    conn = sqlite3.connect(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: decisions rows cannot be updated"):
        conn.execute("UPDATE decisions SET outcome = 'qualified'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: records rows cannot be deleted"):
        conn.execute("DELETE FROM records")


def test_classify_records_its_run_unless_told_not_to(store: Path, register: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES_DIR / RULE_FILE, rules / RULE_FILE)
    shutil.copy(RULES_DIR / BASE_FILE, rules / BASE_FILE)
    args = ["classify", str(register), "--year", "2025", "--rules", str(rules), "--format", "csv",
            "--store", str(store)]
    code, out = cli(*args, "--out", str(tmp_path / "a"))
    assert code == exit_codes.OK, out
    run_id = out.splitlines()[-2].split()[3]
    assert out.splitlines()[-2] == f"审计记录 audit run {run_id} in {store}"
    head = sqlite3.connect(store).execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert out.splitlines()[-1].startswith(f"链头 chain head {head}  ")  # the value to keep for --anchor
    code, out = cli(*args, "--out", str(tmp_path / "b"), "--no-audit")
    assert code == exit_codes.OK and "审计记录" not in out
    report = verify(store)
    assert (report.ok, report.runs) == (True, 1)
    # CliRunner runs in-process, so the command line recorded is this process's own
    assert audit_store.run_record(sqlite3.connect(store), run_id)["command"] == sys.argv


def test_select_run_records_policy_model_hashes_and_the_list(store: Path, register: Path) -> None:
    run = classify(register)
    picks = [{"pick": 1, "uscc": FIRMS[3], "name": "测试企业3", "score": np.float64(0.91234)}]
    run_id = record_run(store, run, ["tiering", "select"],
                        attachments={"selection_policy": "a" * 64, "model_card": "b" * 64}, selection=picks)
    body = audit_store.run_record(sqlite3.connect(store), run_id)
    assert body["attachments"] == {"model_card": "b" * 64, "selection_policy": "a" * 64}
    assert body["selection"] == [{"pick": 1, "uscc": FIRMS[3], "name": "测试企业3", "score": 0.91234}]
    chosen = firm_history(store, FIRMS[3], brief=True).splitlines()
    assert "    遴选 selection: 第 1 位入选（综合得分 0.91）" in chosen
    assert f"    selection_policy: SHA-256 {'a' * 64}" in chosen
    assert "    遴选 selection: 未入选（名单 1 家）" in firm_history(store, FIRMS[0], brief=True).splitlines()
    untriggered(store).execute("UPDATE records SET body = replace(body, ?, ?)", (FIRMS[3], FIRMS[0]))
    assert verify(store).broken is not None


# --- tampering ---------------------------------------------------------------------------------------------------


def test_edited_decision_is_caught_and_named(store: Path, register: Path) -> None:
    record(store, register)
    second = record(store, register)
    untriggered(store).execute("UPDATE decisions SET outcome = (SELECT id FROM texts WHERE text = 'qualified') "
                               "WHERE run = (SELECT seq FROM records WHERE ref = ?) AND uscc = ?", (second, FIRMS[0]))
    report = verify(store)
    assert report.records == 1
    assert report.broken is not None
    assert report.broken.message() == (f"第 2 条记录 {second} 校验失败 (record #2 {second} broken): "
                                       "the decisions table rows of this run were changed")
    code, out = cli("audit", "verify", "--store", str(store))
    assert code == exit_codes.CHECK_FAILED == 4
    assert out.splitlines()[0] == "校验 1 条记录通过，随后链条断开 chain broken after 1 good record(s)"


def test_edited_shared_text_is_caught(store: Path, register: Path) -> None:
    """A reason text is stored once and shared by runs; editing it changes the first run that uses it."""
    first = record(store, register)
    record(store, register)
    untriggered(store).execute("UPDATE texts SET text = 'qualified ' WHERE text = 'qualified'")
    report = verify(store)
    assert report.broken is not None and report.broken.ref == first
    assert report.broken.problem == "the decisions table rows of this run were changed"


def test_records_cut_off_the_end_are_caught_by_an_anchor(store: Path, register: Path) -> None:
    record(store, register)
    second = record(store, register)
    anchor = sqlite3.connect(store).execute("SELECT hash FROM records WHERE ref = ?", (second,)).fetchone()[0]
    assert verify(store, (anchor[:16],)).ok
    conn = untriggered(store)
    conn.execute("DELETE FROM decisions WHERE run = (SELECT seq FROM records WHERE ref = ?)", (second,))
    conn.execute("DELETE FROM records WHERE ref = ?", (second,))
    shutil.rmtree(traces_dir(store) / second)
    assert verify(store).ok  # a chain alone cannot see that its newest link is gone …
    report = verify(store, (anchor[:16],))  # … an anchor kept elsewhere can
    assert report.broken is not None and report.broken.problem.startswith("this anchor hash, kept outside the store")
    code, _ = cli("audit", "verify", "--store", str(store), "--anchor", anchor[:16])
    assert code == exit_codes.CHECK_FAILED


@pytest.mark.parametrize("column", ["prev_hash", "hash"])
def test_edited_hash_columns_are_caught(store: Path, register: Path, column: str) -> None:
    first = record(store, register)
    record(store, register)
    untriggered(store).execute(f"UPDATE records SET {column} = ? WHERE ref = ?", ("f" * 64, first))
    report = verify(store)
    assert report.broken is not None and report.records < 2


def test_edited_record_body_is_caught(store: Path, register: Path) -> None:
    first = record(store, register)
    record(store, register)
    untriggered(store).execute("UPDATE records SET body = replace(body, '\"year\":2025', '\"year\":2024') "
                               "WHERE ref = ?", (first,))
    report = verify(store)
    assert report.records == 0
    assert report.broken is not None
    assert report.broken.problem == "the record's content does not match its hash (the record was edited)"


def test_rehashed_record_breaks_the_next_link(store: Path, register: Path) -> None:
    """Recomputing a record's own hash after editing it does not help: the next record points to the old hash."""
    first = record(store, register)
    second = record(store, register)
    conn = untriggered(store)
    body = conn.execute("SELECT body FROM records WHERE ref = ?", (first,)).fetchone()[0]
    body = body.replace('"year":2025', '"year":2024')
    from tiering.audit.chain import GENESIS, record_hash

    conn.execute("UPDATE records SET body = ?, hash = ? WHERE ref = ?", (body, record_hash(GENESIS, body), first))
    report = verify(store)
    assert report.broken is not None and report.broken.ref == second and report.records == 1
    assert report.broken.problem.startswith("prev_hash ") and "does not match the previous record's hash" in (
        report.broken.problem)


def test_rewritten_trace_file_is_caught(store: Path, register: Path) -> None:
    run_id = record(store, register)
    path = traces_dir(store) / run_id
    part = path / "part-0.parquet"
    table = pq.read_table(part)
    value = table.column("value")
    table = table.set_column(table.schema.get_field_index("value"), "value", pc.multiply(value, 2.0))
    pq.write_table(table, part)
    report = verify(store)
    assert report.broken is not None and report.broken.seq == 1
    assert report.broken.problem.startswith(f"trace file {path} was changed (SHA-256 ")


def test_deleted_trace_file_is_caught(store: Path, register: Path) -> None:
    run_id = record(store, register)
    (traces_dir(store) / run_id / "part-0.parquet").unlink()
    report = verify(store)
    assert report.broken is not None
    assert report.broken.problem == f"trace file {traces_dir(store) / run_id} is missing"


def test_trace_stored_as_one_file_still_verifies_and_explains(store: Path, register: Path) -> None:
    """Stores written before traces became folders hold one Parquet file per run; they must stay readable."""
    run_id = record(store, register)
    folder = traces_dir(store) / run_id
    one_file = (folder / "part-0.parquet").read_bytes()
    shutil.rmtree(folder)
    folder.write_bytes(one_file)
    assert verify(store).ok
    lines = firm_history(store, "测试企业1").splitlines()  # the explanation is rebuilt from the trace file
    assert "      结果：不符合  得分：54分" in lines
    assert any(line.strip() == "✘ 综合评价得分不低于60分：54分，要求 ≥ 60分 —— 国科发政〔2017〕115号 第六条（五）"
               for line in lines)


def test_edited_rule_text_is_caught(store: Path, register: Path) -> None:
    record(store, register)
    untriggered(store).execute("UPDATE rule_texts SET content = CAST('id: x' AS BLOB)")
    report = verify(store)
    assert report.broken is not None
    assert report.broken.problem == "the stored text of rule set kjxzxqy-2022 2022.1 is missing or was changed"


# --- show and overrides ------------------------------------------------------------------------------------------


def test_show_explains_from_the_stored_trace_even_after_the_register_is_gone(store: Path, register: Path) -> None:
    run_id = record(store, register)
    register.unlink()
    text = firm_history(store, "测试企业1")
    lines = text.splitlines()
    assert lines[0] == f"企业 {FIRMS[1]} 的全部审计记录：1 次运行 (decisions recorded in 1 run(s))"
    assert f"═══ 运行 run {run_id}" in lines[2]
    assert lines[4].startswith(f"    输入 input: {register}  SHA-256 ")
    assert lines[5].startswith("  [kjxzxqy-2022 版本 2022.1 SHA-256 ")
    assert lines[5].endswith("] 测试企业1：不符合  得分 54分  "
                             "未满足：直通车条件（符合其一即可）：均不满足；综合评价得分不低于60分")
    assert "      结果：不符合  得分：54分" in lines
    industry = "✔ 不属于财税〔2015〕119号规定的不适用税前加计扣除政策的行业：软件和信息技术服务业，要求 不属于 烟草"
    assert any(line.strip().startswith(industry) for line in lines)
    assert any(line.strip() == "✘ 综合评价得分不低于60分：54分，要求 ≥ 60分 —— 国科发政〔2017〕115号 第六条（五）"
               for line in lines)


def test_show_filters_by_year_and_run_and_names_unknown_firms(store: Path, register: Path) -> None:
    first = record(store, register)
    second = record(store, register)
    assert firm_history(store, FIRMS[2], run_id=second, brief=True).count("═══ 运行 run") == 1
    assert firm_history(store, FIRMS[2], year=YEAR, brief=True).count("═══ 运行 run") == 2
    assert first in firm_history(store, FIRMS[2], brief=True)
    with pytest.raises(NothingRecorded, match=f"no decision for firm {FIRMS[2]} in application year 2024"):
        firm_history(store, FIRMS[2], year=2024)
    code, out = cli("audit", "show", "无此企业", "--store", str(store))
    assert code == exit_codes.UNUSABLE_INPUT
    assert "the audit store has no decision for firm '无此企业'" in out


def test_override_sits_beside_the_machine_decision(store: Path, register: Path) -> None:
    run_id = record(store, register)
    code, out = cli("audit", "override", "测试企业0", "--ruleset", "kjxzxqy-2022", "--outcome", "qualified",
                    "--by", "王芳", "--why", "复核后研发费用应计入委托研发", "--evidence", "津科函〔2025〕12号",
                    "--year", "2025", "--store", str(store))
    assert code == 0 and out.startswith("已记录人工调整 override recorded: override-")
    text = firm_history(store, FIRMS[0], brief=True)
    assert "测试企业0：不符合" in text
    assert ("人工调整 override（申报年度 2025）：kjxzxqy-2022 改判为「符合」，由 王芳 于 " in text
            and "记录；理由：复核后研发费用应计入委托研发；证据：津科函〔2025〕12号" in text)
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT outcome FROM decision_view WHERE run_id = ? AND uscc = ?",
                        (run_id, FIRMS[0])).fetchone() == ("not_qualified",)
    report = verify(store)
    assert (report.ok, report.runs, report.overrides) == (True, 1, 1)
    [line] = overrides_of(store, FIRMS[0], "kjxzxqy-2022", 2025)
    assert line.startswith("人工调整 override（申报年度 2025）：kjxzxqy-2022 改判为「符合」")
    assert overrides_of(store, FIRMS[0], "kjxzxqy-2022", 2026) == []


def test_override_needs_a_recorded_decision(store: Path, register: Path) -> None:
    record(store, register)
    with pytest.raises(NothingRecorded, match=f"firm {FIRMS[0]} has no recorded decision under rule set 'gxqy'"):
        record_override(store, FIRMS[0], "gxqy", "qualified", "王芳", "x")
    with pytest.raises(OverrideRefused,
                       match="outcome must be one of qualified, not_qualified, undetermined; got 'yes'"):
        record_override(store, FIRMS[0], "kjxzxqy-2022", "yes", "王芳", "x")


# --- replay ------------------------------------------------------------------------------------------------------


def test_replay_of_unchanged_data_is_identical(store: Path, register: Path) -> None:
    run_id = record(store, register)
    report = replay(store, run_id, load_register(register))
    assert (report.identical, report.compared, report.notes) == (True, len(FIRMS), [])
    code, out = cli("audit", "replay", str(register), run_id, "--store", str(store))
    assert code == exit_codes.OK
    assert out.splitlines() == [
        f"重放运行 replay of run {run_id}: 比较 4 项决定 (firm × rule set)",
        "结果完全一致 identical: every outcome, score, path and reason is the same as recorded.",
    ]


def test_replay_of_changed_data_names_the_input_and_the_criteria(store: Path, register: Path, tmp_path: Path) -> None:
    run_id = record(store, register)
    changed = write_register(tmp_path / "changed.csv", rd=(30, 90, 70, 90))
    report = replay(store, run_id, load_register(changed))
    assert not report.identical
    assert report.notes[0].startswith(f"输入数据已改变 changed data: {changed} SHA-256 ")
    [diff] = report.differences
    assert (diff.uscc, diff.ruleset_id, diff.was["outcome"], diff.now["outcome"]) == (
        FIRMS[1], "kjxzxqy-2022", "not_qualified", "qualified")
    assert diff.criteria == [
        "科技型中小企业评价：value 1 → 2；status 「fail」 → 「pass」",
        "直通车或综合评价：value 0 → 1；status 「fail」 → 「pass」；band 「」 → 「evaluation」",
        "综合评价：value 1 → 2；status 「fail」 → 「pass」",
        "综合评价得分不低于60分：value 54 → 84；status 「fail」 → 「pass」；points_min 54 → 84；points_max 54 → 84",
        "研发投入指标得分（两项择高）：value 20 → 50；points_min 20 → 50；points_max 20 → 50",
        "研发费用占销售收入比例得分：value 0.0333333 → 0.06；points_min 20 → 50；points_max 20 → 50；"
        "band 「3%（含）-4%」 → 「6%以上（含）」",
        "研发费用占成本费用支出比例得分：value 0.05 → 0.09",
    ]
    # the earlier form RUN_ID --register REGISTER is still accepted
    code, _ = cli("audit", "replay", run_id, "--register", str(changed), "--store", str(store))
    assert code == exit_codes.CHECK_FAILED


def test_replay_names_a_firm_missing_from_the_register(store: Path, register: Path, tmp_path: Path) -> None:
    run_id = record(store, register)
    fewer = tmp_path / "fewer.csv"
    pd.read_csv(register).iloc[:3].to_csv(fewer, index=False)
    report = replay(store, run_id, load_register(fewer))
    assert report.text().splitlines()[2:] == [
        "结果不一致 differs: 1 项决定与记录不同",
        f"  {FIRMS[3]} 测试企业3 [kjxzxqy-2022]: 记录中为「qualified」，重放时未评价该企业 "
        "(firm not evaluated in the replay)",
    ]


def test_replay_pins_the_stored_rules_and_says_the_file_changed(store: Path, register: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES_DIR / RULE_FILE, rules / RULE_FILE)
    shutil.copy(RULES_DIR / BASE_FILE, rules / BASE_FILE)
    run_id = record(store, register, rules)
    path = rules / BASE_FILE  # the pass mark kjxzxqy-2022 keeps from the file it extends
    path.write_text(path.read_text(encoding="utf-8").replace("threshold: 60", "threshold: 50"), encoding="utf-8")
    pinned = replay(store, run_id, load_register(register))
    assert pinned.identical
    assert len(pinned.notes) == 1
    assert pinned.notes[0].startswith(f"规则文件已修改 rule file changed since the run: {path.resolve()} SHA-256 ")
    assert pinned.notes[0].endswith("使用审计库中保存的原版本 kjxzxqy-2022 2022.1")
    current = replay(store, run_id, load_register(register), library(rules))
    assert current.notes[0].endswith("本次使用当前文件 kjxzxqy-2022 2022.1")
    assert [(d.uscc, d.was["outcome"], d.now["outcome"]) for d in current.differences] == [
        (FIRMS[1], "not_qualified", "qualified")]


# --- concurrency and crashes ---------------------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_audit import record
    store, register, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.01)
    for _ in range(3):
        print(record(store, register))
""")


def test_two_processes_writing_at_once_both_succeed(store: Path, register: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER.format(tests=str(ROOT / "tests")), encoding="utf-8")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(script), str(store), str(register), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    time.sleep(0.5)
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outputs]
    ids = [line for out, _ in outputs for line in out.split()]
    assert len(set(ids)) == 6
    report = verify(store)
    assert (report.ok, report.runs, report.orphans) == (True, 6, [])


_CRASHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from tiering.audit import store as audit_store
    from test_audit import record
    store, register, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    real = audit_store._append
    def stalled(*args):
        digest = real(*args)
        ready.touch()
        time.sleep(60)
        return digest
    audit_store._append = stalled
    record(store, register)
""")


def test_killed_writer_leaves_no_half_written_run(store: Path, register: Path, tmp_path: Path) -> None:
    record(store, register)
    script = tmp_path / "crasher.py"
    script.write_text(_CRASHER.format(tests=str(ROOT / "tests")), encoding="utf-8")
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, str(script), str(store), str(register), str(ready)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready.exists(), "the writer never reached its transaction"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    report = verify(store)
    assert (report.ok, report.runs) == (True, 1)
    assert len(report.orphans) == 1 and report.orphans[0].endswith(".tmp")
    assert sqlite3.connect(store).execute("SELECT COUNT(DISTINCT run) FROM decisions").fetchone() == (1,)
    code, out = cli("audit", "clean", "--store", str(store))
    assert code == 0 and f"已删除孤立文件 removed orphan {report.orphans[0]}" in out, out
    assert "删除 1 个孤立文件 removed 1 orphan(s); 1 次运行不变" in out
    assert sorted(p.name for p in traces_dir(store).iterdir()) == [verify(store).orphans and "" or
                                                                   sqlite3.connect(store).execute(
                                                                       "SELECT ref FROM records").fetchone()[0]]
    record(store, register)
    assert verify(store).runs == 2


def test_writer_waits_for_a_held_lock_then_succeeds(store: Path, register: Path) -> None:
    record(store, register)
    run = classify(register)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    done: list[str] = []
    writer = threading.Thread(target=lambda: done.append(record_run(store, run, ["t"])))
    writer.start()
    time.sleep(0.5)
    assert writer.is_alive() and not done
    holder.execute("COMMIT")
    writer.join(timeout=30)
    assert len(done) == 1
    assert verify(store).runs == 2


def test_lock_held_too_long_fails_cleanly(store: Path, register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(store, register)
    monkeypatch.setattr(audit_db, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(AuditWriteError, match=f"audit store {store} is locked by another run for too long"):
        record(store, register)
    holder.execute("ROLLBACK")
    report = verify(store)
    assert (report.ok, report.runs, report.orphans) == (True, 1, [])


def test_failure_between_rename_and_commit_rolls_everything_back(store: Path, register: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    record(store, register)
    real = os.replace

    def rename_then_fail(src: Path, dst: Path) -> None:
        real(src, dst)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(audit_store.os, "replace", rename_then_fail)
    with pytest.raises(OSError, match="disk full"):
        record(store, register)
    monkeypatch.undo()
    report = verify(store)
    assert (report.ok, report.runs, report.orphans) == (True, 1, [])
    assert len(list(traces_dir(store).iterdir())) == 1
