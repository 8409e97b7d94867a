"""The flow honours switches A-D exactly (DOMAIN.md §3.3): the same bookings run with every
switch on, then with one switch off, and only what that switch governs changes.

Whole-flow runs on SQLite; who may change a switch is checked in test_switches.py, and each
actor's reading of its switch in its handler's tests (the SIB's C in test_sib.py)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.policies import SimulatedOfficerPolicy
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.transactions import booking_transaction
from scomm.sim.synth.world import World
from scomm.store.models import (
    AuditEntryRow,
    CaseRow,
    CriminalSubmissionRow,
    EncounterRow,
    OutboxRow,
)
from scomm.system import System

if TYPE_CHECKING:
    from conftest import SessionTemplates

# An officer who asks for a detainer on every removable match, so that D has work to do.
DETAIN_ALL = SimulatedOfficerPolicy(
    name="test-detain-all", detain_levels=(1, 2, 3), level3_detain_rate=1.0
)


@dataclasses.dataclass
class Run:
    """What one run left: the outbox (type, sender, recipient, case, available_at), the cases'
    states, the audit entries (kind, name, actor, case, payload) and a few table counts."""

    hops: list[tuple[str, str, str, str, datetime]]
    states: dict[str, str]
    audit: list[tuple[str, str, str, str, dict]]
    submissions: int
    ident_encounters: int

    def count(self, type_: str, sender: str | None = None, recipient: str | None = None) -> int:
        return sum(
            1
            for t, s, r, _, _ in self.hops
            if t == type_ and sender in (None, s) and recipient in (None, r)
        )

    def outcomes(self) -> Counter[str]:
        return Counter(name for kind, name, *_ in self.audit if kind == "outcome")


def bare(world: World) -> World:
    """The world without its jurisdictions' own switch settings: each run sets its own."""
    plans = tuple(dataclasses.replace(p, settings=()) for p in world.jurisdictions)
    return dataclasses.replace(world, jurisdictions=plans)


def prepare(world: World, path: Path, templates: SessionTemplates) -> None:
    """Jurisdictions and both repositories, every ORI activated (B on) from the start."""
    config = Settings(database_url=f"sqlite:///{path}", seed=world.seed, engine=DEMO_ENGINE)
    clock = ScenarioClock(world.start - timedelta(days=1))
    system = System(config, clock)
    try:
        load_jurisdictions(system, world)
        enrol_repositories(system, world, templates=templates.of(system))
        for plan in world.jurisdictions:
            system.set_switch(
                setting(
                    plan.jurisdiction.ori,
                    Switch.B_FORWARD_TO_IDENT,
                    True,
                    world.start - timedelta(days=1),
                    SwitchOwner.FEDERAL,
                )
            )
        with system.db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        system.close()


def run(world: World, tmp: Path, name: str, settings: list[SwitchSetting]) -> Run:
    """The prepared world with `settings` added, all bookings run to the end."""
    path = tmp / f"{name}.db"
    shutil.copyfile(tmp / "prepared.db", path)
    config = Settings(
        database_url=f"sqlite:///{path}",
        seed=world.seed,
        officer_policy=DETAIN_ALL,
        engine=DEMO_ENGINE,
    )
    clock = ScenarioClock(world.start - timedelta(days=1))
    system = System(config, clock)
    try:
        world = bare(world)
        for extra in settings:
            system.set_switch(extra)
        for index, planned in enumerate(world.bookings):
            system.run_until(planned.booking.booked_at)
            system.book(planned.booking, car_of(world, index))
        system.run_until(None)
        with system.db.sessions() as session:
            return Run(
                hops=[
                    (r.type, r.sender, r.recipient, r.case_id, r.available_at)
                    for r in session.scalars(select(OutboxRow).order_by(OutboxRow.seq))
                ],
                states={c.case_id: c.state for c in session.scalars(select(CaseRow))},
                audit=[
                    (e.kind, e.name, e.actor, e.case_id, json.loads(e.payload))
                    for e in session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))
                ],
                submissions=len(session.scalars(select(CriminalSubmissionRow.tcn)).all()),
                ident_encounters=len(
                    session.scalars(
                        select(EncounterRow.id).where(
                            EncounterRow.kind == "interoperability_search"
                        )
                    ).all()
                ),
            )
    finally:
        system.close()


_CARS: dict[tuple[int, int], bytes] = {}


def car_of(world: World, index: int) -> bytes:
    """Booking `index`'s CAR, its prints made once for all the runs (the same bytes each
    time: a run made them anew, about 0.2 s a CAR)."""
    key = (world.seed, index)
    if key not in _CARS:
        _CARS[key] = booking_transaction(world, index, "NONE")
    return _CARS[key]


def setting(ori: str, switch: Switch, on: bool, start: datetime, by: SwitchOwner) -> SwitchSetting:
    return SwitchSetting(
        ori=ori, switch=switch, enabled=on, effective_from=start, changed_by=by, reason="test"
    )


def everywhere(
    world: World, switch: Switch, on: bool, by: SwitchOwner, start: datetime | None = None
) -> list[SwitchSetting]:
    at = start or world.start - timedelta(hours=1)
    return [setting(p.jurisdiction.ori, switch, on, at, by) for p in world.jurisdictions]


@pytest.fixture(scope="module")
def runs_dir(
    tmp_path_factory: pytest.TempPathFactory, world: World, enrolment_templates: SessionTemplates
) -> Path:
    folder = tmp_path_factory.mktemp("switch-runs")
    prepare(bare(world), folder / "prepared.db", enrolment_templates)
    return folder


@pytest.fixture(scope="module")
def all_on(world: World, runs_dir: Path) -> Run:
    return run(world, runs_dir, "all-on", [])


def test_with_every_switch_on_the_whole_flow_runs(all_on: Run) -> None:
    assert all_on.count("CAR", "sib", "cjis") > 0
    assert all_on.count("IDENT_SEARCH") == all_on.count("SRE", "cjis", "sib") > 0
    assert all_on.count("IAQ") > 0 and all_on.count("IDR_NO_MATCH") > 0
    assert all_on.count("IDR_IAR", "sib", "lea") == all_on.count("IAR") + all_on.count(
        "IDR_NO_MATCH"
    )
    assert all_on.count("DETAINER") > 0
    assert all_on.outcomes()["hold_honored"] > 0


def test_with_a_off_the_prints_never_reach_the_fbi(
    world: World, runs_dir: Path, all_on: Run
) -> None:
    off = run(
        world,
        runs_dir,
        "a-off",
        everywhere(world, Switch.A_PRINTS_TO_FBI, False, SwitchOwner.STATE),
    )
    assert off.count("CAR", "lea", "sib") == all_on.count("CAR", "lea", "sib")
    for kind in ("SRE", "IDENT_SEARCH", "IAQ", "IAR", "IDR_IAR", "DETAINER"):
        assert off.count(kind) == 0, kind
    assert off.count("CAR", "sib", "cjis") == 0 and off.submissions == 0
    rejected = all_on.count("ERRT", "sib", "lea")
    assert Counter(off.states.values()) == Counter(
        {"state_only": len(off.states) - rejected, "rejected": rejected}
    )


def test_with_b_off_nothing_reaches_ident(world: World, runs_dir: Path, all_on: Run) -> None:
    off = run(
        world,
        runs_dir,
        "b-off",
        everywhere(world, Switch.B_FORWARD_TO_IDENT, False, SwitchOwner.FEDERAL),
    )
    assert off.count("SRE", "cjis", "sib") == all_on.count("SRE", "cjis", "sib") > 0
    for kind in (
        "IDENT_SEARCH",
        "IDR_MATCH",
        "IDR_NO_MATCH",
        "IAQ",
        "IAR",
        "MATCH_NOTIFICATION",
        "DETAINER",
    ):
        assert off.count(kind) == 0, kind
    assert off.ident_encounters == 0 < all_on.ident_encounters
    assert not any(actor in ("ident", "lesc", "ero") for _, _, actor, _, _ in off.audit)
    assert set(off.states.values()) <= {"not_forwarded", "rejected"}


def test_with_c_off_the_jail_learns_nothing_while_ice_does(
    world: World, runs_dir: Path, all_on: Run
) -> None:
    """C off from the middle of the run: IDENT and IAR results reach the jail before that
    date only; ICE (LESC, the field office) gets every one of them."""
    middle = world.bookings[len(world.bookings) // 2].booking.booked_at
    off = run(
        world,
        runs_dir,
        "c-off",
        everywhere(world, Switch.C_RESULTS_TO_JAIL, False, SwitchOwner.JURISDICTION, middle),
    )
    for kind in ("IDENT_SEARCH", "IAQ", "IAR", "MATCH_NOTIFICATION", "DETAINER"):
        assert off.count(kind) == all_on.count(kind), kind
    answered = {
        case: at for t, _, r, case, at in off.hops if r == "cjis" and t in ("IAR", "IDR_NO_MATCH")
    }
    told = {case for t, s, r, case, _ in off.hops if (t, s, r) == ("IDR_IAR", "sib", "lea")}
    assert told == {case for case, at in answered.items() if at < middle}
    assert 0 < len(told) < len(answered)
    received = {
        case
        for kind, name, actor, case, _ in off.audit
        if (kind, name, actor) == ("received", "IDR_IAR", "lea")
    }
    assert received == told


def test_with_d_off_the_jail_does_not_hold_on_detainers(
    world: World, runs_dir: Path, all_on: Run
) -> None:
    off = run(
        world,
        runs_dir,
        "d-off",
        everywhere(world, Switch.D_HONOUR_DETAINERS, False, SwitchOwner.JURISDICTION),
    )
    assert off.count("DETAINER") == all_on.count("DETAINER") > 0
    responses = [
        p for kind, name, _, _, p in off.audit if (kind, name) == ("message", "DETAINER_RESPONSE")
    ]
    assert responses and not any(p["body"]["honoured"] for p in responses)
    held_when_on = {
        case
        for kind, name, _, case, p in all_on.audit
        if (kind, name) == ("message", "DETAINER_RESPONSE") and p["body"]["honoured"]
    }
    reasons = {
        case: p["body"]["reason"]
        for kind, name, _, case, p in off.audit
        if (kind, name) == ("message", "DETAINER_RESPONSE")
    }
    assert held_when_on and all("switch D off" in reasons[case] for case in held_when_on)
    assert (
        off.count("HOLD_STARTED") == off.count("CUSTODY_PICKUP") == 0 < all_on.count("HOLD_STARTED")
    )
    assert off.outcomes()["hold_honored"] == 0
    assert off.outcomes()["hold_declined"] == off.count("DETAINER")
