"""The one family of errors for people: what was wrong, where, what to do, and the exit code it means.

Every error a user can cause — a rule file, a register, a plan, a policy, a model card, the audit store, a firm
that is not in the register — is a :class:`TieringError`. Each subclass has a stable English ``id`` (for scripts
and for searching the docs) and an ``exit_code`` (:mod:`tiering.exit_codes`); the message is in Chinese, may carry
English, and says what to do in ``hint``. The command line turns any of them into its message and exit code in
one place (:func:`tiering.cli.main`); nothing else catches them broadly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from tiering import exit_codes


@dataclass(frozen=True)
class Where:
    """Where the problem is: a file and line (rule files), or a file, sheet, row and column (registers); the field
    and the rule id when known. Every part is optional."""

    file: str | None = None
    line: int | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    rule_id: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.sheet is not None:
            parts.append(f"工作表 {self.sheet}")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column is not None:
            parts.append(f"列 {self.column}")
        if self.field is not None:
            parts.append(self.field)
        if self.rule_id is not None:
            parts.append(f"[{self.rule_id}]")
        return " ".join(parts)


class TieringError(Exception):
    """Base of every error meant for a person. ``str(error)`` is the message; :meth:`lines` the full text."""

    id: ClassVar[str] = "tiering-error"
    exit_code: ClassVar[int] = exit_codes.UNUSABLE_INPUT

    def __init_subclass__(cls, error_id: str | None = None, exit_code: int | None = None, **kwargs: object) -> None:
        """``class StoreTampered(TieringError, error_id="store-tampered", exit_code=exit_codes.CHECK_FAILED)``."""
        super().__init_subclass__(**kwargs)
        if error_id is not None:
            cls.id = error_id
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, *, where: Where | None = None, hint: str | None = None,
                 details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint
        self._details = list(details)

    def __str__(self) -> str:
        where = str(self.where) if self.where is not None else ""
        return f"{where}: {self.message}" if where and not self.message.startswith(where) else self.message

    def details(self) -> list[str]:
        """Further lines shown under the message (e.g. every problem of a rule file, each with its own place)."""
        return list(self._details)

    def lines(self) -> list[str]:
        """The error as people read it: the message with its id, the details, then what to do."""
        out = [f"{self} [{self.id}]", *self.details()]
        if self.hint:
            out.append(f"建议 hint: {self.hint}")
        return out


class UsageError(TieringError):
    """The command line asks for something that cannot be done as given."""

    id = "usage"
    exit_code = exit_codes.USAGE


class NotFound(TieringError):
    """Something named (a firm, a rule set, a run) is not where it was looked for."""

    id = "not-found"


class Unusable(TieringError):
    """An input (a file, a folder, a recorded run) that cannot be used at all; nothing was done (exit 3)."""

    id = "unusable"


class CheckFailed(TieringError):
    """A check the command was asked to make found a problem (exit 4)."""

    id = "check-failed"
    exit_code = exit_codes.CHECK_FAILED


BY_EXIT_CODE: dict[int, type[TieringError]] = {
    exit_codes.USAGE: UsageError, exit_codes.UNUSABLE_INPUT: Unusable, exit_codes.CHECK_FAILED: CheckFailed,
}
"""The general member of the family for each exit code an error can have."""
