from datetime import datetime

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


def test_switch_settings_written_before_0005_are_linked_to_the_entries_that_agree(
    database_url: str,
) -> None:
    """Rows of older code have no audit seq: the upgrade links each to its switch entry
    where the entry agrees with the row; a row with no entry, or one that disagrees, stays
    unlinked (and is not honoured)."""
    from alembic import command
    from sqlalchemy import select, text

    from scomm.audit.chain import append
    from scomm.store.db import alembic_config
    from scomm.store.models import SwitchSettingRow

    db = Database(database_url)
    with db.engine.begin() as connection:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    at = datetime(2011, 6, 1, 9)
    with db.engine.begin() as connection:
        for n, (enabled, reason) in enumerate([(True, "activation"), (False, "opt out")], 1):
            connection.execute(
                text(
                    "INSERT INTO switch_settings (id, ori, switch, enabled, effective_from,"
                    " effective_to, changed_by, reason, recorded_at) VALUES"
                    " (:id, 'CA0010000', 'B', :enabled, :at, NULL, 'federal', :reason, :at)"
                ),
                {"id": n, "enabled": enabled, "at": at, "reason": reason},
            )
        connection.execute(  # a third row, inserted with no entry at all
            text(
                "INSERT INTO switch_settings (id, ori, switch, enabled, effective_from,"
                " effective_to, changed_by, reason, recorded_at) VALUES"
                " (3, 'CA0010000', 'B', false, :at, NULL, 'jurisdiction', 'x', :at)"
            ),
            {"at": at},
        )
    with db.sessions() as session:
        for n, enabled in ((1, True), (2, True)):  # entry 2 says "on": row 2 was changed
            append(
                session,
                recorded_at=at,
                kind="switch",
                name="SWITCH_B",
                actor="federal",
                case_id="",
                payload={
                    "setting_id": n,
                    "ori": "CA0010000",
                    "enabled": enabled,
                    "effective_from": "2011-06-01T09:00:00+00:00",  # older code kept the zone
                    "effective_to": None,
                    "reason": "activation" if n == 1 else "opt out",
                },
            )
        session.commit()
    db.migrate()
    with db.sessions() as session:
        query = select(SwitchSettingRow.id, SwitchSettingRow.audit_seq)
        linked = {row.id: row.audit_seq for row in session.execute(query)}
    db.dispose()
    assert linked == {1: 1, 2: None, 3: None}
