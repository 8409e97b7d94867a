"""In-process crashes inside a handler's transaction and right after its commit, then a
replay of the whole outbox: the run ends as a clean one, with no duplicate.

(`test_crash_kill.py` kills a real process instead.)"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from scomm.bus.dispatcher import SimulatedCrash
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.reports.summary import summarise
from scomm.simulation import run_world
from scomm.store.models import CriminalSubmissionRow, OutboxRow, SubjectRow
from scomm.synth.world import World
from scomm.system import System


def test_crashes_and_full_replay_change_nothing(small_world: World, tmp_path: Path) -> None:
    clean = run_and_summarise(small_world, f"sqlite:///{tmp_path / 'a.db'}")
    crashed_ids: set[str] = set()

    def crash_every_ninth(point: str, row: OutboxRow) -> None:
        # Before the commit on odd rows (the effects roll back), after it on even ones.
        where = "before_commit" if row.seq % 2 else "after_handle"
        if point == where and row.seq % 9 == 0 and row.message_id not in crashed_ids:
            crashed_ids.add(row.message_id)
            raise SimulatedCrash()

    url = f"sqlite:///{tmp_path / 'b.db'}"
    crashed = run_and_summarise(small_world, url, fault=crash_every_ninth, max_restarts=100)
    assert len(crashed_ids) >= 5
    assert crashed["messages"] == clean["messages"]
    assert crashed["outcomes"] == clean["outcomes"]
    assert crashed["decisions"] == clean["decisions"]

    # Replay the whole outbox, as an operator might after losing the delivery marks.
    system = System(
        Settings(database_url=url, seed=small_world.seed),
        ScenarioClock(small_world.end + (small_world.end - small_world.start)),
    )
    with system.db.sessions() as session, session.begin():
        rows_before = session.scalar(select(func.count()).select_from(OutboxRow))
        subjects_before = session.scalar(select(func.count()).select_from(SubjectRow))
        session.execute(update(OutboxRow).values(status="pending"))
    system.run_until(None)
    with system.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == rows_before
        assert session.scalar(select(func.count()).select_from(SubjectRow)) == subjects_before
        submissions = session.scalars(select(CriminalSubmissionRow.case_id)).all()
        assert len(submissions) == len(set(submissions))
        replayed = summarise(session).as_dict()
    system.close()
    assert replayed["messages"] == clean["messages"]
    assert replayed["outcomes"] == clean["outcomes"]


def run_and_summarise(world: World, url: str, **options: object) -> dict:
    settings = Settings(database_url=url, seed=world.seed)
    run_world(world, settings, **options)  # type: ignore[arg-type]
    system = System(settings, ScenarioClock(world.end))
    with system.db.sessions() as session:
        summary = summarise(session).as_dict()
    system.close()
    return summary
