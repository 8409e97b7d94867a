"""`scomm serve --acceptors N` (on SQLite, and on PostgreSQL where CI has one): N processes
answer the jails and book the CARs sent at once (on SQLite each write under the lock the
processes share), the starting process delivers the flow, and the acceptors end with it,
however it ends."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_world import car, ridges
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
from scomm.api.errors import AcceptorStartError
from scomm.api.server import without_delays
from scomm.cli import app
from scomm.config import Settings
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.records import Repository
from scomm.store.db import Database
from scomm.store.templates import store_templates
from scomm.system import System, baseline_context

STARTED = "Application startup complete."


def test_an_acceptor_gets_the_settings_of_the_process_that_starts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = without_delays(Settings(database_url="sqlite:////srv/scomm/scomm.db", seed=7))
    variables = acceptors.acceptor_environment(settings)
    assert variables[acceptors.PARENT_VARIABLE] == str(os.getpid())
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert acceptors.settings_from_environment() == settings
    monkeypatch.delenv(acceptors.SETTINGS_VARIABLE)
    with pytest.raises(AcceptorStartError, match="--acceptors"):
        acceptors.settings_from_environment()


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
        assert len(pids) == 2 and serve.pid not in pids
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
