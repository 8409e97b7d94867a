"""A run of 100 bookings in a separate process, killed with SIGKILL at random points and
started again on the same database: every booking ends in a final state exactly once."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tampering import tampering

from scomm.audit.chain import verify
from scomm.bus.unit_of_work import UnitOfWork
from scomm.config import Settings
from scomm.domain.case import CaseState, CustodyState, is_final
from scomm.domain.clock import SystemClock
from scomm.sim.driver import PREPARED, RunRefused, RunSpec, run
from scomm.sim.synth.world import build_world
from scomm.store.db import Database
from scomm.store.models import (
    AuditEntryRow,
    BookingRow,
    CaseRow,
    ChargeRow,
    CriminalSubmissionRow,
    DetainerRow,
    EncounterRow,
    OutboxRow,
    ProcessedMessageRow,
)

BOOKINGS = 100
SEED = 3
POPULATION = 30
# The fastest settings there are: the correlation engine, two raw finger images per CAR.
RUN = ["--seed", str(SEED), "--bookings", str(BOOKINGS), "--population", str(POPULATION)]
RUN += ["--engine", "baseline", "--compression", "NONE", "--fingers", "2", "--progress"]


def start(url: str, log: Path) -> subprocess.Popen[str]:
    with log.open("a") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "scomm", "ops", "run-world", "--database", url, *RUN],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def kill_after(process: subprocess.Popen[str], lines: int, pause: float) -> tuple[int, int]:
    """Read `lines` progress lines (bookings made, messages delivered), wait `pause` seconds
    while the process carries on, then SIGKILL it; returns the lines read and the exit
    status (-9, or 0 when the run ended before it could be killed)."""
    assert process.stdout is not None
    seen = 0
    while seen < lines:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=30)
            return seen, process.returncode
        seen += 1
    time.sleep(pause)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    return seen, process.returncode


def test_killed_runs_resume_and_finish_every_booking_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.db'}"
    log = tmp_path / "runner.log"
    rng = random.Random(int(os.environ.get("SCOMM_CRASH_SEED", "20261129")))
    # The first kill lands while the process starts and loads the world (no lines yet);
    # the others after a random number of bookings and deliveries (about 1,100 in all: four
    # kills of at most 250 lines each all land before the end).
    plan = [(0, rng.uniform(0.5, 4.0))]
    plan += [(rng.randint(50, 250), rng.uniform(0.0, 0.05)) for _ in range(4)]
    killed = []
    for lines, pause in plan:
        process = start(url, log)
        seen, code = kill_after(process, lines, pause)
        assert code in (-signal.SIGKILL, 0), (code, log.read_text()[-3000:])
        killed.append((seen, code))
    mid_run = [seen for seen, code in killed if code == -signal.SIGKILL and seen > 0]
    assert len(mid_run) >= 3, killed  # killed in the middle of the run at least three times

    final = start(url, log)
    out, _ = final.communicate(timeout=600)
    assert final.returncode == 0, log.read_text()[-3000:]
    assert "run complete" in out

    db = Database(url)
    try:
        with db.sessions() as session:
            check_exactly_once(session)
    finally:
        db.dispose()


def check_exactly_once(session: Session) -> None:
    world = build_world(seed=SEED, bookings=BOOKINGS, population=POPULATION)
    assert verify(session).ok

    # Every booking was made once and its case reached a final state on both tracks; a
    # planned booking not made is one whose person an earlier case of theirs had handed to
    # ICE by then (`driver.absent`).
    tcns = session.scalars(select(BookingRow.tcn)).all()
    assert len(tcns) == len(set(tcns))
    cases = session.scalars(select(CaseRow)).all()
    assert len(cases) == len(tcns)
    made = {c.tcn: c for c in cases}
    planned = {p.booking.tcn: p for p in world.bookings}
    assert set(tcns) <= set(planned)
    for tcn in set(planned) - set(tcns):
        at, person = planned[tcn].booking.booked_at, planned[tcn].person_id
        assert any(
            p.person_id == person
            and p.booking.booked_at < at
            and p.booking.tcn in made
            and made[p.booking.tcn].custody == CustodyState.TRANSFERRED_TO_ICE.value
            for p in world.bookings
        ), tcn
    # a detainer the jail did not end in a transfer leaves its case where ICE lodged it
    settled = [
        is_final(CaseState(c.state)) or (c.state == "detainer_lodged" and c.custody == "released")
        for c in cases
    ]
    assert all(settled), Counter((c.state, c.custody) for c in cases)
    done = {CustodyState.RELEASED.value, CustodyState.TRANSFERRED_TO_ICE.value}
    assert all(c.custody in done for c in cases), Counter(c.custody for c in cases)
    # The run went through the whole flow, not just its first hops.
    assert {c.state for c in cases} >= {"rejected", "ident_no_match", "detainer_lodged"}

    # Nothing left in the outbox; every message was handled once, by its consumer.
    statuses = Counter(session.scalars(select(OutboxRow.status)))
    assert set(statuses) == {"delivered"}, statuses
    messages = statuses["delivered"]
    assert session.scalar(select(func.count()).select_from(ProcessedMessageRow)) == messages
    hops = Counter(
        session.execute(
            select(OutboxRow.case_id, OutboxRow.type, OutboxRow.sender, OutboxRow.recipient)
        ).all()
    )
    assert [hop for hop, n in hops.items() if n > 1] == []  # no message sent twice

    # The audit log holds each message, each booking and each step of a case once.
    entries = session.execute(
        select(AuditEntryRow.kind, AuditEntryRow.name, AuditEntryRow.case_id, AuditEntryRow.payload)
    ).all()
    audited = [json.loads(p)["message_id"] for kind, _, _, p in entries if kind == "message"]
    assert len(audited) == len(set(audited)) == messages
    once = Counter(
        (kind, name, case_id)
        for kind, name, case_id, _ in entries
        if kind in ("booking", "case_state", "custody", "outcome")
    )
    assert [key for key, n in once.items() if n > 1] == []
    assert sum(1 for kind, *_ in entries if kind == "booking") == len(tcns)

    # Repository records and detainers were written once per case.
    submissions = session.scalars(select(CriminalSubmissionRow.case_id)).all()
    assert len(submissions) == len(set(submissions))
    detainers = session.scalars(select(DetainerRow.case_id)).all()
    assert detainers and len(detainers) == len(set(detainers))
    ident_encounters = session.scalars(
        select(EncounterRow.detail).where(EncounterRow.kind == "interoperability_search")
    ).all()
    assert len(ident_encounters) == len(set(ident_encounters)) == hops_of(hops, "IDR_MATCH")
    arrests = session.scalar(
        select(func.count()).select_from(EncounterRow).where(EncounterRow.kind == "arrest")
    )
    charges_of_accepted = session.scalar(
        select(func.count())
        .select_from(ChargeRow)
        .join(BookingRow, BookingRow.booking_id == ChargeRow.booking_id)
        .join(CriminalSubmissionRow, CriminalSubmissionRow.case_id == BookingRow.case_id)
    )
    assert arrests == charges_of_accepted  # one arrest encounter per charge, not per delivery


def hops_of(hops: Counter[tuple[str, str, str, str]], kind: str) -> int:
    return sum(n for (_, type_, _, _), n in hops.items() if type_ == kind)


def test_a_run_resumes_only_on_its_own_world(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'small.db'}")
    spec = RunSpec.demo(seed=2, bookings=4, population=10, engine="baseline", compression="NONE")
    lines: list[str] = []
    first = run(spec, settings, report=lines.append)
    assert first.booked == 4 and not first.resumed
    assert sum(line.startswith("booked") for line in lines) == 4
    again = run(spec, settings)  # finished: a restart books nothing again
    assert again.booked == 0 and again.resumed
    with pytest.raises(RunRefused, match="another run"):
        run(RunSpec.demo(seed=3, bookings=4, population=10, engine="baseline"), settings)
    with pytest.raises(RunRefused, match="another run"):
        run(dataclasses.replace(spec, fingers=2), settings)
    db = Database(settings.database_url)
    with tampering(db) as session:
        marker = session.scalars(select(AuditEntryRow).where(AuditEntryRow.name == PREPARED)).one()
        marker.payload = marker.payload.replace('"world":"', '"world":"0')
    db.dispose()
    with pytest.raises(RunRefused, match="another world"):
        run(spec, settings)


def test_a_database_holding_something_else_is_refused(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    db = Database(settings.database_url)
    db.migrate()
    with UnitOfWork(db, SystemClock()) as uow:
        uow.record("operation", "SOMETHING_ELSE", "operator", "", {})
        uow.commit()
    db.dispose()
    with pytest.raises(RunRefused, match="neither empty nor prepared"):
        run(RunSpec.demo(seed=2, bookings=4, engine="baseline"), settings)
    with pytest.raises(RunRefused, match="unknown engine"):
        run(RunSpec.demo(seed=2, bookings=4, engine="fastest"), settings)


def test_a_database_that_is_not_scomms_is_left_as_it_was(tmp_path: Path) -> None:
    """A SQLite file with someone else's table is refused, not migrated and not replaced."""
    path = tmp_path / "payroll.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE payroll (name TEXT, amount INTEGER)")
        connection.execute("INSERT INTO payroll VALUES ('clerk', 100)")
    settings = Settings(database_url=f"sqlite:///{path}")
    with pytest.raises(RunRefused, match="neither empty nor prepared"):
        run(RunSpec.demo(seed=2, bookings=4, population=10, engine="baseline"), settings)
    with sqlite3.connect(path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
        rows = connection.execute("SELECT * FROM payroll").fetchall()
    assert tables == ["payroll"] and rows == [("clerk", 100)]


def test_a_run_records_its_engine_profile_and_honours_the_settings(tmp_path: Path) -> None:
    """ "minutiae" means the engine the settings name (SCOMM_ENGINE); a restart under another
    engine is refused instead of switching engines midway."""
    url = f"sqlite:///{tmp_path / 'engine.db'}"
    spec = RunSpec.demo(seed=2, bookings=2, population=6, engine="minutiae", compression="NONE")
    spec = dataclasses.replace(spec, fingers=2)
    result = run(spec, Settings(database_url=url, engine="correlation-baseline-v1"))
    assert result.engine == "correlation-baseline-v1"
    with pytest.raises(RunRefused, match="engine_profile"):
        run(spec, Settings(database_url=url))  # the default engine now: another run
