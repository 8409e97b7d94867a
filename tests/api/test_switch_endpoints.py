"""A jurisdiction's switches over HTTP: read by the agencies that may see it, changed by the
party that owns the switch as its token says, each change audited with the agency."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_world import OTHER_ORI, START, Served, add_principals
from sqlalchemy import select

from scomm.domain.switches import (
    Switch,
    SwitchChange,
    SwitchOwner,
    SwitchSetting,
    change_in_force,
    switch_is_on,
)
from scomm.services import switches
from scomm.store.models import AuditEntryRow

PROBLEM = "application/problem+json"
UNKNOWN_ORI = "ZZ0000000"


@pytest.fixture
def world(served: Served) -> Served:
    add_principals(served)
    return served


def path(ori: str, switch: str = "") -> str:
    return f"/v1/jurisdictions/{ori}/switches" + (f"/{switch}" if switch else "")


def test_a_jail_reads_its_switches_and_turns_one_off_as_its_jurisdiction(world: Served) -> None:
    headers = world.headers("jail-a")
    before = world.client.get(path(world.ori), headers=headers)
    assert before.status_code == 200, before.text
    values = {k: v["enabled"] for k, v in before.json()["switches"].items()}
    assert values == {"A": True, "B": False, "C": True, "D": True}  # the defaults
    assert before.json()["switches"]["D"]["set_by"] is None
    changed = world.client.put(
        path(world.ori, "D"), json={"enabled": False, "reason": "county ordinance"},
        headers=headers,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    d = world.client.get(path(world.ori), headers=headers).json()["switches"]["D"]
    assert d["enabled"] is False and d["set_by"] == "jurisdiction" and d["agency"] == "jail-a"
    assert d["reason"] == "county ordinance" and d["recorded_at"] == START.isoformat()
    assert d == {k: v for k, v in changed.json().items() if k != "ori"}
    # the flow honours it, and the audit entry names the agency (and the owning party)
    with world.system.unit_of_work() as uow:
        assert not switches.switch_on(uow, world.ori, Switch.D_HONOUR_DETAINERS, START)
    with world.system.db.sessions() as session:
        entry = session.scalars(select(AuditEntryRow).where(AuditEntryRow.kind == "switch")).one()
        assert entry.actor == "jurisdiction" and entry.name == "SWITCH_D"
        assert json.loads(entry.payload)["agency"] == "jail-a"
        access = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "SET_SWITCH")
        ).one()
        assert json.loads(access.payload)["client_id"] == "jail-a"


def test_a_jail_may_not_change_a_switch_its_jurisdiction_does_not_own(world: Served) -> None:
    headers = world.headers("jail-a")
    body = {"enabled": True, "reason": "activate us"}
    federal = world.client.put(path(world.ori, "B"), json=body, headers=headers)
    assert federal.status_code == 403 and federal.headers["content-type"] == PROBLEM
    as_state = world.client.put(path(world.ori, "A"), json={**body, "by": "state"}, headers=headers)
    assert as_state.status_code == 403 and as_state.headers["content-type"] == PROBLEM
    switches_now = world.client.get(path(world.ori), headers=headers).json()["switches"]
    assert switches_now["B"]["enabled"] is False and switches_now["A"]["set_by"] is None


def test_a_jurisdiction_the_caller_may_not_see_answers_like_an_unknown_one(world: Served) -> None:
    body = {"enabled": False, "reason": "x"}
    for client_id in ("jail-b", "bureau-other"):
        headers = world.headers(client_id)
        theirs = world.client.get(path(world.ori), headers=headers)
        unknown = world.client.get(path(UNKNOWN_ORI), headers=headers)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json() and theirs.headers["content-type"] == PROBLEM
    jail_b = world.headers("jail-b")
    theirs = world.client.put(path(world.ori, "D"), json=body, headers=jail_b)
    unknown = world.client.put(path(UNKNOWN_ORI, "D"), json=body, headers=jail_b)
    assert theirs.status_code == unknown.status_code == 404 and theirs.json() == unknown.json()
    own = world.client.get(path(OTHER_ORI), headers=jail_b)
    assert own.status_code == 200 and own.json()["switches"]["D"]["enabled"] is True


def test_a_bureau_reads_its_states_switches_and_may_not_change_them(world: Served) -> None:
    headers = world.headers("bureau-own")
    assert world.client.get(path(world.ori), headers=headers).status_code == 200
    refused = world.client.put(
        path(world.ori, "A"), json={"enabled": False, "reason": "x"}, headers=headers
    )
    assert refused.status_code == 403 and "scomm.switch.write" in refused.json()["detail"]


def test_an_operator_changes_any_switch_for_the_owner_it_names(world: Served) -> None:
    headers = world.headers("operator")
    on = world.client.put(
        path(world.ori, "B"), json={"enabled": True, "reason": "activation"}, headers=headers
    )
    assert on.status_code == 200, on.text
    assert on.json()["set_by"] == "federal" and on.json()["agency"] == "operator"
    body = {"enabled": False, "reason": "state law"}
    unnamed = world.client.put(path(world.ori, "A"), json=body, headers=headers)
    assert unnamed.status_code == 422 and unnamed.headers["content-type"] == PROBLEM
    not_owner = world.client.put(
        path(world.ori, "A"), json={**body, "by": "federal"}, headers=headers
    )
    assert not_owner.status_code == 403
    named = world.client.put(path(world.ori, "A"), json={**body, "by": "state"}, headers=headers)
    assert named.status_code == 200 and named.json()["set_by"] == "state"
    values = world.client.get(path(world.ori), headers=headers).json()["switches"]
    assert values["A"]["enabled"] is False and values["B"]["enabled"] is True


@pytest.mark.parametrize(
    "switch, body",
    [
        ("D", {"enabled": "yes", "reason": "x"}),
        ("D", {"enabled": False, "reason": "   "}),
        ("D", {"enabled": False}),
        ("D", {"enabled": False, "reason": "x", "effective": "2020-01-01"}),
        ("E", {"enabled": False, "reason": "x"}),
    ],
)
def test_a_malformed_change_is_a_422_problem(world: Served, switch: str, body: object) -> None:
    answer = world.client.put(path(world.ori, switch), json=body, headers=world.headers("jail-a"))
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    with world.system.unit_of_work() as uow:
        assert switches.switch_history(uow, world.ori) == []


def test_the_change_in_force_is_the_one_that_gives_the_switch_its_value() -> None:
    d = Switch.D_HONOUR_DETAINERS
    settings = [
        SwitchSetting("X", d, False, START, SwitchOwner.JURISDICTION, "1"),
        SwitchSetting(
            "X",
            d,
            True,
            START + timedelta(days=2),
            SwitchOwner.JURISDICTION,
            "2",
            effective_to=START + timedelta(days=4),
        ),  # fmt: skip
        SwitchSetting("X", d, True, START, SwitchOwner.JURISDICTION, "3"),  # ties with 1: wins
    ]
    changes = [SwitchChange(i, s, START) for i, s in enumerate(settings)]
    for day in (-1, 0, 1, 3, 5):
        at = START + timedelta(days=day)
        change = change_in_force(changes, "X", d, at)
        value = change.setting.enabled if change is not None else True
        assert value == switch_is_on(settings, "X", d, at)
    assert change_in_force(changes, "X", d, START) == changes[2]
    assert change_in_force(changes, "X", d, START - timedelta(days=1)) is None
