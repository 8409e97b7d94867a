"""What the command tests share: a console wide enough for whole table rows, whatever
stdout is, and a database holding one county."""

from __future__ import annotations

import pytest

from scomm.cli.console import console
from scomm.store.db import Database
from scomm.store.models import JurisdictionRow

COUNTY_ORI = "CA0010000"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under pytest-xdist a worker's stdout is no terminal and Rich falls back to 80 columns,
    # which cuts table cells the tests look for.
    monkeypatch.setattr(console, "width", 300)


@pytest.fixture
def county_db(database_url: str) -> str:
    """A migrated database with one jurisdiction, Alder County (`COUNTY_ORI`)."""
    db = Database(database_url)
    db.migrate()
    with db.sessions() as session:
        session.add(
            JurisdictionRow(
                ori=COUNTY_ORI,
                name="Alder County",
                state="CA",
                sib_ori="CA0000000",
                detainer_policy="honor_all",
                activation_at=None,
            )
        )
        session.commit()
    db.dispose()
    return database_url
