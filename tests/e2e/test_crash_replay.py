"""In-process crashes inside a handler's transaction and right after its commit, then a
replay of the whole outbox: the run ends exactly as a clean one, with no duplicate.

(`test_crash_kill.py` kills a real process instead.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from scomm.bus.dispatcher import FaultHook, SimulatedCrash
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.reports.summary import summarise
from scomm.sim.driver import RunSpec, run
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, CriminalSubmissionRow, OutboxRow, SubjectRow
from scomm.system import System, baseline_context

# The fast settings: the correlation engine, two raw finger images per CAR.
SPEC = RunSpec.demo(
    seed=3, bookings=60, population=40, engine="baseline", compression="NONE", fingers=2
)
COMPARED = ("messages", "hops", "outcomes", "decisions", "final_states", "levels")


def test_crashes_and_full_replay_change_nothing(
    tmp_path: Path, prepared_copies: Callable[..., None]
) -> None:
    # Both runs start from the same prepared database (enrolling the world's people is
    # about half of a run): the clean one is never crashed, the other one is.
    prepared_copies(SPEC, tmp_path / "a.db", tmp_path / "b.db")
    clean = run_and_summarise(f"sqlite:///{tmp_path / 'a.db'}")
    crashed_ids: set[str] = set()

    def crash_every_ninth(point: str, row: OutboxRow) -> None:
        # Before the commit on odd rows (the effects roll back), after it on even ones.
        where = "before_commit" if row.seq % 2 else "after_handle"
        if point == where and row.seq % 9 == 0 and row.message_id not in crashed_ids:
            crashed_ids.add(row.message_id)
            raise SimulatedCrash()

    url = f"sqlite:///{tmp_path / 'b.db'}"
    crashed = run_and_summarise(url, fault=crash_every_ninth)
    assert len(crashed_ids) >= 10
    for key in COMPARED:
        assert crashed[key] == clean[key], key

    # Replay the whole outbox, as an operator might after losing the delivery marks.
    world = SPEC.world()
    settings = Settings(database_url=url, seed=SPEC.scenario.seed)
    system = System(
        settings,
        ScenarioClock(world.end + (world.end - world.start) + timedelta(days=1)),
        context=baseline_context(settings, us_federal_holiday()),
    )
    with system.db.sessions() as session, session.begin():
        rows_before = session.scalar(select(func.count()).select_from(OutboxRow))
        subjects_before = session.scalar(select(func.count()).select_from(SubjectRow))
        audit_before = session.scalar(select(func.count()).select_from(AuditEntryRow))
        session.execute(update(OutboxRow).values(status="pending", attempts=0))
    assert system.run_until(None) == rows_before  # every message delivered again...
    with system.db.sessions() as session:
        # ... and none had a second effect: no new message, record or audit entry.
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == rows_before
        assert session.scalar(select(func.count()).select_from(SubjectRow)) == subjects_before
        assert session.scalar(select(func.count()).select_from(AuditEntryRow)) == audit_before
        submissions = session.scalars(select(CriminalSubmissionRow.case_id)).all()
        assert len(submissions) == len(set(submissions))
        replayed = summarise(session).as_dict()
    system.close()
    for key in COMPARED:
        assert replayed[key] == clean[key], key


def run_and_summarise(url: str, fault: FaultHook | None = None) -> dict:
    """Run SPEC to the end, starting again (in this process) after every SimulatedCrash."""
    for _ in range(500):
        try:
            run(SPEC, Settings(database_url=url), fault=fault)
            break
        except SimulatedCrash:
            continue
    else:
        raise AssertionError("the run never finished")
    db = Database(url)
    try:
        with db.sessions() as session:
            return summarise(session).as_dict()
    finally:
        db.dispose()
