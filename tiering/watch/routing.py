"""durable-rules decides which rule sets an event can affect and which reminders it schedules.

The durable ruleset is generated, never written by hand: one rule per compiled rule set, matching any event that
writes a field the rule set reads (``CompiledRuleSet.needs``, plus the needs of the programs it requires); one rule
per reminder of ``reminders.yaml``; and a catch-all, lowest in priority, so no message is ever "not handled".

Traps of durable_rules 2.0.28 guarded here (see ../shared/engines.md):

- a message no rule matches raises ``MessageNotHandledException`` — the catch-all matches every message;
- consequents may run on durable's background thread after a call returns — each message carries an id, the
  consequents record against it, and :meth:`Router.route` waits until the catch-all (which fires last) has
  recorded before reading the decision, failing loudly after a timeout; ``post_batch`` is not used;
- an event is consumed by the first rule it matches — messages are asserted as facts (every matching rule fires)
  and retracted afterwards;
- a ruleset cannot be changed or removed in a process — its name is a hash of its definition, so the same rules
  get the same stable name and are registered once per process, and different rules get a different name;
- the in-memory store holds at most 1,024 keys (``sid``) — every message uses one routing key;
- durable asserts its own per-key state document (``id: "sid-…"``) as a fact: a catch-all on ``id`` matches it
  and loops for ever — the catch-all matches ``route_id``, which only our messages carry.

A decision depends only on the message's signature (event type, fields written, window length, outcome), so it is
memoised: durable is asked once per distinct signature.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tiering.errors import TieringError
from tiering.rules.compile import CompiledRuleSet

REMINDERS_FILE = Path(__file__).with_name("reminders.yaml")
CATCH_ALL = "catch_all"
_SID = "route"


class DurableMissing(TieringError, RuntimeError, error_id="durable-rules-missing"):
    """durable-rules cannot be imported; the message says how to install it."""


INSTALL_HINT = ("tiering watch needs the durable-rules package, which could not be imported ({error}). "
                "Install it into this environment with:  pip install 'durable-rules>=2.0.28'  "
                "(it builds from source and needs a C compiler, e.g. apt-get install build-essential). "
                "Every other tiering command works without it.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    field: str | None = None
    program: str | None = None
    outcome: int | None = None
    window_years: int | None = Field(default=None, ge=2)


class At(_Strict):
    date_field: str | None = None
    month_day: str | None = Field(default=None, pattern=r"^\d\d-\d\d$")
    year_offset: int = 0
    days_before: int = 0
    on_event: bool = False


class Reminder(_Strict):
    """One reminder of reminders.yaml: what schedules it, when it fires, and its text."""

    label: str
    when: When
    at: At
    text: str
    source: str


def load_reminders(path: Path = REMINDERS_FILE) -> dict[str, Reminder]:
    """The reminders of ``path`` (default: the bundled reminders.yaml)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: Reminder.model_validate(spec) for name, spec in raw["reminders"].items()}


def routing_fields(rulesets: Sequence[CompiledRuleSet]) -> dict[str, list[str]]:
    """Per rule set id: every field whose change can change its outcome (its needs and its dependencies')."""
    by_program = {rs.program: rs for rs in rulesets}

    def fields_of(rs: CompiledRuleSet, seen: frozenset[str]) -> set[str]:
        out = set(rs.needs)
        for program in rs.requires():
            if program in by_program and program not in seen:
                out |= fields_of(by_program[program], seen | {program})
        return out

    return {rs.id: sorted(fields_of(rs, frozenset({rs.program}))) for rs in rulesets}


def _any_field(fields: Sequence[str]) -> dict[str, Any]:
    terms = [{f"f_{f}": 1} for f in fields]
    return terms[0] if len(terms) == 1 else {"$or": terms}


def evaluate_rule(ruleset_id: str) -> str:
    return f"evaluate__{ruleset_id}"


def remind_rule(name: str) -> str:
    return f"remind__{name}"


def definition(rulesets: Sequence[CompiledRuleSet], reminders: dict[str, Reminder]) -> dict[str, dict[str, Any]]:
    """The durable ruleset (named JSON form, without actions) generated from the rule sets and reminders."""
    rules: dict[str, dict[str, Any]] = {}
    for ruleset_id, fields in routing_fields(rulesets).items():
        if fields:
            rules[evaluate_rule(ruleset_id)] = {"all": [{"m": _any_field(fields)}], "pri": 1}
    for name, r in reminders.items():
        w = r.when
        if w.field is not None:
            cond: dict[str, Any] = {f"f_{w.field}": 1}
        elif w.program is not None:
            cond = {"$and": [{"type": "outcome"}, {"program": w.program}, {"outcome": w.outcome}]}
        else:
            cond = {"$and": [{"type": "figures"}, {"$gte": {"window_years": w.window_years}}]}
        rules[remind_rule(name)] = {"all": [{"m": cond}], "pri": 2}
    rules[CATCH_ALL] = {"all": [{"m": {"$ex": {"route_id": 1}}}], "pri": 1000}
    return rules


def ruleset_name(rules: dict[str, dict[str, Any]]) -> str:
    """A stable, unique durable ruleset name: the hash of the definition."""
    digest = hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"tiering_watch_{digest[:16]}"


class _Decisions:
    """Rule names fired per message id, filled by consequents on whatever thread durable runs them."""

    def __init__(self) -> None:
        self.fired: dict[str, list[str]] = {}
        self.cond = threading.Condition()

    def record(self, message_id: str, rule: str) -> None:
        with self.cond:
            self.fired.setdefault(message_id, []).append(rule)
            self.cond.notify_all()

    def wait(self, message_id: str, timeout: float) -> list[str] | None:
        with self.cond:
            done = self.cond.wait_for(lambda: CATCH_ALL in self.fired.get(message_id, ()), timeout)
            return self.fired.pop(message_id) if done else None


_DECISIONS = _Decisions()
_HOST: Any = None
_REGISTERED: set[str] = set()
_LOCK = threading.Lock()


def _action(rule: str) -> Callable[[Any], None]:
    def run(c: Any) -> None:
        _DECISIONS.record(str(c.m["route_id"]), rule)
    return run


def _engine() -> Any:
    try:
        from durable import engine
    except ImportError as exc:  # includes a missing compiled extension
        raise DurableMissing(INSTALL_HINT.format(error=exc)) from exc
    return engine


class Router:
    """Asks durable which rule sets and reminders a message concerns (memoised per signature)."""

    def __init__(self, rulesets: Sequence[CompiledRuleSet], reminders: dict[str, Reminder],
                 timeout: float = 10.0) -> None:
        global _HOST
        engine = _engine()
        self.rules = definition(rulesets, reminders)
        self.name = ruleset_name(self.rules)
        self.timeout = timeout
        self.posts = 0
        self._memo: dict[tuple[Any, ...], frozenset[str]] = {}
        self._next = 0
        with _LOCK:
            if _HOST is None:
                _HOST = engine.Host()
            if self.name not in _REGISTERED:
                with_actions = {rule: {**spec, "run": _action(rule)} for rule, spec in self.rules.items()}
                _HOST.register_rulesets({self.name: with_actions})
                _REGISTERED.add(self.name)
        self._host = _HOST

    def route(self, message: dict[str, Any]) -> frozenset[str]:
        """The rules (other than the catch-all) that ``message`` fires: ``evaluate__<id>`` and ``remind__<name>``."""
        signature = tuple(sorted(message.items()))
        hit = self._memo.get(signature)
        if hit is not None:
            return hit
        with _LOCK:
            self._next += 1
            message_id = f"{id(self)}-{self._next}"
        fact = {**message, "id": message_id, "route_id": message_id, "sid": _SID}
        self._host.assert_fact(self.name, fact)
        self.posts += 1
        fired = _DECISIONS.wait(message_id, self.timeout)
        self._host.retract_fact(self.name, fact)
        if fired is None:
            raise RuntimeError(f"durable-rules did not run the catch-all rule for {message} within "
                               f"{self.timeout:g} s; the routing decision is unknown, so the batch is not committed")
        decision = frozenset(r for r in fired if r != CATCH_ALL)
        self._memo[signature] = decision
        return decision


def event_message(event_type: str, fields: set[str], window_years: int = 0) -> dict[str, Any]:
    """The routing message of an event: its type, the fields it writes, and the consecutive annual years."""
    message: dict[str, Any] = {"type": event_type, "window_years": window_years}
    message.update({f"f_{f}": 1 for f in sorted(fields)})
    return message


def outcome_message(program: str, outcome: int) -> dict[str, Any]:
    """The routing message of an outcome reached (schedules outcome reminders)."""
    return {"type": "outcome", "program": program, "outcome": outcome}
