"""IDENT on fakes: the immigration search and its IDR, with the identity's record and
encounter list; the search itself is recorded as an encounter, and nothing is enrolled."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fakes import ORI, FakeUnitOfWork, StubGallery, car_bytes, context, message_fields

from scomm.domain.immigration import RecordedStatus
from scomm.domain.messages import Actor, IdentMatch, IdentNoMatch, IdentSearchRequest, Release
from scomm.domain.records import Encounter, EncounterKind, Repository, Subject
from scomm.services.ident import ImmigrationRepository


def request(raw: bytes | None = None, case_id: str = "case-1") -> IdentSearchRequest:
    return IdentSearchRequest(
        **message_fields(case_id, sender=Actor.CJIS, recipient=Actor.IDENT),
        transaction=raw if raw is not None else car_bytes(tcn=f"T-{case_id}"),
        booking_ori=ORI,
        fbi_number="FBI-1",
    )


def enrolled(uow: FakeUnitOfWork) -> None:
    immigration = uow.identities(Repository.IMMIGRATION)
    immigration.subjects["ID-1"] = Subject(
        Repository.IMMIGRATION,
        "ID-1",
        "DOE,JANE",
        date(1980, 1, 1),
        "F",
        "MM",
        datetime(2003, 4, 1),
        a_number="A12345678",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
    )
    immigration.add_encounter(
        Encounter(
            Repository.IMMIGRATION,
            "ID-1",
            datetime(2003, 4, 1),
            EncounterKind.IMMIGRATION_ENCOUNTER,
            "visa_overstay",
        )
    )


def test_a_match_answers_with_the_identity_its_record_and_its_encounters() -> None:
    uow = FakeUnitOfWork()
    enrolled(uow)
    ctx = context(immigration=StubGallery(best=("ID-1", 0.8)))
    ImmigrationRepository(ctx).handle(request(), uow)
    (answer,) = uow.sent()
    assert isinstance(answer, IdentMatch) and answer.recipient is Actor.CJIS
    assert uow.outbox[0].available_at == uow.now + ctx.settings.delays.ident_search
    assert answer.ident_id == "ID-1" and answer.candidates[0].fused_score == 0.8
    assert (answer.a_number, answer.recorded_status) == (
        "A12345678",
        RecordedStatus.VISA_OVERSTAY,
    )
    assert [(e.kind, e.detail) for e in answer.encounters] == [
        ("immigration_encounter", "visa_overstay")
    ]
    search = uow.identities(Repository.IMMIGRATION).encounters("ID-1")[-1]
    assert search.kind is EncounterKind.INTEROPERABILITY_SEARCH
    assert (search.at, search.ori, search.detail) == (uow.now, ORI, "criminal booking TCN T-case-1")
    # the stub engine cannot explain its match: the evidence has no paired minutiae
    assert answer.candidates[0].paired_minutiae == {}


def test_a_later_search_lists_the_earlier_one() -> None:
    uow = FakeUnitOfWork()
    enrolled(uow)
    ident = ImmigrationRepository(context(immigration=StubGallery(best=("ID-1", 0.8))))
    ident.handle(request(case_id="case-1"), uow)
    uow.clock.advance_to(datetime(2011, 7, 1))
    ident.handle(request(case_id="case-2"), uow)
    second = uow.sent("IDR_MATCH")[-1]
    assert isinstance(second, IdentMatch)
    assert [e.kind for e in second.encounters] == [
        "immigration_encounter",
        "interoperability_search",
    ]


def test_no_match_answers_with_the_best_score_and_records_nothing() -> None:
    uow = FakeUnitOfWork()
    enrolled(uow)
    gallery = StubGallery(best=("ID-1", 0.123456), threshold=0.5)
    ImmigrationRepository(context(immigration=gallery)).handle(request(), uow)
    (answer,) = uow.sent()
    assert isinstance(answer, IdentNoMatch) and answer.best_score == 0.1235
    assert len(uow.identities(Repository.IMMIGRATION).encounter_log) == 1
    assert gallery.enrolled == {}  # search only: a probe that matches nobody stays out


def test_a_transaction_ident_cannot_read_is_answered_no_match() -> None:
    uow = FakeUnitOfWork()
    gallery = StubGallery(best=("ID-1", 0.9))
    ImmigrationRepository(context(immigration=gallery)).handle(request(b"not a CAR"), uow)
    (answer,) = uow.sent()
    assert isinstance(answer, IdentNoMatch) and answer.best_score is None
    assert uow.names("decision") == ["IDENT_SEARCH_FAILED"]
    assert gallery.searches == []


def test_ident_handles_only_search_requests() -> None:
    release = Release(**message_fields(sender=Actor.LEA, recipient=Actor.IDENT), reason="x")
    with pytest.raises(ValueError, match="IDENT does not handle RELEASE"):
        ImmigrationRepository(context()).handle(release, FakeUnitOfWork())
