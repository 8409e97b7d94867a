"""Secrets and personal data stay out of the logs (CJIS Security Policy; the issue's item 5):
the service on real uvicorn, with the log configuration `scomm serve` uses (uvicorn's
default, access log on) and the debug level, answers a token request and a CAR through to its
SRE; nothing that uvicorn, the app or the flow logs, nor what reaches stdout or stderr,
holds the client secret, the token, or the subject's name or date of birth from the CAR."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from api_world import START, car

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.server import DispatcherThread, token_keys, without_delays
from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.nist.car import decode_tenprint
from scomm.services import agencies
from scomm.system import System, baseline_context

# Kept from every logger (the root's handler sees what propagates); uvicorn's and scomm's
# own at debug level. The root and SQLAlchemy stay at the level `scomm serve` leaves them
# (warnings): SQLAlchemy's engine log at INFO is its `echo`, statements with their
# parameters, which docs/CJIS.md says never to turn on in service.
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "scomm", "sqlalchemy")
DEBUG = ("uvicorn", "uvicorn.error", "uvicorn.access", "scomm")


class Kept(logging.Handler):
    """Every record, formatted with its arguments, as the log would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")


@pytest.fixture
def kept() -> Iterator[Kept]:
    handler = Kept()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if logger.name in DEBUG:
            logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_no_secret_token_name_or_birth_date_in_any_log(
    database_url: str, kept: Kept, capfd: pytest.CaptureFixture[str]
) -> None:
    raw, tcn, ori = car(2)
    subject = decode_tenprint(raw)
    settings = without_delays(Settings(database_url=database_url, seed=1))
    system = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday())
    )
    made = agencies.add_agency(
        system.db, START, client_id="jail-logs", kind=AgencyKind.JAIL, name="", scope_value=ori,
        serve=True,
    )  # fmt: skip
    service = Service(system, token_keys(settings)[0])
    dispatcher = DispatcherThread(system, service.writer, poll=0.02)
    # as `scomm serve` runs it (uvicorn's own log configuration, access log on), at debug level
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=0, log_level="debug")
    for name in DEBUG:  # uvicorn's configuration set its loggers' levels: back to debug
        logging.getLogger(name).setLevel(logging.DEBUG)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    dispatcher.start()
    thread.start()
    try:
        for _ in range(400):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            answer = client.post(
                "/v1/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "jail-logs",
                      "client_secret": made.secret},
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
            token = answer.json()["access_token"]
            wrong = client.post(
                "/v1/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "jail-logs",
                      "client_secret": made.secret[::-1]},
            )  # fmt: skip
            assert wrong.status_code == 401
            headers = {"Authorization": f"Bearer {token}"}
            submitted = client.post(
                "/v1/transactions", content=raw,
                headers={**headers, "Content-Type": "application/x-ansi-nist"},
            )  # fmt: skip
            assert submitted.status_code == 202, submitted.text
            status = {}
            for _ in range(600):  # the dispatcher thread answers within a few polls
                status = client.get(f"/v1/transactions/{tcn}", headers=headers).json()
                if status["status"] == "COMPLETED":
                    break
                time.sleep(0.05)
            assert status["status"] == "COMPLETED"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        dispatcher.stop()
        system.close()
    out, err = capfd.readouterr()
    logged = "\n".join([*kept.lines, out, err])
    assert "POST /v1/oauth/token" in logged and "POST /v1/transactions" in logged  # access log
    surname = subject.name.split(",")[0]
    forbidden = {
        "client secret": made.secret,
        "the wrong secret": made.secret[::-1],
        "token": token,
        "token signature": token.rsplit(".", 1)[-1],
        "name": subject.name,
        "surname": surname,
        "birth date": subject.dob.isoformat(),
        "birth date (EBTS)": subject.dob.strftime("%Y%m%d"),
    }
    assert len(surname) >= 3
    leaked = [what for what, value in forbidden.items() if value in logged]
    assert leaked == [], f"in the logs: {leaked}"
