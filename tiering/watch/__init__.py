"""``tiering watch``: keep tiers current between annual runs from a stream of events.

    events.py    the event types and their payloads (JSON lines)
    sources.py   reading lines from a file, a folder or standard input, with positions
    panel.py     the firms' current data: register + every event's changes, folded in date order
    routing.py   durable-rules rulesets generated from the rule sets' field dependencies; reminders.yaml
    outcomes.py  the current outcome of every firm × rule set
    monitor.py   apply, route, re-evaluate with the classify evaluator, diff, alert, commit
    state.py     the SQLite state of a state folder (event log, outcomes, alerts, reminders, positions)
    alerts.py    alert records and texts, JSONL files, the period summary
    clock.py     system or simulated date for reminders
    synth.py     a seeded synthetic event stream (tests, benchmark)
"""
