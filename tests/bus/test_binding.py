"""Every outbox payload is bound to its audit entry: a payload changed while pending, or a row
bound to another message's entry, is refused at delivery (a dead letter and an alarm)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import pytest
from sqlalchemy import select, update

from scomm.audit.chain import verify
from scomm.bus.dispatcher import DEAD, DELIVERED, OUTBOX_TAMPERED, Dispatcher
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.messages import Actor, ImmigrationAlienResponse, Message, Release
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow


class Recording:
    """Keeps every message it is handed."""

    def __init__(self) -> None:
        self.seen: list[Message] = []

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        self.seen.append(message)


@pytest.fixture
def setup(database_url: str) -> tuple[Database, ScenarioClock]:
    """An IAR (level 1) for CJIS and a release for ERO, pending."""
    db = Database(database_url)
    db.migrate()
    clock = ScenarioClock(datetime(2010, 1, 1))
    with UnitOfWork(db, clock, cause="seed") as uow:
        uow.emit(
            ImmigrationAlienResponse(
                message_id="iar-1",
                case_id="case-1",
                tcn="tcn-1",
                sender=Actor.LESC,
                recipient=Actor.CJIS,
                ident_id="ID-1",
                a_number="A12345678",
                recorded_status=RecordedStatus.VISA_OVERSTAY,
                removability=Removability.REMOVABLE,
                level=1,
                rule_set="2009-offense-type",
            )
        )
        uow.emit(
            Release(
                message_id="rel-1",
                case_id="case-2",
                tcn="tcn-2",
                sender=Actor.LEA,
                recipient=Actor.ERO,
                reason="test",
            )
        )
        uow.commit()
    return db, clock


def outbox(db: Database, message_id: str) -> OutboxRow:
    with db.sessions() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.message_id == message_id)).one()
    return row


def change(db: Database, message_id: str, **values: object) -> None:
    with db.sessions() as session, session.begin():
        session.execute(update(OutboxRow).where(OutboxRow.message_id == message_id).values(values))


def deliver_all(db: Database, clock: ScenarioClock) -> tuple[Recording, Recording]:
    cjis, ero = Recording(), Recording()
    Dispatcher(db, clock, {Actor.CJIS: cjis, Actor.ERO: ero}).run_due()
    return cjis, ero


def alarms(db: Database) -> list[AuditEntryRow]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEntryRow).where(AuditEntryRow.kind == "alarm")))


def test_the_message_entry_keeps_the_payloads_hash_and_the_row_its_seq(
    setup: tuple[Database, ScenarioClock],
) -> None:
    db, clock = setup
    row = outbox(db, "iar-1")
    assert row.audit_seq is not None
    with db.sessions() as session:
        entry = session.get(AuditEntryRow, row.audit_seq)
    assert entry is not None and (entry.kind, entry.name) == ("message", "IAR")
    recorded = json.loads(entry.payload)
    assert recorded["message_id"] == "iar-1"
    assert recorded["payload_sha256"] == hashlib.sha256(row.payload.encode()).hexdigest()
    cjis, ero = deliver_all(db, clock)
    assert [m.message_id for m in cjis.seen] == ["iar-1"]
    assert [m.message_id for m in ero.seen] == ["rel-1"]
    assert isinstance(cjis.seen[0], ImmigrationAlienResponse) and cjis.seen[0].level == 1
    assert outbox(db, "iar-1").status == DELIVERED and alarms(db) == []


def test_a_payload_changed_while_pending_is_refused_with_an_alarm(
    setup: tuple[Database, ScenarioClock], caplog: pytest.LogCaptureFixture
) -> None:
    db, clock = setup
    row = outbox(db, "iar-1")
    expected = hashlib.sha256(row.payload.encode()).hexdigest()
    forged = json.dumps({**json.loads(row.payload), "level": 3})
    change(db, "iar-1", payload=forged)
    with caplog.at_level(logging.ERROR, logger="scomm.bus.dispatcher"):
        cjis, ero = deliver_all(db, clock)
    assert cjis.seen == []  # the handler never ran
    assert [m.message_id for m in ero.seen] == ["rel-1"]  # the untouched one still goes
    refused = outbox(db, "iar-1")
    reason = f"outbox {row.seq}: payload differs from audit entry {row.audit_seq}"
    assert refused.status == DEAD and refused.last_error == reason
    (alarm,) = alarms(db)
    assert (alarm.name, alarm.case_id) == (OUTBOX_TAMPERED, "case-1")
    assert json.loads(alarm.payload) == {
        "seq": row.seq,
        "message_id": "iar-1",
        "type": "IAR",
        "audit_seq": row.audit_seq,
        "expected": expected,
        "found": hashlib.sha256(forged.encode()).hexdigest(),
        "problem": reason,
    }
    assert any(r.levelname == "ERROR" and reason in r.getMessage() for r in caplog.records)
    with db.sessions() as session:
        dead = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "DEAD_LETTER")
        ).one()
        assert json.loads(dead.payload)["error"] == reason
        assert verify(session).ok


def test_a_row_bound_to_another_messages_entry_is_refused(
    setup: tuple[Database, ScenarioClock],
) -> None:
    db, clock = setup
    release = outbox(db, "rel-1")
    row = outbox(db, "iar-1")
    change(db, "iar-1", audit_seq=release.audit_seq)
    cjis, _ = deliver_all(db, clock)
    assert cjis.seen == []
    refused = outbox(db, "iar-1")
    assert refused.status == DEAD
    assert refused.last_error == (
        f"outbox {row.seq}: audit entry {release.audit_seq} is not the message entry of iar-1"
    )
    assert [a.name for a in alarms(db)] == [OUTBOX_TAMPERED]


def test_a_rerouted_row_is_refused(setup: tuple[Database, ScenarioClock]) -> None:
    """The recipient is not in the payload but decides the handler: it is checked too."""
    db, clock = setup
    change(db, "rel-1", recipient=Actor.CJIS.value)
    cjis, ero = deliver_all(db, clock)
    assert [m.message_id for m in cjis.seen] == ["iar-1"] and ero.seen == []
    assert outbox(db, "rel-1").status == DEAD


@pytest.mark.parametrize(
    ("audit_seq", "problem"),
    [(None, "no audit entry is bound to it"), (999, "audit entry 999 is missing")],
)
def test_a_row_without_its_entry_is_refused(
    setup: tuple[Database, ScenarioClock], audit_seq: int | None, problem: str
) -> None:
    db, clock = setup
    seq = outbox(db, "iar-1").seq
    change(db, "iar-1", audit_seq=audit_seq)
    cjis, _ = deliver_all(db, clock)
    assert cjis.seen == []
    refused = outbox(db, "iar-1")
    assert refused.status == DEAD and refused.last_error == f"outbox {seq}: {problem}"
    (alarm,) = alarms(db)
    assert json.loads(alarm.payload)["expected"] is None


def test_a_replayed_tampered_letter_is_refused_again(
    setup: tuple[Database, ScenarioClock],
) -> None:
    from scomm.bus.dead_letters import replay

    db, clock = setup
    row = outbox(db, "iar-1")
    change(db, "iar-1", payload=json.dumps({**json.loads(row.payload), "level": 3}))
    deliver_all(db, clock)
    with UnitOfWork(db, clock) as uow:
        replay(uow, "iar-1", reason="try again")
        uow.commit()
    cjis, _ = deliver_all(db, clock)
    assert cjis.seen == [] and outbox(db, "iar-1").status == DEAD
    assert len(alarms(db)) == 2


def test_rows_queued_before_the_binding_are_bound_by_the_migration(database_url: str) -> None:
    """An outbox row and message entry written by the schema before 0004 (no audit_seq, no
    payload_sha256): the upgrade binds the row to its entry, and the dispatcher compares the
    audited body with the payload: the untouched row is delivered, a changed one refused."""
    from alembic import command

    from scomm.audit.chain import append
    from scomm.bus.unit_of_work import audit_view
    from scomm.store.db import alembic_config

    db = Database(database_url)
    config = alembic_config(database_url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    clock = ScenarioClock(datetime(2010, 1, 1))
    with db.sessions() as session, session.begin():
        for i, reason in enumerate(["kept", "changed"]):
            release = Release(
                message_id=f"old-{i}",
                case_id=f"case-{i}",
                tcn=f"t{i}",
                sender=Actor.LEA,
                recipient=Actor.ERO,
                reason=reason,
            )
            payload = release.payload()
            append(
                session,
                recorded_at=clock.now(),
                kind="message",
                name=release.type,
                actor=release.sender.value,
                case_id=release.case_id,
                payload={
                    "message_id": release.message_id,
                    "recipient": release.recipient.value,
                    "tcn": release.tcn,
                    "available_at": clock.now().isoformat(),
                    "body": audit_view(payload),
                },
            )
            stored = json.dumps(payload if reason == "kept" else {**payload, "reason": "forged"})
            session.execute(
                OutboxRow.__table__.insert().values(
                    message_id=release.message_id,
                    type=release.type,
                    sender=release.sender.value,
                    recipient=release.recipient.value,
                    case_id=release.case_id,
                    tcn=release.tcn,
                    payload=stored,
                    created_at=clock.now(),
                    available_at=clock.now(),
                    attempts=0,
                    status="pending",
                )
            )
    db.migrate()
    assert outbox(db, "old-0").audit_seq == 1 and outbox(db, "old-1").audit_seq == 2
    ero = Recording()
    Dispatcher(db, clock, {Actor.ERO: ero}).run_due()
    assert [m.message_id for m in ero.seen] == ["old-0"]
    refused = outbox(db, "old-1")
    assert refused.status == DEAD
    assert refused.last_error == f"outbox {refused.seq}: payload differs from audit entry 2"
    db.dispose()
