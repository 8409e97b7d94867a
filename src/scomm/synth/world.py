"""A first synthetic world: jurisdictions, a population, and the bookings of a scenario window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from scomm.domain.ids import transaction_control_number
from scomm.domain.offenses import OFFENSES, Offense
from scomm.domain.records import Booking, Charge
from scomm.synth.jurisdictions import JurisdictionPlan, default_jurisdictions
from scomm.synth.population import Person, make_population

SCENARIO_START = datetime(2010, 1, 1)
SCENARIO_END = datetime(2012, 1, 1)

# What people are booked for: traffic and public-order offences dominate (DOMAIN.md §5).
BOOKING_OFFENSE_WEIGHTS: dict[str, float] = {
    "5404": 0.18,
    "5499": 0.12,
    "1313": 0.12,
    "2399": 0.10,
    "3562": 0.08,
    "5311": 0.08,
    "7399": 0.05,
    "2299": 0.05,
    "2699": 0.04,
    "1315": 0.05,
    "3530": 0.04,
    "1299": 0.02,
    "5207": 0.03,
    "2404": 0.02,
    "1199": 0.01,
    "0999": 0.005,
    "2599": 0.005,
}
# Literals no classifier knows: they reach the IAQ as 0399 (counted, never dropped).
UNCLASSIFIED_LITERALS = ("PROBATION VIOLATION", "FTA WARRANT", "RESISTING OFFICER W/O VIOL")
UNCLASSIFIED_SHARE = 0.05
DEFECT_SHARE = 0.02  # transactions damaged on the way (truncated, or a bad field)


@dataclass(frozen=True)
class PlannedBooking:
    booking: Booking
    person_id: str
    defect: str | None  # None, "truncated" or "bad_dob"


@dataclass(frozen=True)
class World:
    seed: int
    start: datetime
    end: datetime
    jurisdictions: tuple[JurisdictionPlan, ...]
    people: dict[str, Person]
    bookings: tuple[PlannedBooking, ...]

    def sib_ori(self, ori: str) -> str:
        """The ORI of the State Identification Bureau that serves booking agency `ori`."""
        return next(p.jurisdiction.sib_ori for p in self.jurisdictions if p.jurisdiction.ori == ori)


def build_world(seed: int, bookings: int, population: int | None = None) -> World:
    """Deterministic for a given seed: the same seed gives the same world."""
    rng = np.random.default_rng(seed)
    places = tuple(default_jurisdictions())
    size = population if population is not None else max(50, bookings * 2)
    people = make_population(rng, size, home_state="CA", before=SCENARIO_START)
    plan = _plan_bookings(rng, bookings, places, people)
    return World(
        seed=seed,
        start=SCENARIO_START,
        end=SCENARIO_END,
        jurisdictions=places,
        people={p.person_id: p for p in people},
        bookings=plan,
    )


def _plan_bookings(
    rng: np.random.Generator, count: int, places: tuple[JurisdictionPlan, ...], people: list[Person]
) -> tuple[PlannedBooking, ...]:
    shares = np.array([p.share_of_bookings for p in places])
    span = (SCENARIO_END - SCENARIO_START).total_seconds()
    times = sorted(
        SCENARIO_START + timedelta(seconds=float(s))
        for s in rng.uniform(0, span * 0.97, size=count)
    )
    codes = list(BOOKING_OFFENSE_WEIGHTS)
    weights = np.array(list(BOOKING_OFFENSE_WEIGHTS.values()))
    by_code = {o.ncic_code: o for o in OFFENSES}
    planned = []
    sequence: dict[str, int] = {}
    for booked_at in times:
        person = people[int(rng.integers(len(people)))]
        place = places[int(rng.choice(len(places), p=shares / shares.sum()))].jurisdiction
        sequence[place.ori] = sequence.get(place.ori, 0) + 1
        tcn = transaction_control_number(place.ori, booked_at, sequence[place.ori])
        charges = tuple(
            _charge(
                rng,
                by_code[codes[int(rng.choice(len(codes), p=weights / weights.sum()))]],
                booked_at,
            )
            for _ in range(int(rng.integers(1, 3)))
        )
        hours = float(np.clip(rng.lognormal(np.log(36.0), 1.1), 3.0, 24.0 * 60))
        booking = Booking(
            booking_id=f"BK-{tcn}",
            tcn=tcn,
            ori=place.ori,
            booked_at=booked_at,
            release_due_at=booked_at + timedelta(hours=hours),
            name=person.name,
            dob=person.dob,
            sex=person.sex,
            pob=person.pob,
            charges=charges,
        )
        defect = None
        if rng.random() < DEFECT_SHARE:
            defect = "truncated" if rng.random() < 0.5 else "bad_dob"
        planned.append(PlannedBooking(booking, person.person_id, defect))
    return tuple(planned)


def _charge(rng: np.random.Generator, offense: Offense, booked_at: datetime) -> Charge:
    literal = offense.literal
    if rng.random() < UNCLASSIFIED_SHARE:
        literal = UNCLASSIFIED_LITERALS[int(rng.integers(len(UNCLASSIFIED_LITERALS)))]
    return Charge(literal=literal, offense_date=(booked_at - timedelta(hours=2)).date())
