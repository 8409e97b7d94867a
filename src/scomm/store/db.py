"""Database access: engine and sessions for a URL, and schema migration with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from scomm.store.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Milliseconds a restarting checkpoint waits for the log's readers (its caller keeps the
# writers waiting meanwhile)
RESTART_WAIT_MS = 50


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """One database, by SQLAlchemy URL; SQLite files are the embedded default."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def is_empty(self) -> bool:
        """Nothing here but scomm's (possibly empty) schema: no table of anyone else's and
        no row in scomm's, so a run may take the database (or replace its file)."""
        tables = set(inspect(self.engine).get_table_names()) - {"alembic_version"}
        if tables - set(Base.metadata.tables):
            return False  # someone else's tables: never scomm's to take
        with self.engine.connect() as connection:
            return all(
                connection.execute(select(func.count()).select_from(Base.metadata.tables[t]))
                .scalar_one() == 0
                for t in tables
            )  # fmt: skip

    def dispose(self) -> None:
        self.engine.dispose()

    def checkpoint_apart(self) -> None:
        """SQLite: commits no longer copy the write-ahead log into the database file (its
        automatic checkpoint, with the fsync, ran inside the commit that crossed 1000 log
        pages); `checkpoint_wal` does it instead, from a thread of the caller's that holds
        no lock (`scomm serve`'s checkpointer). Nothing on another database, nor on an
        in-memory one (no log; letting its connections go would lose it)."""
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (
            None, "", ":memory:",
        ):  # fmt: skip
            return
        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # the pooled connections, opened without it, are let go

    def checkpoint_wal(self, restart: bool = False) -> tuple[int, int]:
        """SQLite: copy what the write-ahead log holds into the database file as far as no
        reader needs it (PASSIVE: it waits for no reader nor writer); returns the pages the
        log holds and how many of them the file now has. `restart`: wait a little
        (`RESTART_WAIT_MS`) for the log's readers, so that all of it is copied and the next
        writer starts the log again from its beginning (one that is never wholly copied and
        restarted grows for as long as writes go on); the caller keeps writers out
        meanwhile. (0, 0) elsewhere."""
        if self.engine.dialect.name != "sqlite":
            return 0, 0
        with self.engine.connect() as connection:
            if not restart:
                row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            else:  # a reader still at it after RESTART_WAIT_MS: not this time
                waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                try:
                    row = connection.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").one()
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(waited or 0)}")
        _busy, frames, copied = row
        return max(int(frames), 0), max(int(copied), 0)  # -1, -1: not in WAL mode


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _no_autocheckpoint(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
