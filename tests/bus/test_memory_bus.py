"""The unit of work and the bus in memory: all or nothing, time order, retries, dead letters."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scomm.bus.dispatcher import DEAD_LETTER, DELIVERY_RETRY
from scomm.bus.memory import MemoryDispatcher, MemoryStore, MemoryUnitOfWork
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor, Message, Release
from scomm.domain.records import Case

START = datetime(2010, 1, 1)


def release(i: int) -> Release:
    return Release(
        message_id=f"m{i}",
        case_id=f"c{i}",
        tcn=f"t{i}",
        sender=Actor.LEA,
        recipient=Actor.ERO,
        reason="test",
    )


def case(case_id: str = "c1") -> Case:
    return Case(
        case_id=case_id,
        tcn="t1",
        ori="CA0010000",
        state=CaseState.BOOKED,
        custody=CustodyState.IN_CUSTODY,
        opened_at=START,
        updated_at=START,
    )


class Handling:
    """Handles RELEASE: moves case c1 on and records an entry; fails the first n times,
    after it changed the case (so a rollback has something to put back)."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.failures = failures

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        self.calls.append(message.message_id)
        found = uow.cases.get("c1")
        assert found is not None
        found.custody = CustodyState.RELEASED
        uow.record("outcome", "handled", "ero", message.case_id, {"id": message.message_id})
        if len(self.calls) <= self.failures:
            raise RuntimeError("downstream unavailable")


@pytest.fixture
def store() -> MemoryStore:
    made = MemoryStore()
    clock = ScenarioClock(START)
    with MemoryUnitOfWork(made, clock, cause="seed") as uow:
        uow.cases.add(case())
        # emitted out of time order: delivered in time order, then in emission order
        uow.emit(release(2), delay=timedelta(minutes=5))
        uow.emit(release(0))
        uow.emit(release(1))
        uow.commit()
    return made


def test_a_unit_of_work_without_commit_leaves_nothing(store: MemoryStore) -> None:
    clock = ScenarioClock(START)
    before = (len(store.entries), len(store.outbox))
    with MemoryUnitOfWork(store, clock, cause="x") as uow:
        found = uow.cases.get("c1")
        assert found is not None
        found.state = CaseState.REJECTED
        uow.cases.add(case("c9"))
        uow.emit(release(7))
        uow.record("outcome", "x", "lea", "c1", {})
    assert (len(store.entries), len(store.outbox)) == before
    assert store.cases["c1"].state is CaseState.BOOKED
    assert "c9" not in store.cases


def test_messages_are_delivered_in_time_order_once(store: MemoryStore) -> None:
    clock = ScenarioClock(START)
    handler = Handling()
    bus = MemoryDispatcher(store, clock, {Actor.ERO: handler})
    assert bus.run_due() == 2  # m2 is not due yet
    clock.advance_to(START + timedelta(minutes=5))
    assert bus.run_due() == 1
    assert handler.calls == ["m0", "m1", "m2"]
    assert [e.name for e in store.entries].count("message") == 0
    assert [e.kind for e in store.entries].count("message") == 3  # the three emits
    assert [e.seq for e in store.entries] == list(range(1, len(store.entries) + 1))
    # a message delivered again (a replay) has no second effect
    bus.deliver(99, release(0))
    assert handler.calls == ["m0", "m1", "m2"]


def test_a_failed_delivery_is_rolled_back_retried_and_given_up(store: MemoryStore) -> None:
    clock = ScenarioClock(START)
    handler = Handling(failures=10)
    bus = MemoryDispatcher(store, clock, {Actor.ERO: handler}, max_attempts=3)
    bus.run_due()
    # every failed attempt put the case back as it was and kept none of its entries
    assert store.cases["c1"].custody is CustodyState.IN_CUSTODY
    assert not [e for e in store.entries if e.name == "handled"]
    retries = [e for e in store.entries if e.name == DELIVERY_RETRY]
    assert [e.payload["message_id"] for e in retries] == ["m0", "m1"]
    assert retries[0].payload["available_at"] == (START + timedelta(minutes=1)).isoformat()
    for minutes in (1, 3, 5, 6, 8, 12):
        clock.advance_to(START + timedelta(minutes=minutes))
        bus.run_due()
    dead = [e for e in store.entries if e.name == DEAD_LETTER]
    assert sorted(e.payload["message_id"] for e in dead) == ["m0", "m1", "m2"]
    assert {d.attempts for d in store.dead_letters} == {3}
    assert store.next_due() is None


def test_a_retried_delivery_that_succeeds_commits_once(store: MemoryStore) -> None:
    clock = ScenarioClock(START)
    handler = Handling(failures=1)
    bus = MemoryDispatcher(store, clock, {Actor.ERO: handler})
    bus.run_due()
    clock.advance_to(START + timedelta(minutes=10))
    bus.run_due()
    assert sorted(e.payload["id"] for e in store.entries if e.name == "handled") == [
        "m0",
        "m1",
        "m2",
    ]
    assert store.cases["c1"].custody is CustodyState.RELEASED
    assert store.dead_letters == []
