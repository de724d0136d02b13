"""The current outcome of every firm × rule set, as a small integer matrix (diffed a round at a time)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

NONE = -2
"""No outcome: the firm has not been evaluated (no row for the data year)."""


class Outcomes:
    """Outcome codes (1, 0, -1; ``NONE`` if never evaluated) for fixed firms × rule sets."""

    def __init__(self, firms: list[str], ruleset_ids: list[str]) -> None:
        self.firm_row = {f: i for i, f in enumerate(firms)}
        self.firms = firms
        self.ruleset_ids = ruleset_ids
        self.codes = np.full((len(firms), len(ruleset_ids)), NONE, dtype=np.int8)
        self._col = {r: j for j, r in enumerate(ruleset_ids)}

    def get(self, firm: str, ruleset_id: str) -> int | None:
        code = int(self.codes[self.firm_row[firm], self._col[ruleset_id]])
        return None if code == NONE else code

    def set(self, firm: str, ruleset_id: str, code: int) -> None:
        self.codes[self.firm_row[firm], self._col[ruleset_id]] = code

    def items(self) -> Iterator[tuple[tuple[str, str], int]]:
        """((firm, rule set id), code) of every evaluated pair."""
        for i, j in zip(*np.nonzero(self.codes != NONE), strict=True):
            yield (self.firms[i], self.ruleset_ids[j]), int(self.codes[i, j])

    def __len__(self) -> int:
        return int((self.codes != NONE).sum())

    def replace(self, rows: np.ndarray, after: np.ndarray) -> list[tuple[int, int, int | None]]:
        """Set firms ``rows`` (each at most once) to ``after`` (rows × rule sets); return every change as
        (position in ``rows``, rule-set column, code before or None)."""
        before = self.codes[rows]
        changed = np.argwhere(before != after)
        self.codes[rows] = after
        return [(int(a), int(j), None if before[a, j] == NONE else int(before[a, j])) for a, j in changed]
