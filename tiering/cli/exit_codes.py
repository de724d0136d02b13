"""Exit codes: part of the command-line interface, documented in README.md and in ``tiering --help``."""

from __future__ import annotations

OK = 0
"""Every row was classified (or the command succeeded)."""
ROWS_REFUSED = 1
"""The run finished, but some input rows were refused; see the rejects file."""
USAGE = 2
"""Bad command line (click's own code)."""
UNUSABLE_INPUT = 3
"""A rule file, register or other input could not be used at all; nothing was classified."""
CHECK_FAILED = 4
"""A check found problems: rule cases failing, an audit chain broken, a replay that differs."""

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 finished but some rows were refused; 2 usage error; "
    "3 unusable rules or input file; 4 a check failed (rule cases, audit chain, replay)."
)
