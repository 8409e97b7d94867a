"""Switches A-D on fakes: only the owner changes one, every change is audited, and the
setting in force is the one that took effect last (the later recorded wins a tie)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fakes import ORI, FakeUnitOfWork, jurisdiction

from scomm.domain.switches import Switch, SwitchOwner, SwitchPermissionError, SwitchSetting
from scomm.services.switches import (
    UnknownJurisdiction,
    set_switch,
    switch_history,
    switch_on,
    switches_in_force,
)

START = datetime(2011, 1, 1)


def setting(
    switch: Switch, on: bool, by: SwitchOwner, start: datetime = START, ori: str = ORI
) -> SwitchSetting:
    return SwitchSetting(
        ori=ori, switch=switch, enabled=on, effective_from=start, changed_by=by, reason="test"
    )


@pytest.mark.parametrize(
    ("switch", "party"),
    [
        (Switch.B_FORWARD_TO_IDENT, SwitchOwner.JURISDICTION),
        (Switch.B_FORWARD_TO_IDENT, SwitchOwner.STATE),
        (Switch.D_HONOUR_DETAINERS, SwitchOwner.STATE),
        (Switch.D_HONOUR_DETAINERS, SwitchOwner.FEDERAL),
        (Switch.A_PRINTS_TO_FBI, SwitchOwner.FEDERAL),
    ],
)
def test_a_party_that_does_not_own_a_switch_cannot_change_it(
    switch: Switch, party: SwitchOwner
) -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(SwitchPermissionError):
        set_switch(uow, setting(switch, False, party))
    assert uow.audit == [] and uow.switches.changes == []


def test_a_change_is_recorded_with_its_audit_entry() -> None:
    uow = FakeUnitOfWork()
    first = set_switch(uow, setting(Switch.B_FORWARD_TO_IDENT, True, SwitchOwner.FEDERAL))
    second = set_switch(uow, setting(Switch.C_RESULTS_TO_JAIL, False, SwitchOwner.STATE))
    assert (first, second) == (1, 2)
    assert [e.name for e in uow.audit] == ["SWITCH_B", "SWITCH_C"]
    assert uow.audit[1].actor == "state" and uow.audit[1].payload["setting_id"] == 2
    assert uow.switches.attested == {1: 1, 2: 2}  # each row bound to its entry's seq
    assert [c.setting.switch for c in switch_history(uow, ORI)] == [
        Switch.B_FORWARD_TO_IDENT,
        Switch.C_RESULTS_TO_JAIL,
    ]


def test_a_setting_must_end_after_it_starts() -> None:
    uow = FakeUnitOfWork()
    backwards = SwitchSetting(
        ORI, Switch.A_PRINTS_TO_FBI, False, START, SwitchOwner.STATE, "t", START
    )
    with pytest.raises(ValueError, match="must end after it starts"):
        set_switch(uow, backwards)
    assert uow.audit == []


def test_an_operator_cannot_switch_an_ori_nobody_serves() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(UnknownJurisdiction):
        set_switch(
            uow, setting(Switch.A_PRINTS_TO_FBI, False, SwitchOwner.STATE), require_known_ori=True
        )
    uow.jurisdictions.add(jurisdiction())
    set_switch(
        uow, setting(Switch.A_PRINTS_TO_FBI, False, SwitchOwner.STATE), require_known_ori=True
    )


def test_the_setting_in_force_is_the_last_to_take_effect() -> None:
    uow = FakeUnitOfWork()
    later = START + timedelta(days=30)
    set_switch(uow, setting(Switch.D_HONOUR_DETAINERS, False, SwitchOwner.JURISDICTION, later))
    set_switch(uow, setting(Switch.D_HONOUR_DETAINERS, True, SwitchOwner.JURISDICTION, START))
    d = Switch.D_HONOUR_DETAINERS
    assert switch_on(uow, ORI, d, START + timedelta(days=1))
    assert not switch_on(uow, ORI, d, later)
    # recorded later, same moment: the later record wins
    set_switch(uow, setting(d, True, SwitchOwner.JURISDICTION, later))
    assert switch_on(uow, ORI, d, later)


def test_the_switches_in_force_cover_every_jurisdiction_with_the_defaults() -> None:
    uow = FakeUnitOfWork()
    uow.jurisdictions.add(jurisdiction())
    set_switch(uow, setting(Switch.B_FORWARD_TO_IDENT, True, SwitchOwner.FEDERAL, ori="NV0010000"))
    in_force = switches_in_force(uow, START + timedelta(days=1))
    assert in_force == {
        ORI: {Switch.A_PRINTS_TO_FBI: True, Switch.B_FORWARD_TO_IDENT: False,
              Switch.C_RESULTS_TO_JAIL: True, Switch.D_HONOUR_DETAINERS: True},
        "NV0010000": {Switch.A_PRINTS_TO_FBI: True, Switch.B_FORWARD_TO_IDENT: True,
                      Switch.C_RESULTS_TO_JAIL: True, Switch.D_HONOUR_DETAINERS: True},
    }  # fmt: skip
    assert list(switches_in_force(uow, START, "NV0010000")) == ["NV0010000"]
