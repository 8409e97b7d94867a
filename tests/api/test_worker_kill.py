"""The worker-kill test (issue 15, item 6): `scomm serve` on loopback takes CARs over HTTP
while the processes that deliver the flow are killed with SIGKILL at random points (seeded:
SCOMM_KILL_SEED) and started again. On PostgreSQL those are two `scomm worker` processes
beside `scomm serve --no-worker`; on SQLite it is the serve process itself (its one-process
mode). At the end every CAR has exactly one SRE at its jail, every message due was handled
once by its consumer, and the audit chain holds each once and verifies.

Also here: what `scomm worker` and `scomm serve --no-worker` refuse, and the worker's stop."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from api_world import car, ridges
from sqlalchemy import func, select
from typer.testing import CliRunner

from scomm.api.server import GalleryFollower, Worker
from scomm.api.tokens import TokenKeys
from scomm.audit.chain import verify
from scomm.biometrics.profiles import BASELINE_ENGINE
from scomm.bus.dispatcher import DEAD, DEAD_LETTER, DELIVERED, DELIVERY_RETRY, PENDING
from scomm.bus.unit_of_work import AbstractUnitOfWork, UnitOfWork
from scomm.cli import app
from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.messages import Actor, Message, Release
from scomm.domain.records import Repository
from scomm.services import agencies
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, BookingRow, OutboxRow, ProcessedMessageRow
from scomm.store.templates import store_templates
from scomm.system import System, baseline_context

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")
SEED = int(os.environ.get("SCOMM_KILL_SEED", "20261207"))
CARS = 6  # each: CAR jail->bureau->CJIS, SRE back: four deliveries (and a release, days on)
NIST = {"Content-Type": "application/x-ansi-nist"}
WAIT = 90.0  # seconds at most for any one thing to happen (a loaded machine's start, say)


@pytest.fixture
def database_url(both_databases: str) -> str:
    return both_databases


class Processes:
    """The service's processes, started with the test's engine and logged to one file."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.logs: dict[int, Path] = {}  # by process id
        self.env = {**os.environ, "SCOMM_ENGINE": BASELINE_ENGINE}
        if not url.startswith("sqlite"):  # beside a SQLite database it is made on its own
            key = folder / "api-key.pem"
            TokenKeys.from_file(key, create=True)
            self.env["SCOMM_API_KEY"] = str(key)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start `scomm ARGS`, its output in a log file of its own."""
        log = self.folder / f"{len(self.started):02d}-{args[0]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "scomm", *args, "--no-delays", "-d", self.url],
                stdout=out, stderr=subprocess.STDOUT, env=self.env,
            )  # fmt: skip
        self.started.append(process)
        self.logs[process.pid] = log
        return process

    def serve(self, *options: str) -> subprocess.Popen[bytes]:
        return self.start("serve", "--port", str(self.port), *options)

    def ready(self, process: subprocess.Popen[bytes], client: httpx.Client) -> None:
        """Wait until the serve `process` answers."""
        until = time.monotonic() + WAIT
        while time.monotonic() < until:
            assert process.poll() is None, self.tail()
            try:
                if client.get("/openapi.json").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"serve did not answer in {WAIT} s\n{self.tail()}")

    def delivering(self, worker: subprocess.Popen[bytes]) -> None:
        """Wait until `worker` has started (it says so once it delivers)."""
        until = time.monotonic() + WAIT
        while "scomm worker delivering" not in self.logs[worker.pid].read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < until, self.tail()
            time.sleep(0.05)

    def tail(self) -> str:
        """The end of each process's log."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}"
            for log in self.logs.values()
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def kill(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=30)


def setup_jails(url: str, cars: list[tuple[bytes, str, str]]) -> dict[str, str]:
    """The database migrated and each CAR's jail an agency (its jurisdiction served):
    client id -> secret."""
    db = Database(url)
    db.migrate()
    made = {
        f"jail-{ori.lower()}": agencies.add_agency(
            db, SystemClock().now(), client_id=f"jail-{ori.lower()}", kind=AgencyKind.JAIL,
            name=ori, scope_value=ori, serve=True,
        ).secret
        for ori in sorted({ori for _, _, ori in cars})
    }  # fmt: skip
    db.dispose()
    return made


def headers(client: httpx.Client, secrets: dict[str, str], ori: str) -> dict[str, str]:
    client_id = f"jail-{ori.lower()}"
    answer = client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id,
              "client_secret": secrets[client_id]},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def submit(client: httpx.Client, tokens: dict[str, dict[str, str]], cars: list) -> None:
    for raw, tcn, ori in cars:
        answer = client.post("/v1/transactions", content=raw, headers={**tokens[ori], **NIST})
        assert answer.status_code == 202, answer.text
        assert answer.json()["tcn"] == tcn


def delivered(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(ProcessedMessageRow)) or 0


def wait_for(db: Database, count: int, processes: Processes) -> None:
    """Until `count` messages were handled (the kill point)."""
    until = time.monotonic() + WAIT
    while delivered(db) < count:
        assert time.monotonic() < until, f"{delivered(db)} of {count} delivered\n{processes.tail()}"
        time.sleep(0.005)


def wait_completed(
    client: httpx.Client, tokens: dict[str, dict[str, str]], cars: list, processes: Processes
) -> None:
    """Until every CAR's task is COMPLETED with its SRE, as its jail reads it over HTTP."""
    until = time.monotonic() + WAIT
    for _, tcn, ori in cars:
        while True:
            status = client.get(f"/v1/transactions/{tcn}", headers=tokens[ori]).json()
            if status["status"] == "COMPLETED":
                assert status["response"]["type"] == "SRE", status
                break
            assert time.monotonic() < until, f"{tcn}: {status}\n{processes.tail()}"
            time.sleep(0.05)


def test_killed_workers_lose_nothing_and_double_nothing(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cars = [car(number) for number in range(CARS)]
    secrets = setup_jails(database_url, cars)
    processes = Processes(database_url, tmp_path)
    db = Database(database_url)
    total = 4 * CARS  # the deliveries due: CAR to the bureau and to CJIS, SRE back twice
    sqlite = database_url.startswith("sqlite")
    try:
        if sqlite:  # one process serves and delivers: it is the one killed
            serve = processes.serve()
            workers = []
        else:
            serve = processes.serve("--no-worker")
            workers = [processes.start("worker", "--poll", "0.05") for _ in range(2)]
        with httpx.Client(base_url=processes.base, timeout=30) as client:
            processes.ready(serve, client)
            tokens = {ori: headers(client, secrets, ori) for _, _, ori in cars}
            half = CARS // 2
            submit(client, tokens, cars[:half])
            # the kill points: numbers of messages handled, at random over the run
            first = sorted(rng.sample(range(1, 4 * half), 1 if sqlite else 2))
            later = sorted(rng.sample(range(4 * half, total), 1))
            first_victim = rng.randrange(2)
            for number, point in enumerate(first + later):
                if number == len(first):
                    submit(client, tokens, cars[half:])
                wait_for(db, point, processes)
                time.sleep(rng.uniform(0, 0.02))
                if sqlite:
                    assert kill(serve) == -signal.SIGKILL, processes.tail()
                    serve = processes.serve()
                    processes.ready(serve, client)
                else:  # each in turn, the other one delivering meanwhile
                    victim = (first_victim + number) % 2
                    processes.delivering(workers[1 - victim])
                    assert kill(workers[victim]) == -signal.SIGKILL, processes.tail()
                    workers[victim] = processes.start("worker", "--poll", "0.05")
            wait_completed(client, tokens, cars, processes)
        # a worker told to stop (SIGTERM) ends its delivery and exits 0, as serve does
        for worker in workers:
            processes.delivering(worker)
        for process in [*workers, serve]:
            process.send_signal(signal.SIGTERM)
        for process in [*workers, serve]:
            assert process.wait(timeout=WAIT) == 0, processes.tail()
    finally:
        processes.stop_all()
    with db.sessions() as session:
        check_each_once(session, cars)
    db.dispose()


def check_each_once(session, cars: list[tuple[bytes, str, str]]) -> None:  # type: ignore[no-untyped-def]
    assert verify(session).ok
    rows = session.execute(
        select(
            OutboxRow.message_id, OutboxRow.type, OutboxRow.sender, OutboxRow.recipient,
            OutboxRow.case_id, OutboxRow.tcn, OutboxRow.status, OutboxRow.attempts,
            OutboxRow.available_at,
        )
    ).all()  # fmt: skip
    now = SystemClock().now()
    # nothing lost: every message due was delivered; what waits (the jail's release, days
    # ahead) was never tried; none gave up
    statuses = Counter(row.status for row in rows)
    assert statuses[DEAD] == 0, statuses
    waiting = [row for row in rows if row.status == PENDING]
    assert all(row.available_at > now and row.attempts == 0 for row in waiting), waiting
    assert {row.type for row in waiting} <= {"RELEASE_DUE"}
    # every CAR has exactly one SRE at its jail
    at_jail = Counter(
        row.tcn for row in rows if (row.type, row.recipient) == ("SRE", Actor.LEA.value)
    )
    assert at_jail == Counter(tcn for _, tcn, _ in cars)
    assert session.scalar(select(func.count()).select_from(BookingRow)) == len(cars)
    # nothing doubled: each delivered message handled once by its consumer, each hop sent
    # once, each message and each step of a case audited once
    handled = set(
        session.execute(select(ProcessedMessageRow.consumer, ProcessedMessageRow.message_id))
    )
    assert handled == {(row.recipient, row.message_id) for row in rows if row.status == DELIVERED}
    hops = Counter((row.case_id, row.type, row.sender, row.recipient) for row in rows)
    assert [hop for hop, n in hops.items() if n > 1] == []
    entries = session.execute(
        select(AuditEntryRow.kind, AuditEntryRow.name, AuditEntryRow.case_id, AuditEntryRow.payload)
    ).all()
    audited = Counter(json.loads(p)["message_id"] for kind, _, _, p in entries if kind == "message")
    assert audited == Counter(row.message_id for row in rows)  # each once
    steps = Counter(
        (kind, name, case_id)
        for kind, name, case_id, _ in entries
        if kind in ("booking", "case_state", "custody", "outcome")
    )
    assert [step for step, n in steps.items() if n > 1] == []
    failed = [p for _, name, _, p in entries if name in (DEAD_LETTER, DELIVERY_RETRY)]
    assert failed == []  # no delivery failed (none raced another)


# --- what the commands refuse, and the worker's stop ------------------------------------------


def test_on_sqlite_one_process_delivers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scomm.db'}"
    worker = CliRunner().invoke(app, ["worker", "-d", url])
    assert worker.exit_code == 2 and "scomm serve" in worker.output
    serve = CliRunner().invoke(app, ["serve", "--no-worker", "-d", url])
    assert serve.exit_code == 2 and "PostgreSQL" in serve.output
    assert not (tmp_path / "scomm.db").exists()  # refused before anything was made


def test_a_stopped_worker_returns_after_its_delivery(database_url: str) -> None:
    settings = Settings(database_url=database_url, seed=1)
    system = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday())
    )
    with UnitOfWork(system.db, system.clock, cause="seed") as uow:
        for i in range(3):
            uow.emit(
                Release(
                    message_id=f"m{i}", case_id=f"c{i}", tcn=f"t{i}", sender=Actor.LEA,
                    recipient=Actor.ERO, reason="test",
                )
            )  # fmt: skip
        uow.commit()
    work = Worker(system, poll=0.01)
    handled: list[str] = []

    class Office:
        def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
            handled.append(message.message_id)
            work.stop()  # SIGTERM arrives while the first message is handled

    system.dispatcher.handlers = {Actor.ERO: Office()}
    assert work.run() == 1 and handled == ["m0"]
    with system.db.sessions() as session:
        statuses = Counter(session.scalars(select(OutboxRow.status)))
    system.close()
    assert statuses == {DELIVERED: 1, PENDING: 2}


def test_a_worker_follows_the_subjects_another_enrolled(database_url: str) -> None:
    """Worker B's criminal gallery (in its memory) learns a subject that worker A enrolled
    after B started, before B handles its next message; then it looks no more till the
    repository changes again."""
    settings = Settings(database_url=database_url, seed=1)
    one, other = (
        System(settings, SystemClock(), context=baseline_context(settings, us_federal_holiday()))
        for _ in range(2)
    )
    follower = GalleryFollower(other)
    assert follower.sync() == 0
    prints = {f: one.ctx.extractor.extract(ridges(f), 500, f) for f in (1, 2)}
    with one.db.sessions() as session:  # what CJIS's enrolment writes, by worker `one`
        store_templates(session, Repository.CRIMINAL, "FBI-1", prints, one.ctx.engine_name)
        session.commit()
    gallery = other.ctx.criminal_gallery
    assert "FBI-1" not in gallery
    assert follower.sync() == 1 and "FBI-1" in gallery
    assert gallery.search(prints).best.identity_id == "FBI-1"  # type: ignore[union-attr]
    assert follower.sync() == 0
    # through a worker: its dispatcher follows after each claim, before the handler runs
    work = Worker(other, poll=0.01)
    with one.unit_of_work(cause="test") as uow:
        store_templates(uow.session, Repository.CRIMINAL, "FBI-2", prints, one.ctx.engine_name)
        uow.emit(
            Release(
                message_id="m0", case_id="c0", tcn="t0", sender=Actor.LEA,
                recipient=Actor.ERO, reason="test",
            )
        )  # fmt: skip
        uow.commit()
    known: list[bool] = []

    class Office:
        def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
            known.append("FBI-2" in gallery)
            work.stop()

    other.dispatcher.handlers = {Actor.ERO: Office()}
    assert work.run() == 1 and known == [True]
    one.close()
    other.close()
