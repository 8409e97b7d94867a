"""How a synthetic person came to their status, and how their IDENT record went stale.

`CitizenshipPath` is the path that scenarios weigh and the population draws. The paths fall
into four groups (`GROUPS`) whose shares a county's residents set (scenario `CountyProfile`);
within a group the scenario's national path shares split them.

A status record goes stale when the status changed after the person's last IDENT encounter
and IDENT never learned of it (DOMAIN.md §5, [I]): a naturalization, a derived citizenship
(through a parent's naturalization), or an adjustment of status to permanent resident.
`draw_status_records` dates each change from the scenario's documented rates and decides,
with the probability `learned[kind]`, whether IDENT's record shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scomm.sim.synth.scenario import LogNormal, PathSpec, StatusRecordSpec

YEAR = 365.25 * 86400.0
# [I] An adjusted permanent resident's earlier IDENT record: an overstay for this share
# (adjustment through a US-citizen spouse forgives an overstay), a visa for the others.
ADJUSTED_FROM_OVERSTAY = 0.4


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


# The groups a county's residents are counted in (ACS: native, naturalized foreign-born,
# non-citizen; DHS/Pew: unauthorized among the non-citizens).
GROUPS: dict[str, tuple[CitizenshipPath, ...]] = {
    "native": (CitizenshipPath.NATIVE_CITIZEN,),
    "foreign_born_citizen": (CitizenshipPath.NATURALIZED, CitizenshipPath.DERIVED_CITIZEN),
    "lawful_noncitizen": (CitizenshipPath.PERMANENT_RESIDENT, CitizenshipPath.VISA_HOLDER),
    "unauthorized": (
        CitizenshipPath.OVERSTAY,
        CitizenshipPath.ENTERED_WITHOUT_INSPECTION,
        CitizenshipPath.PREVIOUSLY_REMOVED,
    ),
}

# The change a path's status record may miss: 0 none, then STATUS_CHANGE_KINDS' order.
CHANGE_NONE, CHANGE_NATURALIZATION, CHANGE_DERIVATION, CHANGE_ADJUSTMENT = 0, 1, 2, 3
CHANGE_NAMES = {1: "naturalization", 2: "derivation", 3: "adjustment"}


def path_shares(
    national: dict[CitizenshipPath, float], groups: dict[str, float] | None
) -> dict[CitizenshipPath, float]:
    """The paths of the people booked: the national shares as they are (`groups` None), or
    each group at its county share, split within by the national shares. A group with no
    path of a positive national share is left out (and the rest renormalised)."""
    if groups is None:
        total = sum(national.values())
        return {p: s / total for p, s in national.items()}
    out: dict[CitizenshipPath, float] = {}
    for group, members in GROUPS.items():
        inside = {p: national.get(p, 0.0) for p in members if national.get(p, 0.0) > 0}
        weight = sum(inside.values())
        for path, share in inside.items():
            out[path] = groups.get(group, 0.0) * share / weight
    total = sum(out.values())
    if total <= 0:
        raise ValueError("no citizenship path has a positive share in this county")
    return {p: s / total for p, s in out.items() if s > 0}


@dataclass(frozen=True)
class StatusRecords:
    """Per person (arrays in the order of `paths`): whether IDENT holds a record, when the
    last encounter was, what change followed it and when, and whether IDENT learned of it.
    Times are seconds relative to the scenario's start (negative: before it)."""

    has_record: np.ndarray
    encounter: np.ndarray
    change: np.ndarray  # CHANGE_* per person
    changed_at: np.ndarray
    learned: np.ndarray
    overstayed_before: np.ndarray  # an adjusted person's earlier record: overstay, else visa


def draw_status_records(
    rng: np.random.Generator,
    paths: list[CitizenshipPath],
    specs: dict[CitizenshipPath, PathSpec],
    records: StatusRecordSpec | None,
    start: datetime,
) -> StatusRecords:
    """The IDENT record of each person on `paths`, drawn together (vectorised).

    With `records` (the scenario's `population.status_records`): a naturalization or
    derivation falls uniformly in the `changes_within_years` before the start, the last
    IDENT encounter (as a permanent resident) `years_to_naturalize` earlier; a permanent
    resident adjusted in the country (`adjusted_of_permanent_residents`) did so in the same
    span, `years_to_adjust` after the encounter (a visa, an entry) IDENT holds, and one
    admitted as an immigrant was encountered then, with a current record; the others'
    encounter falls between `ident_since` and 400 days before the start. A record exists
    when the encounter falls after `ident_since`, with the path's `ident_record` chance of
    having been captured. IDENT learned of the change with `learned[kind]`.

    Without it (older scenarios): encounters between 1995 and 400 days before the start, a
    citizenship after the encounter, and the path's `stale` share of records not updated."""
    n = len(paths)
    code = np.array([list(CitizenshipPath).index(p) for p in paths], dtype=np.int64)
    order = list(CitizenshipPath)
    capture = np.array([specs[p].ident_record if p in specs else 0.0 for p in order])[code]
    naturalized = code == order.index(CitizenshipPath.NATURALIZED)
    derived = code == order.index(CitizenshipPath.DERIVED_CITIZEN)
    resident = code == order.index(CitizenshipPath.PERMANENT_RESIDENT)
    native = code == order.index(CitizenshipPath.NATIVE_CITIZEN)
    u_capture, u_learned, u_adjusted, u_prior = (rng.random(n) for _ in range(4))
    change = np.zeros(n, dtype=np.int64)
    change[naturalized] = CHANGE_NATURALIZATION
    change[derived] = CHANGE_DERIVATION
    if records is None:
        first = (datetime(1995, 1, 1) - start).total_seconds()
        encounter = rng.uniform(first, -400 * 86400.0, n)
        changed_at = encounter + 180 * 86400.0 + rng.random(n) * (-encounter - 180 * 86400.0)
        stale = np.array([specs[p].stale if p in specs else 0.0 for p in order])[code]
        learned = u_learned >= stale
        has_record = u_capture < capture
    else:
        span = records.changes_within_years * YEAR
        since = (records.ident_since - start).total_seconds()
        adjusted = resident & (u_adjusted < records.adjusted_of_permanent_residents)
        change[adjusted] = CHANGE_ADJUSTMENT
        changed_at = -30 * 86400.0 - rng.random(n) * span
        to_naturalize = _lognormal(rng, records.years_to_naturalize, n) * YEAR
        to_adjust = _lognormal(rng, records.years_to_adjust, n) * YEAR
        encounter = rng.uniform(since, -400 * 86400.0, n)
        citizen = naturalized | derived
        encounter[citizen] = changed_at[citizen] - to_naturalize[citizen]
        encounter[adjusted] = changed_at[adjusted] - to_adjust[adjusted]
        arrived = resident & ~adjusted  # admitted as an immigrant: encountered then
        encounter[arrived] = changed_at[arrived]
        has_record = (u_capture < capture) & (encounter >= since)
        chance = np.array([0.0, *(records.learned[CHANGE_NAMES[k]] for k in (1, 2, 3))])
        learned = u_learned < chance[change]
    has_record &= ~native
    changed_at = np.where(change > 0, changed_at, np.nan)
    return StatusRecords(
        has_record, encounter, change, changed_at, learned, u_prior < ADJUSTED_FROM_OVERSTAY
    )


def _lognormal(rng: np.random.Generator, spec: LogNormal, n: int) -> np.ndarray:
    if spec.sigma > 0:
        values = rng.lognormal(np.log(spec.median), spec.sigma, n)
    else:
        values = np.full(n, spec.median)
    return np.clip(values, spec.minimum, spec.maximum)
