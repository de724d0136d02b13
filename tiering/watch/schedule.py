"""Reminder scheduling: which reminders an event or an outcome schedules, and whether a due one still holds.

A reminder is scheduled when its ``when`` is met (``reminders.yaml``) and fires on its date only if that condition
still holds then: a firm that lost the program a renewal reminder is about no longer gets it, and an expiry
reminder whose certificate was replaced (the firm's expiry date is now another) is withdrawn. Withdrawal is
decided from the current state at firing time, so it is the same after a restart or a replay of the event log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from tiering.watch.events import Parsed
from tiering.watch.panel import FirmPanel
from tiering.watch.routing import Reminder, Router, event_message, outcome_message, remind_rule
from tiering.watch.state import Batch


class Scheduler:
    """Schedules the reminders of ``reminders.yaml`` for one watch (application year ``year``)."""

    def __init__(self, reminders: dict[str, Reminder], router: Router, panel: FirmPanel, year: int) -> None:
        self.reminders = reminders
        self.router = router
        self.panel = panel
        self.year = year
        self.expiry_fields = {r.when.field for r in reminders.values() if r.when.field}

    def _add(self, batch: Batch, name: str, firm: str, due: dt.date, fire_on: dt.date, cause: str,
             year: int | None = None) -> None:
        spec = self.reminders[name]
        firm_name = self.panel.name(firm)
        text = spec.text.format(name=firm_name, due=due.isoformat(), year=year if year is not None else "")
        key = f"{name}|{firm}|{due.isoformat()}"
        body = {"kind": "reminder", "reminder": name, "label": spec.label, "firm_id": firm, "name": firm_name,
                "due": due.isoformat(), "fire_on": fire_on.isoformat(), "cause": cause, "text": text,
                "source": spec.source}
        batch.reminders.append((key, firm, name, fire_on.isoformat(), json.dumps(body, ensure_ascii=False)))

    def _field_date(self, firm: str, field: str) -> dt.date | None:
        """The firm's current value of a date field (its latest year's), or None."""
        years = self.panel.years(firm)
        value = self.panel.value(firm, years[-1], field)
        if value is None or pd.isna(value):
            return None
        return pd.Timestamp(value).date()

    def baseline(self, batch: Batch, firm: str) -> None:
        """The reminders a firm's register rows schedule by themselves (dates held in fields)."""
        self.fields(batch, firm, self.router.route(event_message("baseline", self.expiry_fields)), None)

    def fields(self, batch: Batch, firm: str, decision: frozenset[str], cause: str | None) -> None:
        """Reminders due a number of days before a date the firm holds in a field."""
        for name, spec in self.reminders.items():
            if spec.at.date_field is None or remind_rule(name) not in decision:
                continue
            due = self._field_date(firm, spec.at.date_field)
            if due is not None:
                self._add(batch, name, firm, due, due - dt.timedelta(days=spec.at.days_before), cause or "register")

    def outcome(self, batch: Batch, firm: str, program: str, outcome: int, cause: str) -> None:
        """Reminders an outcome reached schedules (a month-day in a year relative to the application year)."""
        decision = self.router.route(outcome_message(program, outcome))
        for name, spec in self.reminders.items():
            if spec.at.month_day is None or remind_rule(name) not in decision:
                continue
            month, day = (int(x) for x in spec.at.month_day.split("-"))
            due = dt.date(self.year + spec.at.year_offset, month, day)
            self._add(batch, name, firm, due, due - dt.timedelta(days=spec.at.days_before), cause)

    def event(self, batch: Batch, p: Parsed, decision: frozenset[str]) -> None:
        """Reminders an event schedules: field dates it wrote, and reminders due on the event's own date."""
        self.fields(batch, p.event.firm_id, decision, p.event.event_id)
        for name, spec in self.reminders.items():
            if spec.at.on_event and remind_rule(name) in decision:
                year = p.payload.year  # type: ignore[attr-defined]
                self._add(batch, name, p.event.firm_id, p.event.date, p.event.date, p.event.event_id, year)

    def withdrawn(self, body: dict[str, Any], outcome_of: Callable[[str, str], list[int]]) -> str | None:
        """Why a due reminder no longer holds (None when it does and should fire).

        ``outcome_of(firm, program)`` gives the firm's current outcome codes for the program's rule sets in force.
        """
        spec = self.reminders.get(body["reminder"])
        if spec is None:
            return f"提醒「{body['reminder']}」已不在 reminders.yaml 中"
        firm = body["firm_id"]
        if spec.when.program is not None and spec.when.outcome not in outcome_of(firm, spec.when.program):
            return f"条件已不成立：企业当前不再处于「{spec.when.program}」的排程结果"
        if spec.at.date_field is not None:
            current = self._field_date(firm, spec.at.date_field)
            if current is None or current.isoformat() != body["due"]:
                now = current.isoformat() if current is not None else "空"
                return f"日期已变更：{spec.at.date_field} 现为 {now}，不再是 {body['due']}（如证书已换发）"
        return None
