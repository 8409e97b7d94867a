"""A handler that fails midway leaves no partial state: its transaction rolls back and the
message is retried (whole flow on SQLite). The ERRT for a malformed CAR is the SIB's and
CJIS's decision, checked in test_sib.py and test_cjis.py, and on the whole flow by
tests/property/test_car_handler.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from scomm.domain.case import CaseState
from scomm.sim.synth.transactions import transaction_bytes
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import booking_capture
from scomm.store.models import (
    CaseRow,
    CriminalSubmissionRow,
    EncounterRow,
    FingerTemplateRow,
    OutboxRow,
    SubjectRow,
)
from scomm.system import System


def counts(system: System) -> dict[str, int]:
    with system.db.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (CriminalSubmissionRow, SubjectRow, EncounterRow, FingerTemplateRow)
        }


def book(system: System, world: World, defect: str | None) -> str:
    planned = next(p for p in world.bookings if p.defect is None)
    raw = transaction_bytes(
        planned.booking,
        world.people[planned.person_id],
        booking_capture(0),
        world.sib_ori(planned.booking.ori),
        defect,
    )
    system.run_until(planned.booking.booked_at)
    case_id = system.book(planned.booking, raw).case_id
    system.run_until(
        planned.booking.booked_at + (planned.booking.release_due_at - planned.booking.booked_at) / 2
    )
    return case_id


def test_a_handler_that_fails_midway_leaves_nothing_behind(
    system: System, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CJIS dies after it has started writing: the transaction rolls back, the CAR is retried."""
    before = counts(system)
    calls: list[int] = []
    real_search: Callable = system.ctx.criminal_gallery.search

    def failing_search(*args: object, **kwargs: object) -> object:
        calls.append(1)
        raise RuntimeError("repository unavailable")

    monkeypatch.setattr(system.ctx.criminal_gallery, "search", failing_search)
    case_id = book(system, world, None)
    assert calls, "the criminal search never ran"
    with system.db.sessions() as session:
        case = session.get(CaseRow, case_id)
        car = session.scalar(
            select(OutboxRow).where(
                OutboxRow.case_id == case_id, OutboxRow.type == "CAR", OutboxRow.recipient == "cjis"
            )
        )
    assert case is not None and case.state == CaseState.BOOKED.value
    assert car is not None and car.status in ("pending", "dead") and car.attempts >= 1
    assert "repository unavailable" in (car.last_error or "")
    assert counts(system) == before
    # Once the repository is back, the retried CAR goes through exactly once.
    monkeypatch.setattr(system.ctx.criminal_gallery, "search", real_search)
    with system.db.sessions() as session, session.begin():
        stored = session.get(OutboxRow, car.seq)
        assert stored is not None
        stored.status, stored.attempts = "pending", 0
    system.run_until(None)
    with system.db.sessions() as session:
        submissions = session.scalar(
            select(func.count())
            .select_from(CriminalSubmissionRow)
            .where(CriminalSubmissionRow.case_id == case_id)
        )
    assert submissions == 1
