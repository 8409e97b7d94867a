"""Helpers every actor uses: case transitions, look-ups, replies, seeded draws."""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState, CustodyState, next_case_state, next_custody_state
from scomm.domain.messages import (
    Actor,
    CriminalTenprintSubmission,
    Message,
    TransactionErrorResponse,
)
from scomm.domain.records import Case, Jurisdiction
from scomm.nist.errors import TransactionError
from scomm.nist.responses import errt_messages
from scomm.services.errors import ServiceError
from scomm.services.switches import switch_on

__all__ = [
    "UnknownCase",
    "jurisdiction",
    "load_case",
    "move_case",
    "move_custody",
    "record_outcome",
    "reject",
    "reply",
    "seeded_draw",
    "switch_on",
]

M = TypeVar("M", bound=Message)


class UnknownCase(ServiceError):
    pass


def load_case(uow: AbstractUnitOfWork, case_id: str) -> Case:
    case = uow.cases.get(case_id)
    if case is None:
        raise UnknownCase(case_id)
    return case


def move_case(
    uow: AbstractUnitOfWork,
    case: Case,
    new: CaseState,
    actor: Actor,
    why: str,
    **detail: Any,
) -> None:
    """Move the case along its identification track, audited. `detail` goes into the entry
    too: what the actor noted on the case with the move (`noted`: case fields by name) or
    the record it made (`detainer`), so that the audit log alone rebuilds the case file
    (`scomm.audit.reconcile`)."""
    old = case.state
    case.state = next_case_state(old, new)
    case.updated_at = uow.now
    uow.record(
        "case_state",
        new.value,
        actor.value,
        case.case_id,
        {"from": old.value, "to": new.value, "why": why, **detail},
    )


def move_custody(
    uow: AbstractUnitOfWork,
    case: Case,
    new: CustodyState,
    actor: Actor,
    why: str,
    **detail: Any,
) -> None:
    """Move the case along its custody track, audited (`detail` as for `move_case`)."""
    old = case.custody
    case.custody = next_custody_state(old, new)
    case.updated_at = uow.now
    uow.record(
        "custody",
        new.value,
        actor.value,
        case.case_id,
        {"from": old.value, "to": new.value, "why": why, **detail},
    )


def record_outcome(
    uow: AbstractUnitOfWork, case_id: str, name: str, actor: Actor, **detail: Any
) -> None:
    """An outcome the published statistics count (hold honoured, released, transferred...)."""
    uow.record("outcome", name, actor.value, case_id, detail)


def jurisdiction(uow: AbstractUnitOfWork, ori: str) -> Jurisdiction | None:
    return uow.jurisdictions.get(ori)


def reply(
    uow: AbstractUnitOfWork,
    to: Message,
    cls: type[M],
    sender: Actor,
    recipient: Actor,
    **fields: Any,
) -> M:
    """A new message about the same case and transaction."""
    return cls(
        message_id=uow.new_message_id(),
        case_id=to.case_id,
        tcn=to.tcn,
        sender=sender,
        recipient=recipient,
        **fields,
    )


def reject(
    uow: AbstractUnitOfWork,
    message: CriminalTenprintSubmission,
    *,
    case: Case,
    actor: Actor,
    error: TransactionError,
) -> None:
    """Answer a malformed CAR with an ERRT that names the problem; nothing else is kept.
    The SIB answers the jail, CJIS the SIB."""
    move_case(uow, case, CaseState.REJECTED, actor, str(error))
    recipient = Actor.LEA if actor is Actor.SIB else Actor.SIB
    uow.emit(
        reply(
            uow,
            message,
            TransactionErrorResponse,
            actor,
            recipient,
            messages=errt_messages(error),
            field_tag=error.field,
        )
    )


def seeded_draw(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by its inputs: a replayed decision draws the same."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
