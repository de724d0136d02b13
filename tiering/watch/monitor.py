"""The monitor: apply events to the firm state, re-evaluate the firms they affect, diff outcomes, write alerts.

Scoring is done by the same application core as ``tiering classify`` (``tiering.app.classify_rows``) on the
affected firms' rows; durable-rules (``routing.py``) only decides which firms and rule sets an event concerns and
which reminders it schedules.

Within a batch, events are applied in (date, event id) order; a firm's k-th event of the batch is evaluated in
round k, so an alert names the event that caused it even when a firm has several events in one batch. Every
outcome of every rule set is diffed after each round — a change the routing did not predict is still reported
(with ``routed: false``), so alerts stay correct even if the routing were incomplete.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from tiering.app import Progress, classify_rows, rules_in_force
from tiering.engine.evaluate import Evaluation
from tiering.errors import TieringError, Where
from tiering.outcome import OUTCOME_TEXT
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.watch import alerts as alert_mod
from tiering.watch.clock import Clock, SimulatedClock, SystemClock
from tiering.watch.events import EventError, Parsed, ops_of, parse_event
from tiering.watch.outcomes import Outcomes
from tiering.watch.panel import FirmPanel
from tiering.watch.routing import Reminder, Router, evaluate_rule, event_message, load_reminders, remind_rule
from tiering.watch.schedule import Scheduler
from tiering.watch.sources import MAX_LINE_BYTES, Line
from tiering.watch.state import Batch, Store

APPLYING = "处理事件 applying events (lines)"


class WatchError(TieringError, error_id="watch-unusable"):
    """The monitor cannot start or continue; the message says why and what to do."""


@dataclass
class Stats:
    """Counts and timings of a run (this process only)."""

    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    dead: int = 0
    conflicts: int = 0
    alerts: int = 0
    reminders_fired: int = 0
    reminders_withdrawn: int = 0
    batches: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass
class _Pending:
    parsed: Parsed
    line: str
    read_at: float


class Monitor:
    """One watch: a register as the starting state, a state folder, the rule sets in force for ``year``."""

    def __init__(self, state_dir: Path, register_path: Path, year: int | None = None, rules_dir: Path | None = None,
                 clock: Clock | None = None, batch_size: int = 1000, alerts_path: Path | None = None,
                 dead_letter_path: Path | None = None, reminders: dict[str, Reminder] | None = None,
                 read: Mapping[str, Any] | None = None) -> None:
        self._lock = _lock(state_dir)
        self.read = dict(read or {})
        """How the register is read (``money_unit``, ``encoding``, ``sheet``, ``header_row`` of load_register)."""
        register = load_register(register_path, **self.read)
        if register.frame.empty:
            raise WatchError(f"名录没有可用的行（拒收 {register.rows_refused} 行）（no usable rows, "
                             f"{register.rows_refused} refused）", where=Where(file=str(register_path)))
        self.register = register
        self.year = year or int(register.frame["year"].max()) + 1
        self.data_year = self.year - 1
        self.rulesets, self.eval_date = rules_in_force(load_library(rules_dir), self.year)
        self.reminders = reminders if reminders is not None else load_reminders()
        self.router = Router(self.rulesets, self.reminders)
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self.state_dir = state_dir
        self.alerts_path = alerts_path or state_dir / "alerts.jsonl"
        self.dead_letter_path = dead_letter_path or state_dir / "dead_letter.jsonl"
        self.register_path = register_path
        self.rules_dir = rules_dir
        self.store = Store(state_dir)
        self.stats = Stats()
        self.panel = FirmPanel(register.frame)
        self.scheduler = Scheduler(self.reminders, self.router, self.panel, self.year)
        self._evaluate_rules = frozenset(evaluate_rule(rs.id) for rs in self.rulesets)
        self._remind_rules = frozenset(remind_rule(name) for name in self.reminders)
        self.columns = sorted({"uscc", "name", "year"} | {f for rs in self.rulesets for f in rs.needs})
        meta = {"register_sha256": register.sha256, "register": str(register_path), "year": str(self.year),
                "rulesets": ",".join(rs.id for rs in self.rulesets)}
        old = self.store.meta()
        if old:
            self._check_meta(old, meta)
            self._restore()
        else:
            self._baseline(meta)
        self._sync_files()

    # --- start-up -----------------------------------------------------------------------------------------

    def _check_meta(self, old: dict[str, str], new: dict[str, str]) -> None:
        labels = {"register_sha256": ("名录内容", "register file content"), "year": ("申报年度", "application year"),
                  "rulesets": ("规则集", "rule sets")}
        for key, (zh, label) in labels.items():
            if old.get(key) != new[key]:
                raise WatchError(
                    f"状态目录是用另一份{zh}开始的（was started with a different {label}; then: {old.get(key)}; now: "
                    f"{new[key]}; register then: {old.get('register')}）", where=Where(file=str(self.state_dir)),
                    hint=f"用原来的{zh}，或换一个新的 --state 目录重新开始 (use the original {label}, or a new --state "
                         "folder to start over)")

    def _restore(self) -> None:
        """Rebuild the in-memory state from the event log; outcomes come from the store as committed."""
        self.seen: dict[str, str] = {}
        for line in self.store.event_lines():
            parsed = parse_event(line)
            self._apply(parsed)
            self.seen[parsed.event.event_id] = _digest(parsed)
        self.outcomes = self._new_outcomes()
        for (firm, rid), code in self.store.outcomes().items():
            self.outcomes.set(firm, rid, code)

    def _new_outcomes(self) -> Outcomes:
        return Outcomes(self.panel.firms(), [rs.id for rs in self.rulesets])

    def _baseline(self, meta: dict[str, str]) -> None:
        """First start: every firm's outcomes from the register alone, and the reminders they schedule."""
        self.seen = {}
        self.outcomes = self._new_outcomes()
        ev = self._evaluate(self.panel.frame())
        batch = Batch()
        for r in ev.results:
            for firm, o in zip(ev.firms, r.outcome, strict=True):
                self.outcomes.set(str(firm), r.ruleset.id, int(o))
                self.scheduler.outcome(batch, str(firm), r.ruleset.program, int(o), "baseline")
        for firm in self.panel.firms():
            self.scheduler.baseline(batch, firm)
        batch.outcomes = dict(self.outcomes.items())
        self.store.commit(batch)
        self.store.set_meta(meta)

    def _sync_files(self) -> None:
        alert_mod.sync_jsonl(self.alerts_path, self.store.alerts(), "alert_id")
        alert_mod.sync_jsonl(self.dead_letter_path, self.store.dead_letters(), "dead_id")

    # --- reminders ------------------------------------------------------------------------------------------

    def fire_reminders(self) -> int:
        """Raise the reminders due by the clock's date whose condition still holds as alerts (each once), and
        withdraw the others with their reason; return how many fired."""
        today = self.clock.today().isoformat()
        due = self.store.due_reminders(today)
        if not due:
            return 0
        batch = Batch()
        for key, body in due:
            reason = self.scheduler.withdrawn(body, self._program_outcomes)
            if reason is not None:
                batch.withdrawn.append((key, today, reason))
                continue
            batch.alerts.append(self.store.stamp_alert({**body, "date": body["fire_on"]}))
            batch.fired.append(key)
        self.store.commit(batch)
        alert_mod.append_lines(self.alerts_path, batch.alert_lines)
        self.stats.reminders_fired += len(batch.fired)
        self.stats.reminders_withdrawn += len(batch.withdrawn)
        return len(batch.fired)

    def _program_outcomes(self, firm: str, program: str) -> list[int]:
        """The firm's current outcome codes for the rule sets of ``program`` in force."""
        found = (self.outcomes.get(firm, rs.id) for rs in self.rulesets if rs.program == program)
        return [code for code in found if code is not None]

    # --- events ---------------------------------------------------------------------------------------------

    def _apply(self, p: Parsed) -> set[str]:
        ops = ops_of(p, self.data_year)
        self.panel.apply(p.event.firm_id, p.event.date, p.event.event_id, ops)
        return {op.field for op in ops}

    def _parse(self, batch: Batch, line: Line) -> Parsed | None:
        """The line's event, or None after sending the line to the dead letter: no line can stop the watch."""
        try:
            return parse_event(line.text)
        except EventError as exc:
            reason = str(exc)
        except RecursionError:
            reason = "JSON 嵌套过深 nested too deeply: 事件应为一层对象 {event_id, firm_id, type, date, payload}"
        except Exception as exc:  # noqa: BLE001 — a line must never stop the stream; the type names what broke
            reason = f"无法解析 unparseable line ({type(exc).__name__}: {exc})"
        self._dead(batch, line, reason)
        return None

    def _window(self, p: Parsed) -> int:
        """Consecutive years with a row ending at an annual report's year (0 for other events)."""
        payload = p.payload
        if p.event.type != "figures" or getattr(payload, "period", "") != "annual":
            return 0
        years = set(self.panel.years(p.event.firm_id))
        n, y = 0, payload.year  # type: ignore[attr-defined]
        while y in years:
            n, y = n + 1, y - 1
        return n

    def _dead(self, batch: Batch, line: Line, reason: str) -> None:
        letter = {"source": line.source, "offset": line.offset, "reason": reason, "line": line.text}
        if line.truncated:
            letter["truncated_from_bytes"] = line.size
        batch.dead_letters.append(self.store.stamp_dead(letter))
        self.stats.dead += 1

    def run(self, lines: Iterable[Line | None], progress: Progress | None = None, total: int = 0) -> Stats:
        """Process every line (``None`` flushes a partial batch, as a followed source does when idle); ``progress``
        (:data:`tiering.app.Progress`) hears of the lines done of ``total`` after every batch."""
        chunk: list[Line] = []
        start = self.stats.lines

        def batch(lines: list[Line]) -> None:
            self.process_batch(lines)
            if progress is not None:
                progress(APPLYING, self.stats.lines - start, total)

        if progress is not None:
            progress(APPLYING, 0, total)
        for line in lines:
            if line is not None:
                chunk.append(line)
            if chunk and (line is None or len(chunk) >= self.batch_size):
                batch(chunk)
                chunk = []
            if line is None:
                self.fire_reminders()
        if chunk:
            batch(chunk)
        self.fire_reminders()
        return self.stats

    def process_batch(self, lines: list[Line]) -> None:
        """Apply one batch of lines and commit it, with the alerts it raises, in one transaction."""
        batch = Batch()
        pending: list[_Pending] = []
        ids: dict[str, str] = {}
        for line in lines:
            self.stats.lines += 1
            if not line.source.startswith("<"):
                batch.positions[line.source] = line.offset
            if line.truncated:
                self._dead(batch, line, f"行过长 line too long: {line.size} 字节，超过事件行上限 "
                                        f"{MAX_LINE_BYTES} 字节；死信只保留开头部分")
                continue
            if not line.text.strip():
                continue
            p = self._parse(batch, line)
            if p is None:
                continue
            e = p.event
            digest = _digest(p)
            known = self.seen.get(e.event_id, ids.get(e.event_id))
            if known is not None:
                if known == digest:
                    self.stats.duplicates += 1
                else:
                    self.stats.conflicts += 1
                    self._dead(batch, line, f"事件编号冲突 event_id conflict: '{e.event_id}' 已以不同内容出现过，"
                                            f"本行未应用；如确需更正，请用新的 event_id 发送")
                continue
            if not self.panel.has_firm(e.firm_id):
                self._dead(batch, line, f"企业 {e.firm_id} 不在登记表 {self.register_path} 中：请把它的各年度行"
                                        f"加入登记表，再用新的状态目录重新开始监测")
                continue
            ids[e.event_id] = digest
            pending.append(_Pending(p, line.text, line.read_at))
        pending.sort(key=lambda x: x.parsed.key)
        rounds: list[list[_Pending]] = []
        depth: dict[str, int] = defaultdict(int)
        for item in pending:
            k = depth[item.parsed.event.firm_id]
            depth[item.parsed.event.firm_id] += 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(item)
        self._evaluate_rounds(batch, rounds)
        self.store.commit(batch)
        self.seen.update(ids)
        alert_mod.append_lines(self.alerts_path, batch.alert_lines)
        alert_mod.append_lines(self.dead_letter_path, batch.dead_lines)
        now = time.monotonic()
        by_event = {item.parsed.event.event_id: item.read_at for item in pending}
        self.stats.latencies += [now - by_event[a["event"]["event_id"]] for a in batch.alerts]
        self.stats.alerts += len(batch.alerts)
        self.stats.applied += len(pending)
        self.stats.batches += 1

    def _evaluate_rounds(self, batch: Batch, rounds: list[list[_Pending]]) -> None:
        """Apply the rounds in turn, snapshot the routed firms after each, and evaluate every snapshot at once.

        A snapshot is a pseudo-firm ``<uscc>#<round>`` holding the firm's rows as they stood after that round, so
        one vectorised evaluation gives each event's outcome; the diff then walks the rounds in order.
        """
        frames: list[pd.DataFrame] = []
        routed: dict[str, tuple[str, int, _Pending, frozenset[str]]] = {}
        for k, items in enumerate(rounds):
            firms = []
            for item in items:
                p = item.parsed
                e = p.event
                fields = self._apply(p)
                window = self._window(p)
                decision = self.router.route(event_message(e.type, fields, window))
                batch.events.append((e.event_id, e.firm_id, e.type, e.date.isoformat(), item.line))
                if not decision.isdisjoint(self._remind_rules):
                    self.scheduler.event(batch, p, decision)
                if not decision.isdisjoint(self._evaluate_rules):
                    routed[f"{e.firm_id}#{k:05d}"] = (e.firm_id, k, item, decision)
                    firms.append(e.firm_id)
            if firms:
                frame = self.panel.frame(firms, self.columns)
                frame["uscc"] = frame["uscc"] + f"#{k:05d}"
                frames.append(frame)
        if frames:
            panel = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            self._diff(batch, self._evaluate(panel), routed)

    def _evaluate(self, panel: pd.DataFrame) -> Evaluation:
        """``panel`` (the register's firms as events changed them, or snapshots of some) classified as ``tiering
        classify`` would, read as the evaluation the diff walks."""
        return classify_rows(self.register, panel, self.rulesets, self.year, self.eval_date).evaluation

    def _diff(self, batch: Batch, ev: Evaluation, routed: dict[str, tuple[str, int, _Pending, frozenset[str]]]) -> None:
        info = [routed[str(f)] for f in ev.firms]
        rounds = np.fromiter((x[1] for x in info), dtype=np.int64, count=len(info))
        rows = np.fromiter((self.outcomes.firm_row[x[0]] for x in info), dtype=np.int64, count=len(info))
        after = np.stack([r.outcome for r in ev.results], axis=1).astype(np.int8)
        changes: list[tuple[int, int, int | None]] = []
        for k in np.unique(rounds):
            picked = np.flatnonzero(rounds == k)  # a firm appears at most once per round: rounds apply in order
            changes += [(j, int(picked[a]), before)
                        for a, j, before in self.outcomes.replace(rows[picked], after[picked])]
        if not changes:
            return
        rows_by_ruleset: dict[int, set[int]] = defaultdict(set)
        for j, i, _ in changes:
            rows_by_ruleset[j].add(i)
        reasons = {j: alert_mod.reasons_of(ev.results[j], sorted(ix)) for j, ix in rows_by_ruleset.items()}
        for j, i, before in changes:
            r = ev.results[j]
            pseudo = str(ev.firms[i])
            firm, _, item, decision = routed[pseudo]
            alert = alert_mod.change_alert(item.parsed, self.panel.name(firm), r, i, before,
                                           reasons[j].row(i), evaluate_rule(r.ruleset.id) in decision)
            batch.alerts.append(self.store.stamp_alert(alert))
            code = int(after[i, j])
            batch.outcomes[(firm, r.ruleset.id)] = code
            self.scheduler.outcome(batch, firm, r.ruleset.program, code, item.parsed.event.event_id)

    # --- reading the state ----------------------------------------------------------------------------------

    def tiers(self) -> pd.DataFrame:
        """Current outcome per firm × rule set (columns uscc, ruleset_id, outcome as text), sorted."""
        rows = [(f, r, OUTCOME_TEXT[o]) for (f, r), o in self.outcomes.items()]
        return pd.DataFrame(rows, columns=["uscc", "ruleset_id", "outcome"]).sort_values(
            ["uscc", "ruleset_id"], ignore_index=True)

    def batch_tiers(self) -> pd.DataFrame:
        """The same table from a fresh batch evaluation of the current panel (what ``classify`` would say)."""
        ev = self._evaluate(self.panel.frame())
        rows = [(str(f), r.ruleset.id, OUTCOME_TEXT[int(o)]) for r in ev.results
                for f, o in zip(ev.firms, r.outcome, strict=True)]
        return pd.DataFrame(rows, columns=["uscc", "ruleset_id", "outcome"]).sort_values(
            ["uscc", "ruleset_id"], ignore_index=True)

    def positions(self) -> dict[str, int]:
        return self.store.positions()

    def close(self) -> None:
        self.store.close()
        self._lock.close()


def _lock(state_dir: Path) -> TextIO:
    """Hold the state folder for this process: a second watcher on the same folder would apply events twice."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = (state_dir / "watch.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise WatchError("状态目录正被另一个 tiering watch 进程使用 (state folder in use)：同一状态目录只能有一个监视"
                         "进程；请先停止那个进程，或改用另一个 --state 目录",
                         where=Where(file=str(state_dir))) from None
    return handle


def _digest(parsed: Parsed) -> str:
    """The content of an event, whatever its key order or spacing: a repeated id with other content conflicts."""
    canonical = json.dumps(parsed.event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check(monitor: Monitor) -> list[str]:
    """Problems found comparing the live tiers with a batch evaluation of the final data and with a replay of the
    whole event log from empty state (an empty list means both agree)."""
    problems = []
    live = monitor.tiers()
    batch = monitor.batch_tiers()
    if not live.equals(batch):
        diff = live.merge(batch, on=["uscc", "ruleset_id"], how="outer", suffixes=("_live", "_batch"))
        bad = diff[diff["outcome_live"] != diff["outcome_batch"]]
        problems.append(f"{len(bad)} live outcomes differ from a batch evaluation of the final data, e.g. "
                        f"{bad.head(3).to_dict('records')}")
    with tempfile.TemporaryDirectory() as tmp:
        replay = Monitor(Path(tmp), monitor.register_path, monitor.year, monitor.rules_dir,
                         clock=SimulatedClock(dt.date(1900, 1, 1)), batch_size=monitor.batch_size,
                         reminders=monitor.reminders, read=monitor.read)
        replay.run(Line("<replay>", 0, text, 0.0) for text in monitor.store.event_lines())
        replayed = replay.tiers()
        replay.close()
    if not live.equals(replayed):
        problems.append("a replay of the event log from empty state gives different tiers from the live run")
    return problems
