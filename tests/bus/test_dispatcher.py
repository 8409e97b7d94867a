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


def test_a_crash_inside_the_transaction_leaves_no_effect_and_redelivers(
    setup: tuple[Database, ScenarioClock],
) -> None:
    """Killed before the handler's commit: nothing of it stays, and the next run does it."""
    db, clock = setup

    def crash_before_commit(point: str, row: OutboxRow) -> None:
        if point == "before_commit" and row.message_id == "m0":
            raise SimulatedCrash()

    handler = Counting()
    with pytest.raises(SimulatedCrash):
        Dispatcher(db, clock, {Actor.ERO: handler}, fault=crash_before_commit).run_due()
    assert handled(db) == 0
    with db.sessions() as session:
        m0 = session.scalar(select(OutboxRow).where(OutboxRow.message_id == "m0"))
    assert m0 is not None and m0.status == "pending" and m0.attempts == 1
    Dispatcher(db, clock, {Actor.ERO: handler}).run_due()
    assert handled(db) == 1 and handler.calls == 2


def test_a_message_that_kills_the_process_every_time_ends_as_a_dead_letter(
    setup: tuple[Database, ScenarioClock],
) -> None:
    """Poison message: each attempt is counted before the handler runs, so the process
    dying in it cannot loop for ever."""
    db, clock = setup

    def always_die_on_m0(point: str, row: OutboxRow) -> None:
        if point == "before_handle" and row.message_id == "m0":
            raise SimulatedCrash()

    for _ in range(3):
        with pytest.raises(SimulatedCrash):
            Dispatcher(
                db, clock, {Actor.ERO: Counting()}, max_attempts=3, fault=always_die_on_m0
            ).run_due()
    # The fourth process start finds three attempts without a result and gives up on m0.
    clock.advance_to(datetime(2010, 1, 2))
    handler = Counting()
    Dispatcher(db, clock, {Actor.ERO: handler}, max_attempts=3, fault=always_die_on_m0).run_due()
    assert handler.calls == 2  # m1 and m2
    with db.sessions() as session:
        m0 = session.scalar(select(OutboxRow).where(OutboxRow.message_id == "m0"))
        dead_entries = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "DEAD_LETTER")
        ).all()
    assert m0 is not None and m0.status == DEAD and m0.attempts == 3
    assert "process died" in (m0.last_error or "")
    assert [e.case_id for e in dead_entries] == ["c0"]


def test_a_dead_letter_is_audited_and_replay_delivers_it_once(
    setup: tuple[Database, ScenarioClock],
) -> None:
    from scomm.audit.chain import verify
    from scomm.bus.dead_letters import NothingToReplay, dead_letters, replay

    db, clock = setup
    failing = Counting(failures=2)
    dispatcher = Dispatcher(db, clock, {Actor.ERO: failing}, max_attempts=1)
    clock.advance_to(datetime(2010, 1, 1, 0, 5))
    dispatcher.run_due()  # m0 and m1 fail once and are dead; m2 goes through
    with db.sessions() as session:
        dead = dead_letters(session)
    assert [r.message_id for r in dead] == ["m0", "m1"]
    assert all(r.attempts == 1 and "unavailable" in (r.last_error or "") for r in dead)
    with UnitOfWork(db, clock) as uow:
        with pytest.raises(NothingToReplay):
            replay(uow, "no-such-message", reason="test")
        replayed = replay(uow, str(dead[0].seq), reason="repository is back")
        uow.commit()
    assert [r.message_id for r in replayed] == ["m0"]
    dispatcher.run_due()
    with db.sessions() as session:
        statuses = dict(session.execute(select(OutboxRow.message_id, OutboxRow.status)).all())
        replays = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "DEAD_LETTER_REPLAYED")
        ).all()
        assert verify(session).ok
    assert statuses == {"m0": DELIVERED, "m1": DEAD, "m2": DELIVERED}
    assert handled(db) == 2
    assert len(replays) == 1 and '"repository is back"' in replays[0].payload
    # Replaying a delivered message again is refused: only dead letters go back.
    with UnitOfWork(db, clock) as uow, pytest.raises(NothingToReplay):
        replay(uow, "m0", reason="again")
