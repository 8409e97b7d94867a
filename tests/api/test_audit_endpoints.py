"""The audit log for auditors over HTTP: entries paged and filtered, the chain verified (a
changed entry named), and every such read written to the chain itself (AU-2)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from api_world import START, Served
from sqlalchemy import select

from scomm.store.models import AuditEntryRow


def test_an_auditor_pages_through_the_entries_with_filters_and_each_read_is_audited(
    served: Served,
) -> None:
    headers = served.headers("auditor")
    first = served.client.get("/v1/audit/entries", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [e["seq"] for e in page["entries"]] == [1, 2]
    assert page["entries"][1]["prev_hash"] == page["entries"][0]["entry_hash"]
    assert parse_qs(urlsplit(page["next"]).query) == {"after": ["2"], "limit": ["2"]}
    second = served.client.get(page["next"], headers=headers).json()
    assert [e["seq"] for e in second["entries"]] == [3, 4]
    tokens = served.client.get(
        "/v1/audit/entries", params={"kind": "access", "name": "TOKEN_ISSUED"}, headers=headers
    ).json()
    assert tokens["next"] is None
    assert [e["payload"]["client_id"] for e in tokens["entries"]] == ["auditor"]
    # the reads so far are in the chain: who, the filters, which entries it got, from where
    reads = served.client.get(
        "/v1/audit/entries", params={"name": "READ_AUDIT"}, headers=headers
    ).json()["entries"]
    assert [e["payload"]["filters"] for e in reads] == [
        {}, {}, {"kind": "access", "name": "TOKEN_ISSUED"},
    ]  # fmt: skip
    assert reads[0]["payload"] | {"entries": None} == {
        "client_id": "auditor", "for": None, "filters": {}, "after": 0, "entries": None,
        "remote": "testclient", "outcome": "found",
    }  # fmt: skip
    assert reads[0]["payload"]["entries"] == [1, 2] and reads[1]["payload"]["after"] == 2
    later = served.client.get(
        "/v1/audit/entries",
        params={"since": (START + timedelta(seconds=1)).isoformat() + "Z", "case": ""},
        headers=headers,
    ).json()
    assert later["entries"] == []  # scenario time stands still at START


def test_verify_reports_the_head_and_names_a_changed_entry(served: Served) -> None:
    headers = served.headers("auditor")
    good = served.client.get("/v1/audit/verify", headers=headers)
    assert good.status_code == 200, good.text
    body = good.json()
    assert body["ok"] is True and body["first_bad_seq"] is None and body["problem"] is None
    assert body["head"]["seq"] == body["entries"] > 0 and len(body["head"]["hash"]) == 64
    with served.system.db.engine.begin() as connection:  # what a table owner can do (SQLite)
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_update")
    with served.system.db.sessions() as session:
        row = session.get_one(AuditEntryRow, 2)
        row.payload = row.payload.replace("{", '{"added":1,', 1)
        session.commit()
    bad = served.client.get("/v1/audit/verify", headers=headers).json()
    assert bad["ok"] is False and bad["first_bad_seq"] == 2 and "changed" in bad["problem"]
    with served.system.db.sessions() as session:
        verifies = session.scalars(
            select(AuditEntryRow.payload).where(AuditEntryRow.name == "VERIFY_AUDIT")
        ).all()
    assert [json.loads(p)["outcome"] for p in verifies] == ["ok", "broken"]
    assert json.loads(verifies[0])["entries"] == body["entries"]


def test_a_jail_may_not_read_the_audit_log_and_its_attempt_is_not_a_read(served: Served) -> None:
    headers = served.headers("jail-a")
    for url in ("/v1/audit/entries", "/v1/audit/verify"):
        answer = served.client.get(url, headers=headers)
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
    bad_limit = served.client.get(
        "/v1/audit/entries", params={"limit": 0}, headers=served.headers("auditor")
    )
    assert bad_limit.status_code == 422


def test_an_auditors_token_lives_15_minutes_no_session_outlasts_it(served: Served) -> None:
    headers = served.headers("auditor")
    issued = served.service.now()
    served.service.now = lambda: issued + 15 * 60 - 1
    assert served.client.get("/v1/audit/verify", headers=headers).status_code == 200
    served.service.now = lambda: issued + 15 * 60 + 1
    expired = served.client.get("/v1/audit/verify", headers=headers)
    assert expired.status_code == 401 and "invalid_token" in expired.headers["www-authenticate"]


def test_since_is_an_rfc_3339_date_time_with_its_offset(served: Served) -> None:
    """schemathesis found `since=45075` read as a Unix time: `since` is the published
    date-time and nothing else, its offset converted to the log's UTC."""
    headers = served.headers("auditor")
    for wrong in ("45075", "2026-12-07", "2026-12-07T09:00:00", "2026-02-30T09:00:00Z"):
        answer = served.client.get("/v1/audit/entries", params={"since": wrong}, headers=headers)
        assert answer.status_code == 422, wrong
        assert answer.headers["content-type"] == "application/problem+json"
    later = (START + timedelta(hours=1)).isoformat()  # the entries are all at START
    for since, empty in ((later + "Z", True), (later + "+02:00", False), (later + "+00:00", True)):
        answer = served.client.get("/v1/audit/entries", params={"since": since}, headers=headers)
        assert answer.status_code == 200, since
        assert (answer.json()["entries"] == []) is empty, since
