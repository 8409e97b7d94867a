"""The PostgreSQL path: same schema, same run, same statistics as the embedded SQLite default.

Runs where SCOMM_TEST_POSTGRES_URL names an empty database (CI starts one with
.ci/with_postgres.sh); elsewhere it skips and says why.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from scomm.audit.chain import verify
from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.config import Settings
from scomm.reports.summary import summarise
from scomm.sim.driver import RunSpec, run
from scomm.store.db import Database
from scomm.store.models import Base

URL = os.environ.get("SCOMM_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)"
)


@pytest.fixture
def postgres() -> Database:
    assert URL is not None
    db = Database(URL)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    yield db
    db.dispose()


def test_migration_on_postgres_builds_the_models(postgres: Database) -> None:
    postgres.migrate()
    with postgres.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_run_on_postgres_matches_sqlite(postgres: Database, tmp_path: Path) -> None:
    assert URL is not None
    spec = RunSpec.demo(seed=4, bookings=15, population=40)
    # one template cache for both runs: the SQLite run reads the enrolment templates the
    # PostgreSQL run extracted (the same ones it would extract), not the images again
    cache = tmp_path / "cache"
    run(spec, Settings(database_url=URL, engine=DEMO_ENGINE, cache_dir=cache))
    lite_url = f"sqlite:///{tmp_path / 'x.db'}"
    run(spec, Settings(database_url=lite_url, engine=DEMO_ENGINE, cache_dir=cache))
    assert any((cache / "enrolment-templates").rglob("*.npz"))
    lite = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with postgres.sessions() as pg_session, lite.sessions() as lite_session:
        on_pg, on_lite = summarise(pg_session).as_dict(), summarise(lite_session).as_dict()
        assert verify(pg_session).ok
        recorded = pg_session.execute(text("SELECT min(recorded_at) FROM audit_log")).scalar()
        # the galleries of a SQLite file are snapshotted beside it, each snapshot audited
        snapshots = lite_session.execute(
            text("SELECT count(*) FROM audit_log WHERE kind = 'gallery'")
        ).scalar_one()
    lite.dispose()
    assert isinstance(recorded, datetime)
    assert snapshots > 0 and on_lite.pop("audit_entries") == on_pg.pop("audit_entries") + snapshots
    assert on_pg == on_lite
    assert on_pg["messages"]["CAR"] == 15
