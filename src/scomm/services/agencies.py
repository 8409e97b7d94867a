"""The agencies that use the service: added, listed, their secrets rotated, revoked,
released after a lockout, and authenticated; every change and every authentication is
written to the audit chain (AU-2/AU-3), never the secret.

Secrets are random (`secrets.token_urlsafe`), shown once to the operator who makes them,
and stored only as argon2id hashes.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.domain.agencies import (
    DEFAULT_SCOPES,
    Agency,
    AgencyKind,
    after_failure,
    check_agency_fields,
)
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.services.errors import ServiceError
from scomm.store.db import Database
from scomm.store.repositories.agencies import SqlAgencies
from scomm.store.repositories.shared import SqlJurisdictions

AGENCY_KIND = "agency"  # audit kind of a change of an agency
ACCESS_KIND = "access"  # audit kind of an authentication or a read through the service
OPERATOR = "OPERATOR"  # the audit actor of what an operator does on the command line
SERVICE = "API"  # the audit actor of what the service records of a client

_HASHER = PasswordHasher()
# verified when the client id is unknown, so that its answer takes as long as a known one's


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown client (made once, on first need: a
    command's start does not pay for it)."""
    return _HASHER.hash(secrets.token_urlsafe(32))


class AgencyRefused(ServiceError, ValueError):
    """An agency that cannot be added or changed: a client id already taken, or unknown."""


class AuthenticationFailed(ServiceError):
    """Wrong client id or secret, or a revoked or locked client (the caller says nothing
    more to the client than that)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(f"authentication failed ({outcome})")
        self.outcome = outcome


@dataclass(frozen=True)
class NewSecret:
    """An agency and the secret it was just given: shown once, never stored."""

    agency: Agency
    secret: str


def _record(session: Session, at: datetime, kind: str, name: str, actor: str, payload: Any) -> None:
    chain.append(
        session, recorded_at=at, kind=kind, name=name, actor=actor, case_id="", payload=payload
    )


def _described(agency: Agency) -> dict[str, Any]:
    return {
        "client_id": agency.client_id,
        "kind": agency.kind.value,
        "name": agency.name,
        "scope_value": agency.scope_value,
        "scopes": list(agency.scopes),
    }


def add_agency(
    db: Database,
    now: datetime,
    *,
    client_id: str,
    kind: AgencyKind,
    name: str,
    scope_value: str | None = None,
    scopes: tuple[str, ...] | None = None,
    serve: bool = False,
) -> NewSecret:
    """A new agency with a new secret (its kind's default scopes unless `scopes`), audited.

    A jail's ORI must be a jurisdiction the flow serves; with `serve`, a new one is added
    (state: the ORI's first two letters; its bureau STSIB0000; detainers honoured), audited
    too."""
    chosen = DEFAULT_SCOPES[kind] if scopes is None else scopes
    check_agency_fields(client_id, kind, scope_value, chosen)
    agency = Agency(
        client_id=client_id,
        kind=kind,
        name=name.strip() or client_id,
        scope_value=scope_value,
        scopes=chosen,
        created_at=now,
    )
    secret = secrets.token_urlsafe(32)
    with db.sessions() as session:
        repository = SqlAgencies(session)
        if repository.get(client_id) is not None:
            raise AgencyRefused(f"client id {client_id!r} is taken")
        if kind is AgencyKind.JAIL and scope_value is not None:
            _served(session, now, scope_value, name, serve)
        repository.add(agency, _HASHER.hash(secret))
        _record(session, now, AGENCY_KIND, "AGENCY_ADDED", OPERATOR, _described(agency))
        session.commit()
    return NewSecret(agency, secret)


def _served(session: Session, now: datetime, ori: str, name: str, serve: bool) -> None:
    places = SqlJurisdictions(session)
    if places.get(ori) is not None:
        return
    if not serve:
        raise AgencyRefused(f"no jurisdiction with ORI {ori!r} is served here (--serve adds it)")
    place = Jurisdiction(
        ori=ori, name=name.strip() or ori, state=ori[:2], sib_ori=f"{ori[:2]}SIB0000",
        detainer_policy=DetainerPolicy.HONOR_ALL, activation_at=None,
    )  # fmt: skip
    places.add(place)
    _record(
        session, now, AGENCY_KIND, "JURISDICTION_ADDED", OPERATOR,
        {"ori": ori, "name": place.name, "state": place.state, "sib_ori": place.sib_ori,
         "detainer_policy": place.detainer_policy.value},
    )  # fmt: skip


def list_agencies(db: Database) -> list[Agency]:
    with db.sessions() as session:
        return SqlAgencies(session).all()


def find_agency(db: Database, client_id: str) -> Agency | None:
    with db.sessions() as session:
        return SqlAgencies(session).get(client_id)


def _change(db: Database, now: datetime, client_id: str, name: str, **fields: Any) -> NewSecret:
    """Apply `fields` to agency `client_id` (a new secret with `secret=True`), audited."""
    new_secret = secrets.token_urlsafe(32) if fields.pop("secret", False) else ""
    with db.sessions() as session:
        repository = SqlAgencies(session)
        agency = repository.get(client_id, for_update=True)
        if agency is None:
            raise AgencyRefused(f"no agency with client id {client_id!r}")
        changed = replace(agency, **fields)
        repository.save(changed, _HASHER.hash(new_secret) if new_secret else None)
        _record(session, now, AGENCY_KIND, name, OPERATOR, {"client_id": client_id})
        session.commit()
    return NewSecret(changed, new_secret)


def rotate_secret(db: Database, now: datetime, client_id: str) -> NewSecret:
    """A new secret for the agency (the old one stops working at once), audited."""
    return _change(db, now, client_id, "AGENCY_ROTATED", secret=True)


def revoke_agency(db: Database, now: datetime, client_id: str) -> Agency:
    """The agency may no longer authenticate (tokens it holds run out within their
    lifetime), audited."""
    return _change(db, now, client_id, "AGENCY_REVOKED", revoked_at=now).agency


def release_agency(db: Database, now: datetime, client_id: str) -> Agency:
    """An operator releases a client locked after failed authentications (AC-7), audited."""
    return _change(
        db, now, client_id, "AGENCY_RELEASED", locked_at=None, failed_attempts=0,
        first_failure_at=None,
    ).agency  # fmt: skip


@dataclass(frozen=True)
class CheckedSecret:
    """A secret verified ahead of `authenticate` (the slow argon2id part, outside any write
    lock): the hash it was checked against, and whether it held."""

    stored: str | None
    good: bool


def check_secret(db: Database, client_id: str, secret: str) -> CheckedSecret:
    """Verify `secret` against the client's stored hash (a dummy one for an unknown client,
    so that the answer takes as long), writing nothing."""
    with db.sessions() as session:
        stored = SqlAgencies(session).secret_hash(client_id) if client_id else None
    return CheckedSecret(stored, _verify(stored or _dummy_hash(), secret) and stored is not None)


def authenticate(
    db: Database, now: datetime, client_id: str, secret: str, remote: str,
    checked: CheckedSecret | None = None,
) -> Agency:  # fmt: skip
    """The agency whose client id and secret these are, if it may authenticate now
    (`checked`: the secret verified ahead by `check_secret`, used if the hash is unchanged).

    Every attempt is written to the audit chain with the client id, the remote address and
    the outcome; 5 failed attempts within 15 minutes lock the client until an operator
    releases it (`release_agency`). Raises AuthenticationFailed."""
    with db.sessions() as session:
        repository = SqlAgencies(session)
        agency = repository.get(client_id, for_update=True) if client_id else None
        stored = repository.secret_hash(client_id) if agency is not None else None
        if checked is not None and checked.stored == stored:
            good = checked.good
        else:
            good = _verify(stored or _dummy_hash(), secret) and stored is not None
        outcome = "success"
        if agency is None:
            outcome = "unknown-client"
        elif agency.revoked_at is not None:
            outcome = "revoked"
        elif agency.locked_at is not None:
            outcome = "locked"
        elif not good:
            outcome = "bad-secret"
        entry = {"client_id": client_id[:40], "remote": remote, "outcome": outcome}
        if outcome == "success" and agency is not None:
            agency = replace(agency, last_used_at=now, failed_attempts=0, first_failure_at=None)
            repository.save(agency)
            _record(session, now, ACCESS_KIND, "TOKEN_ISSUED", SERVICE, entry)
            session.commit()
            return agency
        _record(session, now, ACCESS_KIND, "AUTH_FAILED", SERVICE, entry)
        if agency is not None and outcome == "bad-secret":
            count, start, locks = after_failure(agency, now)
            agency = replace(
                agency, failed_attempts=count, first_failure_at=start,
                locked_at=now if locks else None,
            )  # fmt: skip
            repository.save(agency)
            if locks:
                _record(
                    session, now, AGENCY_KIND, "AGENCY_LOCKED", SERVICE,
                    {"client_id": client_id, "failed_attempts": count},
                )  # fmt: skip
        session.commit()
    raise AuthenticationFailed(outcome)


def record_refused_token(
    db: Database, now: datetime, remote: str, outcome: str, client_id: str = ""
) -> None:
    """A bearer token refused (AU-2: a failed authentication): malformed, not ours, expired
    (`outcome`), or of an agency revoked or locked since (then its verified `client_id`)."""
    with db.sessions() as session:
        entry = {"client_id": client_id, "remote": remote, "outcome": outcome}
        _record(session, now, ACCESS_KIND, "AUTH_FAILED", SERVICE, entry)
        session.commit()


def record_access(
    db: Database,
    now: datetime,
    client_id: str,
    acting_for: str | None,
    what: str,
    payload: dict[str, Any],
) -> None:
    """An access through the service (a read or a write, and its outcome), in the audit
    chain with who (`client_id`) and for which ORI, state or area (`acting_for`)."""
    with db.sessions() as session:
        record_access_in(session, now, client_id, acting_for, what, payload)
        session.commit()


def record_access_in(
    session: Session,
    now: datetime,
    client_id: str,
    acting_for: str | None,
    what: str,
    payload: dict[str, Any],
) -> None:
    """`record_access` in the caller's transaction (it commits with what it records)."""
    entry = {"client_id": client_id, "for": acting_for, **payload}
    _record(session, now, ACCESS_KIND, what, SERVICE, entry)


def _verify(stored: str, secret: str) -> bool:
    try:
        return _HASHER.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False
