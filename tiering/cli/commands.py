"""Attaches every command family to the ``main`` group (some modules attach themselves on import)."""

from __future__ import annotations

from tiering.cli import datasets_cmd, main, model_cmd  # noqa: F401  (these modules register their own groups)
from tiering.cli.classify_cmd import classify, explain, template
from tiering.cli.rules_cmd import rules

for command in (classify, explain, template, rules):
    main.add_command(command)
