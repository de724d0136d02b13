"""Today's date for the monitor: the system's, or a simulated one that tests (and replays) set by hand."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def today(self) -> dt.date: ...


class SystemClock:
    """The machine's date (UTC)."""

    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).date()


class SimulatedClock:
    """A clock that stands still until moved: reminders due by its date fire, later ones wait."""

    def __init__(self, start: dt.date) -> None:
        self._today = start

    def today(self) -> dt.date:
        return self._today

    def set(self, day: dt.date) -> None:
        """Move to ``day`` (backwards too: a clock set back fires nothing new)."""
        self._today = day

    def advance(self, days: int) -> dt.date:
        """Move forward ``days`` days and return the new date."""
        self._today += dt.timedelta(days=days)
        return self._today
