"""The driver's whole timeline across restarts: a run that crashes again and again, and is
started again each time, books, disposes, changes policies and records opt-out requests
exactly as a run never interrupted, and plays every event of its timeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from scomm.audit.chain import verify
from scomm.bus.dispatcher import FaultHook, SimulatedCrash
from scomm.config import Settings
from scomm.reports.summary import summarise
from scomm.sim.driver import RunSpec, run
from scomm.sim.driver_timeline import OptOutEvent, PolicyEvent, timeline
from scomm.sim.synth.scenario import parse_scenario
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, JurisdictionRow, OutboxRow

# Two counties; a policy change back and forth and two opt-out requests inside the window,
# so that a resumed run must tell each of them from the others.
SCENARIO = """
schema: 1
scenario: back-and-forth
seed: 7
bookings: 16
window: {start: 2010-01-01, end: 2010-04-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - ori: TX0010000
        name: One County
        share: 0.7
        activation: 2009-01-01
        policy_changes:
          - {from: 2010-01-20, policy: honor_none, reason: county ordinance}
          - {from: 2010-02-20, policy: honor_all, reason: ordinance repealed}
      - ori: TX0020000
        name: Two County
        share: 0.3
        activation: 2009-06-01
        opt_out_requests:
          - {at: 2010-01-15, switch: B, granted: false, reason: board vote}
          - {at: 2010-03-01, switch: B, granted: false, reason: board vote}
population:
  people_per_booking: 1.5
  minimum_people: 12
  citizenship_paths:
    native_citizen: {share: 0.3}
    overstay: {share: 0.7, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
dispositions:
  shares: {convicted: 0.5, dismissed: 0.5}
  delay_days: {median: 20, min: 7, max: 40}
"""
SPEC = RunSpec(parse_scenario(SCENARIO, "test"), engine="baseline", compression="NONE", fingers=2)
COMPARED = ("messages", "hops", "outcomes", "decisions", "final_states", "levels", "per_month")


def test_the_timeline_holds_every_kind_of_event() -> None:
    events = timeline(SPEC.world())
    assert sum(isinstance(e.happening, PolicyEvent) for e in events) == 2
    assert sum(isinstance(e.happening, OptOutEvent) for e in events) == 2
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_a_run_crashed_many_times_ends_as_a_clean_one(
    tmp_path: Path, prepared_copies: Callable[..., None]
) -> None:
    # both start from one prepared database (the people enrolled once): one is crashed
    prepared_copies(SPEC, tmp_path / "clean.db", tmp_path / "crashed.db")
    clean = finish(tmp_path / "clean.db")
    crashed_ids: set[str] = set()

    def crash_every_third(point: str, row: OutboxRow) -> None:
        # before the commit on odd rows (its effects roll back), after it on even ones
        where = "before_commit" if row.seq % 2 else "after_handle"
        if point == where and row.seq % 3 == 0 and row.message_id not in crashed_ids:
            crashed_ids.add(row.message_id)
            raise SimulatedCrash()

    crashed = finish(tmp_path / "crashed.db", crash_every_third)
    assert len(crashed_ids) >= 20
    for key in COMPARED:
        assert crashed["summary"][key] == clean["summary"][key], key
    assert crashed["summary"]["messages"]["DISPOSITION"] == 16
    for run_of in (clean, crashed):
        assert run_of["audited"] == {"DETAINER_POLICY": 2, "OPT_OUT_REQUEST": 2}
        assert run_of["policy"] == "honor_all"
        assert run_of["verified"]
    assert crashed["changes"] == clean["changes"]


def finish(path: Path, fault: FaultHook | None = None) -> dict[str, object]:
    """Run SPEC to the end on `path`, starting it again after every SimulatedCrash."""
    settings = Settings(database_url=f"sqlite:///{path}")
    for _ in range(500):
        try:
            run(SPEC, settings, fault=fault)
            break
        except SimulatedCrash:
            continue
    else:
        raise AssertionError("the run never finished")
    db = Database(settings.database_url)
    try:
        with db.sessions() as session:
            names = list(session.scalars(select(AuditEntryRow.name)))
            changes = [
                json.loads(p)
                for p in session.scalars(
                    select(AuditEntryRow.payload).where(AuditEntryRow.name == "DETAINER_POLICY")
                )
            ]
            policy = session.get(JurisdictionRow, "TX0010000")
            return {
                "summary": summarise(session).as_dict(),
                "verified": verify(session).ok,
                "audited": {n: names.count(n) for n in ("DETAINER_POLICY", "OPT_OUT_REQUEST")},
                "policy": policy.detainer_policy if policy else None,
                "changes": changes,
            }
    finally:
        db.dispose()
