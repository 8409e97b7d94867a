"""What happens after the jail hands a person to ICE (DOMAIN.md §1.2 step 9, §5): ICE
custody, a track (a prior removal order reinstated, a stipulated removal or voluntary
return, or proceedings before an immigration judge), and an outcome (removed, released on
bond or recognizance, relief granted, proceedings terminated), each step taking a drawn
number of days.

`RemovalPolicy` is a stand-in, like `SimulatedOfficerPolicy`: its decisions are pure
functions of the facts ICE's records show (`RemovalFacts`) and of uniform draws fixed per
case, so a replay decides the same. Two rules hold whatever the draws: a person with
evidence of citizenship on record (a naturalization or derived-citizenship certificate, or
a US place of birth that contradicts the matched immigration record) is never removed (the
claim ends the proceedings after some days), and a person whose removal needs a
conviction (a permanent resident, a visa holder) is removed only on a removable one.

Removals are counted by the conviction-based levels (`REMOVAL_LEVELS`), as ICE counted
them (DOMAIN.md §4.1): the level of the convictions ICE knows on the day of the removal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from statistics import NormalDist

from scomm.domain.immigration import RecordedStatus

# ICE counted removals by the conviction-based levels (Morton memos): level 0 is
# "non-criminal", no conviction at the time of removal.
REMOVAL_LEVELS = "2011-conviction-based"  # the rule set, by version

# NCIC place-of-birth codes of the states, DC and the territories (the postal codes [M]).
US_POB_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


class Track(StrEnum):
    """How ICE proceeds with a person it took into custody."""

    REINSTATEMENT = "reinstatement"  # a prior removal order reinstated (INA §241(a)(5))
    STIPULATED = "stipulated_or_voluntary"  # stipulated removal (§240(d)) / voluntary return
    HEARING = "hearing"  # a notice to appear before an immigration judge (§240)
    CITIZENSHIP_CLAIM = "citizenship_claim"  # a claim of citizenship before the judge


class Judgment(StrEnum):
    """The immigration judge's decision."""

    REMOVAL_ORDERED = "removal_ordered"
    RELIEF_GRANTED = "relief_granted"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class Days:
    """A duration in days: log-normal around `median`, clipped to [minimum, maximum],
    drawn from a uniform number (a seeded draw) by the inverse normal distribution."""

    median: float
    sigma: float = 0.0
    minimum: float = 0.0
    maximum: float = 3650.0

    def draw(self, uniform: float) -> timedelta:
        z = NormalDist().inv_cdf(min(max(uniform, 1e-12), 1 - 1e-12))
        days = self.median * math.exp(self.sigma * z)
        return timedelta(days=min(max(days, self.minimum), self.maximum))


@dataclass(frozen=True)
class RemovalFacts:
    """What ICE's records show of a person in its custody, on the day it decides."""

    recorded_status: RecordedStatus | None  # on the matched IDENT record
    citizenship_evidence: str  # why the person is a citizen on the record; "" for none
    permanent_resident: bool  # IDENT says so, or an adjustment of status is on record
    conviction_codes: tuple[str, ...]  # NCIC codes of the convictions known
    conviction_level: int  # their level under REMOVAL_LEVELS (0: no conviction)


@dataclass(frozen=True)
class BookIn:
    detained: bool
    track: Track
    reason: str


@dataclass(frozen=True)
class Order:
    judgment: Judgment
    counsel: bool
    reason: str


@dataclass(frozen=True)
class RemovalPolicy:
    """The simulated ICE and immigration-court side. Defaults: the Warren Institute's
    figures for S-Comm arrestees (DOMAIN.md §5 [V][12]) where there is one, else [M]/[I]
    (see the scenario files for each parameter's source)."""

    name: str = "sim-removals-v1"
    detention_share: float = 0.83  # [V][12] 83% placed in ICE detention
    # of those whose IDENT record shows a prior removal: the order reinstated [I]
    reinstatement_share: float = 1.0
    hearing_share: float = 0.52  # [V][12] 52% slated for a hearing before a judge
    counsel_share: float = 0.24  # [V][12] 24% had counsel
    # relief at a hearing: 2% of arrestees granted relief [V][12] / 52% heard = ~4% [I]
    relief_with_counsel: float = 0.10  # [M]
    relief_without_counsel: float = 0.02  # [M]
    # statuses whose removal needs a removable conviction (a lawful status) [I]
    conviction_needed: tuple[RecordedStatus, ...] = (
        RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
        RecordedStatus.NONIMMIGRANT_VISA,
    )
    removable_levels: tuple[int, ...] = (1, 2)  # aggravated felony, felony [I]
    claim_days: Days = field(default_factory=lambda: Days(7, 1.0, 1, 180))  # [M]
    fast_track_days: Days = field(default_factory=lambda: Days(14, 0.8, 2, 120))  # [M]
    hearing_days: Days = field(default_factory=lambda: Days(35, 0.8, 7, 365))  # [M]
    removal_days: Days = field(default_factory=lambda: Days(14, 0.8, 1, 180))  # [M]

    def at_once(self) -> RemovalPolicy:
        """The same policy with every step taking no time (a demonstration)."""
        none = Days(0.0)
        return replace(
            self, claim_days=none, fast_track_days=none, hearing_days=none, removal_days=none
        )

    def needs_conviction(self, facts: RemovalFacts) -> bool:
        return facts.permanent_resident or facts.recorded_status in self.conviction_needed

    def book_in(self, facts: RemovalFacts, detention_draw: float, track_draw: float) -> BookIn:
        """ICE's processing on the day it takes custody: detention, and the track. A claim
        of citizenship goes before a judge, detained until it is settled; a lawful status
        is heard too; a prior order is reinstated; the others are heard or take the fast
        track (stipulated removal, voluntary return) by `hearing_share`."""
        if facts.citizenship_evidence:
            why = f"claims citizenship ({facts.citizenship_evidence}): before a judge"
            return BookIn(True, Track.CITIZENSHIP_CLAIM, why)
        if detention_draw >= self.detention_share:
            return BookIn(False, Track.HEARING, "released on bond or recognizance")
        if (
            facts.recorded_status is RecordedStatus.PREVIOUSLY_REMOVED
            and track_draw < self.reinstatement_share
        ):
            return BookIn(True, Track.REINSTATEMENT, "detained; prior removal order reinstated")
        if self.needs_conviction(facts):
            return BookIn(True, Track.HEARING, "detained; lawful status: notice to appear")
        if track_draw < self.hearing_share:
            return BookIn(True, Track.HEARING, "detained; notice to appear")
        return BookIn(True, Track.STIPULATED, "detained; stipulated removal or voluntary return")

    def adjudicate(self, facts: RemovalFacts, counsel_draw: float, relief_draw: float) -> Order:
        """The judge's decision at the hearing, on the record of that day."""
        counsel = counsel_draw < self.counsel_share
        if facts.citizenship_evidence:
            why = f"citizen ({facts.citizenship_evidence}): not removable"
            return Order(Judgment.TERMINATED, counsel, why)
        if self.needs_conviction(facts) and facts.conviction_level not in self.removable_levels:
            status = "permanent resident" if facts.permanent_resident else "lawful status"
            why = f"{status} without a removable conviction (level {facts.conviction_level})"
            return Order(Judgment.TERMINATED, counsel, why)
        relief = self.relief_with_counsel if counsel else self.relief_without_counsel
        if relief_draw < relief:
            return Order(Judgment.RELIEF_GRANTED, counsel, "relief from removal granted")
        return Order(Judgment.REMOVAL_ORDERED, counsel, "removal ordered")

    def may_remove(self, facts: RemovalFacts) -> str:
        """Why a removal order must not be carried out on the record of its day ("" when it
        may be): a citizen, or a lawful status without a removable conviction."""
        if facts.citizenship_evidence:
            return f"citizen ({facts.citizenship_evidence})"
        if self.needs_conviction(facts) and facts.conviction_level not in self.removable_levels:
            return f"lawful status without a removable conviction (level {facts.conviction_level})"
        return ""
