"""`scomm serve`'s parts: the token key (made once beside a SQLite database, or named by
SCOMM_API_KEY), the dispatcher thread that answers a submitted CAR, and the command's wiring
(uvicorn itself replaced by a stand-in that calls the app)."""

from __future__ import annotations

import gc
import stat
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from api_world import START, car
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.errors import ApiKeyError
from scomm.api.server import (
    REQUEST_SWITCH_INTERVAL_S,
    DispatcherThread,
    token_keys,
    without_delays,
)
from scomm.api.tokens import KEY_FILE
from scomm.audit.chain import verify_database
from scomm.biometrics import wsq_codec
from scomm.biometrics.profiles import BASELINE_ENGINE
from scomm.cli import app
from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.services import agencies
from scomm.store.db import Database
from scomm.system import System, baseline_context

NIST = {"Content-Type": "application/x-ansi-nist"}


def test_the_token_key_is_made_once_beside_a_sqlite_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}")
    first, path = token_keys(settings)
    assert path == tmp_path / KEY_FILE and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, _ = token_keys(settings)
    assert again.kid == first.kid
    named, _ = token_keys(Settings(database_url="postgresql://db/scomm", api_key=path))
    assert named.kid == first.kid
    with pytest.raises(ApiKeyError):
        token_keys(Settings(database_url="postgresql://db/scomm"))
    with pytest.raises(ApiKeyError):
        token_keys(Settings(database_url="sqlite://", api_key=tmp_path / "missing.pem"))


def test_the_dispatcher_thread_answers_a_submitted_car(database_url: str) -> None:
    raw, tcn, ori = car(1)
    settings = without_delays(Settings(database_url=database_url, seed=1))
    system = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday())
    )
    made = agencies.add_agency(
        system.db, START, client_id="jail", kind=AgencyKind.JAIL, name="", scope_value=ori,
        serve=True,
    )  # fmt: skip
    service = Service(system, token_keys(settings)[0])
    dispatcher = DispatcherThread(system, service.writer, poll=0.02)
    dispatcher.start()
    try:
        with TestClient(create_app(service)) as client:
            token = client.post(
                "/v1/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "jail",
                      "client_secret": made.secret},
            ).json()["access_token"]  # fmt: skip
            headers = {"Authorization": f"Bearer {token}"}
            submitted = client.post("/v1/transactions", content=raw, headers={**headers, **NIST})
            assert submitted.status_code == 202, submitted.text
            status: dict[str, Any] = {}
            for _ in range(600):  # the thread delivers within a few polls; 30 s at most
                status = client.get(f"/v1/transactions/{tcn}", headers=headers).json()
                if status["status"] == "COMPLETED":
                    break
                time.sleep(0.05)
            assert status["status"] == "COMPLETED" and status["response"]["type"] == "SRE"
            # reads at once from several threads, each appending its audit entry, while the
            # dispatcher thread runs: the chain stays whole (the process's write lock)
            with ThreadPoolExecutor(4) as pool:
                codes = list(
                    pool.map(
                        lambda _: client.get(f"/v1/transactions/{tcn}", headers=headers),
                        range(16),
                    )
                )
            assert {answer.status_code for answer in codes} == {200}
    finally:
        dispatcher.stop()
        system.close()
    assert dispatcher.failure is None
    check = Database(database_url)
    assert verify_database(check).ok
    check.dispose()


def test_scomm_serve_runs_the_app_on_uvicorn(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def run(asgi: Any, host: str, port: int, **_: Any) -> None:
        seen.update(host=host, port=port)
        # while it serves: short GIL turns, the start's heap frozen, the WAL checkpointer
        # running and no commit checkpointing on its own (`tests/api/test_acceptance_path`)
        seen["switch"] = sys.getswitchinterval()
        seen["frozen"] = gc.get_freeze_count() > 0
        seen["threads"] = {t.name for t in threading.enumerate()}
        seen["fork_server"] = wsq_codec._FROM_FORKSERVER  # the decoder not forked from here
        db = asgi.state.service.system.db
        with db.engine.connect() as connection:
            seen["autocheckpoint"] = connection.exec_driver_sql(
                "PRAGMA wal_autocheckpoint"
            ).scalar()
        with TestClient(asgi) as client:
            seen["openapi"] = client.get("/openapi.json").status_code

    monkeypatch.setattr(uvicorn, "run", run)
    switch = sys.getswitchinterval()
    monkeypatch.setenv("SCOMM_ENGINE", BASELINE_ENGINE)
    monkeypatch.delenv("SCOMM_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "-d", database_url, "--port", "8123"])
    assert result.exit_code == 0, result.output
    threads = seen.pop("threads")
    assert {"scomm-dispatcher", "scomm-checkpoint"} <= threads
    assert seen == {
        "host": "127.0.0.1", "port": 8123, "openapi": 200, "switch": REQUEST_SWITCH_INTERVAL_S,
        "frozen": True, "autocheckpoint": 0, "fork_server": True,
    }  # fmt: skip
    assert sys.getswitchinterval() == switch and not gc.get_freeze_count()  # as they were
    assert not wsq_codec._FROM_FORKSERVER
    assert (tmp_path / KEY_FILE).is_file() and "kid" in result.output
