"""A run with a signing key: killed and started again, it signs each start ("open" on the head
it found), its cadence and its end ("closed"), and the chain verifies against the log; an
entry appended after the run ended is a forgery."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scomm.audit.chain import append
from scomm.audit.checkpoints import (
    CLOSED,
    OPEN,
    generate_keys,
    load_public_key,
    read_log,
    verify_anchored,
)
from scomm.bus.dispatcher import SimulatedCrash
from scomm.config import Settings
from scomm.sim.driver import RunSpec, run
from scomm.store.db import Database
from scomm.store.models import OutboxRow

SPEC = RunSpec.demo(5, 3, population=4, engine="baseline", compression="NONE", fingers=1)


def test_a_crashed_and_resumed_run_verifies_against_its_checkpoints(tmp_path: Path) -> None:
    private, public = generate_keys(tmp_path / "keys")
    log = tmp_path / "checkpoints.jsonl"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'run.db'}",
        audit_key=private,
        checkpoint_log=log,
        checkpoint_every=10,
    )
    crashed: list[int] = []

    def crash_twice(point: str, row: OutboxRow) -> None:
        if point == "after_handle" and row.seq in (5, 12) and row.seq not in crashed:
            crashed.append(row.seq)
            raise SimulatedCrash()

    for _ in range(5):
        try:
            run(SPEC, settings, fault=crash_twice)
            break
        except SimulatedCrash:
            continue
    assert crashed == [5, 12]
    lines = read_log(log)
    assert [c.state for c in lines].count(CLOSED) == 3  # three starts, each closed
    assert {c.writer for c in lines if c.state == OPEN} == {c.writer for c in lines}
    assert any(b.seq - a.seq >= 10 for a, b in zip(lines, lines[1:], strict=False))

    db = Database(settings.database_url)
    try:
        chain, anchored = verify_anchored(db, log, load_public_key(public))
        assert chain.ok and anchored is not None and anchored.ok, anchored
        assert anchored.last is not None and anchored.last.state == CLOSED
        assert anchored.last.seq == chain.entries and anchored.unanchored == 0
        with db.sessions() as session:  # the owner appends after the run has ended
            append(
                session,
                recorded_at=datetime(2011, 1, 1),
                kind="outcome",
                name="IDR_MATCH",
                actor="ident",
                case_id="nobody",
                payload={},
            )
            session.commit()
        _, forged = verify_anchored(db, log, load_public_key(public))
        assert forged is not None and not forged.ok
        assert forged.first_bad_seq == chain.entries + 1
    finally:
        db.dispose()
