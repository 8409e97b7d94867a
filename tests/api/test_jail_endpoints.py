"""A jail's side of its bookings over HTTP: what the flow sent it (each message as JSON, and as
its bytes where the flow has them), the detainers and the jail's answers under its policy,
and the jail's reports (a court disposition, a release) going through the flow's own path.
A bureau reads its state's bookings; any other agency's booking answers 404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_world import START, Served, add_principals, car
from sqlalchemy import select

from scomm.domain.messages import Actor, Detainer
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import DetainerRecord, DetainerStatus
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.nist.responses import decode_sre
from scomm.store.models import AuditEntryRow, BookingRow, JurisdictionRow

PROBLEM = "application/problem+json"
NIST = "application/x-ansi-nist"
DAY = START + timedelta(hours=24)  # the SRE is back long before; the release is due at 72 h


@pytest.fixture
def booked(served: Served) -> tuple[Served, str]:
    """The fixture's jail has submitted a CAR over HTTP and the flow ran for a day."""
    add_principals(served)
    raw, tcn, _ = car()
    answer = served.client.post(
        "/v1/transactions", content=raw,
        headers={**served.headers("jail-a"), "Content-Type": NIST},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    served.system.run_until(DAY)
    return served, tcn


def access_entries(served: Served, name: str) -> list[dict[str, object]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.kind == "access", AuditEntryRow.name == name)
        ).all()
        return [json.loads(row.payload) for row in rows]


def lodge(served: Served, tcn: str, level: int) -> str:
    """ICE lodges an I-247A on the booking (what ERO's handler writes: the detainer row and
    the form to the jail); returns the detainer's id."""
    with served.system.db.sessions() as session:
        case_id = session.scalars(select(BookingRow.case_id).where(BookingRow.tcn == tcn)).one()
    with served.system.unit_of_work(cause="test-lodge") as uow:
        uow.detainers.add(
            DetainerRecord(
                detainer_id="det-1", case_id=case_id, form="I-247A", lodged_at=uow.now,
                decided_by="officer 7", status=DetainerStatus.LODGED, decision_id="dec-1",
            )
        )  # fmt: skip
        uow.emit(
            Detainer(
                message_id=uow.new_message_id(), case_id=case_id, tcn=tcn, sender=Actor.ERO,
                recipient=Actor.LEA, detainer_id="det-1", form="I-247A", level=level,
                decided_by="officer 7", decision_id="dec-1",
                fields={"subject_name": "DOE, JOHN", "request": "maintain custody"},
            )
        )  # fmt: skip
        uow.commit()
    served.system.run_until(served.system.clock.now() + timedelta(hours=1))
    return "det-1"


def test_the_jail_lists_what_it_got_and_reads_the_sre_as_the_transaction_route_gives_it(
    booked: tuple[Served, str],
) -> None:
    served, tcn = booked
    headers = served.headers("jail-a")
    listed = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers)
    assert listed.status_code == 200, listed.text
    got = listed.json()["responses"]
    assert got and got[0]["type"] == "SRE" and got[0]["from"] == "sib"
    assert got[0]["content_type"] == NIST and got[0]["identified"] is False
    sre = served.client.get(got[0]["links"]["self"], headers=headers)
    assert sre.status_code == 200 and sre.headers["content-type"] == NIST
    same = served.client.get(f"/v1/transactions/{tcn}/response", headers=headers)
    assert sre.content == same.content
    assert decode_sre(sre.content).tcr == tcn
    # the jail's own timers are not things it got from others
    assert all(m["type"] not in ("RELEASE_DUE", "HOLD_EXPIRED") for m in got)
    unknown = served.client.get(f"/v1/bookings/{tcn}/responses/msg-nope", headers=headers)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    reads = access_entries(served, "READ_RESPONSES")
    assert reads == [
        {"client_id": "jail-a", "for": served.ori, "tcn": tcn, "remote": "testclient",
         "outcome": "found"},
    ]  # fmt: skip


def test_a_disposition_goes_through_the_flow_once_and_a_dismissal_releases(
    booked: tuple[Served, str],
) -> None:
    served, tcn = booked
    headers = served.headers("jail-a")
    url = f"/v1/bookings/{tcn}/dispositions"
    future = served.client.post(
        url, json={"outcome": "dismissed", "decided_at": (DAY + timedelta(days=1)).isoformat()},
        headers=headers,
    )  # fmt: skip
    assert future.status_code == 422 and future.headers["content-type"] == PROBLEM
    bad = served.client.post(url, json={"outcome": "pardoned"}, headers=headers)
    assert bad.status_code == 422
    done = served.client.post(url, json={"outcome": "dismissed"}, headers=headers)
    assert done.status_code == 202, done.text
    assert done.json()["decided_at"] == DAY.isoformat()
    again = served.client.post(url, json={"outcome": "convicted"}, headers=headers)
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    served.system.run_until(DAY + timedelta(hours=1))
    state = served.client.get(f"/v1/bookings/{tcn}", headers=headers).json()
    assert state["custody"] == "released"
    assert state["custody_history"][-1]["why"] == "eligible for release"
    got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers).json()["responses"]
    assert [m["outcome"] for m in got if m["type"] == "DISPOSITION"] == ["dismissed"]
    with served.system.db.sessions() as session:
        names = set(session.scalars(select(AuditEntryRow.name)))
    assert "disposition_dismissed" in names  # the jail's handler recorded it
    outcomes = [e["outcome"] for e in access_entries(served, "DISPOSITION_REPORTED")]
    assert outcomes == ["refused", "accepted", "refused"]


@pytest.mark.parametrize(
    ("policy", "level", "honoured", "basis", "custody"),
    [
        (DetainerPolicy.HONOR_ALL, 2, True, "local policy honor_all", "held_on_detainer"),
        (DetainerPolicy.TRUST_ACT, 2, False, "TRUST Act: no serious or violent felony", "released"),
    ],
)
def test_the_jail_reads_a_detainer_form_and_its_answer_and_a_reported_release_follows_it(
    booked: tuple[Served, str],
    policy: DetainerPolicy,
    level: int,
    honoured: bool,
    basis: str,
    custody: str,
) -> None:
    served, tcn = booked
    with served.system.db.sessions() as session:
        session.get_one(JurisdictionRow, served.ori).detainer_policy = policy.value
        session.commit()
    detainer_id = lodge(served, tcn, level)
    headers = served.headers("jail-a")
    state = served.client.get(f"/v1/bookings/{tcn}", headers=headers).json()
    (detainer,) = state["detainers"]
    assert detainer["detainer_id"] == detainer_id and detainer["form"] == "I-247A"
    assert detainer["answer"]["honoured"] is honoured and detainer["answer"]["basis"] == basis
    assert [m["type"] for m in state["sent"]] == ["DETAINER_RESPONSE"]
    got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers).json()["responses"]
    form = next(m for m in got if m["type"] == "DETAINER")
    assert form["form_fields"]["subject_name"] == "DOE, JOHN" and "decision_id" not in form
    text = served.client.get(form["links"]["self"], headers=headers)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith("I-247A  Immigration Detainer - Notice of Action\n")
    assert "subject_name: DOE, JOHN\n" in text.text and f"detainer: {detainer_id}\n" in text.text
    # the jail would release the person now: the flow holds them where it honoured the detainer
    released = served.client.post(f"/v1/bookings/{tcn}/release", headers=headers)
    assert released.status_code == 202, released.text
    served.system.run_until(served.system.clock.now())
    after = served.client.get(f"/v1/bookings/{tcn}", headers=headers).json()
    assert after["custody"] == custody
    twice = served.client.post(f"/v1/bookings/{tcn}/release", headers=headers)
    assert twice.status_code == 409 and twice.json()["detail"] == f"the person is {custody}"


def test_a_release_reported_twice_before_the_flow_handles_it_is_refused(
    booked: tuple[Served, str],
) -> None:
    served, tcn = booked
    headers = served.headers("jail-a")
    assert served.client.post(f"/v1/bookings/{tcn}/release", headers=headers).status_code == 202
    again = served.client.post(f"/v1/bookings/{tcn}/release", headers=headers)
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]


def test_a_bureau_reads_its_states_bookings_only_and_reports_nothing(
    booked: tuple[Served, str],
) -> None:
    served, tcn = booked
    own = served.headers("bureau-own")
    assert served.client.get(f"/v1/bookings/{tcn}", headers=own).status_code == 200
    assert served.client.get(f"/v1/bookings/{tcn}/responses", headers=own).status_code == 200
    refused = served.client.post(f"/v1/bookings/{tcn}/release", headers=own)
    assert refused.status_code == 403  # no scomm.booking.write
    for client_id in ("bureau-other", "jail-b"):
        headers = served.headers(client_id)
        for url in (f"/v1/bookings/{tcn}", f"/v1/bookings/{tcn}/responses"):
            answer = served.client.get(url, headers=headers)
            assert answer.status_code == 404
            assert answer.json()["detail"] == "no booking with this TCN"
    other = served.client.post(
        f"/v1/bookings/{tcn}/dispositions", json={"outcome": "convicted"},
        headers=served.headers("jail-b"),
    )  # fmt: skip
    assert other.status_code == 404
    unknown = served.client.get("/v1/bookings/NOSUCHTCN", headers=served.headers("jail-a"))
    assert unknown.status_code == 404 and unknown.json() == {**other.json(), "status": 404}


def test_with_switch_b_on_the_jail_also_gets_the_idr_iar_as_json(served: Served) -> None:
    served.system.set_switch(
        SwitchSetting(
            ori=served.ori, switch=Switch.B_FORWARD_TO_IDENT, enabled=True, effective_from=START,
            effective_to=None, changed_by=SwitchOwner.FEDERAL, reason="activation",
        )
    )  # fmt: skip
    raw, tcn, _ = car()
    headers = served.headers("jail-a")
    submitted = served.client.post(
        "/v1/transactions", content=raw, headers={**headers, "Content-Type": NIST}
    )
    assert submitted.status_code == 202, submitted.text
    served.system.run_until(DAY)
    got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers).json()["responses"]
    results = next(m for m in got if m["type"] == "IDR_IAR")
    assert results["matched"] is False and results["content_type"] == "application/json"
    assert "candidates" not in results
    one = served.client.get(results["links"]["self"], headers=headers)
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    assert one.json() == results
