"""The case state machines: the identification track and the custody track (DOMAIN.md §8).

The identification track goes on after a transfer to ICE: ICE custody, proceedings (or a
fast track: a reinstated order, a stipulated removal or voluntary return), and the outcome
(`scomm.domain.removals`); the custody track stays the jail's and ends at the transfer.

DOMAIN.md §8 draws one chain; in a jail the two run side by side (a person can be released
before ICE answers), so a case carries two states, each with its own legal transitions.
"""

from __future__ import annotations

from enum import StrEnum

from scomm.domain.errors import DomainError


class CaseState(StrEnum):
    """Where the identification and decision track of a booking stands."""

    BOOKED = "booked"
    REJECTED = "rejected"  # ERRT: the transaction was malformed
    STATE_ONLY = "state_only"  # switch A off: prints never reached the FBI
    CRIMINAL_SEARCHED = "criminal_searched"  # SRE returned
    NOT_FORWARDED = "not_forwarded"  # switch B off: no IDENT search
    IDENT_NO_MATCH = "ident_no_match"
    IDENT_MATCH = "ident_match"
    IAQ_SENT = "iaq_sent"
    IAR_RETURNED = "iar_returned"
    NO_ACTION = "no_action"
    DETAINER_LODGED = "detainer_lodged"
    NOTIFICATION_REQUESTED = "notification_requested"
    # after the transfer to ICE (services.ero, services.eoir)
    ICE_CUSTODY = "ice_custody"  # ICE booked the person in
    RELEASED_ON_BOND = "released_on_bond"  # ICE released on bond or recognizance
    IN_PROCEEDINGS = "in_proceedings"  # a notice to appear before an immigration judge
    REMOVAL_ORDERED = "removal_ordered"  # a final order: the judge's, reinstated or stipulated
    REMOVED = "removed"  # ICE carried out the order
    RELIEF_GRANTED = "relief_granted"  # the judge granted relief from removal
    TERMINATED = "terminated"  # proceedings ended: a citizen, a lawful status not removable


class CustodyState(StrEnum):
    """Where the person booked stands with the jail."""

    IN_CUSTODY = "in_custody"
    HELD_ON_DETAINER = "held_on_detainer"
    RELEASED = "released"
    TRANSFERRED_TO_ICE = "transferred_to_ice"


class InvalidTransition(DomainError):
    def __init__(self, track: str, current: str, new: str) -> None:
        super().__init__(f"{track}: no transition from {current!r} to {new!r}")
        self.current = current
        self.new = new


_C = CaseState
CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    _C.BOOKED: frozenset({_C.REJECTED, _C.STATE_ONLY, _C.CRIMINAL_SEARCHED}),
    _C.CRIMINAL_SEARCHED: frozenset({_C.NOT_FORWARDED, _C.IDENT_NO_MATCH, _C.IDENT_MATCH}),
    _C.IDENT_MATCH: frozenset({_C.IAQ_SENT}),
    _C.IAQ_SENT: frozenset({_C.IAR_RETURNED}),
    _C.IAR_RETURNED: frozenset({_C.NO_ACTION, _C.DETAINER_LODGED, _C.NOTIFICATION_REQUESTED}),
    _C.DETAINER_LODGED: frozenset({_C.ICE_CUSTODY}),
    _C.ICE_CUSTODY: frozenset({_C.RELEASED_ON_BOND, _C.IN_PROCEEDINGS, _C.REMOVAL_ORDERED}),
    _C.IN_PROCEEDINGS: frozenset({_C.REMOVAL_ORDERED, _C.RELIEF_GRANTED, _C.TERMINATED}),
    _C.REMOVAL_ORDERED: frozenset({_C.REMOVED, _C.TERMINATED}),
}

_K = CustodyState
CUSTODY_TRANSITIONS: dict[CustodyState, frozenset[CustodyState]] = {
    _K.IN_CUSTODY: frozenset({_K.RELEASED, _K.HELD_ON_DETAINER, _K.TRANSFERRED_TO_ICE}),
    _K.HELD_ON_DETAINER: frozenset({_K.RELEASED, _K.TRANSFERRED_TO_ICE}),
}


def next_case_state(current: CaseState, new: CaseState) -> CaseState:
    if new not in CASE_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition("case", current, new)
    return new


def next_custody_state(current: CustodyState, new: CustodyState) -> CustodyState:
    if new not in CUSTODY_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition("custody", current, new)
    return new


def is_final(state: CaseState) -> bool:
    return state not in CASE_TRANSITIONS
