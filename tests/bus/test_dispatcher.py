"""The dispatcher with stand-in handlers: at-least-once delivery, idempotency, retries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from scomm.bus.dispatcher import DEAD, DELIVERED, Dispatcher, SimulatedCrash
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor, Message, Release
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow


class Counting:
    """Handles RELEASE by writing an audit entry; can be told to fail the first n times."""

    def __init__(self, failures: int = 0) -> None:
        self.calls = 0
        self.failures = failures

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("downstream unavailable")
        uow.record("outcome", "handled", "ero", message.case_id, {"id": message.message_id})


@pytest.fixture
def setup(database_url: str) -> tuple[Database, ScenarioClock]:
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    with UnitOfWork(db, clock, cause="seed") as uow:
        for i in range(3):
            uow.emit(
                Release(
                    message_id=f"m{i}",
                    case_id=f"c{i}",
                    tcn=f"t{i}",
                    sender=Actor.LEA,
                    recipient=Actor.ERO,
                    reason="test",
                ),
                delay=timedelta(minutes=i),
            )
        uow.commit()
    return db, clock


def handled(db: Database) -> int:
    with db.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEntryRow)
                .where(AuditEntryRow.name == "handled")
            )
            or 0
        )


def test_messages_wait_for_their_time(setup: tuple[Database, ScenarioClock]) -> None:
    db, clock = setup
    handler = Counting()
    dispatcher = Dispatcher(db, clock, {Actor.ERO: handler})
    assert dispatcher.run_due() == 1
    clock.advance_to(datetime(2010, 1, 1, 0, 5))
    assert dispatcher.run_due() == 2
    assert dispatcher.next_due() is None


def test_crash_after_handling_redelivers_without_a_second_effect(
    setup: tuple[Database, ScenarioClock],
) -> None:
    db, clock = setup
    clock.advance_to(datetime(2010, 1, 2))

    def crash_once(point: str, row: OutboxRow) -> None:
        if point == "after_handle" and row.message_id == "m1" and not crashed:
            crashed.append(row.message_id)
            raise SimulatedCrash()

    crashed: list[str] = []
    handler = Counting()
    with pytest.raises(SimulatedCrash):
        Dispatcher(db, clock, {Actor.ERO: handler}, fault=crash_once).run_due()
    # A new process: m1 is still pending, is delivered again, and is skipped as seen.
    Dispatcher(db, clock, {Actor.ERO: handler}).run_due()
    assert handler.calls == 3
    assert handled(db) == 3
    with db.sessions() as session:
        statuses = set(session.scalars(select(OutboxRow.status)))
    assert statuses == {DELIVERED}


def test_failures_retry_with_backoff_then_dead_letter(
    setup: tuple[Database, ScenarioClock],
) -> None:
    db, clock = setup
    handler = Counting(failures=10)
    dispatcher = Dispatcher(
        db, clock, {Actor.ERO: handler}, max_attempts=3, backoff=timedelta(minutes=10)
    )
    dispatcher.run_due()
    with db.sessions() as session:
        first = session.scalar(select(OutboxRow).where(OutboxRow.message_id == "m0"))
    assert first is not None and first.attempts == 1 and "unavailable" in (first.last_error or "")
    assert first.available_at == datetime(2010, 1, 1, 0, 10)
    for _ in range(5):
        clock.advance_to(clock.now() + timedelta(hours=1))
        dispatcher.run_due()
    with db.sessions() as session:
        rows = session.scalars(select(OutboxRow)).all()
    assert {r.status for r in rows} == {DEAD}
    assert all(r.attempts == 3 for r in rows)
    assert handled(db) == 0
