from datetime import date, datetime

from scomm.domain.hold import hold_deadline, us_federal_holiday


def no_holidays(_: date) -> bool:
    return False


def test_midweek_hold_is_two_calendar_days() -> None:
    assert hold_deadline(datetime(2010, 9, 8, 9, 0), no_holidays) == datetime(2010, 9, 10, 9, 0)


def test_weekend_does_not_count() -> None:
    # Friday 17:00: 7 hours on Friday, none on Saturday or Sunday, 24 on Monday, 17 on Tuesday.
    assert hold_deadline(datetime(2010, 9, 10, 17, 0), no_holidays) == datetime(2010, 9, 14, 17)


def test_federal_holiday_does_not_count() -> None:
    # Friday 3 Sep 2010 17:00; Monday 6 Sep is Labor Day: the hold runs to Wednesday 17:00.
    deadline = hold_deadline(datetime(2010, 9, 3, 17, 0), us_federal_holiday())
    assert deadline == datetime(2010, 9, 8, 17, 0)


def test_hold_starting_on_a_saturday_begins_on_monday() -> None:
    assert hold_deadline(datetime(2010, 9, 11, 12, 0), no_holidays) == datetime(2010, 9, 15, 0, 0)


def test_calendar_knows_christmas_observed() -> None:
    is_holiday = us_federal_holiday()
    assert is_holiday(date(2010, 12, 24))  # Christmas 2010 fell on a Saturday
    assert not is_holiday(date(2010, 12, 22))
