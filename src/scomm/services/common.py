"""Helpers every actor uses: case transitions, switch look-ups, replies, seeded draws."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.case import CaseState, CustodyState, next_case_state, next_custody_state
from scomm.domain.messages import Actor, Message
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting, switch_is_on
from scomm.services.errors import ServiceError
from scomm.store.models import CaseRow, JurisdictionRow, SwitchSettingRow

M = TypeVar("M", bound=Message)


class UnknownCase(ServiceError):
    pass


def load_case(uow: UnitOfWork, case_id: str) -> CaseRow:
    case = uow.session.get(CaseRow, case_id)
    if case is None:
        raise UnknownCase(case_id)
    return case


def move_case(uow: UnitOfWork, case: CaseRow, new: CaseState, actor: Actor, why: str) -> None:
    old = CaseState(case.state)
    case.state = next_case_state(old, new).value
    case.updated_at = uow.now
    uow.record(
        "case_state",
        new.value,
        actor.value,
        case.case_id,
        {"from": old.value, "to": new.value, "why": why},
    )


def move_custody(uow: UnitOfWork, case: CaseRow, new: CustodyState, actor: Actor, why: str) -> None:
    old = CustodyState(case.custody)
    case.custody = next_custody_state(old, new).value
    case.updated_at = uow.now
    uow.record(
        "custody",
        new.value,
        actor.value,
        case.case_id,
        {"from": old.value, "to": new.value, "why": why},
    )


def record_outcome(uow: UnitOfWork, case_id: str, name: str, actor: Actor, **detail: Any) -> None:
    """An outcome the published statistics count (hold honoured, released, transferred...)."""
    uow.record("outcome", name, actor.value, case_id, detail)


def switch_setting_of(row: SwitchSettingRow) -> SwitchSetting:
    return SwitchSetting(
        ori=row.ori,
        switch=Switch(row.switch),
        enabled=row.enabled,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        changed_by=SwitchOwner(row.changed_by),
        reason=row.reason,
    )


def settings_for(uow: UnitOfWork, ori: str) -> list[SwitchSetting]:
    """The ORI's recorded settings in the order they were recorded (the later one wins a tie)."""
    rows = uow.session.scalars(
        select(SwitchSettingRow).where(SwitchSettingRow.ori == ori).order_by(SwitchSettingRow.id)
    )
    return [switch_setting_of(r) for r in rows]


def switch_on(uow: UnitOfWork, ori: str, switch: Switch, at: datetime) -> bool:
    return switch_is_on(settings_for(uow, ori), ori, switch, at)


def jurisdiction(uow: UnitOfWork, ori: str) -> Jurisdiction | None:
    row = uow.session.get(JurisdictionRow, ori)
    if row is None:
        return None
    return Jurisdiction(
        ori=row.ori,
        name=row.name,
        state=row.state,
        sib_ori=row.sib_ori,
        detainer_policy=DetainerPolicy(row.detainer_policy),
        activation_at=row.activation_at,
    )


def reply(
    uow: UnitOfWork, to: Message, cls: type[M], sender: Actor, recipient: Actor, **fields: Any
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


def seeded_draw(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by its inputs: a replayed decision draws the same."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
