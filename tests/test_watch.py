"""tiering watch: events, routing, reminders, idempotency, ordering, dead letters, crash recovery and replay."""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import tiering.cli.watch_cmd  # noqa: F401  (registers `watch` until commands.py imports it)
from tiering.cli import main
from tiering.register import load_register
from tiering.watch import routing
from tiering.watch.clock import SimulatedClock
from tiering.watch.events import EventError, ops_of, parse_event
from tiering.watch.monitor import APPLYING, Monitor
from tiering.watch.panel import FirmPanel
from tiering.watch.sources import Line, lines_ahead, read_path
from tiering.watch.synth import synthetic_lines

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "datasets" / "sample_register.xlsx"
EVENTS = ROOT / "datasets" / "events" / "sample_events.jsonl"
JINDONG = "91120116MA05000011"  # 津东精密机械有限公司
DONGLI_ZN = "91120116MA0500004A"  # 东丽智能装备有限公司


def _monitor(state: Path, day: dt.date = dt.date(2025, 1, 1), batch: int = 1000) -> Monitor:
    return Monitor(state, REGISTER, year=2025, clock=SimulatedClock(day), batch_size=batch)


def _lines(texts: list[str], source: str = "<test>") -> list[Line]:
    return [Line(source, 0, t, 0.0) for t in texts]


def _event(event_id: str, firm: str, kind: str, day: str, payload: dict) -> str:
    return json.dumps({"event_id": event_id, "firm_id": firm, "type": kind, "date": day, "payload": payload},
                      ensure_ascii=False)


def _alerts(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Monitor, Path]:
    state = tmp_path_factory.mktemp("sample")
    m = _monitor(state, dt.date(2025, 1, 1))
    m.run(read_path(EVENTS, {}))
    return m, state


# --- events ------------------------------------------------------------------------------------------------

def test_malformed_events_say_what_is_wrong() -> None:
    with pytest.raises(EventError, match="^不是 JSON：第 1 列起无法解析$"):
        parse_event("oops")
    with pytest.raises(EventError, match="^未知的事件类型“merger”；可用的类型：figures、patent_granted"):
        parse_event(_event("a", JINDONG, "merger", "2025-01-01", {}))
    with pytest.raises(EventError, match="^date：应为日期，如 2025-03-01$"):
        parse_event(_event("a", JINDONG, "accident_reported", "2025-13-45", {}))
    with pytest.raises(EventError, match="^“figures”事件的 payload：values：“colour”不是 tiering/fields.yaml "
                                         "中按年度填报的数值字段 id$"):
        parse_event(_event("a", JINDONG, "figures", "2025-01-01", {"year": 2024, "values": {"colour": 1}}))
    with pytest.raises(EventError, match="高新技术企业证书（hitech）须写明有效期 expiry"):
        parse_event(_event("a", JINDONG, "certificate_issued", "2025-01-01", {"certificate": "hitech"}))


def test_status_events_land_on_the_data_year_row_and_chinese_list_names_are_accepted() -> None:
    p = parse_event(_event("a", JINDONG, "credit_listed", "2025-06-03", {"list": "经营异常"}))
    [op] = ops_of(p, data_year=2024)
    assert (op.year, op.field, op.how, op.value) == (2024, "abnormal_operation", "set", 1.0)
    cleared = parse_event(_event("b", JINDONG, "credit_cleared", "2025-07-01", {"list": "经营异常"}))
    assert ops_of(cleared, 2024) == []  # an ordinary clearance does not undo a listing inside the window


def test_panel_does_not_depend_on_arrival_order() -> None:
    frame = load_register(REGISTER).frame
    texts = [
        _event("e1", JINDONG, "figures", "2025-02-01", {"year": 2024, "values": {"revenue": 7000}}),
        _event("e2", JINDONG, "figures", "2025-03-01", {"year": 2024, "values": {"revenue": 8000}}),
        _event("e3", JINDONG, "figures", "2025-01-15", {"year": 2024, "period": "Q4", "values": {"revenue": 9}}),
        _event("e4", JINDONG, "patent_granted", "2025-02-10", {"ip_class": 1, "count": 2}),
        _event("e5", JINDONG, "patent_lapsed", "2025-04-10", {"ip_class": 1}),
        _event("e6", JINDONG, "investment_received", "2025-05-01", {"amount": 300}),
        _event("e7", JINDONG, "investment_received", "2025-04-01", {"amount": 900}),
    ]
    frames = []
    for order in (texts, list(reversed(texts))):
        panel = FirmPanel(frame)
        for t in order:
            p = parse_event(t)
            panel.apply(p.event.firm_id, p.event.date, p.event.event_id, ops_of(p, 2024))
        frames.append(panel.frame([JINDONG]))
    assert frames[0].equals(frames[1])
    row = frames[0][frames[0]["year"] == 2024].iloc[0]
    before = frame[(frame["uscc"] == JINDONG) & (frame["year"] == 2024)].iloc[0]
    assert row["revenue"] == 8000  # the later-dated annual figure wins; the quarterly one never beats annual data
    assert row["ip_class1"] == before["ip_class1"] + 1
    assert row["vc_investment"] == 900


# --- routing -------------------------------------------------------------------------------------------------

def test_durable_ruleset_is_generated_from_rule_set_needs(sample_run: tuple[Monitor, Path]) -> None:
    m, _ = sample_run
    rules = routing.definition(m.rulesets, m.reminders)
    fields = routing.routing_fields(m.rulesets)
    for rs in m.rulesets:
        cond = rules[routing.evaluate_rule(rs.id)]["all"][0]["m"]
        terms = cond.get("$or", [cond])
        assert sorted(next(iter(t)) for t in terms) == [f"f_{f}" for f in fields[rs.id]]
        assert set(rs.needs) <= set(fields[rs.id])
    assert rules[routing.CATCH_ALL] == {"all": [{"m": {"$ex": {"route_id": 1}}}], "pri": 1000}
    assert max(r["pri"] for r in rules.values()) == 1000
    assert routing.ruleset_name(rules) == routing.ruleset_name(json.loads(json.dumps(rules)))
    fewer = routing.definition(m.rulesets[:1], {})
    assert routing.ruleset_name(fewer) != routing.ruleset_name(rules)


def test_router_routes_by_fields_and_never_raises_not_handled(sample_run: tuple[Monitor, Path]) -> None:
    m, _ = sample_run
    router = routing.Router(m.rulesets, m.reminders)  # same definition: reuses the registered ruleset
    assert router.name == m.router.name
    decision = router.route(routing.event_message("credit_listed", {"abnormal_operation"}))
    expected = {routing.evaluate_rule(rs.id) for rs in m.rulesets
                if "abnormal_operation" in routing.routing_fields(m.rulesets)[rs.id]}
    assert decision == expected
    assert "evaluate__kjxzxqy-2022" in decision
    assert router.route(routing.event_message("credit_cleared", set())) == frozenset()
    assert "remind__growth_window" in router.route(routing.event_message("figures", {"revenue"}, 3))
    assert "remind__growth_window" not in router.route(routing.event_message("figures", {"revenue"}, 2))
    assert router.route(routing.outcome_message("kjxzxqy", 1)) == {"remind__kjxzxqy_renewal"}
    posts = router.posts
    router.route(routing.event_message("credit_listed", {"abnormal_operation"}))
    assert router.posts == posts  # memoised per signature


# --- the sample stream -------------------------------------------------------------------------------------------

def test_sample_stream_alerts_dead_letters_and_duplicates(sample_run: tuple[Monitor, Path]) -> None:
    m, state = sample_run
    assert (m.stats.lines, m.stats.applied, m.stats.duplicates, m.stats.dead) == (22, 17, 1, 4)
    texts = [a["text"] for a in _alerts(state / "alerts.jsonl") if a["kind"] == "outcome_change"]
    assert ("2025-06-03 津东精密机械有限公司 不再符合科技型中小企业：列入经营异常名录（未满足：上一会计年度及当年"
            "未列入经营异常名录（国科火字〔2022〕67号 评价条件（四）））") in texts
    assert ("2025-07-01 津东精密机械有限公司 新符合科技型中小企业：移出经营异常名录（符合，经由「综合评价」）"
            in texts)
    assert ("2025-01-15 东丽智能装备有限公司 新符合科技型中小企业：高新技术企业证书取得"
            "（符合，经由「直通车条件（符合其一即可）」）") in texts
    jd = [a for a in _alerts(state / "alerts.jsonl") if a.get("ruleset_id") == "kjxzxqy-2022"
          and a["firm_id"] == JINDONG]
    assert [(a["before"], a["after"], a["event"]["event_id"]) for a in jd] == [
        ("qualified", "not_qualified", "ev-0007"), ("not_qualified", "qualified", "ev-0014")]
    assert all(a["routed"] for a in _alerts(state / "alerts.jsonl") if a["kind"] == "outcome_change")
    dead = _alerts(state / "dead_letter.jsonl")
    assert [d["reason"] for d in dead] == [
        "不是 JSON：第 1 列起无法解析",
        "未知的事件类型“merger”；可用的类型：figures、patent_granted、patent_lapsed、certificate_issued、"
        "certificate_expired、certificate_revoked、credit_listed、credit_cleared、accident_reported、"
        "investment_received",
        f"企业 91120116MA05999999 不在登记表 {REGISTER} 中：请把它的各年度行加入登记表，再用新的状态目录重新开始监测",
        "“figures”事件的 payload：values.revenue：应为数字",
    ]
    assert m.tiers().equals(m.batch_tiers())


def test_reminders_fire_by_the_simulated_clock_once(tmp_path: Path) -> None:
    m = _monitor(tmp_path, dt.date(2025, 1, 1))
    m.run(read_path(EVENTS, {}))

    def hitech() -> list[dict]:
        return [a for a in _alerts(tmp_path / "alerts.jsonl") if a.get("reminder") == "hitech_expiry"]

    m.clock.set(dt.date(2025, 10, 1))
    m.fire_reminders()
    assert hitech() == []
    m.clock.set(dt.date(2025, 10, 2))  # 90 days before the certificate's 2025-12-31 expiry
    assert m.fire_reminders() >= 1
    [alert] = hitech()
    assert alert["text"] == "东丽智能装备有限公司 的高新技术企业证书将于 2025-12-31 到期，请提醒企业准备重新认定"
    assert (alert["date"], alert["firm_id"], alert["cause"]) == ("2025-10-02", DONGLI_ZN, "ev-0001")
    assert m.fire_reminders() == 0
    m.clock.set(dt.date(2026, 3, 1))
    m.fire_reminders()
    renewals = [a for a in _alerts(tmp_path / "alerts.jsonl") if a.get("reminder") == "kjxzxqy_renewal"]
    qualified_ever = {f for (f, r), o in m.outcomes.items() if r == "kjxzxqy-2022" and o == 1}
    assert {a["firm_id"] for a in renewals} >= qualified_ever
    assert all(a["due"] == "2026-03-31" for a in renewals)

    def growth() -> list[str]:
        return [a["cause"] for a in _alerts(tmp_path / "alerts.jsonl") if a.get("reminder") == "growth_window"]

    assert sorted(growth()) == ["ev-0002", "ev-0010", "ev-0016"]  # ev-0018's 2025 report is dated 2026-03-20
    m.clock.set(dt.date(2026, 3, 20))
    m.fire_reminders()
    assert sorted(growth()) == ["ev-0002", "ev-0010", "ev-0016", "ev-0018"]


# --- idempotency, ordering, restart -----------------------------------------------------------------------------

def test_repeated_event_ids_are_ignored_across_restarts(tmp_path: Path) -> None:
    m = _monitor(tmp_path)
    m.run(read_path(EVENTS, {}))
    count = m.store.event_count()
    m.close()
    again = _monitor(tmp_path)
    copy = tmp_path / "copy.jsonl"  # another source: its position is unknown, so every line is read again
    copy.write_bytes(EVENTS.read_bytes())
    again.run(read_path(copy, {}))
    assert again.stats.applied == 0
    assert again.stats.duplicates == 18
    assert again.store.event_count() == count
    assert again.stats.alerts == 0


def test_events_out_of_date_order_are_applied_by_date(tmp_path: Path) -> None:
    listed = _event("x1", JINDONG, "credit_listed", "2025-06-03", {"list": "abnormal_operation"})
    cleared = _event("x2", JINDONG, "credit_cleared", "2025-07-01",
                     {"list": "abnormal_operation", "erroneous": True})
    relisted = _event("x3", JINDONG, "credit_listed", "2025-08-01", {"list": "abnormal_operation"})
    a = _monitor(tmp_path / "a", batch=1)
    a.run(_lines([listed, cleared, relisted]))
    b = _monitor(tmp_path / "b", batch=1)
    b.run(_lines([relisted, cleared, listed]))  # the erroneous clearance of 07-01 cannot undo the 08-01 listing
    assert a.tiers().equals(b.tiers())
    assert a.outcomes.get(JINDONG, "kjxzxqy-2022") == 0


def test_resume_from_stored_position(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = EVENTS.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:9]), encoding="utf-8")
    first = _monitor(tmp_path / "state", batch=4)
    first.run(read_path(events, first.positions()))
    first.close()
    with events.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines[9:]))
    second = _monitor(tmp_path / "state", batch=4)
    second.run(read_path(events, second.positions()))
    assert (second.stats.lines, second.stats.duplicates) == (len(lines) - 9, 0)
    whole = _monitor(tmp_path / "whole", batch=5)
    heard: list[tuple[str, int, int]] = []
    total = lines_ahead(EVENTS, {})
    whole.run(read_path(EVENTS, {}), lambda *said: heard.append(said), total)
    assert total == len(lines) and heard[0] == (APPLYING, 0, total) and heard[-1] == (APPLYING, total, total)
    assert [done for _, done, _ in heard] == sorted({0, *range(5, total, 5), total})  # after every batch
    assert lines_ahead(events, second.positions()) == 0  # all read: nothing ahead
    assert second.tiers().equals(whole.tiers())
    assert second.store.event_count() == whole.store.event_count() == 17


def _watch_process(events: Path, state: Path) -> subprocess.Popen:
    code = "import tiering.cli.watch_cmd; from tiering.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "watch", str(events), "--register", str(REGISTER),
                             "--state", str(state), "--batch", "20", "--clock", "2025-01-01"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def _committed(state: Path) -> int:
    try:
        with sqlite3.connect(state / "state.db", timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_killed_mid_stream_resumes_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    frame = load_register(REGISTER).frame
    events = tmp_path / "events.jsonl"
    lines = synthetic_lines(frame, 240, 3, 2024, dt.date(2025, 1, 1), bad_share=0.05)
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reference = _monitor(tmp_path / "reference")
    reference.run(read_path(events, {}))
    total = reference.store.event_count()
    assert reference.stats.dead > 0 and reference.stats.duplicates > 0

    state = tmp_path / "state"
    proc = _watch_process(events, state)
    deadline = time.monotonic() + 120
    while _committed(state) < 40 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the watch finished before it could be killed; make the stream longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _committed(state)
    assert 0 < killed_at < total

    assert _watch_process(events, state).wait(timeout=180) == 0
    resumed = _monitor(state)
    assert resumed.store.event_count() == total
    assert sorted(resumed.store.event_ids()) == sorted(reference.store.event_ids())
    assert resumed.tiers().equals(reference.tiers())
    assert resumed.tiers().equals(resumed.batch_tiers())
    alerts = _alerts(state / "alerts.jsonl")
    ids = [a["alert_id"] for a in alerts]
    assert ids == sorted(set(ids)) == list(range(1, len(ids) + 1))
    changes = [(a["event"]["event_id"], a["ruleset_id"]) for a in alerts if a["kind"] == "outcome_change"]
    assert len(changes) == len(set(changes))
    assert len(_alerts(state / "dead_letter.jsonl")) == reference.stats.dead


def test_replaying_the_log_from_empty_state_gives_the_same_tiers(sample_run: tuple[Monitor, Path],
                                                                  tmp_path: Path) -> None:
    live, _ = sample_run
    log = list(live.store.event_lines())
    random.Random(5).shuffle(log)
    replay = _monitor(tmp_path, batch=2)
    replay.run(_lines(log))
    assert replay.tiers().equals(live.tiers())


# --- command line --------------------------------------------------------------------------------------------

def test_cli_watch_and_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    state = tmp_path / "state"
    run = runner.invoke(main, ["watch", str(EVENTS), "--register", str(REGISTER), "--state", str(state),
                               "--clock", "2025-01-01", "--tiers", str(tmp_path / "tiers.csv")])
    assert run.exit_code == 0, run.output
    assert "读取 22 行：应用 17 个事件，重复忽略 1，死信 4" in run.output
    summary = runner.invoke(main, ["watch", "--summary", "--state", str(state), "--since", "2025-06-01",
                                   "--until", "2025-06-30", "--xlsx", str(tmp_path / "alerts.xlsx")])
    assert summary.exit_code == 0, summary.output
    assert "2025-06-03 津东精密机械有限公司 不再符合科技型中小企业：列入经营异常名录" in summary.output
    assert "2025-04-08" not in summary.output
    alerts = pd.read_excel(tmp_path / "alerts.xlsx", sheet_name="提示", dtype=str)
    row = alerts[alerts["企业名称"] == "津东精密机械有限公司"].iloc[0]
    assert (row["日期"], row["提示类型"], row["项目"], row["原结果"], row["新结果"]) == (
        "2025-06-03", "结果变化", "科技型中小企业", "符合", "不符合")
    assert not alerts["提示"].str.contains("loses|gains|fails|listed in").any()
    assert (tmp_path / "tiers.csv").read_text(encoding="utf-8").startswith("uscc,ruleset_id,outcome\n")


def test_watch_explains_a_missing_durable_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)  # makes `import durable` fail as if not installed
    result = CliRunner().invoke(main, ["watch", str(EVENTS), "--register", str(REGISTER),
                                       "--state", str(tmp_path / "s")])
    assert result.exit_code == 3
    assert "pip install 'durable-rules>=2.0.28'" in result.output
    assert "needs a C compiler" in result.output
    assert CliRunner().invoke(main, ["rules", "--help"]).exit_code == 0


def test_folder_source_reads_new_files_only_and_stdin_works(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    lines = EVENTS.read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "2025-01.jsonl").write_text("".join(lines[:6]), encoding="utf-8")
    (folder / "2025-02.jsonl").write_text("".join(lines[6:12]), encoding="utf-8")
    runner = CliRunner()
    args = ["watch", str(folder), "--register", str(REGISTER), "--state", str(tmp_path / "s"), "--clock", "2025-01-01"]
    first = runner.invoke(main, args)
    assert "读取 12 行：应用 10 个事件，重复忽略 1，死信 1" in first.output, first.output
    (folder / "2025-03.jsonl").write_text("".join(lines[12:]), encoding="utf-8")
    second = runner.invoke(main, args)
    assert "读取 10 行：应用 7 个事件，重复忽略 0，死信 3" in second.output, second.output
    piped = runner.invoke(main, ["watch", "-", "--register", str(REGISTER), "--state", str(tmp_path / "s"),
                                 "--check"], input="".join(lines))
    assert "读取 22 行：应用 0 个事件，重复忽略 18，死信 4" in piped.output, piped.output
    assert "check: live tiers = batch evaluation of the final data = replay of the 17 logged events" in piped.output
    assert piped.exit_code == 0


def test_watch_reads_the_register_as_told_unit_and_encoding(tmp_path: Path) -> None:
    """A GB18030 CSV whose money headers name no unit: watch reads it with --unit and --encoding, as classify does,
    and refuses it without the unit."""
    import re

    import pandas as pd

    raw = pd.read_excel(REGISTER, dtype=object)
    raw.columns = [re.sub(r"[（(]万元[)）]", "", str(c)) for c in raw.columns]
    csv = tmp_path / "名录.csv"
    raw.to_csv(csv, index=False, encoding="gb18030")
    args = ["watch", "--register", str(csv), "--check", "--encoding", "gb18030"]
    told = CliRunner().invoke(main, [*args, "--state", str(tmp_path / "s"), "--unit", "万元"])
    assert told.exit_code == 0, told.output
    assert "check: live tiers = batch evaluation of the final data" in told.output
    untold = CliRunner().invoke(main, [*args, "--state", str(tmp_path / "t")])
    assert untold.exit_code == 3, untold.output
    assert "金额列没有单位" in untold.output
