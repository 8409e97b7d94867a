"""Operator actions on a database: switch changes, dead letters and their replay, all audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.bus.dispatcher import DEAD, PENDING
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.switches import (
    DEFAULTS,
    OWNERS,
    Switch,
    SwitchSetting,
    check_owner,
    switch_is_on,
)
from scomm.errors import ScommError
from scomm.services.common import switch_setting_of
from scomm.store.models import JurisdictionRow, OutboxRow, SwitchSettingRow

OPERATOR = "operator"  # the audit actor of commands typed by people, not sent by an actor


class OperationsError(ScommError):
    """The family of errors of operators' commands (see scomm.errors)."""


class UnknownJurisdiction(OperationsError):
    """A switch change for an ORI that no jurisdiction in the database has."""


class NothingToReplay(OperationsError):
    """A replay named a message that is not a dead letter."""


# --- switches -------------------------------------------------------------------------


def set_switch(uow: UnitOfWork, setting: SwitchSetting, *, require_known_ori: bool = False) -> int:
    """Record a switch setting and its audit entry in `uow` (not committed); returns its id.

    Raises SwitchPermissionError when `setting.changed_by` does not own the switch, and
    UnknownJurisdiction (with `require_known_ori`) for an ORI the database does not serve.
    """
    check_owner(setting.switch, setting.changed_by)
    if setting.effective_to is not None and setting.effective_to <= setting.effective_from:
        raise ValueError("the setting must end after it starts (effective_to > effective_from)")
    if require_known_ori and uow.session.get(JurisdictionRow, setting.ori) is None:
        raise UnknownJurisdiction(f"no jurisdiction with ORI {setting.ori!r} in this database")
    row = SwitchSettingRow(
        ori=setting.ori,
        switch=setting.switch.value,
        enabled=setting.enabled,
        effective_from=setting.effective_from,
        effective_to=setting.effective_to,
        changed_by=setting.changed_by.value,
        reason=setting.reason,
        recorded_at=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record(
        "switch",
        f"SWITCH_{setting.switch.value}",
        setting.changed_by.value,
        "",
        {
            "setting_id": row.id,
            "ori": setting.ori,
            "enabled": setting.enabled,
            "effective_from": setting.effective_from.isoformat(),
            "effective_to": setting.effective_to.isoformat() if setting.effective_to else None,
            "reason": setting.reason,
        },
    )
    return row.id


def switch_settings(session: Session, ori: str | None = None) -> list[SwitchSetting]:
    """Every recorded setting (of one ORI, or all), in the order they were recorded."""
    query = select(SwitchSettingRow).order_by(SwitchSettingRow.id)
    if ori is not None:
        query = query.where(SwitchSettingRow.ori == ori)
    return [switch_setting_of(r) for r in session.scalars(query)]


@dataclass(frozen=True)
class SwitchChange:
    """One recorded setting as the history shows it: the setting plus when it was recorded."""

    setting_id: int
    setting: SwitchSetting
    recorded_at: datetime


def switch_history(session: Session, ori: str | None = None) -> list[SwitchChange]:
    query = select(SwitchSettingRow).order_by(SwitchSettingRow.id)
    if ori is not None:
        query = query.where(SwitchSettingRow.ori == ori)
    settings = switch_settings(session, ori)
    rows = session.scalars(query).all()
    return [
        SwitchChange(setting_id=r.id, setting=s, recorded_at=r.recorded_at)
        for r, s in zip(rows, settings, strict=True)
    ]


def switches_in_force(
    session: Session, at: datetime, ori: str | None = None
) -> dict[str, dict[Switch, bool]]:
    """The value of A-D for each ORI (every jurisdiction and every ORI with a setting) at `at`."""
    settings = switch_settings(session, ori)
    oris = {s.ori for s in settings}
    if ori is None:
        oris |= set(session.scalars(select(JurisdictionRow.ori)))
    else:
        oris.add(ori)
    return {
        o: {switch: switch_is_on(settings, o, switch, at) for switch in Switch}
        for o in sorted(oris)
    }


def owners_text(switch: Switch) -> str:
    return ", ".join(sorted(OWNERS[switch]))


def default_text(switch: Switch) -> str:
    return "on" if DEFAULTS[switch] else "off"


# --- dead letters ---------------------------------------------------------------------


def dead_letters(session: Session) -> list[OutboxRow]:
    """Messages the dispatcher gave up on, oldest first."""
    return list(
        session.scalars(select(OutboxRow).where(OutboxRow.status == DEAD).order_by(OutboxRow.seq))
    )


def replay(uow: UnitOfWork, ref: str | None, *, reason: str) -> list[OutboxRow]:
    """Put dead letters back for delivery (one by outbox seq or message id; all when `ref` is
    None), each with a fresh attempt count and an audit entry. Not committed."""
    query = select(OutboxRow).where(OutboxRow.status == DEAD).order_by(OutboxRow.seq)
    if ref is not None:
        key = OutboxRow.seq == int(ref) if ref.isdigit() else OutboxRow.message_id == ref
        query = query.where(key)
    rows = list(uow.session.scalars(query))
    if ref is not None and not rows:
        raise NothingToReplay(f"no dead letter with seq or message id {ref!r}")
    for row in rows:
        uow.record(
            "operation",
            "DEAD_LETTER_REPLAYED",
            OPERATOR,
            row.case_id,
            {
                "seq": row.seq,
                "message_id": row.message_id,
                "type": row.type,
                "recipient": row.recipient,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "reason": reason,
            },
        )
        # available_at stays: the message is due at once, and a scenario clock (which
        # never moves back) delivers it at its own time without jumping ahead.
        row.status = PENDING
        row.attempts = 0
    return rows
