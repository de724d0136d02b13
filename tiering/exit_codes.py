"""Exit codes: part of the command-line interface, documented in README.md and in ``tiering --help``; every
error of the family (:mod:`tiering.errors`) carries one."""

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
MISSING_COLUMNS = 5
"""classify finished, but some firms are 待定 because a column the rules need is absent from the register (the
summary names the program, the count, the column and the nearest unused header); wins over 1."""
RUN_FAILED = 6
"""A partitioned run (--engine local|dask) stopped: a partition could not be classified (an error in a worker, no
worker left, a damaged partition file), or was interrupted (Ctrl-C, SIGTERM). No part is left in --out and nothing
is recorded in the audit store."""

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 finished but some rows were refused; 2 usage error; "
    "3 unusable rules or input file; 4 a check failed (rule cases, audit chain, replay); "
    "5 classify finished but firms are 待定 because a needed column is absent; "
    "6 a partitioned run stopped (a partition failed), nothing recorded."
)
