"""The database a command works on: its URL (default, masked for printing) and opening it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from scomm.audit.chain import Verification, consistent_snapshot, verify
from scomm.audit.checkpoints import Anchor
from scomm.cli.errors import CheckFailed, mask_passwords
from scomm.config import load_settings
from scomm.store.db import Database, alembic_config
from scomm.store.errors import DatabaseNotFound, SchemaNotCurrent

OLDER_SCHEMA = "database schema is older than this scomm: run `scomm db upgrade`"


def database_url(option: str | None) -> str:
    """The `--database` URL, else $SCOMM_DATABASE_URL, else the configured default."""
    return option or load_settings().database_url


def masked(url: str) -> str:
    """`url` as it may be printed: its password, if any, replaced by ***."""
    return mask_passwords(url)


def require_existing(url: str) -> None:
    """Refuse a SQLite URL whose file does not exist: opening it would create an empty one."""
    parsed = make_url(url)
    file = parsed.database
    if parsed.get_backend_name() != "sqlite" or not file or file == ":memory:":
        return
    if file.startswith("file:"):  # a SQLite URI (uri=true): its mode says what may be created
        return
    if not Path(file).is_file():
        raise DatabaseNotFound(
            f"no database at {file} (`scomm db upgrade -d {masked(url)}` creates one)"
        )


def require_schema(url: str, *, current: bool = False) -> None:
    """Refuse a database without scomm's tables: migrating it would make an empty scomm
    database of it (inside someone else's, perhaps), and reading it would report nothing.
    With `current` (a command that reads: it does not migrate), refuse one whose schema is
    not this scomm's newest too: an older one lacks columns the command reads.

    It looks on a plain connection, before `Database` sets its SQLite pragmas (which would
    switch someone else's file to write-ahead logging)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            found = (
                set(MigrationContext.configure(connection).get_current_heads())
                if current and "alembic_version" in tables
                else set()
            )
    finally:
        engine.dispose()
    if "alembic_version" not in tables:
        raise DatabaseNotFound(
            f"not a scomm database: {masked(url)} has no scomm tables "
            "(`scomm db upgrade` creates them)"
        )
    if current:
        require_current(found)


def require_current(found: set[str]) -> None:
    """Refuse a schema at revisions `found` unless they are the newest this scomm knows."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    heads = set(scripts.get_heads())
    if found == heads:
        return
    known = {script.revision for script in scripts.walk_revisions()}
    if found - known:
        revisions = ", ".join(sorted(found - known))
        raise SchemaNotCurrent(
            f"database schema (revision {revisions}) is newer than this scomm knows: "
            "use the scomm that upgraded it"
        )
    raise SchemaNotCurrent(OLDER_SCHEMA)


@contextmanager
def open_database(
    option: str | None, *, migrate: bool = False, must_exist: bool = True
) -> Iterator[Database]:
    """The database `--database` names, disposed of afterwards; by default it must exist.
    With `migrate` (the commands that write), a configured signing key signs an "open"
    checkpoint of the audit chain's head first and a "closed" one afterwards. Without it
    (the commands that read) nothing is migrated or signed, and a schema older than this
    scomm's is refused in one line (`scomm db upgrade` brings it up)."""
    url = database_url(option)
    if must_exist:
        require_existing(url)
        require_schema(url, current=not migrate)
    db = Database(url)
    anchor: Anchor | None = None
    try:
        if migrate:  # a command that writes: with a signing key, it signs the head around it
            db.migrate()
            anchor = Anchor.from_settings(load_settings(), db)
            if anchor is not None:
                anchor.begin()
        yield db
    finally:
        try:
            if anchor is not None:
                anchor.close()
        finally:
            db.dispose()


@contextmanager
def verified_snapshot(option: str | None) -> Iterator[tuple[Session, Verification]]:
    """A consistent snapshot of the database `--database` names, once the audit chain
    verifies in it (what is published is counted from the same snapshot); a broken chain is
    refused (CheckFailed) before anything is read."""
    with open_database(option) as db, consistent_snapshot(db) as session:
        result = verify(session)
        if not result.ok:
            raise CheckFailed(
                f"refusing to publish: audit chain broken at entry {result.first_bad_seq}: "
                f"{result.problem}"
            )
        yield session, result
