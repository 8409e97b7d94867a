"""Synthetic persons: citizenship paths, immigration and criminal histories (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.immigration import RecordedStatus
from scomm.domain.offenses import Offense
from scomm.sim.synth.citizenship import (
    CHANGE_ADJUSTMENT,
    CHANGE_DERIVATION,
    CHANGE_NAMES,
    CHANGE_NATURALIZATION,
    CitizenshipPath,
    draw_status_records,
    path_shares,
)

if TYPE_CHECKING:
    from scomm.sim.synth.scenario import PopulationSpec


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
    # the status change after the last IDENT encounter ("naturalization", "derivation",
    # "adjustment"), when, and whether IDENT's record missed it (then it is stale)
    status_change: str | None = None
    status_changed_at: datetime | None = None
    stale_record: bool = False
    ori: str | None = None  # the county the person lives in (and is booked in)


def make_population(
    rng: np.random.Generator,
    size: int,
    spec: PopulationSpec,
    before: datetime,
    catalogue: RuleCatalogue,
    prior_offenses: dict[str, float] | None = None,
    *,
    groups: dict[str, float] | None = None,
    prior_record: float | None = None,
    native_pob: str | None = None,
    first_index: int = 0,
    ori: str | None = None,
) -> list[Person]:
    """`size` people with the scenario's citizenship paths, records and criminal histories,
    all of whose records predate `before` (the scenario's start); their earlier offenses
    are the `catalogue`'s. Drawn together, with numpy.

    For a county: `groups` its booked people's shares by group (citizenship.GROUPS),
    `prior_record` its share with a criminal record, `native_pob` its state, `ori` its ORI;
    `first_index` numbers the people on from the counties before."""
    shares = path_shares(dict((p, s.share) for p, s in spec.paths.items()), groups)
    paths = list(shares)
    weights = np.array([shares[p] for p in paths])
    chosen = [paths[int(c)] for c in rng.choice(len(paths), size=size, p=weights / weights.sum())]
    records = draw_status_records(rng, chosen, spec.paths, spec.status_records, before)
    offenses = _offense_table(catalogue, prior_offenses)
    dob_days = rng.integers(0, 365 * 42, size)
    surnames = rng.integers(len(SURNAMES), size=size)
    given = rng.integers(len(GIVEN), size=size)
    foreign = rng.integers(len(FOREIGN_POB), size=size)
    male = rng.random(size) < 0.8
    finger_seeds = rng.integers(1, 2**31 - 1, size=size)
    a_numbers = rng.integers(10**7, 10**8, size=size)
    share = spec.criminal_record_share if prior_record is None else prior_record
    recorded = rng.random(size) < share
    prior_counts = rng.integers(1, 4, size=size)
    table, table_p = offenses
    prior_codes = rng.choice(len(table), size=(size, 3), p=table_p)
    convicted = rng.random((size, 3)) < spec.prior_conviction_share
    first_arrest_span = (before - datetime(2000, 1, 1)).total_seconds()
    first_arrests = rng.random(size) * first_arrest_span
    home = native_pob or spec.home_state
    people = []
    for i, path in enumerate(chosen):
        index = first_index + i
        person_id = f"P{index:06d}"
        change = int(records.change[i])
        changed_at = before + timedelta(seconds=float(records.changed_at[i])) if change else None
        immigration = None
        stale = False
        if records.has_record[i]:
            status, stale = _recorded_status(
                path, change, bool(records.learned[i]), bool(records.overstayed_before[i])
            )
            a_number = (
                None
                if status is RecordedStatus.ENTERED_WITHOUT_INSPECTION
                else f"A{int(a_numbers[i]):08d}"
            )
            immigration = ImmigrationRecord(
                f"IDENT-{person_id}",
                a_number,
                status,
                before + timedelta(seconds=float(records.encounter[i])),
            )
        criminal = None
        if recorded[i]:
            priors = tuple(table[int(c)] for c in prior_codes[i, : prior_counts[i]])
            convictions = tuple(
                o for o, hit in zip(priors, convicted[i, : prior_counts[i]], strict=True) if hit
            )
            criminal = CriminalRecord(
                f"FBI{index:07d}",
                priors,
                convictions,
                datetime(2000, 1, 1) + timedelta(seconds=float(first_arrests[i])),
            )
        native = path is CitizenshipPath.NATIVE_CITIZEN
        people.append(
            Person(
                person_id=person_id,
                name=f"{SURNAMES[int(surnames[i])]},{GIVEN[int(given[i])]}",
                dob=date(1950, 1, 1) + timedelta(days=int(dob_days[i])),
                sex="M" if male[i] else "F",
                pob=home if native else FOREIGN_POB[int(foreign[i])],
                path=path,
                finger_seed=int(finger_seeds[i]),
                immigration=immigration,
                criminal=criminal,
                citizenship_since=changed_at if path.is_citizen else None,
                status_change=CHANGE_NAMES.get(change),
                status_changed_at=changed_at,
                stale_record=stale,
                ori=ori,
            )
        )
    return people


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


_RECORDED: dict[CitizenshipPath, RecordedStatus] = {
    CitizenshipPath.PERMANENT_RESIDENT: RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
    CitizenshipPath.VISA_HOLDER: RecordedStatus.NONIMMIGRANT_VISA,
    CitizenshipPath.OVERSTAY: RecordedStatus.VISA_OVERSTAY,
    CitizenshipPath.ENTERED_WITHOUT_INSPECTION: RecordedStatus.ENTERED_WITHOUT_INSPECTION,
    CitizenshipPath.PREVIOUSLY_REMOVED: RecordedStatus.PREVIOUSLY_REMOVED,
}


def _recorded_status(
    path: CitizenshipPath, change: int, learned: bool, overstayed: bool
) -> tuple[RecordedStatus, bool]:
    """What IDENT's record shows, and whether that is stale. A citizen by naturalization or
    derivation whose change IDENT missed still shows a permanent resident; an adjusted
    permanent resident's record still shows the visa or the overstay before it."""
    if change in (CHANGE_NATURALIZATION, CHANGE_DERIVATION):
        if learned:
            return RecordedStatus.NATURALIZED_CITIZEN, False
        return RecordedStatus.LAWFUL_PERMANENT_RESIDENT, True
    if change == CHANGE_ADJUSTMENT and not learned:
        before = RecordedStatus.VISA_OVERSTAY if overstayed else RecordedStatus.NONIMMIGRANT_VISA
        return before, True
    return _RECORDED[path], False
