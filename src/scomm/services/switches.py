"""Switches A-D as the actors and the operators see them: the value in force, audited changes."""

from __future__ import annotations

from datetime import datetime

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.switches import (
    DEFAULTS,
    OWNERS,
    RefusedSetting,
    Switch,
    SwitchChange,
    SwitchSetting,
    change_in_force,
    check_owner,
    switch_is_on,
)
from scomm.services.errors import ServiceError


class UnknownJurisdiction(ServiceError):
    """A switch change for an ORI that no jurisdiction in the database has."""


def switch_on(uow: AbstractUnitOfWork, ori: str, switch: Switch, at: datetime) -> bool:
    """The switch's value for `ori` at `at` (the later recorded setting wins a tie), from
    the settings the audit chain records: a row written around `set_switch` (no audit
    entry, or one that does not agree with it) is not honoured (and is logged)."""
    settings = [change.setting for change in uow.switches.history(ori)]
    return switch_is_on(settings, ori, switch, at)


def set_switch(
    uow: AbstractUnitOfWork,
    setting: SwitchSetting,
    *,
    require_known_ori: bool = False,
    agency: str | None = None,
    os_user: str | None = None,
) -> int:
    """Record a switch setting and its audit entry in `uow` (not committed); returns its id.

    Its dates are naive (UTC, or a simulation's scenario time), as the row keeps them; the
    audit entry records the same values. Raises ValueError for a zoned date or a period that
    ends before it starts, SwitchPermissionError when `setting.changed_by` does not own the
    switch, and UnknownJurisdiction (with `require_known_ori`) for an ORI nobody serves.
    `agency` (the client id of a change over the service, or "cli:operator") and `os_user`
    (the operating-system user of an operator's command) go into the audit entry.
    """
    check_owner(setting.switch, setting.changed_by)
    if any(
        m is not None and m.tzinfo is not None
        for m in (setting.effective_from, setting.effective_to)
    ):
        # the row keeps naive times: an offset would stay in the audit entry and not in it
        raise ValueError("switch dates are naive UTC (or scenario time): convert a zoned one first")
    if setting.effective_to is not None and setting.effective_to <= setting.effective_from:
        raise ValueError("the setting must end after it starts (effective_to > effective_from)")
    if require_known_ori and uow.jurisdictions.get(setting.ori) is None:
        raise UnknownJurisdiction(f"no jurisdiction with ORI {setting.ori!r} in this database")
    setting_id = uow.switches.add(setting, uow.now)
    extra = {k: v for k, v in (("agency", agency), ("os_user", os_user)) if v is not None}
    seq = uow.record(
        "switch",
        f"SWITCH_{setting.switch.value}",
        setting.changed_by.value,
        "",
        {
            "setting_id": setting_id,
            "ori": setting.ori,
            "enabled": setting.enabled,
            "effective_from": setting.effective_from.isoformat(),
            "effective_to": setting.effective_to.isoformat() if setting.effective_to else None,
            "reason": setting.reason,
            **extra,
        },
    )
    uow.switches.attest(setting_id, seq)  # the flow honours the row through this entry
    return setting_id


def changes_in_force(
    uow: AbstractUnitOfWork, ori: str, at: datetime
) -> dict[Switch, SwitchChange | None]:
    """For each of A-D of `ori`, the recorded change that gives its value at `at` (None:
    its default holds)."""
    changes = uow.switches.history(ori)
    return {switch: change_in_force(changes, ori, switch, at) for switch in Switch}


def switch_history(uow: AbstractUnitOfWork, ori: str | None = None) -> list[SwitchChange]:
    """Every honoured setting (of one ORI, or all), in the order they were recorded."""
    return uow.switches.history(ori)


def refused_settings(uow: AbstractUnitOfWork, ori: str | None = None) -> list[RefusedSetting]:
    """The rows of the switch settings the flow does not honour, each with the reason."""
    return uow.switches.refused(ori)


def switches_in_force(
    uow: AbstractUnitOfWork, at: datetime, ori: str | None = None
) -> dict[str, dict[Switch, bool]]:
    """The value of A-D for each ORI (every jurisdiction and every ORI with a setting) at `at`."""
    settings = [change.setting for change in uow.switches.history(ori)]
    oris = {s.ori for s in settings}
    if ori is None:
        oris |= set(uow.jurisdictions.oris())
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
