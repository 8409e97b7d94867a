"""Synthetic persons: citizenship paths, immigration and criminal histories (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

import numpy as np

from scomm.domain.immigration import RecordedStatus
from scomm.domain.offenses import OFFENSES, Offense


class CitizenshipPath(StrEnum):
    NATIVE_CITIZEN = "native_citizen"
    NATURALIZED = "naturalized"
    DERIVED_CITIZEN = "derived_citizen"
    PERMANENT_RESIDENT = "permanent_resident"
    VISA_HOLDER = "visa_holder"
    OVERSTAY = "overstay"
    ENTERED_WITHOUT_INSPECTION = "entered_without_inspection"
    PREVIOUSLY_REMOVED = "previously_removed"

    @property
    def is_citizen(self) -> bool:
        return self in (
            CitizenshipPath.NATIVE_CITIZEN,
            CitizenshipPath.NATURALIZED,
            CitizenshipPath.DERIVED_CITIZEN,
        )


# Shares among people booked into a jail: a first guess, calibrated in issue 5.
PATH_SHARES: dict[CitizenshipPath, float] = {
    CitizenshipPath.NATIVE_CITIZEN: 0.55,
    CitizenshipPath.NATURALIZED: 0.09,
    CitizenshipPath.DERIVED_CITIZEN: 0.03,
    CitizenshipPath.PERMANENT_RESIDENT: 0.10,
    CitizenshipPath.VISA_HOLDER: 0.05,
    CitizenshipPath.OVERSTAY: 0.07,
    CitizenshipPath.ENTERED_WITHOUT_INSPECTION: 0.09,
    CitizenshipPath.PREVIOUSLY_REMOVED: 0.02,
}
STALE_NATURALIZATION_SHARE = 0.5  # naturalizations the immigration record never learned of
EWI_ENCOUNTERED_SHARE = 0.6  # people who entered without inspection but were fingerprinted once
CRIMINAL_RECORD_SHARE = 0.35

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
    notes: tuple[str, ...] = field(default_factory=tuple)


def make_population(
    rng: np.random.Generator, size: int, home_state: str, before: datetime
) -> list[Person]:
    paths = list(PATH_SHARES)
    weights = np.array([PATH_SHARES[p] for p in paths])
    people = []
    for i in range(size):
        path = paths[int(rng.choice(len(paths), p=weights / weights.sum()))]
        people.append(_person(rng, i, path, home_state, before))
    return people


def _person(
    rng: np.random.Generator, index: int, path: CitizenshipPath, home_state: str, before: datetime
) -> Person:
    dob = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 42)))
    name = f"{SURNAMES[int(rng.integers(len(SURNAMES)))]},{GIVEN[int(rng.integers(len(GIVEN)))]}"
    native = path is CitizenshipPath.NATIVE_CITIZEN
    pob = home_state if native else FOREIGN_POB[int(rng.integers(len(FOREIGN_POB)))]
    person_id = f"P{index:06d}"
    encountered = _random_time(rng, datetime(1995, 1, 1), before)
    immigration = _immigration_record(rng, person_id, path, encountered)
    criminal = None
    if rng.random() < CRIMINAL_RECORD_SHARE:
        priors = tuple(_offense(rng) for _ in range(int(rng.integers(1, 4))))
        convicted = tuple(o for o in priors if rng.random() < 0.5)
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
    )


def _immigration_record(
    rng: np.random.Generator, person_id: str, path: CitizenshipPath, at: datetime
) -> ImmigrationRecord | None:
    status: RecordedStatus | None
    match path:
        case CitizenshipPath.NATIVE_CITIZEN:
            status = None
        case CitizenshipPath.NATURALIZED:
            stale = rng.random() < STALE_NATURALIZATION_SHARE
            status = (
                RecordedStatus.LAWFUL_PERMANENT_RESIDENT
                if stale
                else RecordedStatus.NATURALIZED_CITIZEN
            )
        case CitizenshipPath.DERIVED_CITIZEN | CitizenshipPath.PERMANENT_RESIDENT:
            status = RecordedStatus.LAWFUL_PERMANENT_RESIDENT
        case CitizenshipPath.VISA_HOLDER:
            status = RecordedStatus.NONIMMIGRANT_VISA
        case CitizenshipPath.OVERSTAY:
            status = RecordedStatus.VISA_OVERSTAY
        case CitizenshipPath.ENTERED_WITHOUT_INSPECTION:
            status = (
                RecordedStatus.ENTERED_WITHOUT_INSPECTION
                if rng.random() < EWI_ENCOUNTERED_SHARE
                else None
            )
        case CitizenshipPath.PREVIOUSLY_REMOVED:
            status = RecordedStatus.PREVIOUSLY_REMOVED
    if status is None:
        return None
    has_a_number = status is not RecordedStatus.ENTERED_WITHOUT_INSPECTION
    a_number = f"A{int(rng.integers(10**7, 10**8)):08d}" if has_a_number else None
    return ImmigrationRecord(f"IDENT-{person_id}", a_number, status, at)


def _offense(rng: np.random.Generator) -> Offense:
    choices = [o for o in OFFENSES if o.ncic_code != "0399"]
    return choices[int(rng.integers(len(choices)))]


def _random_time(rng: np.random.Generator, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=int(rng.integers(0, max(span, 1))))
