"""The ``tiering`` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from tiering import __version__
from tiering.cli.exit_codes import EXIT_CODES_HELP


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="tiering")
def main() -> None:
    """tiering — classify technology enterprises into S&T cultivation tiers and explain every decision."""


def _register_commands() -> None:
    from tiering.cli import commands  # noqa: F401  (importing registers the commands on ``main``)


_register_commands()
