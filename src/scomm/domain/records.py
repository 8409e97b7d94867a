"""Records kept by the actors: jurisdictions, bookings with charges, repository subjects and
encounters, cases, CJIS's submissions, ICE's detainers and officer decisions.

Persons never appear here: only what each actor recorded about them. The repositories of
`scomm.store.repositories` read and write these; a handler changes a mutable record (a
case, a detainer) in place and the unit of work saves it when it commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from scomm.domain.case import CaseState, CustodyState
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.policies import DetainerPolicy, OfficerAction


class Repository(StrEnum):
    CRIMINAL = "criminal"  # FBI IAFIS/NGI
    IMMIGRATION = "immigration"  # DHS IDENT


@dataclass(frozen=True)
class Jurisdiction:
    """A booking agency (jail) identified by its ORI, in a state served by a SIB."""

    ori: str
    name: str
    state: str
    sib_ori: str
    detainer_policy: DetainerPolicy
    activation_at: datetime | None


@dataclass(frozen=True)
class Charge:
    """One arrest charge: the free-text literal (AOL) and, once classified, its NCIC code."""

    literal: str
    offense_date: date
    ncic_code: str | None = None


@dataclass(frozen=True)
class Booking:
    booking_id: str
    tcn: str
    ori: str
    booked_at: datetime
    release_due_at: datetime
    name: str
    dob: date
    sex: str
    pob: str
    charges: tuple[Charge, ...]


class EncounterKind(StrEnum):
    """What an encounter in a repository's history was."""

    ARREST = "arrest"  # a booking CJIS took in (the date of the CAR)
    PRIOR_ARREST = "prior_arrest"  # an arrest on record from before the flow started
    CONVICTION = "conviction"
    IMMIGRATION_ENCOUNTER = "immigration_encounter"  # a visa, an entry, a removal...
    INTEROPERABILITY_SEARCH = "interoperability_search"  # a booking's prints searched IDENT

    @property
    def is_status_event(self) -> bool:
        """Whether the encounter could have changed what IDENT knows of a status."""
        return self is not EncounterKind.INTEROPERABILITY_SEARCH


@dataclass(frozen=True)
class Subject:
    """An identity enrolled in one repository; an IDENT identity also carries its A-number
    and its recorded immigration status."""

    repository: Repository
    identity_id: str
    name: str
    dob: date
    sex: str
    pob: str
    enrolled_at: datetime
    a_number: str | None = None
    recorded_status: RecordedStatus | None = None


@dataclass(frozen=True)
class Encounter:
    """An event in a repository's history of a subject (an arrest, a visa, a removal...)."""

    repository: Repository
    identity_id: str
    at: datetime
    kind: EncounterKind
    detail: str
    ori: str = ""


@dataclass
class Case:
    """Links the booking, the searches, the queries, responses and decisions; every actor
    moves it along its two tracks (`scomm.domain.case`) and notes what it learned."""

    case_id: str
    tcn: str
    ori: str
    state: CaseState
    custody: CustodyState
    opened_at: datetime
    updated_at: datetime
    fbi_number: str | None = None
    ident_id: str | None = None
    level: int | None = None
    rule_set: str | None = None
    removability: Removability | None = None
    notify_on_release: bool = False


@dataclass(frozen=True)
class CriminalSubmission:
    """What CJIS kept of a CAR it accepted (the IAQ is built from it)."""

    tcn: str
    case_id: str
    booking_ori: str
    received_at: datetime
    name: str
    dob: date
    sex: str
    pob: str
    offense_code: str
    offense_confidence: float
    fbi_number: str
    identified: bool


class DetainerStatus(StrEnum):
    """Where a detainer stands: lodged by ICE, then answered and ended by the jail."""

    LODGED = "lodged"  # served by the field office, not yet answered
    HONOURED = "honoured"  # the jail will hold the person on it
    DECLINED = "declined"  # the jail will not hold (its policy, switch D, no decision...)
    WITHDRAWN = "withdrawn"  # ICE withdrew it (the charges were dismissed)
    TRANSFERRED = "transferred"  # ICE took custody during the hold
    EXPIRED = "expired"  # the 48-hour hold ran out

    @property
    def is_pending(self) -> bool:
        """Whether the detainer can still make the jail hold the person."""
        return self in (DetainerStatus.LODGED, DetainerStatus.HONOURED)


@dataclass
class DetainerRecord:
    """A detainer as ICE lodged it and the jail answered it."""

    detainer_id: str
    case_id: str
    form: str
    lodged_at: datetime
    decided_by: str
    status: DetainerStatus
    honoured: bool | None = None
    hold_deadline: datetime | None = None
    rule_set: str | None = None
    decision_id: str | None = None
    withdrawn_at: datetime | None = None


@dataclass(frozen=True)
class OfficerDecisionRecord:
    """An ERO officer's decision on a match, on record (safeguard (c))."""

    case_id: str
    decided_at: datetime
    action: OfficerAction
    reason: str
    decided_by: str
    decision_id: str | None = None
