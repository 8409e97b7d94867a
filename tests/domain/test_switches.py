from datetime import datetime

import pytest

from scomm.domain.switches import (
    Switch,
    SwitchOwner,
    SwitchPermissionError,
    SwitchSetting,
    check_owner,
    switch_is_on,
)

ORI = "CA0010000"


def setting(
    switch: Switch,
    enabled: bool,
    start: datetime,
    end: datetime | None = None,
    by: SwitchOwner = SwitchOwner.FEDERAL,
) -> SwitchSetting:
    return SwitchSetting(
        ori=ORI,
        switch=switch,
        enabled=enabled,
        effective_from=start,
        effective_to=end,
        changed_by=by,
        reason="test",
    )


def test_defaults_before_any_setting() -> None:
    assert switch_is_on([], ORI, Switch.A_PRINTS_TO_FBI, datetime(2010, 1, 1))
    assert not switch_is_on([], ORI, Switch.B_FORWARD_TO_IDENT, datetime(2010, 1, 1))


def test_activation_takes_effect_on_its_date() -> None:
    settings = [setting(Switch.B_FORWARD_TO_IDENT, True, datetime(2010, 6, 15))]
    assert not switch_is_on(settings, ORI, Switch.B_FORWARD_TO_IDENT, datetime(2010, 6, 14, 23))
    assert switch_is_on(settings, ORI, Switch.B_FORWARD_TO_IDENT, datetime(2010, 6, 15))
    assert not switch_is_on(settings, "TX0030000", Switch.B_FORWARD_TO_IDENT, datetime(2011, 1, 1))


def test_latest_setting_in_force_wins_and_expires() -> None:
    settings = [
        setting(Switch.D_HONOUR_DETAINERS, True, datetime(2009, 1, 1), by=SwitchOwner.JURISDICTION),
        setting(
            Switch.D_HONOUR_DETAINERS,
            False,
            datetime(2011, 1, 1),
            datetime(2012, 1, 1),
            by=SwitchOwner.JURISDICTION,
        ),
    ]
    assert switch_is_on(settings, ORI, Switch.D_HONOUR_DETAINERS, datetime(2010, 6, 1))
    assert not switch_is_on(settings, ORI, Switch.D_HONOUR_DETAINERS, datetime(2011, 6, 1))
    assert switch_is_on(settings, ORI, Switch.D_HONOUR_DETAINERS, datetime(2012, 6, 1))


def test_a_county_cannot_switch_off_ident_forwarding() -> None:
    with pytest.raises(SwitchPermissionError, match="belongs to federal"):
        check_owner(Switch.B_FORWARD_TO_IDENT, SwitchOwner.JURISDICTION)
    check_owner(Switch.C_RESULTS_TO_JAIL, SwitchOwner.JURISDICTION)


def test_of_two_settings_from_the_same_moment_the_later_recorded_wins() -> None:
    start = datetime(2011, 6, 1)
    first = setting(Switch.C_RESULTS_TO_JAIL, False, start, by=SwitchOwner.JURISDICTION)
    second = setting(Switch.C_RESULTS_TO_JAIL, True, start, by=SwitchOwner.STATE)
    assert switch_is_on([first, second], ORI, Switch.C_RESULTS_TO_JAIL, start)
    assert not switch_is_on([second, first], ORI, Switch.C_RESULTS_TO_JAIL, start)
