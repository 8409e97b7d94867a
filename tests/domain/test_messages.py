from datetime import date, datetime

from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.messages import (
    MESSAGE_TYPES,
    Actor,
    CandidateEvidence,
    CriminalTenprintSubmission,
    HoldStarted,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    message_from_payload,
)

BASE = dict(message_id="m1", case_id="c1", tcn="t1")


def test_every_type_has_a_unique_name() -> None:
    assert len(MESSAGE_TYPES) == len({cls.TYPE for cls in MESSAGE_TYPES.values()})
    for required in (
        "CAR",
        "SRE",
        "ERRT",
        "IDR_MATCH",
        "IDR_NO_MATCH",
        "IAQ",
        "IAR",
        "MATCH_NOTIFICATION",
        "DETAINER",
        "DETAINER_RESPONSE",
        "RELEASE",
        "TRANSFER",
    ):
        assert required in MESSAGE_TYPES


def test_messages_survive_the_outbox_round_trip() -> None:
    messages = [
        CriminalTenprintSubmission(
            **BASE,
            sender=Actor.LEA,
            recipient=Actor.SIB,
            transaction=b"\x00\x01binary",
            booking_ori="CA0010000",
        ),
        ImmigrationAlienQuery(
            **BASE,
            sender=Actor.CJIS,
            recipient=Actor.LESC,
            booking_ori="CA0010000",
            name="DOE,JOHN",
            dob=date(1980, 2, 29),
            sex="M",
            pob="MM",
            in_custody=True,
            offense_code="5404",
            fbi_number="FBI1",
            ident_id="I1",
        ),
        ImmigrationAlienResponse(
            **BASE,
            sender=Actor.LESC,
            recipient=Actor.CJIS,
            ident_id="I1",
            a_number=None,
            recorded_status=RecordedStatus.VISA_OVERSTAY,
            removability=Removability.REMOVABLE,
            level=2,
            rule_set="r",
            candidates=(CandidateEvidence("I1", 0.7, {1: 0.6, 2: 0.8}, 1),),
        ),
        HoldStarted(
            **BASE,
            sender=Actor.LEA,
            recipient=Actor.ERO,
            detainer_id="d",
            deadline=datetime(2010, 9, 8, 17),
        ),
    ]
    for message in messages:
        assert message_from_payload(message.type, message.payload()) == message


def test_the_new_message_fields_survive_the_outbox_round_trip() -> None:
    from scomm.domain.messages import (
        Detainer,
        DetainerWithdrawn,
        EncounterEntry,
        HistoryEntry,
        IdentMatch,
    )

    evidence = CandidateEvidence("I1", 0.7, {1: 0.6}, 1, {1: ((10, 20, 11, 22), (30, 40, 31, 41))})
    encounters = (EncounterEntry(datetime(2003, 4, 1), "immigration_encounter", "visa", "X"),)
    messages = [
        IdentMatch(
            **BASE,
            sender=Actor.IDENT,
            recipient=Actor.CJIS,
            ident_id="I1",
            candidates=(evidence,),
            encounters=encounters,
        ),
        ImmigrationAlienResponse(
            **BASE,
            sender=Actor.LESC,
            recipient=Actor.CJIS,
            ident_id="I1",
            a_number="A12345678",
            recorded_status=RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
            removability=Removability.STATUS_UNRESOLVED,
            level=0,
            rule_set="2011-conviction-based",
            history=(HistoryEntry("conviction", "BURGLARY", "2299", True),),
            hold_allowed=False,
            encounters=encounters,
        ),
        Detainer(
            **BASE,
            sender=Actor.ERO,
            recipient=Actor.LEA,
            detainer_id="d",
            form="I-247D",
            level=1,
            decided_by="simulated:x",
            decision_id="decision-1",
            fields={"priority": "priority 1"},
        ),
        DetainerWithdrawn(
            **BASE, sender=Actor.ERO, recipient=Actor.LEA, detainer_id="d", reason="dismissed"
        ),
    ]
    for message in messages:
        assert message_from_payload(message.type, message.payload()) == message
