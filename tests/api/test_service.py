"""The service over HTTP: tokens, scopes, the AC-7 lockout, audit entries for failed
authentication and for reads, a CAR submitted and its SRE read by its own jail only, and
every error as application/problem+json."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from api_world import Served, car
from fastapi.routing import APIRoute
from sqlalchemy import select

from scomm.nist.responses import decode_sre
from scomm.services import agencies
from scomm.store.models import AuditEntryRow

PROBLEM = "application/problem+json"
NIST = {"Content-Type": "application/x-ansi-nist"}


def access_entries(served: Served) -> list[tuple[str, dict[str, object]]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.kind.in_(("access", "agency")))
        )
        return [(r.name, json.loads(r.payload)) for r in rows]


def test_a_token_for_good_credentials_and_none_for_bad(served: Served) -> None:
    token = served.token("jail-a")
    principal = served.service.keys.verify(token, served.service.now())
    assert principal.client_id == "jail-a" and principal.ori == served.ori
    assert "scomm.transaction.write" in principal.scopes
    refused = served.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "jail-a", "client_secret": "no"},
    )
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["error"] == "invalid_client"
    wrong_grant = served.client.post("/v1/oauth/token", data={"grant_type": "password"})
    assert (
        wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    )


def test_a_token_from_another_key_is_refused(served: Served) -> None:
    from scomm.api.tokens import TokenKeys

    agency = agencies.list_agencies(served.system.db)[0]
    forged = TokenKeys.generate().issue(agency, served.service.now())
    answer = served.client.get("/v1/transactions/X", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401 and answer.headers["content-type"] == PROBLEM


def test_five_failures_lock_the_client_until_an_operator_releases_it(served: Served) -> None:
    bad = {"grant_type": "client_credentials", "client_id": "jail-a", "client_secret": "guess"}
    for _ in range(5):
        assert served.client.post("/v1/oauth/token", data=bad).status_code == 401
    good = dict(bad, client_secret=served.secrets["jail-a"])
    assert served.client.post("/v1/oauth/token", data=good).status_code == 401  # locked
    failed = [p for name, p in access_entries(served) if name == "AUTH_FAILED"]
    assert [p["outcome"] for p in failed] == ["bad-secret"] * 5 + ["locked"]
    assert all(p["client_id"] == "jail-a" and p["remote"] for p in failed)
    assert "guess" not in json.dumps(access_entries(served))  # never the secret
    agencies.release_agency(served.system.db, served.system.clock.now(), "jail-a")
    assert served.client.post("/v1/oauth/token", data=good).status_code == 200


def test_a_scope_the_token_lacks_is_refused(served: Served) -> None:
    raw, _, _ = car()
    answer = served.client.post(
        "/v1/transactions", content=raw, headers={**served.headers("auditor"), **NIST}
    )
    assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM
    assert "scomm.transaction.write" in answer.json()["detail"]


def test_a_car_is_accepted_and_its_sre_read_by_its_jail_only(served: Served) -> None:
    raw, tcn, _ = car()
    headers = served.headers("jail-a")
    accepted = served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["tcn"] == tcn and accepted.json()["status"] == "PENDING"
    pending = served.client.get(f"/v1/transactions/{tcn}", headers=headers)
    assert pending.status_code == 200 and pending.json()["status"] == "PENDING"
    assert served.client.get(f"/v1/transactions/{tcn}/response", headers=headers).status_code == 404
    served.system.run_until(None)  # the flow: SIB, CJIS, back to the jail
    done = served.client.get(f"/v1/transactions/{tcn}", headers=headers).json()
    assert done["status"] == "COMPLETED" and done["response"]["type"] == "SRE"
    assert done["task_id"] == accepted.json()["task_id"]
    nist = served.client.get(done["links"]["response"], headers=headers)
    assert nist.status_code == 200 and nist.headers["content-type"] == "application/x-ansi-nist"
    sre = decode_sre(nist.content)
    assert sre.tcr == tcn and sre.identified == done["response"]["identified"]
    # another jail: exactly as for a TCN that does not exist
    other = served.headers("jail-b")
    for path in (f"/v1/transactions/{tcn}", f"/v1/transactions/{tcn}/response"):
        theirs = served.client.get(path, headers=other)
        unknown = served.client.get(path.replace(tcn, "NOSUCHTCN0000"), headers=other)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
    reads = [(n, p) for n, p in access_entries(served) if n.startswith("READ")]
    assert ("READ_STATUS", "jail-b", "not-found") in {
        (n, p["client_id"], p["outcome"]) for n, p in reads
    }
    assert {p["for"] for n, p in reads if p["client_id"] == "jail-a"} == {served.ori}


def test_a_car_of_another_jail_is_forbidden(served: Served) -> None:
    raw, _, _ = car()
    answer = served.client.post(
        "/v1/transactions", content=raw, headers={**served.headers("jail-b"), **NIST}
    )
    assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM


def test_a_malformed_car_answers_the_errt_field_never_500(served: Served) -> None:
    raw, tcn, _ = car()
    headers = {**served.headers("jail-a"), **NIST}
    broken = raw.replace(b"2.022:", b"2.022:X", 1)  # the date of birth
    answer = served.client.post("/v1/transactions", content=broken, headers=headers)
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["errt"]["field"] is not None and answer.json()["errt"]["messages"]
    for junk in (b"", b"not ansi/nist at all", raw[: len(raw) // 2]):
        answer = served.client.post("/v1/transactions", content=junk, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM


def test_a_body_over_64_mib_is_refused_before_it_is_read(served: Served) -> None:
    headers = {**served.headers("jail-a"), **NIST, "Content-Length": str(64 * 2**20 + 1)}
    answer = served.client.post("/v1/transactions", content=b"x", headers=headers)
    assert answer.status_code == 413 and answer.headers["content-type"] == PROBLEM


def test_the_openapi_document_is_published(served: Served) -> None:
    document = served.client.get("/openapi.json").json()
    assert {"/v1/oauth/token", "/v1/transactions", "/v1/transactions/{tcn}"} <= set(
        document["paths"]
    )


def test_every_v1_route_but_the_token_endpoint_needs_a_token(served: Served) -> None:
    routes = [
        r for r in served.client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute) and r.path.startswith("/v1") and r.path != "/v1/oauth/token"
    ]  # fmt: skip
    assert len(routes) >= 3
    for route in routes:
        path = route.path.replace("{tcn}", "X")
        for method in route.methods:
            answer = served.client.request(method, path)
            assert answer.status_code == 401, (method, path)
            assert answer.headers["content-type"] == PROBLEM
            assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_route_is_a_problem_too(served: Served) -> None:
    answer = served.client.get("/v1/nothing-here")
    assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM


def test_http_basic_client_authentication_and_a_rotated_key(served: Served) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from scomm.api.tokens import TokenKeys

    basic = base64.b64encode(f"jail-a:{served.secrets['jail-a']}".encode()).decode()
    answer = served.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    old = answer.json()["access_token"]
    # a new signing key that still accepts the old key's tokens while they live
    old_keys = served.service.keys
    new_key = Ed25519PrivateKey.generate()
    served.service.keys = TokenKeys(new_key, previous=[old_keys.public_key])
    assert served.service.keys.kid != old_keys.kid
    assert served.service.keys.verify(old, served.service.now()).client_id == "jail-a"
    served.service.keys = TokenKeys(new_key)  # the old key dropped: its tokens fail
    answer = served.client.get("/v1/transactions/X", headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 401


def test_a_body_that_is_no_ansi_nist_media_type_is_refused(served: Served) -> None:
    raw, _, _ = car()
    headers = {**served.headers("jail-a"), "Content-Type": "application/json"}
    answer = served.client.post("/v1/transactions", content=raw, headers=headers)
    assert answer.status_code == 415 and answer.headers["content-type"] == PROBLEM


def test_a_streamed_body_is_cut_off_at_the_limit(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scomm.api.app

    monkeypatch.setattr(scomm.api.app, "MAX_BODY", 1000)  # 64 MiB stands in as 1000 bytes

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(3):
            yield b"x" * 600

    headers = {**served.headers("jail-a"), **NIST}
    answer = served.client.post("/v1/transactions", content=chunks(), headers=headers)
    assert answer.status_code == 413 and answer.headers["content-type"] == PROBLEM
