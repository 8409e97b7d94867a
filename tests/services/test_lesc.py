"""LESC's research on fakes: the IAR's status, level and rule set from what the IAQ carries,
and the status-currency and match-evidence safeguards (a) and (d), each on and off."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest
from fakes import ORI, FakeUnitOfWork, context, message_fields

from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import BenefitKind, BenefitRecord, RecordedStatus, Removability
from scomm.domain.messages import (
    Actor,
    CandidateEvidence,
    EncounterEntry,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    Release,
)
from scomm.domain.safeguards import Safeguards
from scomm.nist.nlets import NletsIaq, format_iaq
from scomm.services.lesc import LawEnforcementSupportCenter

A_NUMBER = "A12345678"
EVIDENCE = (CandidateEvidence("ID-1", 0.91, {2: 0.5, 7: 0.41}, 1),)


def iaq(
    offense_code: str = "1299",
    encountered: datetime = datetime(2003, 4, 1),
    record: tuple[tuple[str, str, datetime], ...] = (),
    **changes: Any,
) -> ImmigrationAlienQuery:
    """An IAQ for an IDENT identity recorded as a visa overstay at `encountered`, with the
    criminal `record` (kind, literal, at) CJIS found before this booking."""
    query = ImmigrationAlienQuery(
        **message_fields(sender=Actor.CJIS, recipient=Actor.LESC),
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
        encounters=(EncounterEntry(encountered, "immigration_encounter", "visa_overstay"),),
        a_number=A_NUMBER,
        recorded_status=RecordedStatus.VISA_OVERSTAY,
        criminal_record=tuple(EncounterEntry(at, kind, literal) for kind, literal, at in record),
    )
    return dataclasses.replace(query, **changes)


def answer(
    query: ImmigrationAlienQuery,
    day: datetime = datetime(2011, 6, 1),
    safeguards: Safeguards | None = None,
    benefits: tuple[BenefitRecord, ...] = (),
) -> tuple[ImmigrationAlienResponse, FakeUnitOfWork]:
    uow = FakeUnitOfWork(ScenarioClock(day))
    for benefit in benefits:
        uow.benefits.add(benefit)
    settings = Settings(seed=3, safeguards=safeguards or Safeguards())
    LawEnforcementSupportCenter(context(settings)).handle(query, uow)
    (iar,) = uow.sent("IAR")
    assert isinstance(iar, ImmigrationAlienResponse)
    assert iar.recipient is Actor.CJIS and iar.case_id == query.case_id
    assert uow.outbox[0].available_at == day + settings.delays.lesc_research
    return iar, uow


NATURALIZED = BenefitRecord(A_NUMBER, BenefitKind.NATURALIZATION, datetime(2009, 9, 9), "N400")


@pytest.mark.parametrize("on", [True, False])
def test_status_currency_catches_a_naturalization_idents_record_missed(on: bool) -> None:
    iar, uow = answer(iaq(), safeguards=Safeguards(status_currency=on), benefits=(NATURALIZED,))
    if on:
        assert iar.removability is Removability.STATUS_UNRESOLVED
        assert iar.determination == "status unresolved, possible citizen"
        (entry,) = uow.entries("safeguard", "STATUS_CURRENCY")
        assert entry.payload["benefit"] == "naturalization"
        assert entry.payload["last_encounter"] == "2003-04-01T00:00:00"
        assert entry.payload["instead_of"] == "removable"
    else:  # the original program: the stale record says removable
        assert iar.removability is Removability.REMOVABLE
        assert uow.names("safeguard") == []


@pytest.mark.parametrize("on", [True, False])
def test_the_determination_names_the_citizenship_uscis_records_show(on: bool) -> None:
    """With the safeguard on or off, the audit says what USCIS's records show, so the
    statistics can count the citizens the system could have known either way; an
    adjustment of status is no citizenship, and a certificate granted later is not there yet."""
    derived = BenefitRecord(A_NUMBER, BenefitKind.DERIVED_CITIZENSHIP, datetime(2008, 1, 2))
    later = BenefitRecord(A_NUMBER, BenefitKind.NATURALIZATION, datetime(2012, 1, 1))
    adjusted = BenefitRecord(A_NUMBER, BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2005, 1, 1))
    cases = [
        ((NATURALIZED,), "naturalization"),
        ((adjusted, derived, later), "derived_citizenship"),
    ]
    cases += [((adjusted, later), ""), ((), "")]
    for benefits, shown in cases:
        _, uow = answer(iaq(), safeguards=Safeguards(status_currency=on), benefits=benefits)
        (entry,) = uow.entries("decision", "IAR_DETERMINATION")
        assert entry.payload["citizenship_record"] == shown, benefits
    _, uow = answer(iaq(a_number=None), safeguards=Safeguards(status_currency=on))
    assert uow.entries("decision", "IAR_DETERMINATION")[0].payload["citizenship_record"] == ""


def test_status_currency_ignores_a_benefit_older_than_the_last_encounter() -> None:
    adjusted = BenefitRecord(A_NUMBER, BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2005, 1, 1))
    iar, uow = answer(iaq(encountered=datetime(2010, 4, 1)), benefits=(adjusted,))
    assert iar.removability is Removability.REMOVABLE
    assert uow.names("safeguard") == []


def test_an_interoperability_search_is_not_a_status_event() -> None:
    """An earlier booking's IDENT search after the naturalization does not make IDENT's
    record current: the benefit still counts."""
    searched = EncounterEntry(datetime(2010, 1, 1), "interoperability_search", "TCN T-0")
    query = iaq()
    query = dataclasses.replace(query, encounters=(*query.encounters, searched))
    iar, uow = answer(query, benefits=(NATURALIZED,))
    assert iar.removability is Removability.STATUS_UNRESOLVED
    assert uow.names("safeguard") == ["STATUS_CURRENCY"]


def test_without_an_a_number_there_is_nothing_to_look_up() -> None:
    iar, uow = answer(iaq(a_number=None), benefits=(NATURALIZED,))
    assert iar.removability is Removability.REMOVABLE and iar.a_number is None
    assert uow.names("safeguard") == []


def test_an_identity_without_a_recorded_status_is_an_error() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(LookupError, match="no immigration record"):
        LawEnforcementSupportCenter(context()).handle(iaq(recorded_status=None), uow)
    assert uow.outbox == []


@pytest.mark.parametrize("on", [True, False])
def test_match_evidence_travels_into_the_iar(on: bool) -> None:
    iar, uow = answer(iaq(), safeguards=Safeguards(match_evidence=on))
    body = iar.payload()
    if on:
        assert body["candidates"][0]["identity_id"] == "ID-1"
        assert body["candidates"][0]["finger_scores"] == {"2": 0.5, "7": 0.41}
    else:
        assert body["candidates"] == []
    (entry,) = uow.entries("decision", "IAR_DETERMINATION")
    assert entry.payload["match_evidence"] == (1 if on else 0)


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
    day: datetime, version: str, level: int
) -> None:
    record = (("conviction", "PETTY THEFT", datetime(2003, 4, 1)),)
    iar, uow = answer(iaq("1299", record=record), day=day)
    assert iar.rule_set == version
    assert iar.level == level
    assert iar.severity == 1  # the robbery charge, whatever the rule set makes of it
    assert iar.payload()["history"] == [
        {"kind": "conviction", "literal": "PETTY THEFT", "ncic_code": "2399", "felony": False}
    ]
    (entry,) = uow.entries("decision", "IAR_DETERMINATION")
    assert entry.payload["rule_set"] == version


def test_lesc_reads_the_offense_from_the_nlets_text() -> None:
    text = format_iaq(NletsIaq(ORI, "DOE, JANE", date(1980, 1, 1), "F", "MM", True, "5404"))
    iar, _ = answer(iaq("1299", nlets_text=text), day=datetime(2009, 6, 1))
    assert iar.level == 3  # DUI from the text, not robbery from the structured field


def test_an_earlier_arrest_on_the_record_decides_the_level() -> None:
    """The criminal record CJIS sent (an earlier burglary) counts with this booking's own
    charge (a traffic offense, the IAQ's offense code), under the 2009 offense-type rules."""
    record = (("arrest", "BURGLARY", datetime(2009, 3, 1)),)
    iar, uow = answer(iaq("5499", record=record), day=datetime(2009, 6, 1))
    assert iar.criminal_history == ("BURGLARY",)
    assert iar.level == 2  # burglary (level 2) outranks the traffic charge (level 3)
    assert iar.removability is Removability.REMOVABLE
    (entry,) = uow.entries("decision", "IAR_DETERMINATION")
    assert entry.payload["offense_codes"] == ["5499", "2299"]


def test_the_iar_carries_idents_record_and_encounters() -> None:
    query = iaq()
    iar, _ = answer(query)
    assert (iar.ident_id, iar.a_number) == ("ID-1", A_NUMBER)
    assert iar.recorded_status is RecordedStatus.VISA_OVERSTAY
    assert iar.encounters == query.encounters


def test_lesc_handles_only_queries() -> None:
    release = Release(**message_fields(sender=Actor.LEA, recipient=Actor.LESC), reason="x")
    with pytest.raises(ValueError, match="LESC does not handle RELEASE"):
        LawEnforcementSupportCenter(context()).handle(release, FakeUnitOfWork())
