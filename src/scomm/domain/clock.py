"""Injected time: services never read the wall clock directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC, the default outside simulations."""

    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


class ScenarioClock:
    """Scenario time: moves only when the simulation advances it, and never backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment
