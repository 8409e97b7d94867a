"""The repositories keep what they are given, in SQL (SQLite; PostgreSQL where CI provides
one) as in the in-memory fakes the handler tests use: one contract, checked on each."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fakes import ORI, FakeUnitOfWork, StubTemplate, jurisdiction
from sqlalchemy import text

from scomm.bus.unit_of_work import AbstractUnitOfWork, UnitOfWork
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import BenefitKind, BenefitRecord, RecordedStatus, Removability
from scomm.domain.policies import DetainerPolicy, OfficerAction
from scomm.domain.records import (
    Booking,
    Case,
    Charge,
    CriminalSubmission,
    DetainerRecord,
    DetainerStatus,
    Encounter,
    EncounterKind,
    OfficerDecisionRecord,
    Repository,
    Subject,
)
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.services.switches import set_switch
from scomm.store.db import Database

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")
NOW = datetime(2011, 6, 1, 9)

Open = Callable[[], AbstractContextManager[AbstractUnitOfWork]]


@pytest.fixture(params=["fake", "sqlite", "postgresql"])
def open_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Open]:
    """Opens a unit of work on one store; each `with` is a new transaction (the fake's
    records simply stay)."""
    clock = ScenarioClock(NOW)
    if request.param == "fake":
        fake = FakeUnitOfWork(clock)
        yield lambda: nullcontext(fake)
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scomm.db'}"
    elif POSTGRES:
        url = POSTGRES
        scratch = Database(url)
        with scratch.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        scratch.dispose()
    else:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    db = Database(url)
    db.migrate()
    yield lambda: UnitOfWork(db, clock)
    db.dispose()


def a_case(case_id: str = "case-1") -> Case:
    return Case(case_id, f"T-{case_id}", ORI, CaseState.BOOKED, CustodyState.IN_CUSTODY, NOW, NOW)


def test_a_case_changed_by_a_handler_is_saved_on_commit(open_uow: Open) -> None:
    with open_uow() as uow:
        uow.cases.add(a_case())
        uow.commit()
    with open_uow() as uow:
        found = uow.cases.get("case-1")
        assert found == a_case() and uow.cases.get("case-2") is None
        assert uow.cases.get("case-1") is found  # one record per case in a unit of work
        found.state = CaseState.CRIMINAL_SEARCHED
        found.custody = CustodyState.HELD_ON_DETAINER
        found.removability = Removability.REMOVABLE
        found.fbi_number, found.level, found.notify_on_release = "FBI-1", 2, True
        uow.commit()
    with open_uow() as uow:
        saved = uow.cases.get("case-1")
        assert saved is not None
        assert (saved.state, saved.custody) == (
            CaseState.CRIMINAL_SEARCHED,
            CustodyState.HELD_ON_DETAINER,
        )
        assert saved.removability is Removability.REMOVABLE
        assert (saved.fbi_number, saved.level, saved.notify_on_release) == ("FBI-1", 2, True)


def test_a_detainers_new_status_is_seen_at_once_and_saved(open_uow: Open) -> None:
    def detainer(detainer_id: str, hours: int) -> DetainerRecord:
        at = NOW + timedelta(hours=hours)
        return DetainerRecord(detainer_id, "case-1", "I-247", at, "officer", DetainerStatus.LODGED)

    with open_uow() as uow:
        uow.cases.add(a_case())
        uow.detainers.add(detainer("det-b", 2))
        uow.detainers.add(detainer("det-a", 1))
        uow.commit()
    with open_uow() as uow:
        assert [d.detainer_id for d in uow.detainers.for_case("case-1")] == ["det-a", "det-b"]
        assert uow.detainers.for_case("case-2") == []
        first = uow.detainers.get("det-a")
        assert first is not None and first.status is DetainerStatus.LODGED
        first.status, first.honoured = DetainerStatus.HONOURED, True
        assert [d.status for d in uow.detainers.for_case("case-1")] == [
            DetainerStatus.HONOURED,
            DetainerStatus.LODGED,
        ]
        uow.commit()
    with open_uow() as uow:
        saved = uow.detainers.get("det-a")
        assert saved is not None and saved.status is DetainerStatus.HONOURED and saved.honoured


def test_a_repositorys_identities_keep_their_record_encounters_and_templates(
    open_uow: Open,
) -> None:
    subject = Subject(
        Repository.IMMIGRATION,
        "ID-1",
        "DOE,JANE",
        date(1980, 1, 1),
        "F",
        "MM",
        NOW,
        a_number="A12345678",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
    )
    with open_uow() as uow:
        immigration = uow.identities(Repository.IMMIGRATION)
        immigration.enrol(subject, {2: StubTemplate(2), 7: StubTemplate(7)}, "stub-engine")
        for at, kind in (
            (NOW, EncounterKind.INTEROPERABILITY_SEARCH),
            (NOW - timedelta(days=9), EncounterKind.IMMIGRATION_ENCOUNTER),
            (NOW, EncounterKind.IMMIGRATION_ENCOUNTER),
        ):
            immigration.add_encounter(Encounter(Repository.IMMIGRATION, "ID-1", at, kind, "d"))
        uow.commit()
    with open_uow() as uow:
        immigration = uow.identities(Repository.IMMIGRATION)
        assert immigration.subject("ID-1") == subject
        assert uow.identities(Repository.CRIMINAL).subject("ID-1") is None
        assert immigration.template("ID-1", 7) == b"stub-7"
        assert immigration.template("ID-1", 3) is None
        assert [e.kind for e in immigration.encounters("ID-1")] == [
            EncounterKind.IMMIGRATION_ENCOUNTER,
            EncounterKind.INTEROPERABILITY_SEARCH,  # same moment: in the order recorded
            EncounterKind.IMMIGRATION_ENCOUNTER,
        ]
        assert uow.identities(Repository.CRIMINAL).encounters("ID-1") == []


def test_the_jail_cjis_ero_and_lesc_records(open_uow: Open) -> None:
    booking = Booking(
        "BK-1", "T-1", ORI, NOW, NOW + timedelta(days=1), "DOE,JANE", date(1980, 1, 1), "F", "MM",
        (Charge("BURGLARY", date(2011, 5, 31)), Charge("TRESPASS", date(2011, 5, 31))),
    )  # fmt: skip
    submission = CriminalSubmission(
        "T-1", "case-1", ORI, NOW, "DOE,JANE", date(1980, 1, 1), "F", "MM", "2299", 1.0, "F1", True
    )
    decision = OfficerDecisionRecord(
        "case-1", NOW, OfficerAction.LODGE_DETAINER, "level 1", "officer", "decision-1"
    )
    benefits = [
        BenefitRecord("A1", BenefitKind.NATURALIZATION, datetime(2009, 1, 1), "N400"),
        BenefitRecord("A1", BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2005, 1, 1)),
        BenefitRecord("A2", BenefitKind.NATURALIZATION, datetime(2001, 1, 1)),
    ]
    with open_uow() as uow:
        uow.jurisdictions.add(jurisdiction())
        uow.cases.add(a_case())
        uow.bookings.add(booking, "case-1")
        uow.submissions.add(submission)
        uow.officer_decisions.add(decision)
        for benefit in benefits:
            uow.benefits.add(benefit)
        uow.commit()
    with open_uow() as uow:
        assert uow.jurisdictions.get(ORI) == jurisdiction() and uow.jurisdictions.oris() == [ORI]
        assert uow.jurisdictions.get("NV0010000") is None
        assert uow.bookings.tcn_used("T-1") and not uow.bookings.tcn_used("T-2")
        assert uow.submissions.get("T-1") == submission and uow.submissions.get("T-2") is None
        assert uow.officer_decisions.find("case-1", "decision-1") == decision
        assert uow.officer_decisions.find("case-1", "decision-2") is None
        assert uow.benefits.for_a_number("A1") == [benefits[1], benefits[0]]


def test_switch_settings_are_kept_in_the_order_recorded(open_uow: Open) -> None:
    def setting(ori: str, switch: Switch, on: bool) -> SwitchSetting:
        return SwitchSetting(ori, switch, on, NOW, SwitchOwner.JURISDICTION, "why")

    with open_uow() as uow:  # through set_switch: a setting counts with its audit entry
        ids = [
            set_switch(uow, setting(ORI, Switch.D_HONOUR_DETAINERS, False)),
            set_switch(uow, setting("NV0010000", Switch.C_RESULTS_TO_JAIL, False)),
            set_switch(uow, setting(ORI, Switch.D_HONOUR_DETAINERS, True)),
        ]
        uow.commit()
    assert ids == sorted(ids) and len(set(ids)) == 3
    with open_uow() as uow:
        mine = uow.switches.history(ORI)
        assert [c.setting.enabled for c in mine] == [False, True]
        assert [c.setting_id for c in mine] == [ids[0], ids[2]]
        assert mine[0].setting == setting(ORI, Switch.D_HONOUR_DETAINERS, False)
        assert mine[0].recorded_at == NOW
        assert len(uow.switches.history()) == 3


def test_a_jurisdictions_detainer_policy_is_changed_in_place(open_uow: Open) -> None:
    with open_uow() as uow:
        uow.jurisdictions.add(jurisdiction())
        uow.commit()
    with open_uow() as uow:
        uow.jurisdictions.set_detainer_policy(ORI, DetainerPolicy.TRUST_ACT)
        uow.commit()
    with open_uow() as uow:
        assert uow.jurisdictions.get(ORI) == jurisdiction(policy=DetainerPolicy.TRUST_ACT)
        assert uow.jurisdictions.oris() == [ORI]
