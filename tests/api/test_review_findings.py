"""Review of issue 15's merge: defects shown by failing tests."""

from __future__ import annotations

import pytest
from api_world import START, Served, car
from sqlalchemy import select

from scomm.api.callbacks import CallbackSender
from scomm.api.server import DispatcherThread
from scomm.domain.messages import Actor, DeliveryStatus
from scomm.services import callbacks
from scomm.store.models import OutboxRow

NIST = {"Content-Type": "application/x-ansi-nist"}


def _deliver_all(served: Served, thread: DispatcherThread) -> None:
    system = served.system
    for _ in range(200):
        with system.db.sessions() as session:
            row = session.execute(
                select(OutboxRow.available_at)
                .where(OutboxRow.status == DeliveryStatus.PENDING.value)
                .order_by(OutboxRow.available_at)
            ).first()
        if row is None:
            return
        system.clock.advance_to(row.available_at)  # type: ignore[attr-defined]
        thread.deliver_due()


def test_the_callback_http_post_is_not_made_under_the_write_lock(served: Served) -> None:
    """`scomm serve`'s dispatcher thread holds Service.writer around each delivery; the
    callback sender resolves and POSTs inside it (TIMEOUT 5 s per address, and a receiver
    that drips its answer holds it far longer): every request that writes, and every read
    (its audit entry takes the lock), waits on a stranger's web server."""
    held: list[bool] = []

    def resolver(host: str, _: int) -> list[str]:
        held.append(served.service.writer.locked())
        return ["127.0.0.1"]

    served.system.add_handler(Actor.CALLBACK, CallbackSender(served.system, resolver=resolver))
    callbacks.set_callback(
        served.system.db, START, "jail-a", hosts=(), private_hosts=("hooks.example",),
        url="http://hooks.example:9/cb",
    )  # fmt: skip
    raw, _, _ = car(0)
    headers = served.headers("jail-a")
    assert (
        served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST}).status_code
        == 202
    )
    _deliver_all(served, DispatcherThread(served.system, served.service.writer))
    assert held, "no callback was attempted"
    assert not any(held), f"the callback went out with the write lock held: {held}"


def test_with_switch_c_off_the_jail_learns_nothing_of_icess_match_from_its_booking(
    served: Served,
) -> None:
    """Switch C off: the IDR/IAR is not returned to the jail. Yet GET /v1/bookings/{tcn}
    answers the case's `state` (jail.py booking_state), ICE's own track: ident_match,
    iaq_sent, iar_returned, no_action... so the jail (and its state's bureau) reads that
    IDENT matched the person and what ICE decided."""
    from datetime import timedelta

    from api_world import expect_a_match

    from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting

    raw, tcn = expect_a_match(served, status="naturalized_citizen")
    served.system.set_switch(
        SwitchSetting(
            ori=served.ori, switch=Switch.C_RESULTS_TO_JAIL, enabled=False,
            effective_from=START - timedelta(hours=1), effective_to=None,
            changed_by=SwitchOwner.JURISDICTION, reason="county keeps results off",
        )
    )  # fmt: skip
    headers = served.headers("jail-a")
    assert (
        served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST}).status_code
        == 202
    )
    served.system.run_until(START + timedelta(hours=24))
    got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers).json()
    assert all(m["type"] != "IDR_IAR" for m in got["responses"])  # switch C holds here
    booking = served.client.get(f"/v1/bookings/{tcn}", headers=headers).json()
    assert not any(m["type"] in ("DETAINER", "NOTIFICATION_REQUEST") for m in got["responses"])
    ice_track = {
        "ident_match",
        "iaq_sent",
        "iar_returned",
        "no_action",
        "detainer_lodged",
        "notification_requested",
        "ident_no_match",
    }
    assert booking["state"] not in ice_track, booking["state"]


def test_another_jail_cannot_learn_that_a_tcn_exists_by_submitting_it(served: Served) -> None:
    """Issue 15 item 4: another agency's object answers as if it did not exist. A CAR of
    jail-b's (its own ORI) that reused jail-a's TCN answered 409 "a transaction with this
    TCN exists": an oracle for other jails' bookings. A TCN must now begin with the ORI
    that sends it, so jail-b's is refused for its own TCN's sake, whether or not jail-a
    used it (and no jail can take another's TCNs)."""
    from api_world import OTHER_ORI

    raw, tcn, _ = car(0)
    assert (
        served.client.post(
            "/v1/transactions", content=raw, headers={**served.headers("jail-a"), **NIST}
        ).status_code
        == 202
    )
    theirs, same_tcn, _ = car(0, ori=OTHER_ORI, cri=OTHER_ORI)
    assert same_tcn == tcn
    answer = served.client.post(
        "/v1/transactions", content=theirs, headers={**served.headers("jail-b"), **NIST}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errt"]["field"] == "1.009"
    unused, _, _ = car(1, ori=OTHER_ORI, cri=OTHER_ORI)  # a TCN nobody used: the same answer
    again = served.client.post(
        "/v1/transactions", content=unused, headers={**served.headers("jail-b"), **NIST}
    )
    assert (again.status_code, again.json()["title"]) == (422, answer.json()["title"])


def test_people_loaded_by_another_process_while_serving_on_sqlite_are_matched(
    served: Served, database_url: str
) -> None:
    """README "From make serve to an SRE and an IAR": `make serve` in a first terminal, then
    `scomm synth load -d $DB` in a second one enrols the people IDENT knows, then the CAR is
    submitted and "IDR_IAR matched: true" comes back. But on SQLite `scomm serve` installs no
    GalleryFollower (cli/serve.py: only for PostgreSQL) and its galleries were loaded when it
    started: people enrolled by another process after that are never searched."""
    from dataclasses import replace as _replace

    from api_world import expect_a_match

    from scomm.config import Settings
    from scomm.domain.clock import ScenarioClock
    from scomm.domain.hold import us_federal_holiday
    from scomm.system import System, baseline_context

    settings = Settings(database_url=database_url, seed=1)
    loader = System(  # `scomm synth load` in the second terminal
        settings, ScenarioClock(START), context=baseline_context(settings, us_federal_holiday())
    )
    try:
        raw, tcn = expect_a_match(_replace(served, system=loader))
    finally:
        loader.close()
    headers = served.headers("jail-a")
    assert (
        served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST}).status_code
        == 202
    )
    thread = DispatcherThread(served.system, served.service.writer)  # as `scomm serve` runs
    _deliver_all(served, thread)
    got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers).json()
    results = [m for m in got["responses"] if m["type"] == "IDR_IAR"]
    assert results and results[0]["matched"] is True, got


def test_the_token_endpoint_verifies_the_secret_outside_the_write_lock(
    served: Served, monkeypatch: object
) -> None:
    """app.py _authenticate holds Service.writer around agencies.authenticate, whose argon2id
    verification takes ~0.1-0.2 s of CPU: every token request (unknown client ids too,
    which no lockout limits) stops every write and every audited read of the service for
    that long."""
    from scomm.services import agencies

    held: list[bool] = []
    real = agencies._verify

    def spy(stored: str, secret: str) -> bool:
        held.append(served.service.writer.locked())
        return real(stored, secret)

    monkeypatch.setattr(agencies, "_verify", spy)  # type: ignore[attr-defined]
    served.token("jail-a")
    bad = served.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert bad.status_code == 401
    assert held and not any(held), held


def test_a_date_time_at_the_edge_of_the_calendar_is_a_422_not_a_500(served: Served) -> None:
    """audit.py utc_moment catches ValueError only: an RFC 3339 time whose UTC falls past
    year 9999 (or before year 1) raises OverflowError in astimezone -> 500. The same in
    jail.py _naive_utc for a disposition's decided_at."""
    from api_world import add_principals

    add_principals(served)
    auditor = served.headers("auditor")
    for since in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        answer = served.client.get("/v1/audit/entries", params={"since": since}, headers=auditor)
        assert answer.status_code < 500, (since, answer.status_code, answer.text)
    raw, tcn, _ = car(0)
    jail = served.headers("jail-a")
    assert (
        served.client.post("/v1/transactions", content=raw, headers={**jail, **NIST}).status_code
        == 202
    )
    answer = served.client.post(
        f"/v1/bookings/{tcn}/dispositions",
        headers=jail,
        json={"outcome": "convicted", "decided_at": "9999-12-31T23:59:59-23:59"},
    )
    assert answer.status_code < 500, answer.text


def test_basic_credentials_with_a_non_ascii_byte_are_a_400_not_a_500(served: Served) -> None:
    """app.py _client_credentials catches binascii.Error and UnicodeDecodeError, but
    base64.b64decode raises a plain ValueError for a str with a non-ASCII character (a
    latin-1 byte in the header): 500 on the one endpoint anyone may call."""
    answer = served.client.post(
        "/v1/oauth/token",
        content=b"grant_type=client_credentials",
        headers={
            "Authorization": b"Basic \xe9\xe9\xe9\xe9",  # type: ignore[dict-item]
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert answer.status_code == 400, answer.text


def test_a_key_rotated_out_signs_no_token_accepted_after_its_grace(
    served: Served, tmp_path: object
) -> None:
    """`scomm keys rotate` says the old key's tokens verify "for up to 15 more minutes";
    but the old key's public half stays trusted for any token, however new, until a later
    rotation deletes the file: a key rotated out because it leaked still lets its holder
    mint tokens (any agency, any scope: the claims come from the token) an hour later."""
    import time
    from pathlib import Path

    from scomm.api.errors import InvalidToken
    from scomm.api.tokens import TOKEN_SECONDS, TokenKeys, rotate_key
    from scomm.services import agencies

    path = Path(str(tmp_path)) / "api-key.pem"
    leaked = TokenKeys.from_file(path, create=True)
    now = int(time.time())
    rotate_key(path, now)
    later = now + 4 * TOKEN_SECONDS
    jail = agencies.find_agency(served.system.db, "jail-a")
    assert jail is not None
    minted = leaked.issue(jail, later)  # made after the rotation, with the old key
    with pytest.raises(InvalidToken):
        TokenKeys.from_file(path).verify(minted, later)
