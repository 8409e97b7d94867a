"""Records kept by the actors: jurisdictions, bookings with charges, repository subjects, cases.

Persons never appear here: only what each actor recorded about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from scomm.domain.case import CaseState, CustodyState
from scomm.domain.policies import DetainerPolicy


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


@dataclass(frozen=True)
class Subject:
    """An identity enrolled in one repository."""

    repository: Repository
    identity_id: str
    name: str
    dob: date
    sex: str
    pob: str


@dataclass(frozen=True)
class Encounter:
    """An event in a repository's history of a subject (an arrest, a visa, a removal...)."""

    repository: Repository
    identity_id: str
    at: datetime
    kind: str
    detail: str
    ori: str = ""


@dataclass(frozen=True)
class Case:
    """Links the booking, the searches, the queries, responses and decisions."""

    case_id: str
    tcn: str
    ori: str
    state: CaseState
    custody: CustodyState
    opened_at: datetime
