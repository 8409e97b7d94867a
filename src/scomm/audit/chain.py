"""The hash chain: each entry's hash covers its content and the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow

GENESIS_HASH = "0" * 64


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str,
    seq: int,
    recorded_at: datetime,
    kind: str,
    name: str,
    actor: str,
    case_id: str,
    payload: str,
) -> str:
    body = canonical_json(
        [prev_hash, seq, recorded_at.isoformat(), kind, name, actor, case_id, payload]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    recorded_at: datetime,
    kind: str,
    name: str,
    actor: str,
    case_id: str,
    payload: Any,
) -> AuditEntryRow:
    """Append one entry in the caller's transaction, so it commits with what it records."""
    head = _locked_head(session)
    seq = head.seq + 1
    text = canonical_json(payload)
    digest = entry_hash(head.entry_hash, seq, recorded_at, kind, name, actor, case_id, text)
    row = AuditEntryRow(
        seq=seq,
        recorded_at=recorded_at,
        kind=kind,
        name=name,
        actor=actor,
        case_id=case_id,
        payload=text,
        prev_hash=head.entry_hash,
        entry_hash=digest,
    )
    session.add(row)
    head.seq = seq
    head.entry_hash = digest
    return row


def _locked_head(session: Session) -> AuditHeadRow:
    """The chain's head row, read FOR UPDATE once per transaction: a later append in the
    same transaction holds the row's lock already and finds the row as the last append left
    it (a read per append cost a flush and a SELECT each, four times per booked CAR)."""
    held = session.info.get(_HEAD)
    if held is not None and held[0] is session.get_transaction() and held[1] in session:
        return held[1]  # type: ignore[no-any-return]
    # populate_existing: a row this session held in an earlier transaction is read again,
    # not taken from the identity map as that transaction left it
    head = session.get(AuditHeadRow, 1, with_for_update=True, populate_existing=True)
    if head is None:
        head = AuditHeadRow(id=1, seq=0, entry_hash=GENESIS_HASH)
        session.add(head)
    session.info[_HEAD] = (session.get_transaction(), head)
    return head


_HEAD = "scomm.audit.chain.head"  # session.info: (the transaction, its locked head row)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def entries(session: Session, batch: int = 5000) -> Iterator[AuditEntryRow]:
    """Every entry in chain order, read a batch at a time (a log can outgrow memory)."""
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.seq > last)
            .order_by(AuditEntryRow.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session, batch: int = 5000) -> Verification:
    """Walk the chain from the start; name the first entry that was changed, removed or added."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for row in entries(session, batch):
        if row.seq != expected_seq:
            return Verification(
                False,
                expected_seq - 1,
                expected_seq,
                f"entry {expected_seq} is missing (next is {row.seq})",
            )
        if row.prev_hash != expected_prev:
            return Verification(
                False,
                row.seq - 1,
                row.seq,
                f"entry {row.seq} does not follow entry {row.seq - 1}",
            )
        digest = entry_hash(
            row.prev_hash,
            row.seq,
            row.recorded_at,
            row.kind,
            row.name,
            row.actor,
            row.case_id,
            row.payload,
        )
        if digest != row.entry_hash:
            return Verification(
                False, row.seq - 1, row.seq, f"entry {row.seq} was changed (hash mismatch)"
            )
        expected_prev = row.entry_hash
        expected_seq += 1
    count = expected_seq - 1
    head = session.get(AuditHeadRow, 1)
    head_seq = head.seq if head else 0
    if head_seq != count or (head is not None and head.entry_hash != expected_prev):
        return Verification(
            False,
            count,
            count + 1 if head_seq > count else head_seq,
            f"the chain ends at entry {count} but its head records entry {head_seq}",
        )
    return Verification(True, count)


@contextmanager
def consistent_snapshot(db: Database) -> Iterator[Session]:
    """A read-only session that sees the database as of one moment, whatever others commit
    meanwhile: the chain and its head are read in the same state, so a verify running
    beside a live flow cannot mistake an append in progress for a broken chain."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        elif connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads, so each would see the latest commit
            connection.exec_driver_sql("BEGIN")
        with Session(bind=connection) as session:
            yield session
        connection.rollback()


def verify_database(db: Database, batch: int = 5000) -> Verification:
    """`verify` in one consistent snapshot of `db` (what `scomm audit verify` runs)."""
    with consistent_snapshot(db) as session:
        return verify(session, batch)
