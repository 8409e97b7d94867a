"""Property: a damaged CAR booked at a jail ends in an ERRT (nothing kept) or is accepted
whole; no exception escapes a handler (no retry, no dead letter), whatever the bytes."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
from car_damage import damaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.records import Booking
from scomm.nist import FingerImage, decode_tenprint, encode_tenprint, wire
from scomm.sim.synth.enrolment import load_jurisdictions
from scomm.sim.synth.fingers import master_finger
from scomm.sim.synth.transactions import submission
from scomm.sim.synth.world import World, build_world
from scomm.store.models import (
    AuditEntryRow,
    CaseRow,
    CriminalSubmissionRow,
    EncounterRow,
    FingerTemplateRow,
    OutboxRow,
    SubjectRow,
)
from scomm.system import System

KEPT = (CriminalSubmissionRow, SubjectRow, EncounterRow, FingerTemplateRow)
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=5, bookings=4, population=20)


@pytest.fixture(scope="module")
def system(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The demo's own engine and flow; the repositories are empty (nothing here should be
    identified, and searching an empty gallery is the fastest search)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('property') / 'scomm.db'}"
    running = System(
        Settings(database_url=url, seed=world.seed, engine=DEMO_ENGINE), ScenarioClock(world.start)
    )
    load_jurisdictions(running, world)
    yield running
    running.close()


FINGERS = tuple(FingerImage(position, master_finger(position)) for position in (2, 7))


def next_booking(system: System, world: World) -> tuple[Booking, bytes]:
    """A fresh booking (its own TCN) one hour from now, and its valid CAR (two raw images)."""
    planned = world.bookings[0]
    tcn = f"{planned.booking.ori}-P{next(_serial):06d}"
    at = system.clock.now() + timedelta(hours=1)
    booking = dataclasses.replace(
        planned.booking,
        booking_id=f"BK-{tcn}",
        tcn=tcn,
        booked_at=at,
        release_due_at=at + timedelta(hours=6),
    )
    person = world.people[planned.person_id]
    sub = submission(booking, person, 0, world.sib_ori(booking.ori), fingers=FINGERS)
    return booking, encode_tenprint(sub, compression="NONE")


def counts(system: System) -> dict[str, int]:
    with system.db.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in KEPT
        }


def book_and_run(system: System, booking: Booking, raw: bytes) -> str:
    system.run_until(booking.booked_at)
    case_id = system.book(booking, raw).case_id
    system.run_until(None)
    return case_id


def check_answered(system: System, case_id: str, before: dict[str, int], kind: str) -> None:
    with system.db.sessions() as session:
        case = session.get(CaseRow, case_id)
        rows = session.scalars(select(OutboxRow).where(OutboxRow.case_id == case_id)).all()
        outcomes = session.scalars(
            select(AuditEntryRow.name).where(
                AuditEntryRow.case_id == case_id, AuditEntryRow.kind == "outcome"
            )
        ).all()
        submissions = session.scalar(
            select(func.count())
            .select_from(CriminalSubmissionRow)
            .where(CriminalSubmissionRow.case_id == case_id)
        )
    assert case is not None
    failed = [(r.type, r.recipient, r.status, r.last_error) for r in rows if r.last_error]
    assert failed == [], (kind, failed)  # no exception escaped a handler
    assert {r.status for r in rows} == {"delivered"}, kind
    hops = {(r.type, r.sender, r.recipient) for r in rows}
    if case.state == "rejected":
        errt = next(r for r in rows if (r.type, r.recipient) == ("ERRT", "lea"))
        body = json.loads(errt.payload)
        assert body["messages"] and all(" " <= ch <= "~" for m in body["messages"] for ch in m)
        assert "rejected" in outcomes
        assert ("SRE", "sib", "lea") not in hops and submissions == 0
        assert counts(system) == before, kind  # no partial record of the transaction
    else:
        assert case.state not in ("booked",), kind
        assert ("SRE", "sib", "lea") in hops and submissions == 1, (kind, case.state)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_a_damaged_car_gets_an_errt_or_goes_through_whole(
    system: System, world: World, data: st.DataObject
) -> None:
    booking, valid = next_booking(system, world)
    kind, raw = data.draw(damaged(valid))
    before = counts(system)
    case_id = book_and_run(system, booking, raw)
    check_answered(system, case_id, before, kind)


def test_the_undamaged_car_goes_through(system: System, world: World) -> None:
    booking, valid = next_booking(system, world)
    before = counts(system)
    case_id = book_and_run(system, booking, valid)
    check_answered(system, case_id, before, "valid")
    assert counts(system)[CriminalSubmissionRow.__tablename__] == before["criminal_submissions"] + 1


def test_an_oversized_car_is_refused_naming_the_limit(
    system: System, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, valid = next_booking(system, world)
    monkeypatch.setattr(wire, "MAX_TRANSACTION_BYTES", len(valid) - 1)
    before = counts(system)
    case_id = book_and_run(system, booking, valid)
    check_answered(system, case_id, before, "oversized")
    with system.db.sessions() as session:
        errt = session.scalar(
            select(OutboxRow).where(OutboxRow.case_id == case_id, OutboxRow.type == "ERRT")
        )
    assert errt is not None
    assert f"over the limit of {len(valid) - 1} bytes" in " ".join(
        json.loads(errt.payload)["messages"]
    )


def test_a_car_whose_tcn_is_not_the_bookings_is_refused(system: System, world: World) -> None:
    """The SIB checks 1.009 TCN against the booking it came with: a CAR carrying another
    booking's TCN would otherwise be filed under it."""
    first, valid = next_booking(system, world)
    book_and_run(system, first, valid)
    second, _ = next_booking(system, world)
    before = counts(system)
    case_id = book_and_run(system, second, valid)  # the first booking's CAR again
    check_answered(system, case_id, before, "tcn")
    with system.db.sessions() as session:
        assert session.get(CaseRow, case_id).state == "rejected"  # type: ignore[union-attr]


@st.composite
def odd_fingers(draw: st.DrawFn) -> tuple[FingerImage, ...]:
    """Well-formed Type-14 records holding images no extractor can use well: tiny, thin,
    flat, noise, or a resolution far from 500 ppi."""
    fingers = []
    for position in draw(st.lists(st.integers(1, 10), min_size=1, max_size=3, unique=True)):
        height, width = draw(st.integers(1, 80)), draw(st.integers(1, 80))
        fill = draw(st.sampled_from(["flat", "noise", "stripes"]))
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        if fill == "flat":
            pixels = np.full((height, width), draw(st.integers(0, 255)), np.uint8)
        elif fill == "noise":
            pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
        else:
            pixels = ((np.arange(width) // 3 % 2) * 255 * np.ones((height, 1))).astype(np.uint8)
        ppi = draw(st.sampled_from([250, 500, 1000]))
        fingers.append(FingerImage(position, pixels, ppi=ppi))
    return tuple(fingers)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fingers=odd_fingers(), compression=st.sampled_from(["NONE", "PNG"]))
def test_a_car_with_unusable_images_gets_an_errt_or_goes_through_whole(
    system: System, world: World, fingers: tuple[FingerImage, ...], compression: str
) -> None:
    booking, valid = next_booking(system, world)
    sub = decode_tenprint(valid)
    raw = encode_tenprint(dataclasses.replace(sub, fingers=fingers), compression=compression)
    before = counts(system)
    case_id = book_and_run(system, booking, raw)
    check_answered(system, case_id, before, f"images {[f.pixels.shape for f in fingers]}")
