"""A jurisdiction's switches A-D over the service: read by the agencies that may see the
jurisdiction, changed by the party that owns a switch (its token says which party it is).

A jail sees and acts for its own ORI as the jurisdiction; a bureau sees its state's
jurisdictions and acts as the state; an operator sees every jurisdiction and acts for the
owner it names. A jurisdiction the caller may not see answers 404, as an unknown one does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from scomm.api.errors import Problem
from scomm.api.tokens import Principal
from scomm.domain.agencies import AgencyKind
from scomm.domain.switches import DEFAULTS, OWNERS, Switch, SwitchChange, SwitchOwner
from scomm.system import System

NO_JURISDICTION = "no jurisdiction with this ORI"


class SwitchChangeBody(BaseModel):
    """A switch turned on or off from now on; `by`: the owner an operator acts for (a jail
    acts as its jurisdiction, a bureau as its state)."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    reason: str = Field(min_length=1, max_length=500)
    by: SwitchOwner | None = None


def visible_jurisdiction(system: System, principal: Principal, ori: str) -> bool:
    """Whether `ori` is a jurisdiction the caller may see (False for an unknown one too)."""
    with system.unit_of_work() as uow:
        place = uow.jurisdictions.get(ori)
    if place is None:
        return False
    if principal.kind is AgencyKind.JAIL:
        return place.ori == principal.scope_value
    if principal.kind is AgencyKind.BUREAU:
        return place.state == principal.scope_value
    return principal.kind is AgencyKind.OPERATOR


def party(principal: Principal, switch: Switch, by: SwitchOwner | None) -> SwitchOwner:
    """The owner the caller acts as in changing `switch`; 403 where it owns no such switch."""
    own = {AgencyKind.JAIL: SwitchOwner.JURISDICTION, AgencyKind.BUREAU: SwitchOwner.STATE}
    owners = OWNERS[switch]
    if principal.kind is AgencyKind.OPERATOR:
        if by is None:
            if len(owners) > 1:
                raise Problem(
                    422, "owner needed",
                    f"switch {switch} belongs to {', '.join(sorted(owners))}: name one in `by`",
                )  # fmt: skip
            (by,) = owners
        chosen = by
    else:
        acting = own.get(principal.kind)
        if acting is None or (by is not None and by is not acting):
            raise Problem(403, "not the switch's owner", f"a {principal.kind} acts for no {by}")
        chosen = acting
    if chosen not in owners:
        raise Problem(
            403, "not the switch's owner",
            f"switch {switch} belongs to {', '.join(sorted(owners))}, not {chosen}",
        )  # fmt: skip
    return chosen


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def switch_state(switch: Switch, change: SwitchChange | None) -> dict[str, Any]:
    """One switch as JSON: its value, and who set it and when (nulls: the default holds)."""
    setting = change.setting if change is not None else None
    return {
        "switch": switch.value,
        "enabled": setting.enabled if setting is not None else DEFAULTS[switch],
        "default": DEFAULTS[switch],
        "owners": sorted(OWNERS[switch]),
        "setting_id": change.setting_id if change is not None else None,
        "set_by": setting.changed_by.value if setting is not None else None,
        "agency": change.agency if change is not None else None,
        "recorded_at": _moment(change.recorded_at) if change is not None else None,
        "effective_from": _moment(setting.effective_from) if setting is not None else None,
        "effective_to": _moment(setting.effective_to) if setting is not None else None,
        "reason": setting.reason if setting is not None else None,
    }
