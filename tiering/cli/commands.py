"""Attaches every command family to the ``main`` group (some modules attach themselves on import)."""

from __future__ import annotations

from tiering.cli import main, model_cmd  # noqa: F401  (model_cmd registers `tiering model`)
from tiering.cli.classify_cmd import classify, explain, template
from tiering.cli.rules_cmd import rules

for command in (classify, explain, template, rules):
    main.add_command(command)
