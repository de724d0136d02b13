"""tiering watch at its edges: no line can stop the stream, conflicting ids, bad figures, one watcher per state
folder, and reminders that fire only while their condition holds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import tiering.cli.watch_cmd  # noqa: F401  (registers `watch`)
from tiering.cli import main
from tiering.errors import Where
from tiering.watch.alerts import sync_jsonl
from tiering.watch.clock import SimulatedClock
from tiering.watch.monitor import Monitor, WatchError
from tiering.watch.sources import MAX_LINE_BYTES, Line, read_path

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "datasets" / "sample_register.xlsx"
EVENTS = ROOT / "datasets" / "events" / "sample_events.jsonl"
JINDONG = "91120116MA05000011"  # 津东精密机械有限公司
DONGLI_ZN = "91120116MA0500004A"  # 东丽智能装备有限公司


def _monitor(state: Path, day: dt.date = dt.date(2025, 1, 1)) -> Monitor:
    return Monitor(state, REGISTER, year=2025, clock=SimulatedClock(day))


def _event(event_id: str, firm: str, kind: str, day: str, payload: dict) -> str:
    return json.dumps({"event_id": event_id, "firm_id": firm, "type": kind, "date": day, "payload": payload},
                      ensure_ascii=False)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _listing(event_id: str, firm: str = JINDONG) -> str:
    return _event(event_id, firm, "credit_listed", "2025-06-03", {"list": "abnormal_operation"})


def test_nested_and_oversized_lines_go_to_the_dead_letter_and_the_stream_moves_past_them(tmp_path: Path) -> None:
    nested = "[" * 20_000 + "]" * 20_000  # raised RecursionError on every restart before
    huge = _event("big", JINDONG, "accident_reported", "2025-05-01", {"description": "x" * (3 * MAX_LINE_BYTES)})
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([nested, huge, _listing("after")]) + "\n", encoding="utf-8")
    state = tmp_path / "state"
    m = _monitor(state)
    m.run(read_path(events, m.positions()))
    assert (m.stats.lines, m.stats.dead, m.stats.applied) == (3, 2, 1)
    m.close()
    dead = _jsonl(state / "dead_letter.jsonl")
    assert dead[0]["reason"].startswith("JSON 嵌套过深")
    assert dead[1]["reason"].startswith(f"行过长 line too long: {len(huge) + 1} 字节")
    assert dead[1]["truncated_from_bytes"] == len(huge) + 1
    assert len(dead[1]["line"].encode("utf-8")) <= MAX_LINE_BYTES
    again = _monitor(state)  # restarts cleanly and reads nothing twice
    again.run(read_path(events, again.positions()))
    assert (again.stats.lines, again.stats.dead) == (0, 0)
    assert again.outcomes.get(JINDONG, "kjxzxqy-2022") == 0
    again.close()


def test_a_dead_letter_file_whose_last_line_is_long_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "dead_letter.jsonl"
    long_line = {"dead_id": 7, "line": "y" * (5 * 65536)}
    path.write_text(json.dumps({"dead_id": 6}) + "\n" + json.dumps(long_line) + "\n", encoding="utf-8")
    assert sync_jsonl(path, [{"dead_id": 7}, {"dead_id": 8, "line": "z"}], "dead_id") == 1
    assert [d["dead_id"] for d in _jsonl(path)] == [6, 7, 8]
    with path.open("ab") as fh:  # a killed writer left half a long line behind
        fh.write(b'{"dead_id": 9, "line": "' + b"w" * 200_000)
    assert sync_jsonl(path, [{"dead_id": 9, "line": "w"}], "dead_id") == 1
    assert [d["dead_id"] for d in _jsonl(path)] == [6, 7, 8, 9]


def test_a_repeated_event_id_with_other_content_is_a_conflict_not_a_repeat(tmp_path: Path) -> None:
    m = _monitor(tmp_path)
    same = json.dumps(json.loads(_listing("e1")), indent=None, separators=(",", ":"))  # other spacing: same event
    other = _event("e1", JINDONG, "credit_listed", "2025-06-04", {"list": "abnormal_operation"})
    m.run([Line("<t>", 0, t, 0.0) for t in (_listing("e1"), same, other)])
    assert (m.stats.applied, m.stats.duplicates, m.stats.conflicts, m.stats.dead) == (1, 1, 1, 1)
    [letter] = _jsonl(tmp_path / "dead_letter.jsonl")
    assert letter["reason"].startswith("事件编号冲突 event_id conflict: 'e1' 已以不同内容出现过")
    m.close()
    again = _monitor(tmp_path)  # the stored log tells a conflict from a repeat after a restart too
    again.run([Line("<t>", 0, t, 0.0) for t in (other, _listing("e1"))])
    assert (again.stats.conflicts, again.stats.duplicates) == (1, 1)
    again.close()


@pytest.mark.parametrize(("value", "reason"), [
    ("NaN", "销售收入（revenue）应为有限数字，不能是 nan"),
    ("Infinity", "销售收入（revenue）应为有限数字，不能是 inf"),
    ("-12", "销售收入（revenue）不能为负数：-12"),
    ("2000000000", "销售收入（revenue）超过合理上限 1,000,000,000万元：请检查是否多输了位数或单位填错"
                   "（上限见 tiering/fields.yaml）：2,000,000,000"),
    ("12.5", "职工总数（employees）应为整数：12.5"),
])
def test_figures_a_register_cell_would_refuse_are_refused(tmp_path: Path, value: str, reason: str) -> None:
    line = _event("f", JINDONG, "figures", "2025-03-01", {"year": 2024, "values": {"revenue": 0}})
    field = "employees" if value == "12.5" else "revenue"
    line = line.replace('"revenue": 0', f'"{field}": {value}')  # NaN and Infinity are not standard JSON
    m = _monitor(tmp_path)
    m.run([Line("<t>", 0, line, 0.0)])
    m.close()
    [letter] = _jsonl(tmp_path / "dead_letter.jsonl")
    assert letter["reason"] == f"“figures”事件的 payload：values：{reason}"


def test_a_loss_is_still_a_loss_allowed_as_negative_profit(tmp_path: Path) -> None:
    line = _event("p", JINDONG, "figures", "2025-03-01", {"year": 2024, "values": {"net_profit": -30}})
    m = _monitor(tmp_path)
    m.run([Line("<t>", 0, line, 0.0)])
    assert (m.stats.applied, m.stats.dead) == (1, 0)
    m.close()


def test_a_second_watcher_on_one_state_folder_is_refused_at_once(tmp_path: Path) -> None:
    first = _monitor(tmp_path)
    with pytest.raises(WatchError, match="正被另一个 tiering watch 进程使用"):
        _monitor(tmp_path)
    result = CliRunner().invoke(main, ["watch", str(EVENTS), "--register", str(REGISTER), "--state", str(tmp_path),
                                       "--clock", "2025-01-01"])
    assert result.exit_code == 3
    assert "正被另一个 tiering watch 进程使用" in result.output
    first.close()
    _monitor(tmp_path).close()  # free again once the first has stopped


def test_a_firm_that_lost_the_program_gets_no_renewal_reminder(tmp_path: Path) -> None:
    m = _monitor(tmp_path)
    qualified = sorted(f for (f, r), o in m.outcomes.items() if r == "kjxzxqy-2022" and o == 1)
    assert JINDONG in qualified
    m.run([Line("<t>", 0, _listing("lost"), 0.0)])  # listed, never cleared: loses 科技型中小企业
    assert m.outcomes.get(JINDONG, "kjxzxqy-2022") == 0
    m.clock.set(dt.date(2026, 3, 10))
    m.fire_reminders()
    renewed = {a["firm_id"] for a in _jsonl(tmp_path / "alerts.jsonl") if a.get("reminder") == "kjxzxqy_renewal"}
    assert renewed == set(qualified) - {JINDONG}
    [(key, day, reason)] = [w for w in m.store.withdrawn_reminders() if w[0].startswith("kjxzxqy_renewal|")]
    assert (key, day) == (f"kjxzxqy_renewal|{JINDONG}|2026-03-31", "2026-03-10")
    assert reason.startswith("条件已不成立")
    assert m.stats.reminders_withdrawn == 1
    m.close()


def test_a_replaced_certificate_cancels_the_old_expiry_reminder(tmp_path: Path) -> None:
    m = _monitor(tmp_path)
    m.run(read_path(EVENTS, {}))  # ev-0001 gives 东丽智能装备 a 高企 certificate expiring 2025-12-31
    renewed = _event("renew", DONGLI_ZN, "certificate_issued", "2025-09-01",
                     {"certificate": "hitech", "expiry": "2028-12-31"})
    m.run([Line("<t>", 0, renewed, 0.0)])

    def expiry_alerts() -> list[tuple[str, str]]:
        return [(a["due"], a["date"]) for a in _jsonl(tmp_path / "alerts.jsonl")
                if a.get("reminder") == "hitech_expiry" and a["firm_id"] == DONGLI_ZN]

    m.clock.set(dt.date(2025, 10, 2))
    m.fire_reminders()
    assert expiry_alerts() == []
    [(key, _, reason)] = [w for w in m.store.withdrawn_reminders() if w[0].startswith("hitech_expiry|")]
    assert key == f"hitech_expiry|{DONGLI_ZN}|2025-12-31"
    assert "hitech_cert_expiry 现为 2028-12-31，不再是 2025-12-31" in reason
    m.clock.set(dt.date(2028, 10, 2))
    m.fire_reminders()
    assert expiry_alerts() == [("2028-12-31", "2028-10-02")]
    m.close()


def test_a_state_folder_started_for_another_year_is_refused_naming_the_folder(tmp_path: Path) -> None:
    _monitor(tmp_path).close()
    with pytest.raises(WatchError) as caught:
        Monitor(tmp_path, REGISTER, year=2024, clock=SimulatedClock(dt.date(2025, 1, 1)))
    assert caught.value.where == Where(file=str(tmp_path))
    assert caught.value.message.startswith("状态目录是用另一份申报年度开始的（was started with a different application "
                                           "year; then: 2025; now: 2024;")
    assert caught.value.hint is not None and "--state" in caught.value.hint
