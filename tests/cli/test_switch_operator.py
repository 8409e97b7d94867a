"""`scomm switches set` is an operator's action, recorded as such: its audit entry names the
agency "cli:operator" and the OS user who ran it, where a change over HTTP names the
client id of the agency whose token made it (tests/api/test_switch_endpoints.py)."""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.domain.clock import SystemClock
from scomm.domain.switches import Switch
from scomm.services import switches
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow

runner = CliRunner()
ORI = "CA0010000"  # the county of the county_db fixture (conftest)


def test_a_switch_set_on_the_command_line_is_recorded_as_an_operators_change(
    county_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    done = runner.invoke(
        app,
        ["switches", "set", "--database", county_db, "--ori", ORI, "--switch", "D", "--off",
         "--effective", "2011-01-01", "--by", "jurisdiction", "--reason", "county ordinance"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    db = Database(county_db)
    with db.sessions() as session:
        entry = session.scalars(select(AuditEntryRow).where(AuditEntryRow.kind == "switch")).one()
    with UnitOfWork(db, SystemClock()) as uow:
        change = switches.changes_in_force(uow, ORI, datetime(2011, 6, 1))[
            Switch.D_HONOUR_DETAINERS
        ]
    db.dispose()
    payload = json.loads(entry.payload)
    assert payload["agency"] == "cli:operator" and payload["os_user"] == "alice"
    assert entry.actor == "jurisdiction"  # the owner the operator acted for
    assert change is not None and change.agency == "cli:operator"


def test_without_a_user_name_the_entry_says_unknown(
    county_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_user() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    done = runner.invoke(
        app,
        ["switches", "set", "--database", county_db, "--ori", ORI, "--switch", "B", "--on",
         "--effective", "2011-01-01", "--by", "federal", "--reason", "activation"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    db = Database(county_db)
    with db.sessions() as session:
        payload = session.scalars(
            select(AuditEntryRow.payload).where(AuditEntryRow.kind == "switch")
        ).one()
    db.dispose()
    assert json.loads(payload)["os_user"] == "unknown"
