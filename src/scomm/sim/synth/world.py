"""A synthetic world built from a scenario: jurisdictions, a population, bookings, dispositions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.ids import transaction_control_number
from scomm.domain.messages import DispositionOutcome
from scomm.domain.records import Booking, Charge
from scomm.sim.synth.jurisdictions import JurisdictionPlan, jurisdiction_plans
from scomm.sim.synth.population import Person, make_population
from scomm.sim.synth.scenario import ArrestSpec, Scenario, ScenarioError, load_scenario

DEMO_SCENARIO = "demo"


@dataclass(frozen=True)
class PlannedBooking:
    booking: Booking
    person_id: str
    defect: str | None  # None, "truncated" or "bad_dob"
    # How many of the scenario's bookings this one stands for: above 1 where bookings in
    # counties not yet activated are sampled (`sampling.unactivated`), else 1.
    weight: float = 1.0


@dataclass(frozen=True)
class PlannedDisposition:
    """The court's disposition of a booking's charges, weeks after the booking."""

    tcn: str
    outcome: DispositionOutcome
    decided_at: datetime


@dataclass(frozen=True)
class World:
    seed: int
    start: datetime
    end: datetime
    jurisdictions: tuple[JurisdictionPlan, ...]
    people: dict[str, Person]
    bookings: tuple[PlannedBooking, ...]
    # the NCIC table and rule sets the world was drawn with (its reports apply them too)
    catalogue: RuleCatalogue = field(repr=False, compare=False)
    dispositions: tuple[PlannedDisposition, ...] = ()
    scenario: Scenario | None = None

    def sib_ori(self, ori: str) -> str:
        """The ORI of the State Identification Bureau that serves booking agency `ori`."""
        return self.plan(ori).jurisdiction.sib_ori

    def plan(self, ori: str) -> JurisdictionPlan:
        return next(p for p in self.jurisdictions if p.jurisdiction.ori == ori)


Progress = Callable[[int], None]


def build_world(
    seed: int,
    bookings: int,
    population: int | None = None,
    scenario: Scenario | None = None,
    catalogue: RuleCatalogue | None = None,
) -> World:
    """The demo scenario (or `scenario`) with exactly `bookings` bookings. Deterministic:
    the same seed gives the same world."""
    catalogue = catalogue or RuleCatalogue.load()
    base = scenario or load_scenario(DEMO_SCENARIO, catalogue.ncic)
    return build_scenario_world(
        base.with_overrides(seed=seed, bookings=bookings), population, catalogue=catalogue
    )


def build_scenario_world(
    scenario: Scenario,
    population: int | None = None,
    progress: Progress | None = None,
    catalogue: RuleCatalogue | None = None,
) -> World:
    """Everything the scenario describes, drawn from one seeded generator. The offenses
    are the `catalogue`'s; the world builder is the simulator's composition point, so
    without one it reads the package's (`RuleCatalogue.load`), afresh."""
    catalogue = catalogue or RuleCatalogue.load()
    rng = np.random.default_rng(scenario.seed)
    places = jurisdiction_plans(scenario)
    slots = _booking_slots(rng, scenario, places)
    spec = scenario.population
    size = population or max(spec.minimum_people, round(len(slots) * spec.people_per_booking))
    people = make_population(
        rng,
        size,
        spec,
        before=scenario.start,
        catalogue=catalogue,
        prior_offenses=scenario.arrests.offense_mix if spec.priors_like_bookings else None,
    )
    planned: list[PlannedBooking] = []
    dispositions: list[PlannedDisposition] = []
    sequence: dict[str, int] = {}
    disposition_outcomes = list(scenario.dispositions.shares)
    disposition_p = np.array([scenario.dispositions.shares[o] for o in disposition_outcomes])
    disposition_p = disposition_p / disposition_p.sum()
    for booked_at, place, weight in slots:
        person = people[int(rng.integers(len(people)))]
        ori = place.jurisdiction.ori
        sequence[ori] = sequence.get(ori, 0) + 1
        tcn = transaction_control_number(ori, booked_at, sequence[ori])
        booking = Booking(
            booking_id=f"BK-{tcn}",
            tcn=tcn,
            ori=ori,
            booked_at=booked_at,
            release_due_at=booked_at + timedelta(hours=scenario.arrests.release_hours.draw(rng)),
            name=person.name,
            dob=person.dob,
            sex=person.sex,
            pob=person.pob,
            charges=_charges(rng, scenario.arrests, booked_at, catalogue),
        )
        planned.append(PlannedBooking(booking, person.person_id, _defect(rng, scenario), weight))
        outcome = disposition_outcomes[int(rng.choice(len(disposition_outcomes), p=disposition_p))]
        delay = timedelta(days=scenario.dispositions.delay_days.draw(rng))
        dispositions.append(PlannedDisposition(tcn, outcome, booked_at + delay))
        if progress:
            progress(1)
    return World(
        seed=scenario.seed,
        start=scenario.start,
        end=scenario.end,
        jurisdictions=places,
        people={p.person_id: p for p in people},
        bookings=tuple(planned),
        catalogue=catalogue,
        dispositions=tuple(sorted(dispositions, key=lambda d: (d.decided_at, d.tcn))),
        scenario=scenario,
    )


def _booking_slots(
    rng: np.random.Generator, scenario: Scenario, places: tuple[JurisdictionPlan, ...]
) -> list[tuple[datetime, JurisdictionPlan, float]]:
    """When and where each booking happens: a Poisson number of bookings for the volume at
    this scale (or the preset number), spread evenly over the window, each in a county
    drawn by its share. A booking where the county is not yet activated is kept with the
    probability `sampling.unactivated`, and then stands for 1/that bookings."""
    expected = scenario.expected_bookings()
    count = scenario.fixed_bookings or int(rng.poisson(expected))
    span = (scenario.end - scenario.start).total_seconds()
    offsets = np.sort(rng.uniform(0, span, size=count))
    shares = np.array([p.share_of_bookings for p in places])
    where = rng.choice(len(places), size=count, p=shares / shares.sum())
    keep = rng.random(size=count)
    sampling = scenario.unactivated_sampling
    slots = []
    for offset, index, draw in zip(offsets, where, keep, strict=True):
        at = scenario.start + timedelta(seconds=round(float(offset)))
        place = places[int(index)]
        weight = 1.0
        if sampling < 1.0 and not place.activated_at(at):
            if draw >= sampling:
                continue
            weight = 1.0 / sampling
        slots.append((at, place, weight))
    return slots


def _charges(
    rng: np.random.Generator, spec: ArrestSpec, booked_at: datetime, catalogue: RuleCatalogue
) -> tuple[Charge, ...]:
    counts = list(spec.charges_per_booking)
    count_p = np.array([spec.charges_per_booking[c] for c in counts])
    codes = list(spec.offense_mix)
    code_p = np.array([spec.offense_mix[c] for c in codes])
    n = counts[int(rng.choice(len(counts), p=count_p / count_p.sum()))]
    charges = []
    for _ in range(n):
        code = codes[int(rng.choice(len(codes), p=code_p / code_p.sum()))]
        offense = catalogue.offense(code)
        if offense is None:  # the loader checked every code against the package's table
            raise ScenarioError(f"arrests.offense_mix.{code}: not in the catalogue's table")
        variants = spec.literal_variants.get(code)
        literal = variants[int(rng.integers(len(variants)))] if variants else offense.literal
        # literals no classifier knows reach the IAQ as 0399 (counted, never dropped)
        if rng.random() < spec.unclassifiable_share:
            literal = spec.unclassifiable_literals[
                int(rng.integers(len(spec.unclassifiable_literals)))
            ]
        charges.append(
            Charge(literal=literal, offense_date=(booked_at - timedelta(hours=2)).date())
        )
    return tuple(charges)


def _defect(rng: np.random.Generator, scenario: Scenario) -> str | None:
    """Transactions damaged on the way (truncated, or a bad field)."""
    spec = scenario.arrests
    if rng.random() >= spec.defect_share:
        return None
    kinds = list(spec.defect_kinds)
    p = np.array([spec.defect_kinds[k] for k in kinds])
    return kinds[int(rng.choice(len(kinds), p=p / p.sum()))]
