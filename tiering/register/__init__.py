"""Firm registers as analysts have them: read .xlsx/.csv/.parquet, map headers, validate rows, refuse bad ones.

    from tiering.register import load_register, write_rejects
    register = load_register("firms.xlsx", money_unit="万元")
    for refusal in register.refusals:
        print(refusal.message())
    write_rejects(register, "firms.rejects.csv")
"""

from __future__ import annotations

import importlib
from typing import Any

from tiering.register.refusals import Refusal, Register, RegisterError, write_rejects

__all__ = [
    "Refusal", "Register", "RegisterError", "RegisterRow", "load_register", "write_rejects", "write_template",
]

_LAZY = {"load_register": "tiering.register.load", "RegisterRow": "tiering.register.row",
         "write_template": "tiering.register.template"}
"""Imported on first use: what only looks at a register already read (e.g. one from the register cache) does not
load the spreadsheet readers, the row contract and openpyxl."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tiering.register' has no attribute '{name}'")
