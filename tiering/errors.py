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
from typing import ClassVar, Protocol

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
        """``rules/x.yaml:12 criteria.rd.threshold [c4]`` or ``名录.xlsx 工作表“2024” 行 7 列 "销售收入(万元)"
        revenue``: the one way every output writes a place (a register's refused cells too)."""
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.sheet is not None:
            parts.append(f"工作表“{self.sheet}”")
        if self.row is not None:
            parts.append(f"行 {self.row}")
        if self.column is not None:
            parts.append(f'列 "{self.column}"')
        if self.field is not None:
            parts.append(self.field)
        if self.rule_id is not None:
            parts.append(f"[{self.rule_id}]")
        return " ".join(parts)


def placed(where: Where | None, message: str, code: str = "") -> str:
    """A message at its place as every output shows it: ``file:line field: message [code]`` (the place from the
    structure, never from the message's text)."""
    place = str(where) if where is not None else ""
    text = f"{place}: {message}" if place else message
    return f"{text} [{code}]" if code else text


@dataclass(frozen=True)
class Problem:
    """One problem at its place, for an error that lists several (see :class:`Placed`)."""

    where: Where
    message: str
    code: str = ""


class Placed(Protocol):
    """One problem of a file at its place (e.g. :class:`tiering.rules.yamlsrc.SourceProblem`), as an error lists
    every problem of a file it refuses."""

    @property
    def where(self) -> Where: ...

    @property
    def message(self) -> str: ...

    @property
    def code(self) -> str: ...


class TieringError(Exception):
    """Base of every error meant for a person. ``str(error)`` is the message at its place; :meth:`lines` the full
    text. ``problems``: every problem of a refused file, each at its own place."""

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
                 problems: Sequence[Placed] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint
        self.problems = list(problems)

    def __str__(self) -> str:
        return placed(self.where, self.message)

    def located(self, where: Where) -> TieringError:
        """This error, placed at ``where`` unless it knows its own place: a reader's error (e.g. of a file's
        headers) given its file by the caller that knows it. Returns the error itself, to be raised again."""
        if self.where is None:
            self.where = where
        return self

    def lines(self) -> list[str]:
        """The error as people read it: where and the message with its id, each problem at its place, then what
        to do."""
        out = [placed(self.where, self.message, self.id), *(placed(p.where, p.message, p.code) for p in self.problems)]
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


class PanelUnusable(Unusable, ValueError):
    """A firm-year panel the growth model cannot learn from or be measured on as given (columns missing, a firm-year
    twice, too few years, no feature keeping its declared direction; exit 3). It is also a ValueError because the
    model's estimator protocol (scikit-learn) reports bad training data that way."""

    id = "panel-unusable"


class CheckFailed(TieringError):
    """A check the command was asked to make found a problem (exit 4)."""

    id = "check-failed"
    exit_code = exit_codes.CHECK_FAILED


BY_EXIT_CODE: dict[int, type[TieringError]] = {
    exit_codes.USAGE: UsageError, exit_codes.UNUSABLE_INPUT: Unusable, exit_codes.CHECK_FAILED: CheckFailed,
}
"""The general member of the family for each exit code an error can have."""
