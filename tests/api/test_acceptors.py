"""`scomm serve --acceptors N` (on SQLite, and on PostgreSQL where CI has one): N processes
answer the jails and book the CARs sent at once (on SQLite each write under the lock the
processes share), the starting process delivers the flow, and the acceptors end with it,
however it ends."""

from __future__ import annotations

import gc
import os
import re
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import acceptor_factories
import httpx
import pytest
import uvicorn.config
from api_world import car, ridges
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from test_worker_kill import (
    NIST,
    WAIT,
    Processes,
    check_each_once,
    headers,
    kill,
    setup_jails,
    wait_completed,
)
from typer.testing import CliRunner

from scomm.api import acceptors
from scomm.api.app import build_app
from scomm.api.errors import AcceptorStartError
from scomm.api.server import REQUEST_SWITCH_INTERVAL_S, without_delays
from scomm.api.tokens import KEY_FILE, TokenKeys
from scomm.biometrics.profiles import BASELINE_ENGINE
from scomm.cli import app
from scomm.cli.serve import AcceptorsFailed, serve_in_acceptors
from scomm.config import Settings
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.records import Repository
from scomm.store.db import Database
from scomm.store.templates import store_templates
from scomm.store.write_lock import LOCK_SUFFIX, ProcessWriteLock
from scomm.system import System, baseline_context

STARTED = "Application startup complete."


def test_an_acceptor_gets_the_settings_of_the_process_that_starts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = without_delays(Settings(database_url="sqlite:////srv/scomm/scomm.db", seed=7))
    variables = acceptors.acceptor_environment(settings, "0123456789abcdef")
    assert variables[acceptors.PARENT_VARIABLE] == str(os.getpid())
    assert variables[acceptors.KID_VARIABLE] == "0123456789abcdef"
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert acceptors.settings_from_environment() == settings
    monkeypatch.delenv(acceptors.SETTINGS_VARIABLE)
    with pytest.raises(AcceptorStartError, match="--acceptors"):
        acceptors.settings_from_environment()
    # uvicorn starts a worker that fails again and again, unless it exits with status 3
    with pytest.raises(SystemExit) as stopped:
        acceptors.acceptor_app()
    assert stopped.value.code == acceptors.STARTUP_FAILURE == uvicorn.config.STARTUP_FAILURE
    assert acceptor_factories.STARTUP_FAILURE == acceptors.STARTUP_FAILURE


@pytest.fixture
def acceptor_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What `scomm serve --acceptors` gives its acceptors, for a SQLite file in tmp_path
    (no parent: the test's process gets no death signal)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}", seed=1)
    keys = TokenKeys.from_file(tmp_path / KEY_FILE, create=True)
    for name, value in acceptors.acceptor_environment(settings, keys.kid).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(acceptors.PARENT_VARIABLE)
    monkeypatch.delenv("SCOMM_API_KEY", raising=False)
    monkeypatch.setenv("SCOMM_ENGINE", BASELINE_ENGINE)
    return settings


def test_an_acceptor_writes_under_the_shared_lock_and_leaves_the_log_to_the_checkpointer(
    acceptor_variables: Settings, tmp_path: Path
) -> None:
    switch = sys.getswitchinterval()
    try:
        app = acceptors.build_acceptor_app()
        service = app.state.service
        assert isinstance(service.writer, ProcessWriteLock)
        assert service.writer.path == tmp_path / f"scomm.db{LOCK_SUFFIX}"  # the parent's too
        with service.system.db.engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == 0  # no commit of this process copies the log, under the lock
        assert sys.getswitchinterval() == REQUEST_SWITCH_INTERVAL_S and gc.get_freeze_count()
        service.system.close()
        service.writer.close()
    finally:
        sys.setswitchinterval(switch)
        gc.unfreeze()


def test_an_acceptor_refuses_a_key_the_others_do_not_sign_with(
    acceptor_variables: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(acceptors.KID_VARIABLE, "ffffffffffffffff")
    with pytest.raises(AcceptorStartError, match="rotated since"):
        acceptors.build_acceptor_app()


def test_serve_stops_when_an_acceptor_cannot_start(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}", seed=1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = signal.getsignal(signal.SIGINT)

    def too_long(signum: int, frame: Any) -> None:
        raise AssertionError("serve kept starting the broken acceptor again")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(int(WAIT))
    try:
        with pytest.raises(AcceptorsFailed, match="could not start"):
            serve_in_acceptors(
                settings, "kid", "127.0.0.1", port, 2, factory="acceptor_factories:broken_acceptor"
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert signal.getsignal(signal.SIGINT) is handler  # uvicorn's handler not left behind
    assert acceptors.SETTINGS_VARIABLE not in os.environ


def test_a_write_that_lost_a_race_to_another_process_answers_409() -> None:
    app = build_app()

    @app.get("/v1/race")
    def race() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key value"))

    answer = TestClient(app).get("/v1/race")
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["title"] == "conflict"


def test_an_acceptors_system_loads_no_gallery(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}", seed=1)
    context = baseline_context(settings, us_federal_holiday())
    first = System(settings, SystemClock(), context=context)
    prints = {f: first.ctx.extractor.extract(ridges(f), 500, f) for f in (1, 2)}
    with first.db.sessions() as session:
        store_templates(session, Repository.CRIMINAL, "FBI-1", prints, first.ctx.engine_name)
        session.commit()
    first.close()
    acceptor = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday()),
        load_galleries=False,
    )  # fmt: skip
    assert "FBI-1" not in acceptor.ctx.criminal_gallery and acceptor.snapshots is None
    acceptor.close()
    searcher = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday())
    )
    assert "FBI-1" in searcher.ctx.criminal_gallery  # the same rows, loaded by default
    searcher.close()


def test_acceptors_need_a_database_that_processes_share() -> None:
    refused = CliRunner().invoke(app, ["serve", "--acceptors", "2", "-d", "sqlite://"])
    assert refused.exit_code == 2 and "in-memory" in refused.output


def acceptor_pids(processes: Processes, serve_pid: int) -> list[int]:
    """The acceptors' process ids, once as many have started as serve said."""
    until = time.monotonic() + WAIT
    while True:
        log = processes.logs[serve_pid].read_text(errors="replace")
        if log.count(STARTED) >= 2:
            return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", log)]
        assert time.monotonic() < until, processes.tail()
        time.sleep(0.05)


def ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie has ended: its parent (gone) never reaped it


def test_cars_sent_at_once_to_two_acceptors_are_each_booked_once_and_they_end_with_serve(
    both_databases: str, tmp_path: Path
) -> None:
    url = both_databases
    cars = [car(number) for number in range(6)]
    secrets = setup_jails(url, cars)
    processes = Processes(url, tmp_path)
    pids: list[int] = []
    try:
        serve = processes.serve("--acceptors", "2")
        pids = acceptor_pids(processes, serve.pid)
        assert len(set(pids)) >= 2 and serve.pid not in pids
        with httpx.Client(base_url=processes.base, timeout=30) as client:
            processes.ready(serve, client)
            tokens = {ori: headers(client, secrets, ori) for _, _, ori in cars}
        answers: list[int] = []

        def send(share: list[tuple[bytes, str, str]]) -> None:
            # a connection of its own: the listening socket hands it to either acceptor
            with httpx.Client(base_url=processes.base, timeout=30) as own:
                for raw, _, ori in share:
                    posted = own.post("/v1/transactions", content=raw,
                                      headers={**tokens[ori], **NIST})  # fmt: skip
                    answers.append(posted.status_code)

        senders = [threading.Thread(target=send, args=(cars[k::3],)) for k in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        assert answers == [202] * len(cars), processes.tail()
        with httpx.Client(base_url=processes.base, timeout=30) as client:
            wait_completed(client, tokens, cars, processes)
        # SIGKILL: no handler runs in the starting process, and its acceptors end anyway
        assert kill(serve) == -signal.SIGKILL
        until = time.monotonic() + WAIT
        while not all(ended(pid) for pid in pids):
            assert time.monotonic() < until, f"acceptors {pids} outlived serve\n{processes.tail()}"
            time.sleep(0.05)
    finally:
        processes.stop_all()
        for pid in pids:
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)
    db = Database(url)
    with db.sessions() as session:
        check_each_once(session, cars)  # one booking, one SRE, one audit entry each
    db.dispose()
