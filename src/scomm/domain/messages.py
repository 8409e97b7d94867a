"""The messages that travel between the actors of the flow (DOMAIN.md §1.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from scomm.domain.errors import DomainError
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.serialization import from_plain, to_plain


class Actor(StrEnum):
    LEA = "lea"  # the booking jail (law-enforcement agency), by its ORI
    SIB = "sib"  # the State Identification Bureau
    CJIS = "cjis"  # FBI CJIS: the criminal repository (IAFIS/NGI)
    IDENT = "ident"  # DHS IDENT: the immigration repository
    LESC = "lesc"  # ICE Law Enforcement Support Center
    ERO = "ero"  # ICE Enforcement and Removal Operations field office (and its detention)
    EOIR = "eoir"  # the immigration court (DOJ Executive Office for Immigration Review)
    COURT = "court"  # the court that decides the booking's charges (sends dispositions only)
    CALLBACK = "callback"  # an agency's callback URL: the service POSTs its task's response


class DispositionOutcome(StrEnum):
    """How the charges of a booking ended (a court disposition, weeks after the booking)."""

    CONVICTED = "convicted"
    DISMISSED = "dismissed"
    ACQUITTED = "acquitted"

    @property
    def clears_the_person(self) -> bool:
        return self in (DispositionOutcome.DISMISSED, DispositionOutcome.ACQUITTED)


@dataclass(frozen=True, kw_only=True)
class Message:
    """Every message names its case, its transaction (TCN), sender and recipient."""

    TYPE: ClassVar[str] = "MESSAGE"
    message_id: str
    case_id: str
    tcn: str
    sender: Actor
    recipient: Actor

    @property
    def type(self) -> str:
        return self.TYPE

    def payload(self) -> dict[str, Any]:
        return to_plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CandidateEvidence:
    """A candidate as a search found it: the evidence that travels with a match.

    `paired_minutiae`, where the engine gives them: per finger, the minutiae the matcher
    paired, as (probe x, probe y, candidate x, candidate y) in pixels.
    """

    identity_id: str
    fused_score: float
    finger_scores: dict[int, float]
    rank: int
    paired_minutiae: dict[int, tuple[tuple[int, int, int, int], ...]] = field(default_factory=dict)


class DeliveryStatus(StrEnum):
    """Where a message stands in the outbox."""

    PENDING = "pending"  # waiting for its time or for a retry
    DELIVERED = "delivered"  # its recipient handled it
    DEAD = "dead"  # the dispatcher gave up: a dead letter an operator can replay


@dataclass(frozen=True)
class EncounterEntry:
    """One encounter of an identity, as a response lists them (oldest first): the IDR's
    IDENT encounters, the criminal record CJIS sends with an IAQ."""

    at: datetime
    kind: str
    detail: str
    ori: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the criminal-history summary in an IAR (from the III check)."""

    kind: str  # "arrest" (pending or earlier) | "conviction"
    literal: str
    ncic_code: str
    felony: bool


@dataclass(frozen=True, kw_only=True)
class CriminalTenprintSubmission(Message):
    """EBTS TOT CAR: criminal tenprint submission, answer required."""

    TYPE: ClassVar[str] = "CAR"
    transaction: bytes
    booking_ori: str


@dataclass(frozen=True, kw_only=True)
class SubmissionResults(Message):
    """EBTS SRE: the criminal search result (2.059 SRF I/N, 2.014 FBI)."""

    TYPE: ClassVar[str] = "SRE"
    identified: bool
    fbi_number: str
    candidates: tuple[CandidateEvidence, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TransactionErrorResponse(Message):
    """EBTS ERRT: the transaction was rejected; `messages` go in 2.060 MSG."""

    TYPE: ClassVar[str] = "ERRT"
    messages: tuple[str, ...]
    field_tag: str | None = None


@dataclass(frozen=True, kw_only=True)
class IdentSearchRequest(Message):
    """CJIS forwards the booking's prints to IDENT (switch B)."""

    TYPE: ClassVar[str] = "IDENT_SEARCH"
    transaction: bytes
    booking_ori: str
    fbi_number: str


@dataclass(frozen=True, kw_only=True)
class IdentMatch(Message):
    """IDR, match: IDENT found the prints; the candidate list is the evidence."""

    TYPE: ClassVar[str] = "IDR_MATCH"
    ident_id: str
    candidates: tuple[CandidateEvidence, ...]
    encounters: tuple[EncounterEntry, ...] = ()
    a_number: str | None = None  # IDENT's biographic record of the identity
    recorded_status: RecordedStatus | None = None


@dataclass(frozen=True, kw_only=True)
class IdentNoMatch(Message):
    """IDR, no match."""

    TYPE: ClassVar[str] = "IDR_NO_MATCH"
    best_score: float | None = None


@dataclass(frozen=True, kw_only=True)
class ImmigrationAlienQuery(Message):
    """IAQ to LESC (Nlets fields: ORI, NAM, DOB, SEX, POB, CUS, OFF, FBI); `nlets_text` is
    the query as Nlets carried it (`scomm.nist.nlets`), which LESC reads.

    What LESC's research found in its own sources travels with the query, since LESC keeps
    no copy of them: IDENT's record of the identity (`a_number`, `recorded_status`, the
    `encounters` of the IDR) and the subject's criminal record in the III before this
    booking (`criminal_record`: earlier arrests and convictions, oldest first)."""

    TYPE: ClassVar[str] = "IAQ"
    booking_ori: str
    name: str
    dob: date
    sex: str
    pob: str
    in_custody: bool
    offense_code: str
    fbi_number: str
    ident_id: str
    candidates: tuple[CandidateEvidence, ...] = ()
    encounters: tuple[EncounterEntry, ...] = ()
    nlets_text: str = ""
    a_number: str | None = None
    recorded_status: RecordedStatus | None = None
    criminal_record: tuple[EncounterEntry, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ImmigrationAlienResponse(Message):
    """IAR from LESC: status determination, criminal history summary, priority level, and
    the version of the rule set that produced the level; with the match evidence."""

    TYPE: ClassVar[str] = "IAR"
    ident_id: str
    a_number: str | None
    recorded_status: RecordedStatus
    removability: Removability
    level: int
    rule_set: str
    criminal_history: tuple[str, ...] = ()
    candidates: tuple[CandidateEvidence, ...] = ()
    determination: str = ""  # the status determination in words
    level_basis: str = ""  # why this level under `rule_set`
    history: tuple[HistoryEntry, ...] = ()
    detainer_allowed: bool = True  # the rule set's detainer criteria
    hold_allowed: bool = True  # a hold may be asked, not only a notification
    encounters: tuple[EncounterEntry, ...] = ()
    severity: int | None = None  # offense-type level of the most serious charge or conviction


@dataclass(frozen=True, kw_only=True)
class IdentResultsToJail(Message):
    """The combined IDR/IAR returned to the SIB and the jail (switch C)."""

    TYPE: ClassVar[str] = "IDR_IAR"
    matched: bool
    recorded_status: RecordedStatus | None = None
    removability: Removability | None = None
    level: int | None = None
    rule_set: str | None = None


@dataclass(frozen=True, kw_only=True)
class MatchNotification(Message):
    """Notice to the ICE field office of a match, with the IAR."""

    TYPE: ClassVar[str] = "MATCH_NOTIFICATION"
    booking_ori: str
    ident_id: str
    recorded_status: RecordedStatus
    removability: Removability
    level: int
    rule_set: str
    detainer_allowed: bool = True
    hold_allowed: bool = True
    level_basis: str = ""
    severity: int | None = None
    a_number: str | None = None
    name: str = ""
    dob: date | None = None
    pob: str = ""


@dataclass(frozen=True, kw_only=True)
class Detainer(Message):
    """A detainer form (I-247 and its successors, `scomm.forms.detainers`): ask the jail to
    hold the person up to 48 hours past release. `decision_id` names the recorded officer
    decision behind it (None only where that safeguard is off)."""

    TYPE: ClassVar[str] = "DETAINER"
    detainer_id: str
    form: str
    level: int
    decided_by: str
    rule_set: str = ""
    decision_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NotificationRequest(Message):
    """Ask the jail to tell ICE when it releases the person (no hold); from 2015 on its own
    form, I-247N."""

    TYPE: ClassVar[str] = "NOTIFICATION_REQUEST"
    decided_by: str
    form: str = ""
    rule_set: str = ""


@dataclass(frozen=True, kw_only=True)
class DetainerWithdrawn(Message):
    """ICE withdraws a pending detainer (the charges were dismissed or the person acquitted)."""

    TYPE: ClassVar[str] = "DETAINER_WITHDRAWN"
    detainer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DetainerResponse(Message):
    """The jail's answer to a detainer under its policy."""

    TYPE: ClassVar[str] = "DETAINER_RESPONSE"
    detainer_id: str
    honoured: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReleaseDue(Message):
    """Jail timer: the person would now be released (bail, sentence served, charges)."""

    TYPE: ClassVar[str] = "RELEASE_DUE"


@dataclass(frozen=True, kw_only=True)
class HoldStarted(Message):
    """The jail holds the person on the detainer until `deadline`."""

    TYPE: ClassVar[str] = "HOLD_STARTED"
    detainer_id: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class HoldExpired(Message):
    """Jail timer: the 48-hour hold ran out."""

    TYPE: ClassVar[str] = "HOLD_EXPIRED"
    detainer_id: str


@dataclass(frozen=True, kw_only=True)
class CustodyPickup(Message):
    """ICE officers arrive to take custody."""

    TYPE: ClassVar[str] = "CUSTODY_PICKUP"
    detainer_id: str


@dataclass(frozen=True, kw_only=True)
class Release(Message):
    """The jail released the person."""

    TYPE: ClassVar[str] = "RELEASE"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Transfer(Message):
    """The jail transferred custody to ICE."""

    TYPE: ClassVar[str] = "TRANSFER"
    detainer_id: str


@dataclass(frozen=True, kw_only=True)
class NoticeToAppear(Message):
    """ERO charges a person in its custody before the immigration court (Form I-862, INA
    §240), or puts a claim of citizenship before it; `detained`: on the detained docket."""

    TYPE: ClassVar[str] = "NTA"
    track: str  # scomm.domain.removals.Track
    detained: bool
    citizenship_evidence: str = ""


@dataclass(frozen=True, kw_only=True)
class HearingDue(Message):
    """The court's timer: the person's hearing is today."""

    TYPE: ClassVar[str] = "HEARING_DUE"
    track: str


@dataclass(frozen=True, kw_only=True)
class ImmigrationJudgeOrder(Message):
    """The judge's decision, to ICE: removal ordered, relief granted, or proceedings
    terminated (scomm.domain.removals.Judgment)."""

    TYPE: ClassVar[str] = "IJ_ORDER"
    judgment: str
    counsel: bool
    reason: str
    track: str


@dataclass(frozen=True, kw_only=True)
class RemovalDue(Message):
    """ERO's timer: the removal order is carried out today."""

    TYPE: ClassVar[str] = "REMOVAL_DUE"
    track: str


@dataclass(frozen=True, kw_only=True)
class CourtDisposition(Message):
    """The court's disposition of the booking's charges, sent to the booking jail (and by the
    jail on to ICE when ICE has lodged a detainer, or has the person in its custody)."""

    TYPE: ClassVar[str] = "DISPOSITION"
    outcome: DispositionOutcome
    decided_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallbackDue(Message):
    """The response of a task an agency submitted over the service, due at the agency's
    callback URL (scomm.domain.callbacks; scomm.api delivers it)."""

    TYPE: ClassVar[str] = "CALLBACK"
    client_id: str  # the agency whose callback it is
    response_id: str  # the message id of the response (SRE or ERRT) it carries


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        CriminalTenprintSubmission,
        SubmissionResults,
        TransactionErrorResponse,
        IdentSearchRequest,
        IdentMatch,
        IdentNoMatch,
        ImmigrationAlienQuery,
        ImmigrationAlienResponse,
        IdentResultsToJail,
        MatchNotification,
        Detainer,
        NotificationRequest,
        DetainerResponse,
        ReleaseDue,
        HoldStarted,
        HoldExpired,
        CustodyPickup,
        Release,
        Transfer,
        CourtDisposition,
        DetainerWithdrawn,
        CallbackDue,
        NoticeToAppear,
        HearingDue,
        ImmigrationJudgeOrder,
        RemovalDue,
    )
}


class UnknownMessageType(DomainError):
    pass


def message_from_payload(type_name: str, payload: dict[str, Any]) -> Message:
    cls = MESSAGE_TYPES.get(type_name)
    if cls is None:
        raise UnknownMessageType(type_name)
    return from_plain(cls, payload)
