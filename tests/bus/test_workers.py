"""Several dispatchers on one database (what `scomm worker` processes are): on PostgreSQL
two of them delivering the same outbox at once handle every message exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select

from scomm.audit.chain import verify
from scomm.bus.dispatcher import DELIVERED, PENDING, Dispatcher
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor, Message, Release
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow, ProcessedMessageRow

MESSAGES = 120


class Slow:
    """Handles RELEASE with an audit entry, slowly enough that two workers overlap; keeps
    the message id of every call (from both threads)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        self.calls.append(message.message_id)
        time.sleep(0.002)  # a handler's work: the other worker runs meanwhile
        uow.record("outcome", "handled", "ero", message.case_id, {"id": message.message_id})


def seed(db: Database, clock: ScenarioClock, count: int) -> None:
    with UnitOfWork(db, clock, cause="seed") as uow:
        for i in range(count):
            uow.emit(
                Release(
                    message_id=f"m{i}", case_id=f"c{i}", tcn=f"t{i}", sender=Actor.LEA,
                    recipient=Actor.ERO, reason="test",
                )
            )  # fmt: skip
        uow.commit()


def test_two_dispatchers_at_once_deliver_each_message_exactly_once(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one delivering process: `scomm serve` delivers there itself")
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    seed(db, clock, MESSAGES)
    handler = Slow()
    workers = [Dispatcher(db, clock, {Actor.ERO: handler}) for _ in range(2)]
    counts = [0, 0]
    start = threading.Barrier(2)

    def work(i: int) -> None:
        start.wait()
        counts[i] = workers[i].run_due()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # each message's handler ran once: never two transactions on one message at once
    assert sorted(handler.calls) == sorted(f"m{i}" for i in range(MESSAGES))
    assert sum(counts) == MESSAGES and min(counts) > 0, counts  # both took part
    with db.sessions() as session:
        statuses = Counter(session.scalars(select(OutboxRow.status)))
        assert statuses == {DELIVERED: MESSAGES}
        processed = session.scalar(select(func.count()).select_from(ProcessedMessageRow))
        assert processed == MESSAGES
        names = Counter(session.scalars(select(AuditEntryRow.name)))
        assert names["handled"] == MESSAGES
        assert names["DELIVERY_RETRY"] == names["DEAD_LETTER"] == 0
        assert verify(session).ok
    db.dispose()


def test_a_worker_that_claimed_after_another_leaves_it_the_message(database_url: str) -> None:
    """Worker A claims a row; before its handler's transaction starts, worker B claims the
    same row (the next attempt) and delivers it. A's transaction finds the row delivered
    and does nothing: the message is handled once, by B."""
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    seed(db, clock, 1)
    handler = Slow()
    second = Dispatcher(db, clock, {Actor.ERO: handler})
    seen: list[bool] = []

    def other_worker_first(point: str, row: OutboxRow) -> None:
        if point == "before_handle":
            seen.append(second.deliver(row.seq))

    first = Dispatcher(db, clock, {Actor.ERO: handler}, fault=other_worker_first)
    with db.sessions() as session:
        seq = session.scalars(select(OutboxRow.seq)).one()
    assert first.deliver(seq) is False  # given way to the second
    assert seen == [True] and handler.calls == ["m0"]
    with db.sessions() as session:
        row = session.get(OutboxRow, seq)
        assert row is not None and (row.status, row.attempts) == (DELIVERED, 2)
        assert session.scalar(select(func.count()).select_from(ProcessedMessageRow)) == 1
    db.dispose()


def test_a_worker_told_to_stop_ends_the_delivery_it_is_in(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    seed(db, clock, 3)
    handler = Slow()
    dispatcher = Dispatcher(db, clock, {Actor.ERO: handler})
    dispatcher.should_stop = lambda: len(handler.calls) >= 1  # a signal during the first
    assert dispatcher.run_due() == 1
    with db.sessions() as session:
        statuses = Counter(session.scalars(select(OutboxRow.status)))
    assert statuses == {DELIVERED: 1, PENDING: 2}
    dispatcher.should_stop = None
    assert dispatcher.run_due() == 2
    db.dispose()


def test_a_row_another_worker_holds_is_passed_over_not_waited_for(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one delivering process: no row is held by another")
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    seed(db, clock, 3)
    handler = Slow()
    dispatcher = Dispatcher(db, clock, {Actor.ERO: handler})
    looks: list[int] = []

    def count_looks() -> bool:  # asked before each delivery: a bound on a spinning loop
        looks.append(1)
        return len(looks) > 100

    dispatcher.should_stop = count_looks
    with db.sessions() as other, other.begin():  # another worker in the middle of m1
        other.execute(select(OutboxRow).where(OutboxRow.message_id == "m1").with_for_update()).one()
        assert dispatcher.run_due() == 2
        assert sorted(handler.calls) == ["m0", "m2"]
        assert len(looks) == 3  # each row looked at once, m1 not again and again
    dispatcher.should_stop = None
    assert dispatcher.run_due() == 1 and sorted(handler.calls) == ["m0", "m1", "m2"]
    db.dispose()


def test_the_service_thread_leaves_rows_workers_hold_for_its_next_look(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scomm serve`'s dispatcher thread (System.run_until on the wall clock) beside `scomm
    worker` processes: a due row another worker holds ends the run; it is not asked for
    again and again while the lock lasts."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one delivering process: no row is held by another")
    from scomm.config import Settings
    from scomm.domain.clock import SystemClock
    from scomm.domain.hold import us_federal_holiday
    from scomm.system import System, baseline_context

    settings = Settings(database_url=database_url, seed=1)
    system = System(
        settings, SystemClock(), context=baseline_context(settings, us_federal_holiday())
    )
    seed(system.db, ScenarioClock(datetime(2010, 1, 1)), 3)
    handler = Slow()
    system.dispatcher.handlers = {Actor.ERO: handler}
    looks: list[int] = []
    next_due = system.dispatcher.next_due

    def counted() -> datetime | None:
        looks.append(1)
        assert len(looks) < 50, "run_until keeps asking for a row another worker holds"
        return next_due()

    monkeypatch.setattr(system.dispatcher, "next_due", counted)
    with system.db.sessions() as other, other.begin():  # another worker in the middle of m1
        other.execute(select(OutboxRow).where(OutboxRow.message_id == "m1").with_for_update()).one()
        assert system.run_until(None) == 2
    assert system.run_until(None) == 1 and sorted(handler.calls) == ["m0", "m1", "m2"]
    system.close()


class _Stored:
    """A template as the store sees it: its bytes."""

    def to_bytes(self) -> bytes:
        return b"template"


def test_two_first_enrolments_at_once_count_the_generation_twice(database_url: str) -> None:
    """Two workers' CJIS enrolments, the repository's first, in transactions at once: the
    second waits for the first's generation row and counts it up (no unique violation)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one delivering process")
    from scomm.domain.records import Repository
    from scomm.store.models import GalleryGenerationRow
    from scomm.store.templates import store_templates

    db = Database(database_url)
    db.migrate()
    errors: list[BaseException] = []
    with db.sessions() as first:
        store_templates(first, Repository.CRIMINAL, "F1", {1: _Stored()}, "e")  # type: ignore[dict-item]
        first.flush()  # the row is written, not committed

        def second() -> None:
            try:
                with db.sessions() as other:
                    store_templates(other, Repository.CRIMINAL, "F2", {1: _Stored()}, "e")  # type: ignore[dict-item]
                    other.commit()
            except BaseException as error:  # shown below
                errors.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)  # the second is waiting on the first's row by now (or will be)
        first.commit()
        thread.join()
    assert errors == []
    with db.sessions() as session:
        row = session.get(GalleryGenerationRow, Repository.CRIMINAL.value)
        assert row is not None and row.generation == 2
    db.dispose()
