"""Progress of long steps on a terminal, and nothing when output is not a terminal (a log, a pipe, a test).

The application layer reports progress through a callback (:data:`tiering.app.Progress`: step, done, total); on a
terminal each step is one line on stderr, rewritten in place as it advances.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the type only: generate and train start without the evaluation engine
    from tiering.app import Progress


def _on_terminal(step: str, done: int, total: int) -> None:
    if total > 1:
        end = "\n" if done >= total else ""
        click.echo(f"\r{step} {done}/{total}", err=True, nl=False)
        click.echo(end, err=True, nl=False)
    elif done == 0:
        click.echo(f"{step} …", err=True)


def terminal_progress() -> Progress | None:
    """The progress callback for a command: lines on stderr when it is a terminal, else None (quiet)."""
    return _on_terminal if sys.stderr.isatty() else None
