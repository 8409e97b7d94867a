"""Callbacks over the service: a jail's callback URL (only on hosts an operator allowed it),
the SRE POSTed to it signed, retried with backoff through the outbox, the task's status per
OSIA (PENDING, RESPONSE_SCHEDULED, RESPONSE_RETRY, RESPONSE_ERROR, COMPLETED), a redelivery,
and the refusals that keep callbacks from reaching hosts they may not (SSRF)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from api_world import START, Served, allow_callbacks, car
from sqlalchemy import select

from scomm.api.callbacks import CallbackFailed, CallbackSender, checked_addresses, post
from scomm.audit.reconcile import reconcile_database
from scomm.domain.callbacks import Target, signature_holds
from scomm.domain.ids import derived_id
from scomm.domain.messages import Actor, DeliveryStatus
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import FingerImage
from scomm.services import callbacks
from scomm.sim.synth.booking_transactions import synthetic_booking
from scomm.store.models import AuditEntryRow, OutboxRow

NIST = {"Content-Type": "application/x-ansi-nist"}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A callback receiver on loopback: answers the statuses in `script` in turn (the last
    one ever after) and keeps what it got."""

    script: list[int]
    got: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(script=[204])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            state.got.append(Received(dict(self.headers.items()), self.rfile.read(length)))
            status = state.script.pop(0) if len(state.script) > 1 else state.script[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/scomm/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def submit(served: Served, number: int = 0) -> tuple[str, str, dict[str, str]]:
    """A CAR of jail-a's (`number` makes its TCN) submitted: its TCN, task id and jail-a's
    headers."""
    raw, tcn, _ = car(0, tcn=f"NV20012S0201007190000000{number}")
    headers = served.headers("jail-a")
    accepted = served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST})
    assert accepted.status_code == 202, accepted.text
    return tcn, accepted.json()["task_id"], headers


def status(served: Served, task_id: str, headers: dict[str, str]) -> str:
    answer = served.client.get(f"/v1/tasks/{task_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def step(served: Served) -> bool:
    """Deliver the next due outbox message alone (the clock moved to its time)."""
    system = served.system
    with system.db.sessions() as session:
        row = session.execute(
            select(OutboxRow.seq, OutboxRow.available_at)
            .where(OutboxRow.status == DeliveryStatus.PENDING.value)
            .order_by(OutboxRow.available_at, OutboxRow.seq)
        ).first()
    if row is None:
        return False
    system.clock.advance_to(row.available_at)  # type: ignore[attr-defined]
    system.dispatcher.deliver(row.seq)
    return True


def statuses_until_completed(served: Served, task_id: str, headers: dict[str, str]) -> list[str]:
    """The task's status after each delivery, each change once, until it is COMPLETED."""
    seen = [status(served, task_id, headers)]
    for _ in range(200):
        if seen[-1] == "COMPLETED" or not step(served):
            break
        now = status(served, task_id, headers)
        if now != seen[-1]:
            seen.append(now)
    return seen


def entries(served: Served, *names: str) -> list[tuple[str, str, str, dict[str, object]]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name.in_(names)).order_by(AuditEntryRow.seq)
        )
        return [(r.kind, r.name, r.actor, json.loads(r.payload)) for r in rows]


def test_the_receiver_gets_the_sre_json_signed_and_the_task_completes(
    served: Served, receiver: Receiver
) -> None:
    secret = allow_callbacks(served, receiver.url)
    tcn, task_id, headers = submit(served)
    assert status(served, task_id, headers) == "PENDING"
    served.system.run_until(None)
    assert len(receiver.got) == 1
    got = receiver.got[0]
    assert got.headers["Content-Type"] == "application/json"
    timestamp = int(got.headers["X-Scomm-Timestamp"])
    assert signature_holds(secret, timestamp, got.body, got.headers["X-Scomm-Signature"])
    assert not signature_holds(secret, timestamp, got.body + b" ", got.headers["X-Scomm-Signature"])
    assert got.headers["X-Scomm-Task"] == task_id and got.headers["X-Scomm-Delivery"]
    read = served.client.get(f"/v1/transactions/{tcn}", headers=headers).json()
    assert json.loads(got.body) == read  # the same JSON as the GET, COMPLETED
    assert read["status"] == "COMPLETED" and read["response"]["type"] == "SRE"
    assert status(served, task_id, headers) == "COMPLETED"
    delivered = entries(served, "CALLBACK_DELIVERED")
    assert [(k, a, p["status"], p["host"]) for k, _, a, p in delivered] == [
        ("callback", "callback", 204, "127.0.0.1")
    ]
    assert secret not in json.dumps(entries(served, "CALLBACK_DELIVERED", "CALLBACK_SET"))


def test_a_receiver_that_fails_twice_sees_retries_then_completes(
    served: Served, receiver: Receiver
) -> None:
    receiver.script = [500, 503, 204]
    allow_callbacks(served, receiver.url)
    tcn, task_id, headers = submit(served)
    seen = statuses_until_completed(served, task_id, headers)
    assert seen == ["PENDING", "RESPONSE_SCHEDULED", "RESPONSE_RETRY", "COMPLETED"]
    assert len(receiver.got) == 3
    assert len({r.headers["X-Scomm-Delivery"] for r in receiver.got}) == 1  # one delivery
    assert served.client.get(f"/v1/transactions/{tcn}", headers=headers).json()["status"] == (
        "COMPLETED"
    )
    retries = entries(served, "DELIVERY_RETRY")
    assert [(k, a) for k, _, a, _ in retries] == [("delivery", "callback")] * 2
    assert "HTTP 500" in str(retries[0][3]["error"]) and "HTTP 503" in str(retries[1][3]["error"])


def test_a_receiver_that_always_fails_ends_in_error_and_a_redelivery_completes(
    served: Served, receiver: Receiver
) -> None:
    receiver.script = [500]
    allow_callbacks(served, receiver.url)
    tcn, task_id, headers = submit(served)
    served.system.run_until(None)
    assert status(served, task_id, headers) == "RESPONSE_ERROR"
    assert served.client.get(f"/v1/transactions/{tcn}", headers=headers).json()["status"] == (
        "RESPONSE_ERROR"
    )
    attempts = len(receiver.got)
    assert attempts == served.system.dispatcher.max_attempts
    assert [n for _, n, _, _ in entries(served, "DEAD_LETTER")] == ["DEAD_LETTER"]
    receiver.script = [204]  # the receiver is mended
    again = served.client.post(f"/v1/tasks/{task_id}/redeliver", headers=headers)
    assert again.status_code == 202 and again.json()["status"] == "RESPONSE_SCHEDULED"
    twice = served.client.post(f"/v1/tasks/{task_id}/redeliver", headers=headers)
    assert twice.status_code == 409  # one is already due
    served.system.run_until(None)
    assert status(served, task_id, headers) == "COMPLETED" and len(receiver.got) == attempts + 1
    # a completed task's callback may be asked for once more: a new delivery
    once_more = served.client.post(f"/v1/tasks/{task_id}/redeliver", headers=headers)
    assert once_more.status_code == 202
    served.system.run_until(None)
    assert len(receiver.got) == attempts + 2
    assert (
        receiver.got[-1].headers["X-Scomm-Delivery"] != receiver.got[0].headers["X-Scomm-Delivery"]
    )
    # the audit log bears out the outbox: the replay, the new delivery, every attempt
    verification, reconciled = reconcile_database(served.system.db)
    assert verification.ok and reconciled is not None and reconciled.ok, reconciled
    asked = entries(served, "CALLBACK_REDELIVERY")
    assert [p["replayed"] for _, _, _, p in asked] == [True, False]
    assert {p["client_id"] for _, _, _, p in asked} == {"jail-a"}


def test_nothing_to_redeliver_and_another_agencys_task_is_not_found(
    served: Served, receiver: Receiver
) -> None:
    tcn, task_id, headers = submit(served)
    early = served.client.post(f"/v1/tasks/{task_id}/redeliver", headers=headers)
    assert early.status_code == 409 and early.headers["content-type"] == "application/problem+json"
    served.system.run_until(None)
    assert status(served, task_id, headers) == "COMPLETED"  # no callback: done when answered
    no_url = served.client.post(f"/v1/tasks/{task_id}/redeliver", headers=headers)
    assert no_url.status_code == 409 and "no callback URL" in no_url.json()["detail"]
    other = served.headers("jail-b")
    unknown_id = derived_id("case", "NOSUCHTCN0000")
    for method, path in (("GET", "/v1/tasks/{}"), ("POST", "/v1/tasks/{}/redeliver")):
        theirs = served.client.request(method, path.format(task_id), headers=other)
        unknown = served.client.request(method, path.format(unknown_id), headers=other)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
    assert receiver.got == []


def test_a_callback_to_a_host_that_resolves_to_a_private_address_is_refused(
    served: Served, receiver: Receiver
) -> None:
    """127.0.0.1 and localhost allowed as hosts, but without --allow-private: the delivery
    is refused at its address every time, and nothing reaches the receiver."""
    port = receiver.url.split(":")[2].split("/")[0]
    for host in ("127.0.0.1", "localhost"):
        callbacks.set_callback(
            served.system.db, START, "jail-a", hosts=(host,),
            url=f"http://{host}:{port}/scomm/callback",
        )  # fmt: skip
        _, task_id, headers = submit(served, number=0 if host == "127.0.0.1" else 1)
        served.system.run_until(None)
        assert status(served, task_id, headers) == "RESPONSE_ERROR"
    assert receiver.got == []
    dead = entries(served, "DEAD_LETTER")
    assert len(dead) == 2 and all("private, loopback" in str(p["error"]) for *_, p in dead)


def test_the_agency_sets_its_url_on_allowed_hosts_only(served: Served) -> None:
    headers = served.headers("jail-a")
    path = "/v1/agencies/me/callback"
    refused = served.client.put(path, json={"url": "https://hooks.example/x"}, headers=headers)
    assert refused.status_code == 422  # no host allowed yet
    first_secret = allow_callbacks(served)
    for url in (
        "https://hooks.example/x",  # not on the allow-list
        "ftp://127.0.0.1/x",  # not http(s)
        "http://user:pw@127.0.0.1/x",  # user information
        "file:///etc/passwd",
    ):
        answer = served.client.put(path, json={"url": url}, headers=headers)
        assert answer.status_code == 422, url
        assert answer.headers["content-type"] == "application/problem+json"
    made = served.client.put(path, json={"url": "http://127.0.0.1:8443/cb"}, headers=headers)
    assert made.status_code == 200 and "secret" not in made.json()
    assert made.json()["url"] == "http://127.0.0.1:8443/cb"
    rotated = served.client.put(
        path, json={"url": "http://127.0.0.1:8443/cb", "rotate_secret": True}, headers=headers
    ).json()
    assert rotated["secret"] not in ("", first_secret)
    read = served.client.get(path, headers=headers).json()
    assert read["url"] == "http://127.0.0.1:8443/cb" and read["allowed_hosts"] == ["127.0.0.1"]
    assert "secret" not in read
    sets = entries(served, "SET_CALLBACK", "CALLBACK_URL_SET")
    assert [(n, p.get("outcome")) for _, n, _, p in sets][:2] == [
        ("SET_CALLBACK", "refused"),
        ("SET_CALLBACK", "refused"),
    ]
    assert rotated["secret"] not in json.dumps(sets)


def test_an_errt_is_sent_as_application_error_json(served: Served, receiver: Receiver) -> None:
    """CJIS finds no usable finger on blank prints: the ERRT goes to the callback as OSIA
    sends errors, and the task completes."""
    sub = synthetic_booking(1, 0, with_images=False)
    blank = np.full((96, 96), 128, dtype=np.uint8)
    fingers = tuple(FingerImage(pixels=blank, position=p, ppi=500) for p in range(1, 11))
    tcn = "NV20012S02010071900000009"
    raw = encode_tenprint(replace(sub, fingers=fingers, tcn=tcn), compression="NONE")
    allow_callbacks(served, receiver.url)
    headers = served.headers("jail-a")
    accepted = served.client.post("/v1/transactions", content=raw, headers={**headers, **NIST})
    assert accepted.status_code == 202, accepted.text
    served.system.run_until(None)
    read = served.client.get(f"/v1/transactions/{tcn}", headers=headers).json()
    assert read["response"]["type"] == "ERRT" and read["status"] == "COMPLETED"
    assert len(receiver.got) == 1
    assert receiver.got[0].headers["Content-Type"] == "application/error+json"
    assert json.loads(receiver.got[0].body) == read


def test_the_connection_goes_to_the_checked_address_naming_the_host(
    served: Served, receiver: Receiver
) -> None:
    """The host is resolved once per delivery and the connection made to that address (no
    second look-up to rebind): a resolver that says hooks.example is 127.0.0.1 brings the
    callback to the loopback receiver, with Host: hooks.example."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    looked_up: list[str] = []

    def resolver(host: str, _: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    served.system.add_handler(Actor.CALLBACK, CallbackSender(served.system, resolver=resolver))
    callbacks.set_callback(
        served.system.db, START, "jail-a", hosts=(), private_hosts=("hooks.example",),
        url=f"http://hooks.example:{port}/cb",
    )  # fmt: skip
    _, task_id, headers = submit(served)
    served.system.run_until(None)
    assert status(served, task_id, headers) == "COMPLETED"
    assert looked_up == ["hooks.example"]
    assert receiver.got[0].headers["Host"] == f"hooks.example:{port}"


def test_one_refused_address_among_those_resolved_refuses_the_callback() -> None:
    target = Target("https", "hooks.example", 443, "/")
    assert checked_addresses(target, False, lambda h, p: ["93.184.216.34"]) == ["93.184.216.34"]
    with pytest.raises(CallbackFailed, match="private"):
        checked_addresses(target, False, lambda h, p: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(CallbackFailed, match="does not resolve"):
        checked_addresses(target, False, lambda h, p: [])


def test_https_to_a_server_that_speaks_no_tls_fails_as_a_callback_failure(
    receiver: Receiver,
) -> None:
    port = int(receiver.url.split(":")[2].split("/")[0])
    with pytest.raises(CallbackFailed):
        post(Target("https", "127.0.0.1", port, "/"), ["127.0.0.1"], b"{}", {}, 2.0)
    assert receiver.got == []


def test_a_worker_process_delivers_callbacks_too(tmp_path: object) -> None:
    """`scomm worker` runs the dispatcher without the app: it installs the sender itself,
    or callbacks would end as dead letters (RESPONSE_ERROR) on PostgreSQL."""
    from scomm.api.server import Worker
    from scomm.config import Settings
    from scomm.domain.clock import ScenarioClock
    from scomm.system import System

    system = System(Settings(database_url=f"sqlite:///{tmp_path}/w.db"), ScenarioClock(START))
    try:
        assert Actor.CALLBACK not in system.dispatcher.handlers
        Worker(system)
        assert isinstance(system.dispatcher.handlers[Actor.CALLBACK], CallbackSender)
    finally:
        system.close()
