"""LESC over HTTP: the IAQs it received (as JSON and as the Nlets text it read) and the IARs
it sent; only a LESC agency reads them, and every read is audited."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from api_world import START, Served, add_principals, car, expect_a_match, ridges
from sqlalchemy import select

from scomm.api.transactions import task_id
from scomm.domain.agencies import IAQ_READ, IAR_READ, AgencyKind
from scomm.nist.car import encode_tenprint
from scomm.nist.nlets import parse_iaq
from scomm.nist.tenprint import FingerImage
from scomm.services import agencies
from scomm.sim.synth.booking_transactions import synthetic_booking
from scomm.store.models import AuditEntryRow

NIST = {"Content-Type": "application/x-ansi-nist"}


@pytest.fixture
def world(served: Served) -> Served:
    """A matched CAR (its subject in IDENT, a conviction on file) and an unmatched one, both
    submitted by the served jail and run to the end."""
    add_principals(served)
    matched, _ = expect_a_match(served, conviction="AGGRAVATED ASSAULT")
    unmatched = unmatched_car(served.ori)
    for raw in (matched, unmatched):
        sent = served.client.post(
            "/v1/transactions", content=raw, headers={**served.headers("jail-a"), **NIST}
        )
        assert sent.status_code == 202, sent.text
    served.system.run_until(None)
    return served


def unmatched_car(ori: str) -> bytes:
    """Synthetic booking 1 at the served jail, with prints nobody on file has."""
    sub = synthetic_booking(1, 1, with_images=False)
    fingers = tuple(FingerImage(pixels=ridges(p + 40), position=p, ppi=500) for p in range(1, 11))
    tcn = ori + sub.tcn[len(ori) :]  # a TCN begins with the ORI that sends it
    changed = replace(sub, fingers=fingers, ori=ori, cri=ori, tcn=tcn)
    return encode_tenprint(changed, compression="NONE")


def accesses(served: Served, name: str) -> list[dict[str, object]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.kind == "access", AuditEntryRow.name == name)
        ).all()
        return [json.loads(row.payload) for row in rows]


def test_lesc_lists_the_iaq_it_received_and_reads_it_as_json_and_as_nlets(world: Served) -> None:
    headers = world.headers("lesc")
    case_id = task_id(car(0)[1])
    listed = world.client.get("/v1/lesc/iaqs", headers=headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    # only the match made an IAQ: LESC hears nothing of the unmatched booking
    assert [i["case_id"] for i in items] == [case_id]
    assert items[0]["booking_ori"] == world.ori and items[0]["ident_id"] == "IDENT-0000"
    one = world.client.get(f"/v1/lesc/iaqs/{case_id}", headers=headers)
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    body = one.json()
    query = parse_iaq(body["nlets"])  # the text LESC read parses, and agrees with the JSON
    assert query.sender_ori == world.ori and query.offense_code == body["offense_code"]
    assert body["query"]["a_number"] == "A20000000" and body["query"]["in_custody"] is True
    text = world.client.get(f"/v1/lesc/iaqs/{case_id}", headers={**headers, "Accept": "text/plain"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text == body["nlets"] and text.text.startswith(f"IAQ.{world.ori}.AX.")
    assert [a["outcome"] for a in accesses(world, "READ_IAQ")] == ["found", "found"]
    assert accesses(world, "READ_IAQS")[0]["client_id"] == "lesc"


def test_lesc_lists_the_iar_it_sent_with_its_determination(world: Served) -> None:
    headers = world.headers("lesc")
    case_id = task_id(car(0)[1])
    items = world.client.get("/v1/lesc/iars", headers=headers).json()["items"]
    assert [(i["case_id"], i["removability"], i["level"]) for i in items] == [
        (case_id, "removable", 1)
    ]
    assert items[0]["status"] == "delivered"
    one = world.client.get(f"/v1/lesc/iars/{case_id}", headers=headers)
    assert one.status_code == 200, one.text
    response = one.json()["response"]
    assert response["recorded_status"] == "previously_removed"
    assert response["history"][0]["kind"] == "conviction"
    assert response["history"][0]["literal"] == "AGGRAVATED ASSAULT"
    assert response["rule_set"] == items[0]["rule_set"]


def test_an_unmatched_or_unknown_case_answers_404_and_is_audited(world: Served) -> None:
    headers = world.headers("lesc")
    unmatched = task_id(synthetic_booking(1, 1, with_images=False).tcn)
    for path in (f"/v1/lesc/iaqs/{unmatched}", "/v1/lesc/iars/case-nothing"):
        answer = world.client.get(path, headers=headers)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
    assert accesses(world, "READ_IAQ")[-1] == {
        "client_id": "lesc", "for": None, "case_id": unmatched, "remote": "testclient",
        "outcome": "not-found",
    }  # fmt: skip


def test_the_lists_page_by_their_cursor(world: Served) -> None:
    headers = world.headers("lesc")
    first = world.client.get("/v1/lesc/iaqs?limit=1", headers=headers).json()
    seq = first["items"][0]["seq"]
    assert first["links"]["next"] == f"/v1/lesc/iaqs?after={seq}&limit=1"
    rest = world.client.get(first["links"]["next"], headers=headers).json()
    assert rest["items"] == [] and "next" not in rest["links"]
    for bad in ("limit=0", "limit=501", "after=-1", "after=x"):
        assert world.client.get(f"/v1/lesc/iars?{bad}", headers=headers).status_code == 422


def test_a_lesc_scope_given_to_another_kind_opens_nothing(world: Served) -> None:
    """Function-level authorisation (OWASP API5): the route checks the agency's kind too."""
    made = agencies.add_agency(
        world.system.db, START, client_id="jail-nosy", kind=AgencyKind.JAIL, name="nosy",
        scope_value=world.ori, scopes=(IAQ_READ, IAR_READ),
    )  # fmt: skip
    world.secrets["jail-nosy"] = made.secret
    case_id = task_id(car(0)[1])
    for path in ("/v1/lesc/iaqs", f"/v1/lesc/iaqs/{case_id}", "/v1/lesc/iars"):
        answer = world.client.get(path, headers=world.headers("jail-nosy"))
        assert answer.status_code == 403 and "lesc agency" in answer.json()["detail"]
