"""Per-ORI switches A-D (DOMAIN.md §3.3) as data with effective dates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from scomm.domain.errors import DomainError


class Switch(StrEnum):
    A_PRINTS_TO_FBI = "A"  # the booking's CAR goes to the FBI at all
    B_FORWARD_TO_IDENT = "B"  # CJIS forwards the prints to IDENT ("activation")
    C_RESULTS_TO_JAIL = "C"  # the IDR/IAR is returned to the SIB and the jail
    D_HONOUR_DETAINERS = "D"  # the jail holds people on ICE detainers


class SwitchOwner(StrEnum):
    STATE = "state"
    FEDERAL = "federal"
    JURISDICTION = "jurisdiction"


OWNERS: dict[Switch, frozenset[SwitchOwner]] = {
    Switch.A_PRINTS_TO_FBI: frozenset({SwitchOwner.STATE, SwitchOwner.JURISDICTION}),
    Switch.B_FORWARD_TO_IDENT: frozenset({SwitchOwner.FEDERAL}),
    Switch.C_RESULTS_TO_JAIL: frozenset({SwitchOwner.JURISDICTION, SwitchOwner.STATE}),
    Switch.D_HONOUR_DETAINERS: frozenset({SwitchOwner.JURISDICTION}),
}

# Before any recorded setting: prints go to the FBI, a jurisdiction is not activated,
# results come back, detainers are honoured.
DEFAULTS: dict[Switch, bool] = {
    Switch.A_PRINTS_TO_FBI: True,
    Switch.B_FORWARD_TO_IDENT: False,
    Switch.C_RESULTS_TO_JAIL: True,
    Switch.D_HONOUR_DETAINERS: True,
}


class SwitchPermissionError(DomainError):
    pass


@dataclass(frozen=True)
class SwitchSetting:
    ori: str
    switch: Switch
    enabled: bool
    effective_from: datetime
    changed_by: SwitchOwner
    reason: str
    effective_to: datetime | None = None

    def applies(self, ori: str, switch: Switch, at: datetime) -> bool:
        return (
            self.ori == ori
            and self.switch == switch
            and self.effective_from <= at
            and (self.effective_to is None or at < self.effective_to)
        )


@dataclass(frozen=True)
class SwitchChange:
    """One recorded setting as the history shows it: the setting plus when it was recorded."""

    setting_id: int
    setting: SwitchSetting
    recorded_at: datetime
    agency: str | None = None  # the client id of the agency that made it over the service


@dataclass(frozen=True)
class RefusedSetting:
    """A row of the switch settings the flow does not honour: no audit entry records it as
    it stands (inserted or changed outside `set_switch`), or its party does not own it."""

    setting_id: int
    ori: str
    switch: str
    enabled: bool
    effective_from: datetime
    changed_by: str
    problem: str

    def describe(self) -> str:
        value = "on" if self.enabled else "off"
        return (
            f"switch setting {self.setting_id} ({self.ori} {self.switch} {value} from "
            f"{self.effective_from:%Y-%m-%d} by {self.changed_by}) is not honoured: {self.problem}"
        )


def check_owner(switch: Switch, changed_by: SwitchOwner) -> None:
    if changed_by not in OWNERS[switch]:
        owners = ", ".join(sorted(OWNERS[switch]))
        raise SwitchPermissionError(f"switch {switch} belongs to {owners}, not {changed_by}")


def switch_is_on(settings: Iterable[SwitchSetting], ori: str, switch: Switch, at: datetime) -> bool:
    """The switch's value at `at`: the setting in force that took effect last, else the
    default. `settings` come in the order they were recorded: of two settings that take
    effect at the same moment, the one recorded later wins."""
    in_force = [s for s in settings if s.applies(ori, switch, at)]
    if not in_force:
        return DEFAULTS[switch]
    return sorted(in_force, key=lambda s: s.effective_from)[-1].enabled


def change_in_force(
    changes: Iterable[SwitchChange], ori: str, switch: Switch, at: datetime
) -> SwitchChange | None:
    """The recorded change that gives the switch its value at `at` (the rule of
    `switch_is_on`); None when the default holds."""
    in_force = [c for c in changes if c.setting.applies(ori, switch, at)]
    if not in_force:
        return None
    return sorted(in_force, key=lambda c: c.setting.effective_from)[-1]
