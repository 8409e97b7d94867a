"""The simulated ICE and court side (`scomm.domain.removals`): its two fixed rules (no
citizen removed, a lawful status removed only on a removable conviction), its tracks,
and its durations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scomm.domain.immigration import RecordedStatus
from scomm.domain.removals import Days, Judgment, RemovalFacts, RemovalPolicy, Track

POLICY = RemovalPolicy()
draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
four_draws = st.tuples(draws, draws, draws, draws)
statuses = st.sampled_from([None, *RecordedStatus])


def facts(
    status: RecordedStatus | None = RecordedStatus.VISA_OVERSTAY,
    evidence: str = "",
    resident: bool = False,
    level: int = 0,
) -> RemovalFacts:
    return RemovalFacts(status, evidence, resident, (), level)


@given(statuses, st.booleans(), st.integers(0, 3), four_draws)
def test_a_citizen_is_never_removed_whatever_the_draws(
    status: RecordedStatus | None, resident: bool, level: int, u: tuple[float, ...]
) -> None:
    claim = facts(status, "naturalization on record", resident, level)
    assert POLICY.book_in(claim, u[0], u[1]).track is Track.CITIZENSHIP_CLAIM
    assert POLICY.adjudicate(claim, u[2], u[3]).judgment is Judgment.TERMINATED
    assert POLICY.may_remove(claim)


@given(st.integers(0, 3), four_draws)
def test_a_permanent_resident_is_removed_only_on_a_removable_conviction(
    level: int, u: tuple[float, ...]
) -> None:
    resident = facts(RecordedStatus.LAWFUL_PERMANENT_RESIDENT, resident=True, level=level)
    book_in = POLICY.book_in(resident, u[0], u[1])
    assert book_in.track is Track.HEARING  # never a fast track
    judgment = POLICY.adjudicate(resident, u[2], u[3]).judgment
    if level not in POLICY.removable_levels:
        assert judgment is Judgment.TERMINATED and POLICY.may_remove(resident)
    else:
        assert judgment is not Judgment.TERMINATED and not POLICY.may_remove(resident)


@pytest.mark.parametrize(
    ("status", "detention", "track", "expected"),
    [
        (RecordedStatus.PREVIOUSLY_REMOVED, 0.1, 0.9, (True, Track.REINSTATEMENT)),
        (RecordedStatus.VISA_OVERSTAY, 0.1, 0.1, (True, Track.HEARING)),
        (RecordedStatus.VISA_OVERSTAY, 0.1, 0.9, (True, Track.STIPULATED)),
        (RecordedStatus.ENTERED_WITHOUT_INSPECTION, 0.9, 0.1, (False, Track.HEARING)),
        (RecordedStatus.NONIMMIGRANT_VISA, 0.1, 0.9, (True, Track.HEARING)),
    ],
)
def test_the_track_follows_the_record_and_the_draws(
    status: RecordedStatus, detention: float, track: float, expected: tuple[bool, Track]
) -> None:
    book_in = POLICY.book_in(facts(status), detention, track)
    assert (book_in.detained, book_in.track) == expected


def test_counsel_and_relief_come_from_their_shares() -> None:
    removable = facts()
    assert POLICY.adjudicate(removable, 0.1, 0.05) == POLICY.adjudicate(removable, 0.1, 0.05)
    with_counsel = POLICY.adjudicate(removable, 0.1, 0.05)
    assert with_counsel.counsel and with_counsel.judgment is Judgment.RELIEF_GRANTED
    alone = POLICY.adjudicate(removable, 0.9, 0.05)
    assert not alone.counsel and alone.judgment is Judgment.REMOVAL_ORDERED


@given(draws)
def test_a_duration_stays_in_its_bounds(u: float) -> None:
    days = Days(median=14, sigma=0.8, minimum=2, maximum=120)
    assert timedelta(days=2) <= days.draw(u) <= timedelta(days=120)


def test_a_duration_has_its_median_at_the_middle_draw() -> None:
    days = Days(median=14, sigma=0.8, minimum=2, maximum=120)
    assert days.draw(0.5) == timedelta(days=14)
    assert days.draw(0.1) < days.draw(0.5) < days.draw(0.9)
    assert Days(median=5).draw(0.99) == timedelta(days=5)  # sigma 0: always the median


def test_at_once_keeps_the_decisions_and_drops_the_waits() -> None:
    quick = POLICY.at_once()
    assert quick.hearing_days.draw(0.99) == timedelta(0)
    assert quick.claim_days.draw(0.5) == quick.removal_days.draw(0.5) == timedelta(0)
    assert quick.fast_track_days.draw(0.01) == timedelta(0)
    assert (quick.detention_share, quick.hearing_share) == (
        POLICY.detention_share,
        POLICY.hearing_share,
    )
