"""`scomm audit reconcile` checks the outbox and the consumers' processed_messages against
the message entries of the audit log: a queued message suppressed behind the flow's back
(marked delivered, put off for years, deleted, or made to look handled already) and a
payload changed after delivery are each named, by row and field; a message still pending
long after it was due is not (the dispatcher may just not have run)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from small_flow import START, run_small_flow, small_flow_on_postgresql
from sqlalchemy import select, text
from tampering import raw, tampering
from typer.testing import CliRunner

from scomm.audit.reconcile import reconcile, reconcile_database
from scomm.bus.dead_letters import replay
from scomm.bus.dispatcher import Dispatcher
from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.domain.clock import ScenarioClock
from scomm.domain.ids import derived_id
from scomm.domain.messages import Actor, CourtDisposition, DispositionOutcome
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow, ProcessedMessageRow

runner = CliRunner()
POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def flowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "flow.db"
    run_small_flow(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, flowed: Path, tmp_path: Path) -> Iterator[Database]:
    """The flowed database: a copy on SQLite; on PostgreSQL (where CI provides one) the
    flow copied from a template database."""
    if request.param == "sqlite":
        path = tmp_path / "scomm.db"
        shutil.copyfile(flowed, path)
        url = f"sqlite:///{path}"
    else:
        if not POSTGRES:
            pytest.skip(
                "SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)"
            )
        with small_flow_on_postgresql(POSTGRES) as url:
            database = Database(url)
            yield database
            database.dispose()
        return
    database = Database(url)
    yield database
    database.dispose()


@dataclass(frozen=True)
class Queued:
    seq: int  # the outbox row
    message_id: str
    entry: int  # its message entry


def queue(db: Database) -> Queued:
    """A court disposition queued for the jail the way the flow queues one, due on the day
    the flow started: long past, never delivered (no dispatcher has run since)."""
    with UnitOfWork(db, ScenarioClock(START + timedelta(days=30)), cause="test|late") as uow:
        message_id = uow.new_message_id()
        uow.emit(
            CourtDisposition(
                message_id=message_id,
                case_id=derived_id("case", "T-2"),
                tcn="T-2",
                sender=Actor.COURT,
                recipient=Actor.LEA,
                outcome=DispositionOutcome.DISMISSED,
                decided_at=START,
            ),
            at=START,
        )
        uow.commit()
    with db.sessions() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.message_id == message_id)).one()
        assert row.audit_seq is not None
        return Queued(row.seq, message_id, row.audit_seq)


def lines(db: Database) -> list[str]:
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    return [d.describe() for d in result.disagreements]


def change(db: Database, sql: str, **params: object) -> None:
    with db.sessions() as session, session.begin():
        session.execute(text(sql), params)


@dataclass
class Recorder:
    handled: list[str] = field(default_factory=list)
    fail: bool = False

    def handle(self, message: Any, uow: Any) -> None:
        if self.fail:
            raise RuntimeError("jail system down")
        self.handled.append(message.message_id)


def test_a_pending_message_long_past_due_is_no_disagreement(db: Database) -> None:
    queue(db)
    assert lines(db) == []
    result = runner.invoke(app, ["audit", "reconcile", "--database", db.url])
    assert result.exit_code == 0, result.output
    assert "58 outbox, 57 processed_messages" in " ".join(result.stdout.split())


def test_a_pending_message_marked_delivered_is_named(db: Database) -> None:
    q = queue(db)
    change(db, "UPDATE outbox SET status = 'delivered', delivered_at = :t WHERE seq = :s",
           t=START, s=q.seq)  # fmt: skip
    assert lines(db) == [
        f"outbox {q.seq}: status is 'delivered', but lea has no processed_messages row "
        f"for {q.message_id}"
    ]


def test_a_pending_message_put_off_for_years_is_named(db: Database) -> None:
    q = queue(db)
    later = START + timedelta(days=3650)
    change(db, "UPDATE outbox SET available_at = :t WHERE seq = :s", t=later, s=q.seq)
    assert lines(db) == [
        f"outbox {q.seq}: available_at is {later.isoformat()}, "
        f"the audit log says {START.isoformat()}"
    ]


def test_a_deleted_outbox_row_is_named_with_its_message_entry(db: Database) -> None:
    q = queue(db)
    change(db, "DELETE FROM outbox WHERE seq = :s", s=q.seq)
    assert lines(db) == [f"outbox {q.message_id}: missing row (audit entry {q.entry} records it)"]


def test_a_processed_row_written_ahead_is_named_before_and_after_the_dispatcher_runs(
    db: Database,
) -> None:
    q = queue(db)
    with db.sessions() as session, session.begin():
        session.add(
            ProcessedMessageRow(consumer="lea", message_id=q.message_id, processed_at=START)
        )
    assert lines(db) == [
        f"processed_messages lea/{q.message_id}: extra row (outbox {q.seq} is 'pending', "
        "not delivered)"
    ]
    # the dispatcher then skips the jail's handler and marks the row delivered
    recorder = Recorder()
    clock = ScenarioClock(START + timedelta(days=40))
    assert Dispatcher(db, clock, dict.fromkeys(Actor, recorder)).deliver(q.seq)
    assert recorder.handled == []
    assert lines(db) == [
        f"outbox {q.seq}: delivered_at is {clock.now().isoformat()}, but lea's "
        f"processed_messages row for {q.message_id} says {START.isoformat()}"
    ]


def test_a_message_delivered_for_real_agrees(db: Database) -> None:
    q = queue(db)
    recorder = Recorder()
    Dispatcher(
        db, ScenarioClock(START + timedelta(days=40)), dict.fromkeys(Actor, recorder)
    ).deliver(q.seq)
    assert recorder.handled == [q.message_id]
    assert lines(db) == []


def test_a_payload_changed_in_a_delivered_row_is_named(db: Database) -> None:
    with db.sessions() as session, session.begin():
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.type == "IAR").order_by(OutboxRow.seq)
        ).first()
        assert row is not None and row.status == "delivered"
        payload = json.loads(row.payload)
        payload["level"] = 3 if payload["level"] != 3 else 1
        seq, before = row.seq, row.payload
        row.payload = json.dumps(payload)
        after = row.payload
    from scomm.audit.messages import payload_digest

    assert lines(db) == [
        f"outbox {seq}: payload is 'sha256 {payload_digest(after)}', "
        f"the audit log says 'sha256 {payload_digest(before)}'"
    ]


def test_a_dead_letter_without_its_entry_and_a_revived_one_are_named(db: Database) -> None:
    q = queue(db)
    change(db, "UPDATE outbox SET status = 'dead' WHERE seq = :s", s=q.seq)
    assert lines(db) == [
        f"outbox {q.seq}: status is 'dead', but no DEAD_LETTER audit entry records it"
    ]
    # a real dead letter (DEAD_LETTER entry) agrees; put back without a replay entry, it does not
    change(db, "UPDATE outbox SET status = 'pending' WHERE seq = :s", s=q.seq)
    recorder = Recorder(fail=True)
    dispatcher = Dispatcher(
        db,
        ScenarioClock(START + timedelta(days=40)),
        dict.fromkeys(Actor, recorder),
        max_attempts=1,
    )
    dispatcher.deliver(q.seq)
    assert lines(db) == []
    change(db, "UPDATE outbox SET status = 'pending' WHERE seq = :s", s=q.seq)
    with db.sessions() as session:
        dead_entry = session.scalars(
            select(AuditEntryRow.seq).where(AuditEntryRow.name == "DEAD_LETTER")
        ).one()
    assert lines(db) == [
        f"outbox {q.seq}: status is 'pending', the audit log says 'dead' (entry {dead_entry})"
    ]
    # an operator's audited replay puts it back for good
    change(db, "UPDATE outbox SET status = 'dead' WHERE seq = :s", s=q.seq)
    with UnitOfWork(db, ScenarioClock(START + timedelta(days=41))) as uow:
        (replayed,) = replay(uow, str(q.seq), reason="jail system back")
        uow.commit()
    assert lines(db) == []


def test_a_delivery_put_off_after_a_failure_is_audited_and_agrees(db: Database) -> None:
    q = queue(db)
    clock = ScenarioClock(START + timedelta(days=40))
    Dispatcher(db, clock, dict.fromkeys(Actor, Recorder(fail=True))).deliver(q.seq)
    with db.sessions() as session:
        row = session.get(OutboxRow, q.seq)
        assert row is not None and row.status == "pending"
        moved = row.available_at
        retry = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "DELIVERY_RETRY")
        ).one()
    assert moved == clock.now() + timedelta(minutes=1)
    assert json.loads(retry.payload)["available_at"] == moved.isoformat()
    assert lines(db) == []
    later = moved + timedelta(days=3650)
    change(db, "UPDATE outbox SET available_at = :t WHERE seq = :s", t=later, s=q.seq)
    assert lines(db) == [
        f"outbox {q.seq}: available_at is {later.isoformat()}, "
        f"the audit log says {moved.isoformat()}"
    ]


def test_an_older_message_entry_without_a_digest_is_compared_by_its_body(db: Database) -> None:
    """Entries written before they kept the payload's sha256: the audited body is compared,
    the way the dispatcher checks rows bound by migration 0004."""
    q = queue(db)
    with tampering(db) as session:  # rewrite the entry as an older scomm wrote it
        entry = session.get(AuditEntryRow, q.entry)
        assert entry is not None
        payload = json.loads(entry.payload)
        del payload["payload_sha256"]
        raw(session, "UPDATE audit_log SET payload = :p WHERE seq = :s",
            p=json.dumps(payload), s=q.entry)  # fmt: skip
    with db.sessions() as session:  # the chain no longer verifies: reconcile directly
        assert reconcile(session).disagreements == []
    with db.sessions() as session, session.begin():
        row = session.get(OutboxRow, q.seq)
        assert row is not None
        changed = json.loads(row.payload) | {"outcome": "convicted"}
        row.payload = json.dumps(changed)
    with db.sessions() as session:
        (wrong,) = reconcile(session).disagreements
    assert wrong.describe().startswith(f"outbox {q.seq}: payload (sha256 ")
    assert wrong.describe().endswith("differs from the audited body")


def test_a_retry_an_older_dispatcher_did_not_audit_is_unchecked_never_agreeing(
    db: Database,
) -> None:
    """Before DELIVERY_RETRY entries, a failed delivery moved the row's due moment later with
    no entry: such a row (a last error, due later than its entry says) is counted unchecked
    and the first older entry named; moved earlier, it is named as a disagreement."""
    q = queue(db)
    later = START + timedelta(days=2)
    change(db, "UPDATE outbox SET available_at = :t, attempts = 1, last_error = 'down' "
           "WHERE seq = :s", t=later, s=q.seq)  # fmt: skip
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    assert result.disagreements == []
    assert result.unchecked == {"outbox.available_at": 1} and result.first_unrecorded == q.entry
    earlier = START - timedelta(days=2)
    change(db, "UPDATE outbox SET available_at = :t WHERE seq = :s", t=earlier, s=q.seq)
    assert lines(db) == [
        f"outbox {q.seq}: available_at is {earlier.isoformat()}, "
        f"the audit log says {START.isoformat()}"
    ]
