"""ERO over HTTP: a field office reads its area's match queue, each match with its IAR, its
decisions and detainers; with officer review on, a person decides a match through the same
path as the simulated officer. Another area's match answers 404; only ERO decides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from api_world import OTHER_ORI, START, Served, add_principals, car, expect_a_match
from fastapi.testclient import TestClient
from sqlalchemy import select

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.tokens import TokenKeys
from scomm.api.transactions import task_id
from scomm.audit.reconcile import reconcile_database
from scomm.config import Settings, load_settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.services import agencies
from scomm.store.models import AuditEntryRow, CaseRow, OutboxRow
from scomm.system import System, baseline_context

NIST = {"Content-Type": "application/x-ansi-nist"}
CASE = task_id(car(0)[1])
# the match notification reaches ERO 2 h 35 min after the booking (SIB, CJIS, IDENT, LESC's
# research); the jail releases the person after 72 h
NOTIFIED = START + timedelta(hours=6)


def submit_and_run(served: Served, raw: bytes, until: datetime | None = None) -> None:
    """Submit `raw` as the served jail and run the flow (to its end, or to `until`)."""
    sent = served.client.post(
        "/v1/transactions", content=raw, headers={**served.headers("jail-a"), **NIST}
    )
    assert sent.status_code == 202, sent.text
    served.system.run_until(until)


@pytest.fixture
def world(served: Served) -> Served:
    """The simulated officer decides: the matched CAR (a conviction on file) gets a detainer."""
    add_principals(served)
    raw, _ = expect_a_match(served, conviction="AGGRAVATED ASSAULT")
    submit_and_run(served, raw)
    return served


def reviewed_service(database_url: str) -> Iterator[Served]:
    """The fixture's world (tests/api/conftest.py) with officer review on."""
    settings = Settings(database_url=database_url, seed=1, officer_review=True)
    system = System(
        settings, ScenarioClock(START), context=baseline_context(settings, us_federal_holiday())
    )
    _, _, ori = car()
    with system.unit_of_work() as uow:
        for place in (ori, OTHER_ORI):
            uow.jurisdictions.add(
                Jurisdiction(
                    ori=place, name=f"county {place}", state=place[:2],
                    sib_ori=f"{place[:2]}SIB0000", detainer_policy=DetainerPolicy.HONOR_ALL,
                    activation_at=None,
                )
            )  # fmt: skip
        uow.commit()
    made = agencies.add_agency(
        system.db, START, client_id="jail-a", kind=AgencyKind.JAIL, name="A", scope_value=ori
    )
    service = Service(system, TokenKeys.generate())
    with TestClient(create_app(service)) as client:
        served = Served(client, system, service, ori, {"jail-a": made.secret})
        add_principals(served)
        yield served
    system.close()


@pytest.fixture
def reviewed(database_url: str) -> Iterator[Served]:
    yield from reviewed_service(database_url)


def audit(served: Served, name: str) -> list[dict[str, Any]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(select(AuditEntryRow).where(AuditEntryRow.name == name)).all()
        return [json.loads(row.payload) for row in rows]


def case_state(served: Served) -> str:
    with served.system.db.sessions() as session:
        row = session.get(CaseRow, CASE)
        assert row is not None
        return row.state


def decide(served: Served, who: str, **body: str) -> Any:
    answer = {"action": "lodge_detainer", "reason": "level 1, prior conviction", "officer": "jdoe"}
    return served.client.post(
        f"/v1/ero/matches/{CASE}/decision", json={**answer, **body}, headers=served.headers(who)
    )


def test_the_field_office_reads_its_match_with_the_iar_decision_and_detainer(
    world: Served,
) -> None:
    headers = world.headers("ero-own")
    queue = world.client.get("/v1/ero/matches", headers=headers)
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()["items"]
    assert (item["case_id"], item["area"], item["booking_ori"]) == (CASE, "SLC", world.ori)
    # decided: a detainer, then the transfer, and ICE carried the removal through
    assert item["decided"] is True and item["case_state"] == "removed"
    assert world.client.get("/v1/ero/matches?waiting=true", headers=headers).json()["items"] == []
    match = world.client.get(f"/v1/ero/matches/{CASE}", headers=headers).json()
    assert match["iar"]["removability"] == "removable" and match["iar"]["level"] == 1
    assert match["notification"]["a_number"] == "A20000000"
    assert match["decision"]["action"] == "lodge_detainer" and match["decision"]["simulated"]
    (detainer,) = match["detainers"]
    assert detainer["form"] == "I-247A" and detainer["served_form"]["form"] == "I-247A"
    fields = detainer["served_form"]["fields"]
    assert fields["jail_ori"] == world.ori and "48 hours" in fields["request"]
    # ICE's own record beside the served form: who decided, on which decision and rule set
    assert detainer["decided_by"] == "simulated:sim-officer-v1"
    assert detainer["decision_id"] == match["decision"]["decision_id"]
    # the form served to the jail carries none of ICE's notes (API3): no decision, no reason
    served_form = json.dumps(detainer["served_form"])
    assert match["decision"]["reason"] not in served_form and "decision" not in served_form
    decisions = world.client.get("/v1/ero/decisions", headers=headers).json()["items"]
    assert [d["case_id"] for d in decisions] == [CASE]
    listed = world.client.get("/v1/ero/detainers", headers=headers).json()["items"]
    assert listed == [detainer]
    one = world.client.get(f"/v1/ero/detainers/{detainer['detainer_id']}", headers=headers)
    assert one.json() == detainer
    assert {a["outcome"] for a in audit(world, "READ_MATCH")} == {"found"}
    assert audit(world, "READ_MATCH")[0]["for"] == "SLC"


def test_another_area_sees_no_match_and_its_reads_answer_404(world: Served) -> None:
    headers = world.headers("ero-other")  # HOU: Texas, where OTHER_ORI is
    for path in ("/v1/ero/matches", "/v1/ero/decisions", "/v1/ero/detainers"):
        answer = world.client.get(path, headers=headers)
        assert answer.status_code == 200 and answer.json()["items"] == [], path
    detainer_id = world.client.get(
        f"/v1/ero/matches/{CASE}", headers=world.headers("ero-own")
    ).json()["detainers"][0]["detainer_id"]
    for path in (f"/v1/ero/matches/{CASE}", f"/v1/ero/detainers/{detainer_id}"):
        answer = world.client.get(path, headers=headers)
        assert answer.status_code == 404 and answer.json()["title"] == "not found"
        unknown = world.client.get(path.replace(CASE, "case-x").replace(detainer_id, "det-x"),
                                   headers=headers)  # fmt: skip
        assert unknown.json()["detail"] == answer.json()["detail"]  # no hint that it exists
    other = [a["outcome"] for a in audit(world, "READ_MATCH") if a["for"] == "HOU"]
    assert other == ["not-found", "not-found"]


def test_without_officer_review_a_persons_decision_is_refused(world: Served) -> None:
    answer = decide(world, "ero-own")
    assert answer.status_code == 409 and "simulated officer" in answer.json()["detail"]
    assert audit(world, "DECIDE")[-1]["outcome"] == "refused"


def test_with_officer_review_a_match_waits_and_a_person_lodges_the_detainer(
    reviewed: Served,
) -> None:
    raw, _ = expect_a_match(reviewed, conviction="AGGRAVATED ASSAULT")
    submit_and_run(reviewed, raw, NOTIFIED)
    headers = reviewed.headers("ero-own")
    (waiting,) = reviewed.client.get("/v1/ero/matches?waiting=true", headers=headers).json()[
        "items"
    ]
    assert waiting["decided"] is False and waiting["case_state"] == "iar_returned"
    assert audit(reviewed, "MATCH_AWAITS_OFFICER")[0]["level"] == 1
    answer = decide(reviewed, "ero-own")
    assert answer.status_code == 200, answer.text
    match = answer.json()
    assert match["case_state"] == "detainer_lodged" and match["decided"] is True
    assert match["decision"]["decided_by"] == "jdoe@ero-own"
    assert match["decision"]["simulated"] is False
    assert match["decision"]["reason"] == "level 1, prior conviction"
    (detainer,) = match["detainers"]
    assert detainer["decided_by"] == "jdoe@ero-own" and detainer["form"] == "I-247A"
    # the decision's audit entry names the officer; the access names the field office
    (entry,) = audit(reviewed, "LODGE_DETAINER")
    assert entry["decided_by"] == "jdoe@ero-own" and entry["simulated"] is False
    assert audit(reviewed, "OFFICER_DECISION_ON_RECORD")[0]["decided_by"] == "jdoe@ero-own"
    (access,) = audit(reviewed, "DECIDE")
    assert access["client_id"] == "ero-own" and access["outcome"] == "decided"
    # the detainer goes to the jail now, and the jail answers it under its policy
    with reviewed.system.db.sessions() as session:
        sent = session.scalars(select(OutboxRow).where(OutboxRow.type == "DETAINER")).one()
        assert sent.recipient == "lea" and sent.available_at == NOTIFIED
    reviewed.system.run_until(None)
    (honoured,) = audit(reviewed, "hold_honored")
    assert honoured["detainer_id"] == detainer["detainer_id"]
    assert case_state(reviewed) == "removed"  # transferred, and removed after its order
    again = decide(reviewed, "ero-own", action="no_action")
    assert again.status_code == 409 and again.json()["title"] == "already decided"
    assert [a["outcome"] for a in audit(reviewed, "DECIDE")] == ["decided", "refused"]
    # the audit chain holds, and rebuilds the case, decision and detainer as stored
    verification, reconciliation = reconcile_database(reviewed.system.db)
    assert verification.ok and reconciliation is not None and reconciliation.ok


def test_a_person_keeps_to_the_rule_set_and_only_the_areas_ero_decides(
    reviewed: Served,
) -> None:
    """No conviction: level 3 under the rule set in force, which allows no hold. Another
    area's office, LESC and the jail cannot decide (API1, API5)."""
    raw, _ = expect_a_match(reviewed)
    submit_and_run(reviewed, raw, NOTIFIED)
    assert decide(reviewed, "ero-other").status_code == 404
    assert decide(reviewed, "lesc").status_code == 403
    assert decide(reviewed, "jail-a").status_code == 403
    assert decide(reviewed, "ero-own", officer="bad name!").status_code == 422
    assert decide(reviewed, "ero-own", action="deport").status_code == 422
    assert case_state(reviewed) == "iar_returned"
    hold = decide(reviewed, "ero-own")
    assert hold.status_code == 422 and "no hold" in hold.json()["detail"]
    assert case_state(reviewed) == "iar_returned"
    notify = decide(reviewed, "ero-own", action="request_notification", reason="notify only")
    assert notify.status_code == 200, notify.text
    assert notify.json()["case_state"] == "notification_requested"
    assert notify.json()["detainers"] == []
    with reviewed.system.db.sessions() as session:
        sent = session.scalars(
            select(OutboxRow).where(OutboxRow.type == "NOTIFICATION_REQUEST")
        ).one()
        assert json.loads(sent.payload)["decided_by"] == "jdoe@ero-own"


def test_officer_review_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOMM_OFFICER_REVIEW", "1")
    assert load_settings().officer_review is True
    monkeypatch.setenv("SCOMM_OFFICER_REVIEW", "0")
    assert load_settings().officer_review is False
    monkeypatch.delenv("SCOMM_OFFICER_REVIEW")
    assert load_settings().officer_review is False
