"""The bus tests run on the embedded SQLite default and, where CI provides one, PostgreSQL."""

from __future__ import annotations

import os

import pytest

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture
def database_url(both_databases: str) -> str:
    return both_databases
