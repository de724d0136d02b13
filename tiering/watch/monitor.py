"""The monitor: apply events to the firm state, re-evaluate the firms they affect, diff outcomes, write alerts.

Scoring is done by the same evaluator as ``tiering classify`` (``tiering.engine.evaluate.evaluate``) on the
affected firms' rows; durable-rules (``routing.py``) only decides which firms and rule sets an event concerns and
which reminders it schedules.

Within a batch, events are applied in (date, event id) order; a firm's k-th event of the batch is evaluated in
round k, so an alert names the event that caused it even when a firm has several events in one batch. Every
outcome of every rule set is diffed after each round — a change the routing did not predict is still reported
(with ``routed: false``), so alerts stay correct even if the routing were incomplete.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tiering.engine.evaluate import OUTCOME_TEXT, Evaluation, default_eval_date, evaluate
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.watch import alerts as alert_mod
from tiering.watch.clock import Clock, SimulatedClock, SystemClock
from tiering.watch.events import EventError, Parsed, ops_of, parse_event
from tiering.watch.outcomes import Outcomes
from tiering.watch.panel import FirmPanel
from tiering.watch.routing import (
    Reminder,
    Router,
    evaluate_rule,
    event_message,
    load_reminders,
    outcome_message,
    remind_rule,
)
from tiering.watch.sources import Line
from tiering.watch.state import Batch, Store


class WatchError(Exception):
    """The monitor cannot start or continue; the message says why and what to do."""


@dataclass
class Stats:
    """Counts and timings of a run (this process only)."""

    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    dead: int = 0
    alerts: int = 0
    reminders_fired: int = 0
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
                 dead_letter_path: Path | None = None, reminders: dict[str, Reminder] | None = None) -> None:
        register = load_register(register_path)
        if register.frame.empty:
            raise WatchError(f"register {register_path} has no usable rows ({register.rows_refused} refused)")
        self.year = year or int(register.frame["year"].max()) + 1
        self.data_year = self.year - 1
        self.eval_date = default_eval_date(self.year)
        self.rulesets = load_library(rules_dir).in_force(self.eval_date)
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
        labels = {"register_sha256": "register file content", "year": "application year", "rulesets": "rule sets"}
        for key, label in labels.items():
            if old.get(key) != new[key]:
                raise WatchError(
                    f"state folder {self.state_dir} was started with a different {label} "
                    f"(then: {old.get(key)}; now: {new[key]}; register then: {old.get('register')}). "
                    f"Use the original {label}, or a new --state folder to start over")

    def _restore(self) -> None:
        """Rebuild the in-memory state from the event log; outcomes come from the store as committed."""
        self.seen: set[str] = set()
        for line in self.store.event_lines():
            parsed = parse_event(line)
            self._apply(parsed)
            self.seen.add(parsed.event.event_id)
        self.outcomes = self._new_outcomes()
        for (firm, rid), code in self.store.outcomes().items():
            self.outcomes.set(firm, rid, code)

    def _new_outcomes(self) -> Outcomes:
        return Outcomes(self.panel.firms(), [rs.id for rs in self.rulesets])

    def _baseline(self, meta: dict[str, str]) -> None:
        """First start: every firm's outcomes from the register alone, and the reminders they schedule."""
        self.seen = set()
        self.outcomes = self._new_outcomes()
        ev = evaluate(self.panel.frame(), self.rulesets, self.year, self.eval_date)
        batch = Batch()
        for r in ev.results:
            for firm, o in zip(ev.firms, r.outcome, strict=True):
                self.outcomes.set(str(firm), r.ruleset.id, int(o))
                self._schedule_outcome(batch, str(firm), r.ruleset.program, int(o), self.eval_date, "baseline")
        expiry_fields = {r.when.field for r in self.reminders.values() if r.when.field}
        decision = self.router.route(event_message("baseline", expiry_fields))
        for firm in self.panel.firms():
            self._schedule_fields(batch, firm, decision, None)
        batch.outcomes = dict(self.outcomes.items())
        self.store.commit(batch)
        self.store.set_meta(meta)

    def _sync_files(self) -> None:
        alert_mod.sync_jsonl(self.alerts_path, self.store.alerts(), "alert_id")
        alert_mod.sync_jsonl(self.dead_letter_path, self.store.dead_letters(), "dead_id")

    # --- reminders ------------------------------------------------------------------------------------------

    def _reminder(self, batch: Batch, name: str, firm: str, due: dt.date, fire_on: dt.date, cause: str,
                  year: int | None = None) -> None:
        spec = self.reminders[name]
        firm_name = self.panel.name(firm)
        text = spec.text.format(name=firm_name, due=due.isoformat(), year=year if year is not None else "")
        key = f"{name}|{firm}|{due.isoformat()}"
        body = {"kind": "reminder", "reminder": name, "label": spec.label, "firm_id": firm, "name": firm_name,
                "due": due.isoformat(), "fire_on": fire_on.isoformat(), "cause": cause, "text": text,
                "source": spec.source}
        batch.reminders.append((key, firm, name, fire_on.isoformat(), json.dumps(body, ensure_ascii=False)))

    def _schedule_fields(self, batch: Batch, firm: str, decision: frozenset[str], cause: str | None) -> None:
        for name, spec in self.reminders.items():
            if spec.at.date_field is None or remind_rule(name) not in decision:
                continue
            years = self.panel.years(firm)
            value = self.panel.value(firm, years[-1], spec.at.date_field)
            if value is None or pd.isna(value):
                continue
            due = pd.Timestamp(value).date()
            self._reminder(batch, name, firm, due, due - dt.timedelta(days=spec.at.days_before), cause or "register")

    def _schedule_outcome(self, batch: Batch, firm: str, program: str, outcome: int, on: dt.date, cause: str) -> None:
        decision = self.router.route(outcome_message(program, outcome))
        for name, spec in self.reminders.items():
            if spec.at.month_day is None or remind_rule(name) not in decision:
                continue
            month, day = (int(x) for x in spec.at.month_day.split("-"))
            due = dt.date(self.year + spec.at.year_offset, month, day)
            self._reminder(batch, name, firm, due, due - dt.timedelta(days=spec.at.days_before), cause)

    def _schedule_event(self, batch: Batch, p: Parsed, decision: frozenset[str], window: int) -> None:
        self._schedule_fields(batch, p.event.firm_id, decision, p.event.event_id)
        for name, spec in self.reminders.items():
            if spec.at.on_event and remind_rule(name) in decision:
                year = p.payload.year  # type: ignore[attr-defined]
                self._reminder(batch, name, p.event.firm_id, p.event.date, p.event.date, p.event.event_id, year)

    def fire_reminders(self) -> int:
        """Raise the reminders due by the clock's date as alerts (each once); return how many fired."""
        due = self.store.due_reminders(self.clock.today().isoformat())
        if not due:
            return 0
        batch = Batch()
        for key, body in due:
            body = {**body, "date": body["fire_on"]}
            batch.alerts.append(self.store.stamp_alert(body))
            batch.fired.append(key)
        self.store.commit(batch)
        alert_mod.append_lines(self.alerts_path, batch.alert_lines)
        self.stats.reminders_fired += len(due)
        return len(due)

    # --- events ---------------------------------------------------------------------------------------------

    def _apply(self, p: Parsed) -> set[str]:
        ops = ops_of(p, self.data_year)
        self.panel.apply(p.event.firm_id, p.event.date, p.event.event_id, ops)
        return {op.field for op in ops}

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
        batch.dead_letters.append(self.store.stamp_dead(
            {"source": line.source, "offset": line.offset, "reason": reason, "line": line.text}))
        self.stats.dead += 1

    def run(self, lines: Iterable[Line | None]) -> Stats:
        """Process every line (``None`` flushes a partial batch, as a followed source does when idle)."""
        chunk: list[Line] = []
        for line in lines:
            if line is not None:
                chunk.append(line)
            if chunk and (line is None or len(chunk) >= self.batch_size):
                self.process_batch(chunk)
                chunk = []
            if line is None:
                self.fire_reminders()
        if chunk:
            self.process_batch(chunk)
        self.fire_reminders()
        return self.stats

    def process_batch(self, lines: list[Line]) -> None:
        """Apply one batch of lines and commit it, with the alerts it raises, in one transaction."""
        batch = Batch()
        pending: list[_Pending] = []
        ids: set[str] = set()
        for line in lines:
            self.stats.lines += 1
            if not line.source.startswith("<"):
                batch.positions[line.source] = line.offset
            if not line.text.strip():
                continue
            try:
                p = parse_event(line.text)
            except EventError as exc:
                self._dead(batch, line, str(exc))
                continue
            e = p.event
            if e.event_id in self.seen or e.event_id in ids:
                self.stats.duplicates += 1
                continue
            if not self.panel.has_firm(e.firm_id):
                self._dead(batch, line, f"firm {e.firm_id} is not in the register {self.register_path}; "
                                        f"add its rows to the register and start a new state folder")
                continue
            ids.add(e.event_id)
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
        self.seen |= ids
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
                    self._schedule_event(batch, p, decision, window)
                if not decision.isdisjoint(self._evaluate_rules):
                    routed[f"{e.firm_id}#{k:05d}"] = (e.firm_id, k, item, decision)
                    firms.append(e.firm_id)
            if firms:
                frame = self.panel.frame(firms, self.columns)
                frame["uscc"] = frame["uscc"] + f"#{k:05d}"
                frames.append(frame)
        if frames:
            panel = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            self._diff(batch, evaluate(panel, self.rulesets, self.year, self.eval_date), routed)

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
            self._schedule_outcome(batch, firm, r.ruleset.program, code, item.parsed.event.date,
                                   item.parsed.event.event_id)

    # --- reading the state ----------------------------------------------------------------------------------

    def tiers(self) -> pd.DataFrame:
        """Current outcome per firm × rule set (columns uscc, ruleset_id, outcome as text), sorted."""
        rows = [(f, r, OUTCOME_TEXT[o]) for (f, r), o in self.outcomes.items()]
        return pd.DataFrame(rows, columns=["uscc", "ruleset_id", "outcome"]).sort_values(
            ["uscc", "ruleset_id"], ignore_index=True)

    def batch_tiers(self) -> pd.DataFrame:
        """The same table from a fresh batch evaluation of the current panel (what ``classify`` would say)."""
        ev = evaluate(self.panel.frame(), self.rulesets, self.year, self.eval_date)
        rows = [(str(f), r.ruleset.id, OUTCOME_TEXT[int(o)]) for r in ev.results
                for f, o in zip(ev.firms, r.outcome, strict=True)]
        return pd.DataFrame(rows, columns=["uscc", "ruleset_id", "outcome"]).sort_values(
            ["uscc", "ruleset_id"], ignore_index=True)

    def positions(self) -> dict[str, int]:
        return self.store.positions()

    def close(self) -> None:
        self.store.close()


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
                         reminders=monitor.reminders)
        replay.run(Line("<replay>", 0, text, 0.0) for text in monitor.store.event_lines())
        replayed = replay.tiers()
        replay.close()
    if not live.equals(replayed):
        problems.append("a replay of the event log from empty state gives different tiers from the live run")
    return problems
