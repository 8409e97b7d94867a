"""The bus tests run on the embedded SQLite default and, where CI provides one, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from scomm.store.db import Database

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scomm.db'}"
        return
    if not POSTGRES:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    db = Database(POSTGRES)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()
    yield POSTGRES
