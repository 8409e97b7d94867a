"""Agencies as principals of the service: who they are, what they may do, when they lock.

An agency is a client of the service (OAuth2 client credentials): a jail by its ORI, a
bureau by its state, an ERO field office by its area of responsibility, and CJIS, IDENT,
LESC, auditors and operators, which see everything of their kind. Its scopes name what it
may do, in OSIA's `application.resource.action` form (`scomm.transaction.write`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from scomm.domain.errors import DomainError
from scomm.domain.field_offices import FIELD_OFFICES, is_field_office


class AgencyKind(StrEnum):
    JAIL = "jail"
    BUREAU = "bureau"
    CJIS = "cjis"
    IDENT = "ident"
    LESC = "lesc"
    ERO = "ero"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class InvalidAgency(DomainError, ValueError):
    """An agency that cannot be: a missing or superfluous scope value, a malformed id or
    scope."""


# What part of the data an agency of each kind sees: the name of its scope value (None:
# the kind sees everything of its business, and takes no value).
SCOPE_VALUE: dict[AgencyKind, str | None] = {
    AgencyKind.JAIL: "ori",
    AgencyKind.BUREAU: "state",
    AgencyKind.ERO: "area",
    AgencyKind.CJIS: None,
    AgencyKind.IDENT: None,
    AgencyKind.LESC: None,
    AgencyKind.AUDITOR: None,
    AgencyKind.OPERATOR: None,
}

TRANSACTION_WRITE = "scomm.transaction.write"
TRANSACTION_READ = "scomm.transaction.read"
TASK_READ = "scomm.task.read"
AUDIT_READ = "scomm.audit.read"
SWITCH_READ = "scomm.switch.read"
SWITCH_WRITE = "scomm.switch.write"
TASK_WRITE = "scomm.task.write"  # redeliver a task's callback
CALLBACK_WRITE = "scomm.callback.write"  # set the agency's own callback URL
# ICE (issue 15 item 2): LESC reads the IAQs it received and the IARs it sent; an ERO field
# office reads its area's match queue (each match with its IAR), its decisions and the
# detainers it lodged, and records an officer's decision (only ERO lodges: OWASP API5). The
# routes also check the agency's kind, so that a scope given to another kind opens nothing.
IAQ_READ = "scomm.iaq.read"
IAR_READ = "scomm.iar.read"
MATCH_READ = "scomm.match.read"
DECISION_READ = "scomm.decision.read"
DECISION_WRITE = "scomm.decision.write"
BOOKING_WRITE = "scomm.booking.write"  # a jail reports on its bookings: dispositions, releases

DEFAULT_SCOPES: dict[AgencyKind, tuple[str, ...]] = {
    AgencyKind.JAIL: (
        TRANSACTION_WRITE,
        TRANSACTION_READ,
        TASK_READ,
        SWITCH_READ,
        SWITCH_WRITE,
        TASK_WRITE,
        CALLBACK_WRITE,
        BOOKING_WRITE,
    ),
    AgencyKind.BUREAU: (TRANSACTION_READ, TASK_READ, SWITCH_READ),
    AgencyKind.CJIS: (TRANSACTION_READ, TASK_READ),
    AgencyKind.IDENT: (TRANSACTION_READ, TASK_READ),
    AgencyKind.LESC: (TRANSACTION_READ, TASK_READ, IAQ_READ, IAR_READ),
    AgencyKind.ERO: (TRANSACTION_READ, TASK_READ, MATCH_READ, DECISION_READ, DECISION_WRITE),
    AgencyKind.AUDITOR: (AUDIT_READ,),
    AgencyKind.OPERATOR: (AUDIT_READ, TASK_READ, SWITCH_READ, SWITCH_WRITE),
}

# AC-2 of the CJIS Security Policy: an account unused for 90 days is flagged (`stale`).
STALE_AFTER = timedelta(days=90)

# AC-7 of the CJIS Security Policy: at most 5 invalid attempts in 15 minutes, then the
# client stays locked until an operator releases it.
MAX_FAILED_ATTEMPTS = 5
FAILURE_WINDOW = timedelta(minutes=15)

CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")
SCOPE = re.compile(r"[a-z0-9]+\.[a-z0-9_]+\.[a-z0-9_]+")
ORI = re.compile(r"[A-Z0-9]{9}")
STATE = re.compile(r"[A-Z]{2}")
AREA = re.compile(r"[A-Z0-9]{2,10}")
_VALUE_FORMS = {"ori": ORI, "state": STATE, "area": AREA}


@dataclass(frozen=True)
class Agency:
    """One client of the service, as the store keeps it (its secret only as a hash)."""

    client_id: str
    kind: AgencyKind
    name: str
    scope_value: str | None  # its ORI, state or area of responsibility (SCOPE_VALUE)
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    locked_at: datetime | None = None
    failed_attempts: int = 0
    first_failure_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether it may authenticate now: neither revoked nor locked."""
        return self.revoked_at is None and self.locked_at is None

    @property
    def ori(self) -> str | None:
        return self.scope_value if self.kind is AgencyKind.JAIL else None

    def stale(self, now: datetime) -> bool:
        """Whether it is not revoked and has gone unused (no token issued to it; never used:
        since it was made) for STALE_AFTER or longer at `now` (AC-2)."""
        unused_since = self.last_used_at or self.created_at
        return self.revoked_at is None and now - unused_since >= STALE_AFTER

    @property
    def state(self) -> str | None:
        return self.scope_value if self.kind is AgencyKind.BUREAU else None

    @property
    def area(self) -> str | None:
        return self.scope_value if self.kind is AgencyKind.ERO else None


def check_agency_fields(
    client_id: str, kind: AgencyKind, scope_value: str | None, scopes: tuple[str, ...]
) -> None:
    """Raise InvalidAgency unless the fields make an agency of `kind`."""
    if not CLIENT_ID.fullmatch(client_id):
        raise InvalidAgency(
            f"client id {client_id!r}: 3-40 of a-z, 0-9, '.', '_', '-' (starting with a "
            "letter or digit)"
        )
    needed = SCOPE_VALUE[kind]
    if needed is None and scope_value is not None:
        raise InvalidAgency(f"a {kind} agency sees all of its kind: it takes no ORI, state or area")
    if needed is not None:
        if scope_value is None:
            raise InvalidAgency(f"a {kind} agency needs its --{needed}")
        if not _VALUE_FORMS[needed].fullmatch(scope_value):
            raise InvalidAgency(f"{needed} {scope_value!r} is malformed")
        if needed == "area" and not is_field_office(scope_value):
            raise InvalidAgency(
                f"area {scope_value!r} is no ERO field office: one of {', '.join(FIELD_OFFICES)}"
            )
    for scope in scopes:
        if not SCOPE.fullmatch(scope):
            raise InvalidAgency(f"scope {scope!r} is not of the form application.resource.action")


def after_failure(agency: Agency, at: datetime) -> tuple[int, datetime, bool]:
    """The count of failed attempts in the current window, the window's start, and whether
    the client locks now (AC-7), after one more failed authentication at `at`."""
    start = agency.first_failure_at
    if start is None or at - start > FAILURE_WINDOW:
        count, start = 1, at
    else:
        count = agency.failed_attempts + 1
    return count, start, count >= MAX_FAILED_ATTEMPTS
