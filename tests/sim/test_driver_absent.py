"""The driver does not book a person the flow has removed or ICE still holds (the world is
drawn before the run and cannot know); the booking's court disposition goes with it."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from scomm.domain.case import CaseState, CustodyState
from scomm.domain.ids import derived_id
from scomm.domain.messages import DispositionOutcome
from scomm.domain.records import Booking, Case
from scomm.sim.driver import play_timeline, silent
from scomm.sim.driver_timeline import Event
from scomm.sim.synth.world import PlannedDisposition, World, build_world


@dataclass
class Flow:
    """A stand-in for the flow: bookings made, and each one's case in a set state."""

    state: CaseState
    custody: CustodyState = CustodyState.TRANSFERRED_TO_ICE
    updated_at: datetime | None = None  # when the case took `state` (default: at booking)
    booked: list[str] = field(default_factory=list)
    disposed: list[str] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)

    def book(self, booking: Booking, transaction: bytes) -> None:
        self.booked.append(booking.tcn)
        case_id = derived_id("case", booking.tcn)
        self.cases[case_id] = Case(
            case_id,
            booking.tcn,
            booking.ori,
            self.state,
            self.custody,
            booking.booked_at,
            self.updated_at or booking.booked_at,
        )

    def record_disposition(self, tcn: str, outcome: DispositionOutcome, at: datetime) -> None:
        self.disposed.append(tcn)

    def run_until(self, moment: datetime | None = None) -> int:
        return 0

    def unit_of_work(self, cause: str = "") -> Any:
        return nullcontext(self)

    # what the driver reads through the unit of work
    @property
    def bookings(self) -> Flow:
        return self

    def tcn_used(self, tcn: str) -> bool:
        return tcn in self.booked

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)


@pytest.fixture(scope="module")
def world() -> World:
    """Two bookings of one person, 30 days apart, each with a disposition after it."""
    drawn = build_world(seed=5, bookings=4)
    first, second = drawn.bookings[0], drawn.bookings[1]
    at = first.booking.booked_at
    second = replace(
        second,
        person_id=first.person_id,
        booking=replace(second.booking, booked_at=at + timedelta(days=30)),
    )
    return replace(drawn, bookings=(first, second), dispositions=())


def play(world: World, flow: Flow) -> tuple[int, int]:
    first, second = world.bookings
    events: list[Event] = []
    for planned in (first, second):
        at = planned.booking.booked_at
        events.append(Event(at, planned))
        disposition = PlannedDisposition(
            planned.booking.tcn, next(iter(DispositionOutcome)), at + timedelta(days=10)
        )
        events.append(Event(disposition.decided_at, disposition))
    events.sort(key=lambda e: e.at)
    return play_timeline(flow, world, events, 0, lambda _: b"", silent, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "state",
    [
        CaseState.REMOVED,
        CaseState.ICE_CUSTODY,
        CaseState.IN_PROCEEDINGS,
        CaseState.REMOVAL_ORDERED,
    ],
)
def test_a_person_removed_or_held_by_ice_is_not_booked_again(
    world: World, state: CaseState
) -> None:
    flow = Flow(state)
    booked, skipped = play(world, flow)
    first, second = (p.booking.tcn for p in world.bookings)
    assert (booked, skipped) == (1, 1)
    assert flow.booked == [first]
    assert flow.disposed == [first]  # the booking not made has no disposition


@pytest.mark.parametrize(
    ("state", "custody"),
    [
        (CaseState.NO_ACTION, CustodyState.RELEASED),
        (CaseState.RELEASED_ON_BOND, CustodyState.TRANSFERRED_TO_ICE),
        (CaseState.TERMINATED, CustodyState.TRANSFERRED_TO_ICE),
        (CaseState.DETAINER_LODGED, CustodyState.RELEASED),
    ],
)
def test_a_person_free_again_is_booked(
    world: World, state: CaseState, custody: CustodyState
) -> None:
    flow = Flow(state, custody)
    assert play(world, flow) == (2, 0)
    assert flow.disposed == flow.booked == [p.booking.tcn for p in world.bookings]


def test_a_release_after_the_booking_time_leaves_the_person_held_then(world: World) -> None:
    """A resumed run can find messages a killed run delivered past the booking's moment:
    a case ICE released later than that moment was held at it, so the booking is again
    not made, as the first time."""
    later = world.bookings[1].booking.booked_at + timedelta(days=1)
    flow = Flow(CaseState.RELEASED_ON_BOND, updated_at=later)
    assert play(world, flow) == (1, 1)
