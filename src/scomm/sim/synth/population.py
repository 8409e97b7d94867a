"""Synthetic persons: citizenship paths, immigration and criminal histories (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.immigration import RecordedStatus
from scomm.domain.offenses import Offense
from scomm.sim.synth.citizenship import CitizenshipPath

if TYPE_CHECKING:
    from scomm.sim.synth.scenario import PathSpec, PopulationSpec


# NCIC place-of-birth codes for a few countries ([M]: check against the NCIC code manual).
FOREIGN_POB = ("MM", "GT", "ES", "HO", "CH", "IN", "PI", "CU")
SURNAMES = (
    "GARCIA",
    "SMITH",
    "NGUYEN",
    "JOHNSON",
    "LOPEZ",
    "WILLIAMS",
    "HERNANDEZ",
    "BROWN",
    "MARTINEZ",
    "JONES",
    "GONZALEZ",
    "DAVIS",
    "RODRIGUEZ",
    "MILLER",
    "PEREZ",
    "WILSON",
    "KIM",
    "PATEL",
    "SANCHEZ",
    "TAYLOR",
    "RAMIREZ",
    "ANDERSON",
    "TORRES",
    "THOMAS",
)
GIVEN = (
    "JOSE",
    "MARIA",
    "JAMES",
    "ANA",
    "JOHN",
    "LUIS",
    "MICHAEL",
    "ROSA",
    "DAVID",
    "LINDA",
    "CARLOS",
    "MARY",
    "JUAN",
    "SARAH",
    "ROBERT",
    "ELENA",
    "MIGUEL",
    "LISA",
    "WEI",
    "PRIYA",
)


@dataclass(frozen=True)
class ImmigrationRecord:
    ident_id: str
    a_number: str | None
    recorded_status: RecordedStatus
    first_encounter: datetime


@dataclass(frozen=True)
class CriminalRecord:
    fbi_number: str
    prior_arrests: tuple[Offense, ...]
    convictions: tuple[Offense, ...]
    first_arrest: datetime


@dataclass(frozen=True)
class Person:
    """Ground truth about a synthetic person; the system only ever sees records of them."""

    person_id: str
    name: str
    dob: date
    sex: str
    pob: str
    path: CitizenshipPath
    finger_seed: int
    immigration: ImmigrationRecord | None = None
    criminal: CriminalRecord | None = None
    # naturalization or derivation date: a benefits record that IDENT may never have learned
    citizenship_since: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def make_population(
    rng: np.random.Generator,
    size: int,
    spec: PopulationSpec,
    before: datetime,
    catalogue: RuleCatalogue,
    prior_offenses: dict[str, float] | None = None,
) -> list[Person]:
    """`size` people with the scenario's citizenship paths, records and criminal histories,
    all of whose records predate `before` (the scenario's start); their earlier offenses
    are the `catalogue`'s."""
    paths = list(spec.paths)
    weights = np.array([spec.paths[p].share for p in paths])
    weights = weights / weights.sum()
    choices = rng.choice(len(paths), size=size, p=weights)
    offenses = _offense_table(catalogue, prior_offenses)
    return [_person(rng, i, paths[int(c)], spec, before, offenses) for i, c in enumerate(choices)]


def _offense_table(
    catalogue: RuleCatalogue, mix: dict[str, float] | None
) -> tuple[list[Offense], np.ndarray]:
    """What earlier arrests were for: the scenario's booking offense mix, else every
    common offense of the table alike."""
    if mix:
        table = [o for o in (catalogue.offense(c) for c in mix) if o is not None]
        weights = np.array([mix[o.ncic_code] for o in table])
    else:
        table = [o for o in catalogue.common_offenses if o.ncic_code != "0399"]
        weights = np.ones(len(table))
    return table, weights / weights.sum()


def _person(
    rng: np.random.Generator,
    index: int,
    path: CitizenshipPath,
    spec: PopulationSpec,
    before: datetime,
    offenses: tuple[list[Offense], np.ndarray],
) -> Person:
    dob = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 42)))
    name = f"{SURNAMES[int(rng.integers(len(SURNAMES)))]},{GIVEN[int(rng.integers(len(GIVEN)))]}"
    native = path is CitizenshipPath.NATIVE_CITIZEN
    pob = spec.home_state if native else FOREIGN_POB[int(rng.integers(len(FOREIGN_POB)))]
    person_id = f"P{index:06d}"
    encountered = _random_time(rng, datetime(1995, 1, 1), before - timedelta(days=400))
    since = None
    if path in (CitizenshipPath.NATURALIZED, CitizenshipPath.DERIVED_CITIZEN):
        since = _random_time(rng, encountered + timedelta(days=180), before)
    immigration = _immigration_record(rng, person_id, path, spec.paths[path], encountered)
    criminal = None
    if rng.random() < spec.criminal_record_share:
        priors = tuple(_offense(rng, offenses) for _ in range(int(rng.integers(1, 4))))
        convicted = tuple(o for o in priors if rng.random() < spec.prior_conviction_share)
        criminal = CriminalRecord(
            f"FBI{index:07d}", priors, convicted, _random_time(rng, datetime(2000, 1, 1), before)
        )
    return Person(
        person_id=person_id,
        name=name,
        dob=dob,
        sex="M" if rng.random() < 0.8 else "F",
        pob=pob,
        path=path,
        finger_seed=int(rng.integers(1, 2**31 - 1)),
        immigration=immigration,
        criminal=criminal,
        citizenship_since=since,
    )


_RECORDED: dict[CitizenshipPath, RecordedStatus] = {
    CitizenshipPath.PERMANENT_RESIDENT: RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
    CitizenshipPath.VISA_HOLDER: RecordedStatus.NONIMMIGRANT_VISA,
    CitizenshipPath.OVERSTAY: RecordedStatus.VISA_OVERSTAY,
    CitizenshipPath.ENTERED_WITHOUT_INSPECTION: RecordedStatus.ENTERED_WITHOUT_INSPECTION,
    CitizenshipPath.PREVIOUSLY_REMOVED: RecordedStatus.PREVIOUSLY_REMOVED,
}


def _immigration_record(
    rng: np.random.Generator,
    person_id: str,
    path: CitizenshipPath,
    spec: PathSpec,
    at: datetime,
) -> ImmigrationRecord | None:
    """The person's IDENT record, if any. A citizen by naturalization or derivation has one
    from before citizenship; for a `stale` share it still shows a permanent resident."""
    has_record = rng.random() < spec.ident_record
    stale = rng.random() < spec.stale
    if not has_record or path is CitizenshipPath.NATIVE_CITIZEN:
        return None
    if path in (CitizenshipPath.NATURALIZED, CitizenshipPath.DERIVED_CITIZEN):
        status = (
            RecordedStatus.LAWFUL_PERMANENT_RESIDENT
            if stale
            else RecordedStatus.NATURALIZED_CITIZEN
        )
    else:
        status = _RECORDED[path]
    has_a_number = status is not RecordedStatus.ENTERED_WITHOUT_INSPECTION
    a_number = f"A{int(rng.integers(10**7, 10**8)):08d}" if has_a_number else None
    return ImmigrationRecord(f"IDENT-{person_id}", a_number, status, at)


def _offense(rng: np.random.Generator, offenses: tuple[list[Offense], np.ndarray]) -> Offense:
    table, weights = offenses
    return table[int(rng.choice(len(table), p=weights))]


def _random_time(rng: np.random.Generator, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=int(rng.integers(0, max(span, 1))))
