"""Attaches every command family to the ``main`` group (modules that attach themselves are imported here too)."""

from __future__ import annotations

from tiering.cli import main
from tiering.cli.rules_cmd import rules

main.add_command(rules)
