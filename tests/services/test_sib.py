"""The SIB on fakes: it checks and re-addresses the jail's CAR to the FBI (switch A), answers
a malformed one with an ERRT, and routes CJIS's answers to the jail (switch C)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import (
    ORI,
    SIB_ORI,
    FakeUnitOfWork,
    car_bytes,
    case,
    context,
    jurisdiction,
    message_fields,
)

from scomm.domain.case import CaseState
from scomm.domain.messages import (
    Actor,
    CriminalTenprintSubmission,
    IdentResultsToJail,
    Release,
    SubmissionResults,
    TransactionErrorResponse,
)
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.nist.car import decode_tenprint
from scomm.nist.forward import FBI_CJIS_DAI
from scomm.services.sib import StateIdentificationBureau
from scomm.sim.synth.transactions import damage


def from_jail(raw: bytes) -> CriminalTenprintSubmission:
    return CriminalTenprintSubmission(
        **message_fields(sender=Actor.LEA, recipient=Actor.SIB), transaction=raw, booking_ori=ORI
    )


def forward(raw: bytes, a_on: bool = True) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.jurisdictions.add(jurisdiction())
    case(uow)
    setting = SwitchSetting(
        ORI, Switch.A_PRINTS_TO_FBI, a_on, uow.now - timedelta(days=1), SwitchOwner.STATE, "t"
    )
    uow.switches.add(setting, uow.now)
    StateIdentificationBureau(context()).handle(from_jail(raw), uow)
    return uow


def test_the_sib_readdresses_the_car_to_the_fbi() -> None:
    uow = forward(car_bytes())
    (sent,) = uow.sent()
    assert isinstance(sent, CriminalTenprintSubmission) and sent.recipient is Actor.CJIS
    assert uow.outbox[0].available_at == uow.now + context().settings.delays.sib_forward
    forwarded = decode_tenprint(sent.transaction)
    assert forwarded.ori == SIB_ORI != forwarded.cri == ORI
    assert forwarded.dai == FBI_CJIS_DAI == "WVIAFIS0Z"
    assert sent.booking_ori == ORI


@pytest.mark.parametrize(
    ("defect", "field", "words"),
    [
        ("bad_dob", "2.022", "DOB"),
        ("truncated", "Type-14", "truncated"),
    ],
)
def test_a_malformed_car_gets_an_errt_naming_the_problem(
    defect: str, field: str, words: str
) -> None:
    uow = forward(damage(car_bytes(), defect))
    (errt,) = uow.sent()
    assert isinstance(errt, TransactionErrorResponse) and errt.recipient is Actor.LEA
    assert errt.field_tag == field
    assert any(words.lower() in m.lower() for m in errt.messages), errt.messages
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.REJECTED


def test_a_car_under_another_bookings_tcn_is_refused() -> None:
    uow = forward(car_bytes(tcn="T-other"))
    (errt,) = uow.sent()
    assert isinstance(errt, TransactionErrorResponse) and errt.field_tag == "1.009"


def test_a_car_from_an_agency_the_sib_does_not_serve_is_refused() -> None:
    uow = forward(car_bytes(ori="NV0010000"))
    (errt,) = uow.sent()
    assert isinstance(errt, TransactionErrorResponse) and errt.field_tag == "2.073"


def test_with_a_off_the_search_stays_in_the_state() -> None:
    uow = forward(car_bytes(), a_on=False)
    assert uow.outbox == []
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.STATE_ONLY
    assert uow.names("outcome") == ["state_only"]


def test_cjis_answers_go_on_to_the_jail_unchanged() -> None:
    uow = FakeUnitOfWork()
    case(uow)
    sre = SubmissionResults(
        **message_fields(sender=Actor.CJIS, recipient=Actor.SIB), identified=True, fbi_number="F1"
    )
    StateIdentificationBureau(context()).handle(sre, uow)
    (sent,) = uow.sent()
    assert isinstance(sent, SubmissionResults)
    assert (sent.sender, sent.recipient) == (Actor.SIB, Actor.LEA)
    assert sent.message_id != sre.message_id
    assert (sent.case_id, sent.tcn, sent.identified, sent.fbi_number) == (
        "case-1",
        "T-case-1",
        True,
        "F1",
    )


def test_the_sib_withholds_results_once_c_is_off() -> None:
    """C switched off after CJIS sent an IDR/IAR: the SIB, which routes it, keeps it."""
    uow = FakeUnitOfWork()
    case(uow)
    off_at = uow.now + timedelta(hours=1)
    setting = SwitchSetting(ORI, Switch.C_RESULTS_TO_JAIL, False, off_at, SwitchOwner.STATE, "t")
    uow.switches.add(setting, uow.now)
    sib = StateIdentificationBureau(context())
    for minute, at in enumerate((off_at - timedelta(minutes=1), off_at)):
        uow.clock.advance_to(at)
        results = IdentResultsToJail(
            **message_fields(sender=Actor.CJIS, recipient=Actor.SIB, message_id=f"r{minute}"),
            matched=False,
        )
        sib.handle(results, uow)
    (forwarded,) = uow.sent()
    assert isinstance(forwarded, IdentResultsToJail) and forwarded.recipient is Actor.LEA
    assert uow.outbox[0].available_at < off_at + timedelta(minutes=10)
    (withheld,) = uow.entries("decision", "RESULTS_WITHHELD")
    assert withheld.payload == {"switch": "C", "message_id": "r1"}


def test_the_sib_handles_only_its_messages() -> None:
    release = Release(**message_fields(sender=Actor.LEA, recipient=Actor.SIB), reason="x")
    with pytest.raises(ValueError, match="the SIB does not handle RELEASE"):
        StateIdentificationBureau(context()).handle(release, FakeUnitOfWork())
