"""The detainer hold: at most 48 hours, excluding weekends and holidays (8 CFR 287.7(d))."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import holidays

HOLD_HOURS = 48


def us_federal_holiday() -> Callable[[date], bool]:
    """A predicate for US federal holidays (observed days included), from the `holidays` package."""
    calendar = holidays.country_holidays("US")
    return lambda day: day in calendar


def is_excluded_day(day: date, is_holiday: Callable[[date], bool]) -> bool:
    return day.weekday() >= 5 or is_holiday(day)


def hold_deadline(
    start: datetime, is_holiday: Callable[[date], bool], hours: int = HOLD_HOURS
) -> datetime:
    """When a hold that starts at `start` must end: `hours` counted only on working days."""
    remaining = timedelta(hours=hours)
    cursor = start
    while remaining > timedelta(0):
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time())
        if is_excluded_day(cursor.date(), is_holiday):
            cursor = next_midnight
            continue
        step = min(remaining, next_midnight - cursor)
        cursor += step
        remaining -= step
    return cursor
