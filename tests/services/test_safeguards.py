"""The four safeguards (issue 6 item 4), each on and off, and the rule set / form by date.

A light system: the correlation engine, one jurisdiction, and the records each test needs
written straight into the tables; messages are handed to the actors through the dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from scomm.config import Settings
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.immigration import BenefitKind, BenefitRecord, RecordedStatus, Removability
from scomm.domain.messages import (
    Actor,
    CandidateEvidence,
    CourtDisposition,
    Detainer,
    DispositionOutcome,
    ImmigrationAlienQuery,
    MatchNotification,
    Message,
)
from scomm.domain.safeguards import Safeguards
from scomm.nist.nlets import parse_iaq
from scomm.services.uscis import record_benefit
from scomm.sim.synth.transactions import transaction_bytes
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import booking_capture
from scomm.store.models import (
    AuditEntryRow,
    CaseRow,
    DetainerRow,
    EncounterRow,
    JurisdictionRow,
    OfficerDecisionRow,
    OutboxRow,
    SubjectRow,
)
from scomm.system import System, baseline_context

ORI = "CA0010000"
A_NUMBER = "A12345678"
EVIDENCE = (CandidateEvidence("ID-1", 0.91, {2: 0.5, 7: 0.41}, 1),)


def make_system(database_url: str, start: datetime, safeguards: Safeguards) -> System:
    settings = Settings(database_url=database_url, seed=3, safeguards=safeguards)
    context = baseline_context(settings, us_federal_holiday())
    system = System(settings, ScenarioClock(start), context=context)
    with system.unit_of_work() as uow:
        uow.session.add(
            JurisdictionRow(
                ori=ORI,
                name="SYNTHETIC COUNTY SHERIFF",
                state="CA",
                sib_ori="CA0000000",
                detainer_policy="honor_all",
                activation_at=None,
            )
        )
        uow.commit()
    return system


@pytest.fixture
def make(database_url: str) -> Iterator[Any]:
    made: list[System] = []

    def build(start: datetime, safeguards: Safeguards | None = None) -> System:
        system = make_system(database_url, start, safeguards or Safeguards())
        made.append(system)
        return system

    yield build
    for system in made:
        system.close()


def add_case(system: System, case_id: str, state: CaseState, custody: CustodyState) -> None:
    now = system.clock.now()
    with system.unit_of_work() as uow:
        uow.session.add(
            CaseRow(
                case_id=case_id,
                tcn=f"T-{case_id}",
                ori=ORI,
                state=state.value,
                custody=custody.value,
                opened_at=now,
                updated_at=now,
            )
        )
        uow.commit()


def add_subject(
    system: System, status: RecordedStatus, encountered: datetime, conviction: str | None = None
) -> None:
    with system.unit_of_work() as uow:
        uow.session.add(
            SubjectRow(
                repository="immigration",
                identity_id="ID-1",
                name="DOE,JANE",
                dob=date(1980, 1, 1),
                sex="F",
                pob="MM",
                a_number=A_NUMBER,
                recorded_status=status.value,
                enrolled_at=encountered,
            )
        )
        uow.session.add(
            EncounterRow(
                repository="immigration",
                identity_id="ID-1",
                at=encountered,
                kind="immigration_encounter",
                detail=status.value,
            )
        )
        if conviction:
            uow.session.add(
                EncounterRow(
                    repository="criminal",
                    identity_id="FBI-1",
                    at=encountered,
                    kind="conviction",
                    detail=conviction,
                )
            )
        uow.commit()


def deliver(system: System, message: Message) -> None:
    """Hand `message` to its recipient now, then run the flow to its end."""
    with system.unit_of_work(cause="test") as uow:
        uow.emit(message)
        uow.commit()
    system.run_until(None)


def outbox(system: System, type_name: str) -> list[dict[str, Any]]:
    with system.db.sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.type == type_name)).all()
        return [json.loads(r.payload) for r in rows]


def audit_names(system: System, kind: str) -> list[str]:
    with system.db.sessions() as session:
        return list(session.scalars(select(AuditEntryRow.name).where(AuditEntryRow.kind == kind)))


def iaq(offense_code: str = "1299") -> ImmigrationAlienQuery:
    return ImmigrationAlienQuery(
        message_id="iaq-1",
        case_id="case-1",
        tcn="T-case-1",
        sender=Actor.CJIS,
        recipient=Actor.LESC,
        booking_ori=ORI,
        name="DOE,JANE",
        dob=date(1980, 1, 1),
        sex="F",
        pob="MM",
        in_custody=True,
        offense_code=offense_code,
        fbi_number="FBI-1",
        ident_id="ID-1",
        candidates=EVIDENCE,
    )


def run_lesc(system: System, query: ImmigrationAlienQuery) -> dict[str, Any]:
    with system.unit_of_work(cause="test") as uow:
        system.dispatcher.handlers[Actor.LESC].handle(query, uow)
        uow.commit()
    (iar,) = outbox(system, "IAR")
    return iar


# -- (a) status currency --


@pytest.mark.parametrize("on", [True, False])
def test_status_currency_catches_a_naturalization_idents_record_missed(make: Any, on: bool) -> None:
    system = make(datetime(2011, 6, 1), Safeguards(status_currency=on))
    add_subject(system, RecordedStatus.VISA_OVERSTAY, datetime(2003, 4, 1))
    with system.unit_of_work() as uow:
        record_benefit(
            uow.session,
            BenefitRecord(A_NUMBER, BenefitKind.NATURALIZATION, datetime(2009, 9, 9), "N400"),
        )
        uow.commit()
    iar = run_lesc(system, iaq())
    if on:
        assert iar["removability"] == Removability.STATUS_UNRESOLVED.value
        assert iar["determination"] == "status unresolved, possible citizen"
        assert audit_names(system, "safeguard") == ["STATUS_CURRENCY"]
    else:  # the original program: the stale record says removable
        assert iar["removability"] == Removability.REMOVABLE.value
        assert audit_names(system, "safeguard") == []


def test_status_currency_ignores_a_benefit_older_than_the_last_encounter(make: Any) -> None:
    system = make(datetime(2011, 6, 1))
    add_subject(system, RecordedStatus.VISA_OVERSTAY, datetime(2010, 4, 1))
    with system.unit_of_work() as uow:
        # an adjustment granted, then a later encounter that already knew of it
        record_benefit(
            uow.session,
            BenefitRecord(A_NUMBER, BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2005, 1, 1)),
        )
        uow.commit()
    iar = run_lesc(system, iaq())
    assert iar["removability"] == Removability.REMOVABLE.value
    assert audit_names(system, "safeguard") == []


# -- (d) match evidence, and the rule set of the day --


@pytest.mark.parametrize("on", [True, False])
def test_match_evidence_travels_into_the_iar(make: Any, on: bool) -> None:
    system = make(datetime(2011, 6, 1), Safeguards(match_evidence=on))
    add_subject(system, RecordedStatus.VISA_OVERSTAY, datetime(2003, 4, 1))
    iar = run_lesc(system, iaq())
    if on:
        assert iar["candidates"][0]["identity_id"] == "ID-1"
        assert iar["candidates"][0]["finger_scores"] == {"2": 0.5, "7": 0.41}
    else:
        assert iar["candidates"] == []


@pytest.mark.parametrize(
    ("day", "version", "level"),
    [
        (datetime(2009, 6, 1), "2009-offense-type", 1),  # robbery charged: level 1
        (datetime(2011, 6, 1), "2011-conviction-based", 3),  # one misdemeanor conviction
        (datetime(2013, 6, 1), "2012-detainer-criteria", 3),
        (datetime(2016, 6, 1), "2014-pep-priorities", 0),  # one petty theft: not a priority
    ],
)
def test_the_iar_names_the_rule_set_in_force_that_day(
    make: Any, day: datetime, version: str, level: int
) -> None:
    system = make(day)
    add_subject(system, RecordedStatus.VISA_OVERSTAY, datetime(2003, 4, 1), "PETTY THEFT")
    iar = run_lesc(system, iaq("1299"))
    assert iar["rule_set"] == version
    assert iar["level"] == level
    assert iar["severity"] == 1  # the robbery charge, whatever the rule set makes of it
    assert iar["history"] == [
        {"kind": "conviction", "literal": "PETTY THEFT", "ncic_code": "2399", "felony": False}
    ]
    with system.db.sessions() as session:
        entry = session.scalar(
            select(AuditEntryRow).where(AuditEntryRow.name == "IAR_DETERMINATION")
        )
        assert entry is not None and json.loads(entry.payload)["rule_set"] == version


def test_lesc_reads_the_offense_from_the_nlets_text(make: Any) -> None:
    from scomm.nist.nlets import NletsIaq, format_iaq

    system = make(datetime(2009, 6, 1))
    add_subject(system, RecordedStatus.VISA_OVERSTAY, datetime(2003, 4, 1))
    text = format_iaq(NletsIaq(ORI, "DOE, JANE", date(1980, 1, 1), "F", "MM", True, "5404"))
    iar = run_lesc(system, replace(iaq("1299"), nlets_text=text))
    assert iar["level"] == 3  # DUI from the text, not robbery from the structured field


# -- (c) officer decision, and the form of the period --


def notification(**changes: Any) -> MatchNotification:
    base = MatchNotification(
        message_id="mn-1",
        case_id="case-1",
        tcn="T-case-1",
        sender=Actor.CJIS,
        recipient=Actor.ERO,
        booking_ori=ORI,
        ident_id="ID-1",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
        removability=Removability.REMOVABLE,
        level=1,
        rule_set="2011-conviction-based",
        level_basis="aggravated felony conviction 1299",
        a_number=A_NUMBER,
        name="DOE,JANE",
        dob=date(1980, 1, 1),
        pob="MM",
    )
    return replace(base, **changes)


@pytest.mark.parametrize("on", [True, False])
def test_a_detainer_points_at_its_recorded_officer_decision(make: Any, on: bool) -> None:
    system = make(datetime(2011, 6, 1), Safeguards(officer_decision_required=on))
    add_case(system, "case-1", CaseState.IAR_RETURNED, CustodyState.IN_CUSTODY)
    deliver(system, notification())
    (detainer,) = outbox(system, "DETAINER")
    assert detainer["form"] == "I-247"
    assert detainer["decided_by"] == "simulated:sim-officer-v1"
    assert detainer["rule_set"] == "2011-conviction-based"
    with system.db.sessions() as session:
        decisions = session.scalars(select(OfficerDecisionRow)).all()
        row = session.get(DetainerRow, detainer["detainer_id"])
        assert row is not None and row.rule_set == "2011-conviction-based"
    if on:
        assert detainer["decision_id"] == decisions[0].decision_id
        assert "OFFICER_DECISION_ON_RECORD" in audit_names(system, "safeguard")
    else:
        assert detainer["decision_id"] is None and decisions == []


@pytest.mark.parametrize("on", [True, False])
def test_the_jail_declines_a_detainer_without_a_recorded_decision(make: Any, on: bool) -> None:
    system = make(datetime(2011, 6, 1), Safeguards(officer_decision_required=on))
    add_case(system, "case-1", CaseState.DETAINER_LODGED, CustodyState.IN_CUSTODY)
    deliver(
        system,
        Detainer(
            message_id="d-1",
            case_id="case-1",
            tcn="T-case-1",
            sender=Actor.ERO,
            recipient=Actor.LEA,
            detainer_id="det-1",
            form="I-247",
            level=1,
            decided_by="",
            decision_id=None,
        ),
    )
    (response,) = outbox(system, "DETAINER_RESPONSE")
    assert response["honoured"] is (not on)
    assert ("OFFICER_DECISION_REQUIRED" in audit_names(system, "safeguard")) is on


@pytest.mark.parametrize(
    ("day", "hold_allowed", "message_type", "form"),
    [
        (datetime(2011, 6, 1), True, "DETAINER", "I-247"),
        (datetime(2013, 6, 1), True, "DETAINER", "I-247-2012"),
        (datetime(2016, 6, 1), True, "DETAINER", "I-247D"),
        # PEP: no hold for this subject, so the officer's hold becomes an I-247N
        (datetime(2016, 6, 1), False, "NOTIFICATION_REQUEST", "I-247N"),
        (datetime(2018, 6, 1), True, "DETAINER", "I-247A"),
    ],
)
def test_the_detainer_form_follows_the_date(
    make: Any, day: datetime, hold_allowed: bool, message_type: str, form: str
) -> None:
    system = make(day)
    add_case(system, "case-1", CaseState.IAR_RETURNED, CustodyState.IN_CUSTODY)
    deliver(system, notification(hold_allowed=hold_allowed, rule_set="2014-pep-priorities"))
    (sent,) = outbox(system, message_type)
    assert sent["form"] == form


# -- (b) withdrawal on dismissal --


def honoured_detainer(system: System) -> None:
    add_case(system, "case-1", CaseState.DETAINER_LODGED, CustodyState.IN_CUSTODY)
    with system.unit_of_work() as uow:
        uow.session.add(
            DetainerRow(
                detainer_id="det-1",
                case_id="case-1",
                form="I-247",
                lodged_at=system.clock.now(),
                decided_by="simulated:sim-officer-v1",
                status="honoured",
                honoured=True,
            )
        )
        uow.commit()


def disposition(outcome: DispositionOutcome, at: datetime) -> CourtDisposition:
    return CourtDisposition(
        message_id="disp-1",
        case_id="case-1",
        tcn="T-case-1",
        sender=Actor.COURT,
        recipient=Actor.LEA,
        outcome=outcome,
        decided_at=at,
    )


@pytest.mark.parametrize("on", [True, False])
def test_a_dismissal_withdraws_the_pending_detainer(make: Any, on: bool) -> None:
    start = datetime(2011, 6, 1, 9)
    system = make(start, Safeguards(withdraw_on_dismissal=on))
    honoured_detainer(system)
    deliver(system, disposition(DispositionOutcome.DISMISSED, start))
    with system.db.sessions() as session:
        detainer = session.get(DetainerRow, "det-1")
        case = session.get(CaseRow, "case-1")
        assert detainer is not None and case is not None
        if on:
            assert detainer.status == "withdrawn" and detainer.withdrawn_at is not None
            assert case.custody == CustodyState.RELEASED.value
        else:  # the original program: held on the detainer after the charges were dropped
            assert detainer.status in ("transferred", "expired")
    assert ("WITHDRAW_ON_DISMISSAL" in audit_names(system, "safeguard")) is on
    assert ("detainer_withdrawn" in audit_names(system, "outcome")) is on
    assert bool(outbox(system, "DETAINER_WITHDRAWN")) is on
    forwarded = [d for d in outbox(system, "DISPOSITION") if d["recipient"] == "ero"]
    assert bool(forwarded) is on  # the original program never told ICE


def test_a_conviction_withdraws_nothing(make: Any) -> None:
    start = datetime(2011, 6, 1, 9)
    system = make(start)
    honoured_detainer(system)
    deliver(system, disposition(DispositionOutcome.CONVICTED, start + timedelta(hours=1)))
    assert outbox(system, "DETAINER_WITHDRAWN") == []
    with system.db.sessions() as session:
        detainer = session.get(DetainerRow, "det-1")
        assert detainer is not None and detainer.status == "honoured"


# -- (d) through the real engine: paired minutiae and the IDENT encounter list --


def test_a_real_match_carries_paired_minutiae_and_the_encounter_list(
    system: System, world: World
) -> None:
    planned = next(
        p
        for p in world.bookings
        if p.defect is None
        and world.people[p.person_id].immigration is not None
        and any(
            j.jurisdiction.ori == p.booking.ori
            and j.jurisdiction.activation_at is not None
            and j.jurisdiction.activation_at <= p.booking.booked_at
            for j in world.jurisdictions
        )
    )
    booking = planned.booking
    raw = transaction_bytes(
        booking,
        world.people[planned.person_id],
        booking_capture(0),
        world.sib_ori(booking.ori),
    )
    system.run_until(booking.booked_at)
    system.book(booking, raw)
    system.run_until(booking.booked_at + timedelta(days=2))
    (idr,) = outbox(system, "IDR_MATCH")
    assert [e["kind"] for e in idr["encounters"]][0] == "immigration_encounter"
    (query,) = outbox(system, "IAQ")
    parsed = parse_iaq(query["nlets_text"])
    assert (parsed.sender_ori, parsed.offense_code) == (booking.ori, query["offense_code"])
    (iar,) = outbox(system, "IAR")
    best = iar["candidates"][0]
    assert best["identity_id"] == iar["ident_id"]
    assert best["paired_minutiae"], "the engine explains its best fingers"
    for pairs in best["paired_minutiae"].values():
        assert pairs and all(len(p) == 4 and 0 <= min(p) and max(p) < 512 for p in pairs)
    assert iar["encounters"] == idr["encounters"]
    assert iar["rule_set"] in ("2009-offense-type", "2011-conviction-based")
