"""CJIS on fakes: the criminal search and its answer (SRE or ERRT), enrolment, switch B,
the IAQ it builds on an IDENT match (with the III record before this booking), the IAR's
way on to ERO and, under switch C, to the jail."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fakes import (
    ORI,
    FakeUnitOfWork,
    StubExtractor,
    StubGallery,
    car_bytes,
    case,
    context,
    jurisdiction,
    message_fields,
)

from scomm.domain.case import CaseState
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.messages import (
    Actor,
    CandidateEvidence,
    CriminalTenprintSubmission,
    EncounterEntry,
    IdentMatch,
    IdentNoMatch,
    IdentResultsToJail,
    IdentSearchRequest,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    MatchNotification,
    Release,
    SubmissionResults,
    TransactionErrorResponse,
)
from scomm.domain.records import (
    CriminalSubmission,
    Encounter,
    EncounterKind,
    Repository,
)
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.nist.nlets import parse_iaq
from scomm.services.cjis import CriminalJusticeInformationServices
from scomm.services.context import ServiceContext


def switch(uow: FakeUnitOfWork, which: Switch, on: bool, by: SwitchOwner) -> None:
    setting = SwitchSetting(ORI, which, on, uow.now - timedelta(days=1), by, "test")
    uow.switches.add(setting, uow.now)


def car(raw: bytes | None = None) -> CriminalTenprintSubmission:
    return CriminalTenprintSubmission(
        **message_fields(sender=Actor.SIB, recipient=Actor.CJIS),
        transaction=raw if raw is not None else car_bytes(),
        booking_ori=ORI,
    )


def search(
    ctx: ServiceContext, raw: bytes | None = None, b_on: bool = False
) -> tuple[FakeUnitOfWork, CriminalJusticeInformationServices]:
    uow = FakeUnitOfWork()
    uow.jurisdictions.add(jurisdiction())
    case(uow)
    if b_on:
        switch(uow, Switch.B_FORWARD_TO_IDENT, True, SwitchOwner.FEDERAL)
    cjis = CriminalJusticeInformationServices(ctx)
    cjis.handle(car(raw), uow)
    return uow, cjis


def test_an_unknown_subject_is_enrolled_and_answered_not_identified() -> None:
    gallery = StubGallery()
    ctx = context(criminal=gallery)
    uow, _ = search(ctx)
    (sre,) = uow.sent("SRE")
    assert isinstance(sre, SubmissionResults) and sre.recipient is Actor.SIB
    assert not sre.identified and sre.fbi_number.startswith("FBI-")
    assert uow.outbox[0].available_at == uow.now + ctx.settings.delays.cjis_search
    criminal = uow.identities(Repository.CRIMINAL)
    subject = criminal.subject(sre.fbi_number)
    assert subject is not None and (subject.name, subject.dob) == ("DOE,JANE", date(1980, 1, 1))
    assert set(criminal.templates) == {(sre.fbi_number, 2), (sre.fbi_number, 7)}
    assert [(e.kind, e.detail) for e in criminal.encounters(sre.fbi_number)] == [
        (EncounterKind.ARREST, "BURGLARY")
    ]
    assert gallery.enrolled == {}  # the gallery learns the prints only once they are stored
    uow.commit()
    assert list(gallery.enrolled) == [sre.fbi_number]
    kept = uow.submissions.get("T-case-1")
    assert kept is not None and kept.fbi_number == sre.fbi_number and not kept.identified
    assert kept.offense_code == "2299"  # burglary
    found = uow.cases.get("case-1")
    assert found is not None and found.fbi_number == sre.fbi_number


def test_a_known_subject_is_identified_and_not_enrolled_again() -> None:
    gallery = StubGallery(best=("FBI-9", 0.9))
    uow, _ = search(context(criminal=gallery))
    (sre,) = uow.sent("SRE")
    assert isinstance(sre, SubmissionResults)
    assert sre.identified and sre.fbi_number == "FBI-9"
    assert sre.candidates[0].identity_id == "FBI-9"
    criminal = uow.identities(Repository.CRIMINAL)
    assert criminal.subjects == {} and criminal.templates == {}
    assert [e.detail for e in criminal.encounters("FBI-9")] == ["BURGLARY"]
    uow.commit()
    assert gallery.enrolled == {}


def test_a_search_below_the_threshold_is_not_an_identification() -> None:
    uow, _ = search(context(criminal=StubGallery(best=("FBI-9", 0.2))))
    (sre,) = uow.sent("SRE")
    assert isinstance(sre, SubmissionResults) and not sre.identified
    assert sre.fbi_number != "FBI-9"


def test_a_submission_not_to_retain_is_searched_but_not_kept() -> None:
    uow, _ = search(context(), car_bytes(retain=False))
    (sre,) = uow.sent("SRE")
    assert isinstance(sre, SubmissionResults) and not sre.identified
    criminal = uow.identities(Repository.CRIMINAL)
    assert criminal.subjects == {} and criminal.encounter_log == []


@pytest.mark.parametrize("b_on", [True, False])
def test_switch_b_decides_whether_the_prints_go_to_ident(b_on: bool) -> None:
    uow, _ = search(context(), b_on=b_on)
    found = uow.cases.get("case-1")
    assert found is not None
    if b_on:
        (request,) = uow.sent("IDENT_SEARCH")
        assert isinstance(request, IdentSearchRequest) and request.recipient is Actor.IDENT
        assert request.transaction == car_bytes() and request.booking_ori == ORI
        assert found.state is CaseState.CRIMINAL_SEARCHED
        assert uow.names("outcome") == []
    else:
        assert uow.sent("IDENT_SEARCH") == []
        assert found.state is CaseState.NOT_FORWARDED
        assert uow.names("outcome") == ["not_forwarded"]
    assert len(uow.sent("SRE")) == 1  # the criminal answer goes back either way


def test_an_arrest_literal_no_table_knows_is_counted_and_coded_0399() -> None:
    uow, _ = search(context(), car_bytes(charges=("ZORBLING THE WUMPUS",)))
    (entry,) = uow.entries("decision", "AOL_UNCLASSIFIED")
    assert entry.payload == {"literals": ["ZORBLING THE WUMPUS"]}
    kept = uow.submissions.get("T-case-1")
    assert kept is not None and kept.offense_code == "0399"


def test_prints_that_cannot_be_enrolled_get_an_errt_and_nothing_is_kept() -> None:
    gallery = StubGallery()
    ctx = context(criminal=gallery, extractor=StubExtractor(fails=range(1, 11)))
    uow, _ = search(ctx)
    (errt,) = uow.sent()
    assert isinstance(errt, TransactionErrorResponse) and errt.recipient is Actor.SIB
    assert errt.field_tag == "14.999" and "no usable finger image" in " ".join(errt.messages)
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.REJECTED
    assert gallery.searches == [] and uow.submissions.by_tcn == {}
    assert uow.identities(Repository.CRIMINAL).encounter_log == []


def test_a_transaction_cjis_cannot_read_gets_an_errt() -> None:
    uow, _ = search(context(), car_bytes()[:200])
    (errt,) = uow.sent()
    assert isinstance(errt, TransactionErrorResponse) and errt.field_tag is not None
    assert uow.submissions.by_tcn == {}


# -- the IDENT answer --


BOOKED = datetime(2011, 6, 1, 9)


def accepted(uow: FakeUnitOfWork) -> None:
    """CJIS's record of this booking and the subject's criminal record: two earlier entries
    on file, an earlier booking's arrest, and this booking's own arrest."""
    uow.submissions.add(
        CriminalSubmission(
            tcn="T-case-1",
            case_id="case-1",
            booking_ori=ORI,
            received_at=BOOKED,
            name="DOE,JANE",
            dob=date(1980, 1, 1),
            sex="F",
            pob="MM",
            offense_code="5499",
            offense_confidence=1.0,
            fbi_number="FBI-1",
            identified=True,
        )
    )
    criminal = uow.identities(Repository.CRIMINAL)
    for at, kind, literal in (
        (datetime(2001, 1, 1), EncounterKind.CONVICTION, "PETTY THEFT"),
        (datetime(2001, 1, 1), EncounterKind.PRIOR_ARREST, "ASSAULT"),
        (datetime(2010, 3, 1), EncounterKind.ARREST, "BURGLARY"),
        (BOOKED, EncounterKind.ARREST, "TRAFFIC OFFENSE"),
    ):
        criminal.add_encounter(Encounter(Repository.CRIMINAL, "FBI-1", at, kind, literal, ORI))


IDR_ENCOUNTERS = (EncounterEntry(datetime(2003, 4, 1), "immigration_encounter", "visa_overstay"),)


def idr() -> IdentMatch:
    return IdentMatch(
        **message_fields(sender=Actor.IDENT, recipient=Actor.CJIS),
        ident_id="ID-1",
        candidates=(CandidateEvidence("ID-1", 0.9, {2: 0.9}, 1),),
        encounters=IDR_ENCOUNTERS,
        a_number="A12345678",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
    )


def test_an_ident_match_sends_lesc_the_query_with_what_it_needs() -> None:
    uow = FakeUnitOfWork(cause="idr")
    uow.jurisdictions.add(jurisdiction())
    case(uow, state=CaseState.CRIMINAL_SEARCHED)
    accepted(uow)
    CriminalJusticeInformationServices(context()).handle(idr(), uow)
    (query,) = uow.sent()
    assert isinstance(query, ImmigrationAlienQuery) and query.recipient is Actor.LESC
    assert (query.ident_id, query.fbi_number, query.offense_code) == ("ID-1", "FBI-1", "5499")
    assert query.a_number == "A12345678"
    assert query.recorded_status is RecordedStatus.VISA_OVERSTAY
    assert query.encounters == IDR_ENCOUNTERS and query.candidates == idr().candidates
    # the III record before this booking: on file, and the earlier booking; not this one
    assert [(e.kind, e.detail) for e in query.criminal_record] == [
        ("conviction", "PETTY THEFT"),
        ("prior_arrest", "ASSAULT"),
        ("arrest", "BURGLARY"),
    ]
    parsed = parse_iaq(query.nlets_text)
    assert (parsed.sender_ori, parsed.offense_code, parsed.name) == (ORI, "5499", "DOE, JANE")
    assert parsed.attention == "SYNTHETIC COUNTY SHERIFF"
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.IAQ_SENT and found.ident_id == "ID-1"
    assert uow.names("case_state") == ["ident_match", "iaq_sent"]


def test_an_ident_match_for_a_submission_cjis_never_accepted_is_an_error() -> None:
    uow = FakeUnitOfWork()
    case(uow, state=CaseState.CRIMINAL_SEARCHED)
    with pytest.raises(LookupError, match="no accepted submission"):
        CriminalJusticeInformationServices(context()).handle(idr(), uow)
    assert uow.outbox == []


@pytest.mark.parametrize("c_on", [True, False])
def test_no_match_reaches_the_jail_only_with_switch_c_on(c_on: bool) -> None:
    uow = FakeUnitOfWork()
    case(uow, state=CaseState.CRIMINAL_SEARCHED)
    switch(uow, Switch.C_RESULTS_TO_JAIL, c_on, SwitchOwner.JURISDICTION)
    answer = IdentNoMatch(**message_fields(sender=Actor.IDENT, recipient=Actor.CJIS))
    CriminalJusticeInformationServices(context()).handle(answer, uow)
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.IDENT_NO_MATCH
    assert uow.names("outcome") == ["no_match"]
    sent = uow.sent("IDR_IAR")
    assert len(sent) == int(c_on)
    if c_on:
        assert isinstance(sent[0], IdentResultsToJail) and not sent[0].matched


@pytest.mark.parametrize("c_on", [True, False])
def test_the_iar_goes_to_ero_and_with_switch_c_on_to_the_jail(c_on: bool) -> None:
    uow = FakeUnitOfWork()
    case(uow, state=CaseState.IAQ_SENT)
    accepted(uow)
    switch(uow, Switch.C_RESULTS_TO_JAIL, c_on, SwitchOwner.STATE)
    iar = ImmigrationAlienResponse(
        **message_fields(sender=Actor.LESC, recipient=Actor.CJIS),
        ident_id="ID-1",
        a_number="A12345678",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
        removability=Removability.REMOVABLE,
        level=2,
        rule_set="2009-offense-type",
        severity=2,
        hold_allowed=False,
    )
    CriminalJusticeInformationServices(context()).handle(iar, uow)
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.IAR_RETURNED
    assert (found.level, found.rule_set) == (2, "2009-offense-type")
    assert found.removability is Removability.REMOVABLE
    (notice,) = uow.sent("MATCH_NOTIFICATION")
    assert isinstance(notice, MatchNotification) and notice.recipient is Actor.ERO
    assert (notice.name, notice.dob, notice.pob) == ("DOE,JANE", date(1980, 1, 1), "MM")
    assert (notice.level, notice.severity, notice.hold_allowed) == (2, 2, False)
    assert notice.a_number == "A12345678" and notice.booking_ori == ORI
    to_jail = uow.sent("IDR_IAR")
    assert len(to_jail) == int(c_on)
    if c_on:
        assert isinstance(to_jail[0], IdentResultsToJail)
        assert to_jail[0].matched and to_jail[0].level == 2


def test_cjis_handles_only_its_messages() -> None:
    release = Release(**message_fields(sender=Actor.LEA, recipient=Actor.CJIS), reason="x")
    with pytest.raises(ValueError, match="CJIS does not handle RELEASE"):
        CriminalJusticeInformationServices(context()).handle(release, FakeUnitOfWork())
