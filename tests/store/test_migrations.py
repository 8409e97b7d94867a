from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from scomm.store.db import Database
from scomm.store.models import Base


def test_migration_builds_exactly_the_models(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"outbox", "audit_log", "cases", "subjects", "finger_templates"} <= tables
    db.migrate()  # a second upgrade is a no-op
    assert db.is_empty()
