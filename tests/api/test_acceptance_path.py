"""What keeps a CAR's acceptance short under load (issue 15 item 6): it commits once under
the write lock (the TCN check, the booking and its audit entry together), and on SQLite no
commit copies the write-ahead log into the database file: `WalCheckpointer` does, from a
thread of its own that holds no lock, but for the rest of a long log, which it copies
holding the write lock so that the log starts again instead of growing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import pytest
from api_world import CountingLock, Served, car
from sqlalchemy import event, func, select

from scomm.api.server import WalCheckpointer
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, BookingRow

NIST = {"Content-Type": "application/x-ansi-nist"}
PAGE = 4096


def _commits(served: Served) -> list[int]:
    made: list[int] = []
    event.listen(served.system.db.engine, "commit", lambda _: made.append(1))
    return made


def _audit_entries(served: Served) -> int:
    with served.system.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntryRow)) or 0)


def test_a_car_is_accepted_in_one_commit_with_its_audit_entry(served: Served) -> None:
    raw, tcn, _ = car()
    headers = {**served.headers("jail-a"), **NIST}
    commits = _commits(served)
    accepted = served.client.post("/v1/transactions", content=raw, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert len(commits) == 1  # was three sessions and two commits under the write lock
    with served.system.db.sessions() as session:
        assert session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == tcn)) == tcn
        submitted = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "SUBMITTED")
        ).one()
        booked = session.scalars(select(AuditEntryRow).where(AuditEntryRow.name == "BOOKED")).one()
    assert tcn in submitted.payload and '"client_id":"jail-a"' in submitted.payload
    assert submitted.recorded_at == booked.recorded_at  # the same transaction's moment


def test_the_cars_outbox_text_is_made_before_the_write_lock(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CAR's outbox text, audit body and digest are rendered before the request takes
    the write lock; under it the booking renders only its small release timer."""
    from scomm.bus import unit_of_work
    from scomm.services import lea

    rendered: list[tuple[str, bool]] = []  # (message type, write lock held)
    lock = CountingLock()
    served.service.writer = lock  # type: ignore[assignment]

    def noted(module: Any) -> Any:
        real = module.render

        def render(message: Any) -> Any:
            rendered.append((message.type, lock.locked()))
            return real(message)

        return render

    monkeypatch.setattr(unit_of_work, "render", noted(unit_of_work))
    monkeypatch.setattr(lea, "render", noted(lea))
    raw, tcn, _ = car()
    headers = {**served.headers("jail-a"), **NIST}
    accepted = served.client.post("/v1/transactions", content=raw, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert rendered == [("CAR", False), ("RELEASE_DUE", True)]
    with served.system.db.sessions() as session:
        entry = session.scalars(
            select(AuditEntryRow).where(
                AuditEntryRow.kind == "message", AuditEntryRow.name == "CAR"
            )
        ).one()
    assert tcn in entry.payload and "payload_sha256" in entry.payload


def test_a_used_tcn_is_refused_and_writes_nothing(served: Served) -> None:
    raw, tcn, _ = car()
    headers = {**served.headers("jail-a"), **NIST}
    assert served.client.post("/v1/transactions", content=raw, headers=headers).status_code == 202
    before = _audit_entries(served)
    commits = _commits(served)
    again = served.client.post("/v1/transactions", content=raw, headers=headers)
    assert again.status_code == 409 and again.json()["tcn"] == tcn
    assert not commits and _audit_entries(served) == before


def _write_pages(db: Database, pages: int) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS blobs (b BLOB)")
    for _ in range(pages // 100):  # a commit per 100 pages, as a stream of CARs makes them
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO blobs VALUES (?)", [(bytes(PAGE - 100),) for _ in range(100)]
            )


def _blobs(db: Database) -> int:
    with db.engine.connect() as connection:
        found: Any = connection.exec_driver_sql("SELECT count(*) FROM blobs").scalar()
    return int(found)


def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    file, log = tmp_path / "wal.db", tmp_path / "wal.db-wal"
    by_commits = Database(url)
    try:  # SQLite's own way: the commit that crosses 1000 pages copies the log
        _write_pages(by_commits, 3000)
        assert log.stat().st_size < 1500 * PAGE and file.stat().st_size > 2900 * PAGE
    finally:
        by_commits.dispose()

    url = f"sqlite:///{tmp_path / 'apart.db'}"
    file, log = tmp_path / "apart.db", tmp_path / "apart.db-wal"
    db = Database(url)
    checkpointer = WalCheckpointer(db, every=3600.0)  # its turns: only as this test calls
    try:
        checkpointer.start()
        _write_pages(db, 3000)
        assert log.stat().st_size > 2900 * PAGE  # no commit copied it
        assert file.stat().st_size < 100 * PAGE
        checkpointer.checkpoint()
        assert file.stat().st_size > 2900 * PAGE and checkpointer.failure is None
        assert _blobs(db) == 3000
    finally:
        checkpointer.stop()
        db.dispose()


def test_a_log_written_to_while_it_is_copied_is_still_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a steady stream of CARs the writers append while the checkpointer copies: the
    log was never wholly copied, so never started again, and grew by every CAR. Past
    `restart_at` a turn copies the rest holding the write lock, and the log starts again."""
    db = Database(f"sqlite:///{tmp_path / 'stream.db'}")
    writer = CountingLock()
    checkpointer = WalCheckpointer(
        db, every=3600.0, writer=cast(threading.Lock, writer), restart_at=500
    )
    copy = db.checkpoint_wal

    def copied_while_written(restart: bool = False) -> tuple[int, int]:
        if restart:
            return copy(restart)
        with db.engine.connect() as reader:  # a request reading as the CARs come in
            reader.exec_driver_sql("BEGIN")
            reader.exec_driver_sql("SELECT count(*) FROM blobs").scalar()
            _write_pages(db, 100)  # CARs written meanwhile, past what the reader sees
            return copy(restart)  # as far as the reader allows: not the whole log

    monkeypatch.setattr(db, "checkpoint_wal", copied_while_written)
    try:
        checkpointer.start()
        _write_pages(db, 300)
        checkpointer.checkpoint()
        assert writer.taken == 0  # a short log: copied beside the writers only
        _write_pages(db, 400)
        checkpointer.checkpoint()
        assert writer.taken == 1 and checkpointer.failure is None
        log = tmp_path / "stream.db-wal"
        length = log.stat().st_size
        assert length > 900 * PAGE
        _write_pages(db, 300)
        pages, copied = copy()
        assert 300 <= pages < 400 and copied == pages  # the log started again: 300 pages
        assert log.stat().st_size == length  # written again from its beginning, not lengthened
        assert _blobs(db) == 1200
    finally:
        checkpointer.stop()
        db.dispose()


def test_the_checkpointer_is_nothing_on_postgresql() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    db.checkpoint_apart()
    assert db.checkpoint_wal() == db.checkpoint_wal(restart=True) == (0, 0)
    db.dispose()


def test_an_in_memory_database_keeps_its_connections() -> None:
    db = Database("sqlite://")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE kept (n INTEGER)")
    db.checkpoint_apart()  # nothing to copy; the pool is not let go (it would lose the table)
    db.checkpoint_wal()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM kept").scalar() == 0
    db.dispose()
