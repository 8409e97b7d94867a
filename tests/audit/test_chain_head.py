"""The chain's head is read FOR UPDATE once per transaction (`chain._locked_head`): later
appends in the same transaction use the row they hold, and the next transaction reads it
again, so an append made by another session in between is followed, not overwritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event

from scomm.audit.chain import append, verify_database
from scomm.store.db import Database

AT = datetime(2026, 12, 7, 9, 0)


def _append(session: Any, n: int) -> int:
    return append(
        session, recorded_at=AT, kind="message", name="CAR", actor="lea", case_id=f"c{n}",
        payload={"n": n},
    ).seq  # fmt: skip


def test_one_read_of_the_head_per_transaction_and_a_fresh_one_after(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_head" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.sessions() as mine:
            assert [_append(mine, n) for n in range(3)] == [1, 2, 3]
            assert len(reads) == 1  # was one per append
            mine.commit()
            with db.sessions() as other:  # another writer, between two of mine
                assert _append(other, 3) == 4
                other.commit()
            assert _append(mine, 4) == 5  # a new transaction: the head read again
            assert len(reads) == 3
            mine.commit()
        assert verify_database(db).ok and verify_database(db).entries == 5
    finally:
        db.dispose()


def test_a_rolled_back_transaction_leaves_no_head_behind(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    try:
        with db.sessions() as session:
            _append(session, 0)
            session.rollback()  # nothing appended
            assert _append(session, 1) == 1  # not 2: the head was read again
            session.commit()
        assert verify_database(db).ok and verify_database(db).entries == 1
    finally:
        db.dispose()
