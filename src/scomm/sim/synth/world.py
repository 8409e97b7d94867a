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
from scomm.sim.synth.scenario import (
    ArrestSpec,
    LogNormal,
    Scenario,
    ScenarioError,
    load_scenario,
)

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
    """Everything the scenario describes, drawn from one seeded generator (numpy arrays,
    then the records). The offenses are the `catalogue`'s; the world builder is the
    simulator's composition point, so without one it reads the package's
    (`RuleCatalogue.load`), afresh.

    People live in a county: each county's people are drawn from its residents (its
    profile's groups, or the scenario's national paths), and each of its bookings books
    one of them (re-arrests stay local). `population` sets the number of people in all
    (else `people_per_booking` per booking, at least `minimum_people`)."""
    catalogue = catalogue or RuleCatalogue.load()
    rng = np.random.default_rng(scenario.seed)
    places = jurisdiction_plans(scenario)
    offsets, where, weights = _booking_slots(rng, scenario, places)
    spec = scenario.population
    counts = np.bincount(where, minlength=len(places))
    total = population or max(spec.minimum_people, round(len(offsets) * spec.people_per_booking))
    sizes = _allocate(total, counts)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    people: list[Person] = []
    profiles = {c.ori: c.profile for _, c in scenario.counties}
    prior_offenses = scenario.arrests.offense_mix if spec.priors_like_bookings else None
    for index, place in enumerate(places):
        if sizes[index] == 0:
            continue
        profile = profiles.get(place.jurisdiction.ori)
        people += make_population(
            rng,
            int(sizes[index]),
            spec,
            before=scenario.start,
            catalogue=catalogue,
            prior_offenses=prior_offenses,
            groups=profile.booked_groups() if profile else None,
            prior_record=profile.prior_record if profile else None,
            native_pob=place.jurisdiction.state if profile else None,
            first_index=int(firsts[index]),
            ori=place.jurisdiction.ori,
        )
    n = len(offsets)
    who = firsts[where] + rng.integers(0, np.maximum(sizes[where], 1)) if n else where
    charges = _charges(rng, scenario.arrests, n, catalogue)
    release = _lognormal(rng, scenario.arrests.release_hours, n) * 3600.0
    defects = _defects(rng, scenario, n)
    outcomes = list(scenario.dispositions.shares)
    outcome_p = np.array([scenario.dispositions.shares[o] for o in outcomes])
    outcome_index = rng.choice(len(outcomes), size=n, p=outcome_p / outcome_p.sum())
    delays = _lognormal(rng, scenario.dispositions.delay_days, n) * 86400.0
    planned: list[PlannedBooking] = []
    dispositions: list[PlannedDisposition] = []
    sequence: dict[str, int] = {}
    for i in range(n):
        booked_at = scenario.start + timedelta(seconds=int(offsets[i]))
        person = people[int(who[i])]
        ori = places[int(where[i])].jurisdiction.ori
        sequence[ori] = sequence.get(ori, 0) + 1
        tcn = transaction_control_number(ori, booked_at, sequence[ori])
        booking = Booking(
            booking_id=f"BK-{tcn}",
            tcn=tcn,
            ori=ori,
            booked_at=booked_at,
            release_due_at=booked_at + timedelta(seconds=float(release[i])),
            name=person.name,
            dob=person.dob,
            sex=person.sex,
            pob=person.pob,
            charges=tuple(
                Charge(literal=literal, offense_date=(booked_at - timedelta(hours=2)).date())
                for literal in charges[i]
            ),
        )
        planned.append(PlannedBooking(booking, person.person_id, defects[i], float(weights[i])))
        decided = booked_at + timedelta(seconds=float(delays[i]))
        dispositions.append(PlannedDisposition(tcn, outcomes[int(outcome_index[i])], decided))
        if progress and (i + 1) % 1000 == 0:
            progress(1000)
    if progress and n % 1000:
        progress(n % 1000)
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


def _allocate(total: int, counts: np.ndarray) -> np.ndarray:
    """`total` people over the counties in proportion to their bookings (largest
    remainder), at least one in each county with a booking and none where there is none."""
    sizes = np.zeros(len(counts), dtype=np.int64)
    booked = counts > 0
    if not booked.any():
        if len(counts):
            sizes[0] = total  # no booking at all: the people live in the first county
        return sizes
    exact = total * counts / counts.sum()
    sizes = np.floor(exact).astype(np.int64)
    left = total - int(sizes.sum())
    if left > 0:
        order = np.argsort(-(exact - sizes), kind="stable")
        sizes[order[:left]] += 1
    sizes[booked] = np.maximum(sizes[booked], 1)
    return sizes


def _booking_slots(
    rng: np.random.Generator, scenario: Scenario, places: tuple[JurisdictionPlan, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When and where each booking happens (seconds after the start, county index, weight),
    in time order: a Poisson number of bookings for the volume at this scale (or the preset
    number), spread evenly over the window, each in a county drawn by its share of the
    volume (its residents' bookings per year, or its `share`). A booking where the county is
    not yet activated is kept with the probability `sampling.unactivated`, and then stands
    for 1/that bookings."""
    expected = scenario.expected_bookings()
    count = scenario.fixed_bookings or int(rng.poisson(expected))
    span = (scenario.end - scenario.start).total_seconds()
    offsets = np.round(np.sort(rng.uniform(0, span, size=count)))
    shares = np.array([p.share_of_bookings for p in places])
    where = rng.choice(len(places), size=count, p=shares / shares.sum())
    keep = rng.random(size=count)
    sampling = scenario.unactivated_sampling
    weights = np.ones(count)
    if sampling < 1.0:
        activated = np.zeros(count, dtype=bool)
        for index, place in enumerate(places):
            mine = where == index
            activated[mine] = _activated(place, scenario.start, offsets[mine])
        kept = activated | (keep < sampling)
        weights = np.where(activated, 1.0, 1.0 / sampling)[kept]
        offsets, where = offsets[kept], where[kept]
    return offsets, where, weights


def _activated(place: JurisdictionPlan, start: datetime, offsets: np.ndarray) -> np.ndarray:
    """Switch B at each of `offsets` (seconds after `start`), per the plan's settings: its
    state is constant between the settings' dates, so it is looked up at each of them."""
    moments = sorted(
        {s.effective_from for s in place.settings}
        | {s.effective_to for s in place.settings if s.effective_to is not None}
    )
    if not moments:
        return np.zeros(len(offsets), dtype=bool)
    bounds = np.array([(m - start).total_seconds() for m in moments])
    states = np.array([place.activated_at(m) for m in moments])
    index = np.searchsorted(bounds, offsets, side="right") - 1
    return np.where(index >= 0, states[np.maximum(index, 0)], False)


def _lognormal(rng: np.random.Generator, spec: LogNormal, n: int) -> np.ndarray:
    if spec.sigma > 0:
        values = rng.lognormal(np.log(spec.median), spec.sigma, n)
    else:
        values = np.full(n, spec.median)
    return np.clip(values, spec.minimum, spec.maximum)


def _charges(
    rng: np.random.Generator, spec: ArrestSpec, n: int, catalogue: RuleCatalogue
) -> list[list[str]]:
    """Each booking's charge literals: a count, an offense per charge from the mix, the
    literal as the jail wrote it, or one no classifier knows (it reaches the IAQ as 0399,
    counted, never dropped)."""
    counts = list(spec.charges_per_booking)
    count_p = np.array([spec.charges_per_booking[c] for c in counts])
    per_booking = np.array(counts)[rng.choice(len(counts), size=n, p=count_p / count_p.sum())]
    m = int(per_booking.sum())
    codes = list(spec.offense_mix)
    code_p = np.array([spec.offense_mix[c] for c in codes])
    drawn = rng.choice(len(codes), size=m, p=code_p / code_p.sum())
    variant_u = rng.random(m)
    unclassifiable = rng.random(m) < spec.unclassifiable_share
    odd = rng.integers(len(spec.unclassifiable_literals), size=m)
    choices: list[tuple[str, ...]] = []
    for code in codes:
        offense = catalogue.offense(code)
        if offense is None:  # the loader checked every code against the package's table
            raise ScenarioError(f"arrests.offense_mix.{code}: not in the catalogue's table")
        choices.append(spec.literal_variants.get(code) or (offense.literal,))
    literals = [
        spec.unclassifiable_literals[int(odd[k])]
        if unclassifiable[k]
        else choices[int(drawn[k])][int(variant_u[k] * len(choices[int(drawn[k])]))]
        for k in range(m)
    ]
    out = []
    at = 0
    for size in per_booking:
        out.append(literals[at : at + int(size)])
        at += int(size)
    return out


def _defects(rng: np.random.Generator, scenario: Scenario, n: int) -> list[str | None]:
    """Transactions damaged on the way (truncated, or a bad field)."""
    spec = scenario.arrests
    kinds = list(spec.defect_kinds)
    p = np.array([spec.defect_kinds[k] for k in kinds])
    damaged = rng.random(n) < spec.defect_share
    kind = rng.choice(len(kinds), size=n, p=p / p.sum())
    return [kinds[int(kind[i])] if damaged[i] else None for i in range(n)]
