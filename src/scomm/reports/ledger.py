"""What the audit log says happened to each booking, each detainer and each switch: the
product's one reader of the log, built in one pass, that the statistics, the FOIA release
and the public pages count from.

The ledger keeps facts, not counts: for each case (one booking) where it was booked and
when, what CJIS, IDENT, LESC, the field office, the jail, the court and ICE recorded about
it, and when; for each jurisdiction its activation (the first enabled switch B setting);
every switch change with the party that made it. `scomm.reports.measures` turns it into the
base counts of a statistics release. `chain_head` recomputes the head of the hash chain
from entries, so a release built from a memory run still names the chain it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.audit.chain import GENESIS_HASH, canonical_json, entry_hash
from scomm.bus.memory import MemoryEntry, database_entries
from scomm.domain.messages import DispositionOutcome
from scomm.store.models import AuditHeadRow, JurisdictionRow

# Dispositions after which the charges behind a detainer failed
CHARGES_FAILED = tuple(o.value for o in DispositionOutcome if o.clears_the_person)


@dataclass(frozen=True)
class ChainHead:
    """The last entry of the chain a release was built from."""

    seq: int
    entry_hash: str


def chain_head(entries: Iterable[MemoryEntry]) -> ChainHead:
    """The head of the chain the entries make, each hashed as `scomm.audit.chain.append`
    hashes it (its payload as canonical JSON, chained to the one before): for a database
    run it equals the stored head, for a memory run it is the head its database would have."""
    seq, digest = 0, GENESIS_HASH
    for entry in entries:
        text = canonical_json(entry.payload)
        digest = entry_hash(
            digest,
            entry.seq,
            entry.recorded_at,
            entry.kind,
            entry.name,
            entry.actor,
            entry.case_id,
            text,
        )
        seq = entry.seq
    return ChainHead(seq, digest)


def recorded_head(session: Session) -> ChainHead:
    """The head a database's chain records (the caller verified the chain in the same
    snapshot); the genesis for an empty log. `chain_head` of its entries equals it."""
    head = session.get(AuditHeadRow, 1)
    return ChainHead(head.seq, head.entry_hash) if head else ChainHead(0, GENESIS_HASH)


@dataclass
class JurisdictionFacts:
    ori: str
    state: str  # the ORI's first two letters
    name: str  # from the jurisdictions table when the ledger read a database, else the ORI
    activated_at: datetime | None = None  # effective date of the first enabled switch B


@dataclass(frozen=True)
class SwitchChange:
    """A switch setting as its audit entry records it; `owner` is the party that made it."""

    seq: int
    ori: str
    switch: str  # "A" .. "D"
    enabled: bool
    effective_from: datetime
    effective_to: datetime | None
    owner: str  # the entry's actor: federal, state, jurisdiction (anything else: who it names)
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class Determination:
    """LESC's answer to the IAQ (its IAR_DETERMINATION entry)."""

    at: datetime
    level: int | None
    rule_set: str
    removability: str
    recorded_status: str
    citizenship_record: str  # what USCIS's records showed: "", "naturalization", ...

    @property
    def status_unresolved(self) -> bool:
        return self.removability == "status_unresolved"


@dataclass
class DetainerFacts:
    """One detainer from lodging to its end, as the field office and the jail recorded it."""

    detainer_id: str
    lodged_at: datetime
    form: str = ""
    answer: str = ""  # the jail's: "honoured" or "declined"; "" before it answered, or when
    # it answered a detainer ICE had withdrawn already
    answered_at: datetime | None = None
    hold_started_at: datetime | None = None
    hold_deadline: datetime | None = None
    expired_at: datetime | None = None
    withdrawn_at: datetime | None = None
    transferred_at: datetime | None = None

    @property
    def outcome(self) -> str:
        """Where it ended (`DetainerStatus`' values): withdrawn, transferred, expired,
        honoured or declined, else "lodged"."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.transferred_at is not None:
            return "transferred"
        if self.expired_at is not None:
            return "expired"
        return self.answer or "lodged"


@dataclass
class CaseFacts:
    """One booking as the audit log tells it."""

    case_id: str
    ori: str
    booked_at: datetime
    tcn: str
    booking_id: str = ""
    charges: tuple[str, ...] = ()
    state: str = "booked"  # the last case state
    rejected: bool = False
    fbi_number: str | None = None
    criminal_identified: bool | None = None  # CJIS's SRE: identified against the III
    forwarded_at: datetime | None = None  # CJIS sent the prints to IDENT (a "submission")
    ident: str = ""  # "match", "no_match" or "not_forwarded" ("" before any answer)
    ident_id: str | None = None
    determination: Determination | None = None
    detainers: list[DetainerFacts] = field(default_factory=list)
    custody: str = "in_custody"  # the last custody state
    custody_ended_at: datetime | None = None  # released or transferred to ICE
    transferred_at: datetime | None = None  # custody transferred to ICE: an ICE arrest
    disposition: str = ""  # convicted, dismissed or acquitted
    disposition_at: datetime | None = None
    ice_custody_at: datetime | None = None
    ice_track: str = ""
    released_by_ice_at: datetime | None = None
    removed_at: datetime | None = None
    removal_level: int | None = None  # under `removal_rule_set`: 0 = no conviction
    removal_rule_set: str = ""
    removal_track: str = ""
    unclassified_literals: tuple[str, ...] = ()
    unclassified_at: datetime | None = None

    @property
    def person_key(self) -> str | None:
        """Who the person is, as far as the log can tell: the FBI number CJIS noted, else
        the IDENT identity."""
        return self.fbi_number or self.ident_id

    @property
    def citizenship_record(self) -> str:
        return self.determination.citizenship_record if self.determination else ""

    def held_past_legal_end(self) -> bool:
        """The jail kept the person after a hold's deadline had passed."""
        return any(self.held_past_end(d) for d in self.detainers)

    def held_past_end(self, detainer: DetainerFacts) -> bool:
        """The jail kept the person after this detainer's hold deadline had passed."""
        ended = self.custody_ended_at
        return (
            detainer.hold_started_at is not None
            and detainer.hold_deadline is not None
            and ended is not None
            and ended > detainer.hold_deadline
        )

    def detainer(self, detainer_id: str | None) -> DetainerFacts | None:
        for detainer in self.detainers:
            if detainer_id is None or detainer.detainer_id == detainer_id:
                return detainer
        return None


@dataclass
class Ledger:
    jurisdictions: dict[str, JurisdictionFacts] = field(default_factory=dict)
    cases: dict[str, CaseFacts] = field(default_factory=dict)
    switch_changes: list[SwitchChange] = field(default_factory=list)
    entries: int = 0
    last_seq: int = 0

    @classmethod
    def read(cls, session: Session, batch: int = 5000) -> Ledger:
        """The ledger of a database's audit log, the jurisdictions named from its table."""
        names = {row.ori: row.name for row in session.scalars(select(JurisdictionRow)).all()}
        return cls.of_entries(database_entries(session, batch), names)

    @classmethod
    def of_entries(
        cls, entries: Iterable[MemoryEntry], names: Mapping[str, str] | None = None
    ) -> Ledger:
        """One pass over audit entries in chain order, however read."""
        ledger = cls()
        for entry in entries:
            ledger.entries += 1
            ledger.last_seq = entry.seq
            ledger._take(entry)
        for ori, facts in ledger.jurisdictions.items():
            facts.name = (names or {}).get(ori, ori)
        return ledger

    # -- one entry --

    def _place(self, ori: str) -> JurisdictionFacts:
        if ori not in self.jurisdictions:
            self.jurisdictions[ori] = JurisdictionFacts(ori=ori, state=ori[:2], name=ori)
        return self.jurisdictions[ori]

    def _take(self, entry: MemoryEntry) -> None:
        payload: dict[str, Any] = entry.payload if isinstance(entry.payload, dict) else {}
        if entry.kind == "switch":
            self._switch(entry, payload)
            return
        if entry.kind == "booking":
            self._place(payload["ori"])
            self.cases[entry.case_id] = CaseFacts(
                case_id=entry.case_id,
                ori=payload["ori"],
                booked_at=entry.recorded_at,
                tcn=payload.get("tcn", ""),
                booking_id=payload.get("booking_id", ""),
                charges=tuple(payload.get("charges", ())),
            )
            return
        case = self.cases.get(entry.case_id)
        if case is None:
            return
        match entry.kind:
            case "case_state":
                self._case_state(case, entry, payload)
            case "custody":
                self._custody(case, entry, payload)
            case "outcome":
                self._outcome(case, entry, payload)
            case "decision":
                self._decision(case, entry, payload)
            case "safeguard" if entry.name == "WITHDRAW_ON_DISMISSAL":
                detainer = case.detainer(payload.get("detainer_id"))
                if detainer is not None and detainer.withdrawn_at is None:
                    detainer.withdrawn_at = entry.recorded_at
            case "message":
                self._message(case, entry, payload)

    def _switch(self, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        until = payload.get("effective_to")
        change = SwitchChange(
            seq=entry.seq,
            ori=payload["ori"],
            switch=entry.name.removeprefix("SWITCH_"),
            enabled=bool(payload["enabled"]),
            effective_from=datetime.fromisoformat(payload["effective_from"]),
            effective_to=datetime.fromisoformat(until) if until else None,
            owner=entry.actor,
            reason=payload.get("reason", ""),
            recorded_at=entry.recorded_at,
        )
        self.switch_changes.append(change)
        place = self._place(change.ori)
        # activation: switch B is the federal government's (an entry of anyone else's is
        # not honoured by the flow, so it activates nothing)
        if change.switch == "B" and change.enabled and change.owner == "federal":
            first = place.activated_at
            if first is None or change.effective_from < first:
                place.activated_at = change.effective_from

    def _case_state(self, case: CaseFacts, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        to = payload.get("to", entry.name)
        case.state = to
        noted = payload.get("noted") or {}
        if "fbi_number" in noted:
            case.fbi_number = noted["fbi_number"]
        if "ident_id" in noted:
            case.ident_id = noted["ident_id"]
        match to:
            case "rejected":
                case.rejected = True
            case "ident_match":
                case.ident = "match"
            case "ident_no_match":
                case.ident = "no_match"
            case "not_forwarded":
                case.ident = "not_forwarded"
            case "detainer_lodged":
                lodged = payload.get("detainer") or {}
                case.detainers.append(
                    DetainerFacts(
                        detainer_id=lodged.get("detainer_id", ""),
                        lodged_at=datetime.fromisoformat(lodged["lodged_at"])
                        if lodged.get("lodged_at")
                        else entry.recorded_at,
                        form=lodged.get("form", ""),
                    )
                )
            case "ice_custody":
                case.ice_custody_at = entry.recorded_at
                case.ice_track = payload.get("track", "")
            case "removed":
                case.removed_at = entry.recorded_at
                level = payload.get("level")
                case.removal_level = level if isinstance(level, int) else None
                case.removal_rule_set = payload.get("rule_set", "")
                case.removal_track = payload.get("track", "")

    def _custody(self, case: CaseFacts, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        to = payload.get("to", entry.name)
        case.custody = to
        if to == "held_on_detainer":
            detainer = case.detainer(payload.get("detainer_id"))
            if detainer is not None:
                detainer.hold_started_at = entry.recorded_at
                deadline = payload.get("hold_deadline")
                detainer.hold_deadline = datetime.fromisoformat(deadline) if deadline else None
        elif to in ("released", "transferred_to_ice"):
            case.custody_ended_at = entry.recorded_at
            if to == "transferred_to_ice":
                case.transferred_at = entry.recorded_at

    def _outcome(self, case: CaseFacts, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        name = entry.name
        if name.startswith("disposition_"):
            case.disposition = name.removeprefix("disposition_")
            decided = payload.get("decided_at")
            case.disposition_at = datetime.fromisoformat(decided) if decided else entry.recorded_at
            return
        if name == "released_by_ice":
            case.released_by_ice_at = entry.recorded_at
            return
        detainer = case.detainer(payload.get("detainer_id"))
        if detainer is None:
            return
        match name:
            case "hold_honored" | "hold_declined":
                # an answer to a detainer ICE had withdrawn is no answer to a request in force
                if detainer.withdrawn_at is None and not detainer.answer:
                    detainer.answer = "honoured" if name == "hold_honored" else "declined"
                    detainer.answered_at = entry.recorded_at
            case "hold_expired":
                detainer.expired_at = entry.recorded_at
            case "transferred":
                detainer.transferred_at = entry.recorded_at

    def _decision(self, case: CaseFacts, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        if entry.name == "IAR_DETERMINATION":
            level = payload.get("level")
            case.determination = Determination(
                at=entry.recorded_at,
                level=level if isinstance(level, int) else None,
                rule_set=payload.get("rule_set", ""),
                removability=payload.get("removability", ""),
                recorded_status=payload.get("recorded_status", ""),
                citizenship_record=payload.get("citizenship_record", ""),
            )
        elif entry.name == "AOL_UNCLASSIFIED":
            case.unclassified_literals = tuple(payload.get("literals", ()))
            case.unclassified_at = entry.recorded_at

    def _message(self, case: CaseFacts, entry: MemoryEntry, payload: dict[str, Any]) -> None:
        if entry.actor != "cjis":  # CJIS's own answers, not the SIB's relays of them
            return
        if entry.name == "IDENT_SEARCH" and case.forwarded_at is None:
            case.forwarded_at = entry.recorded_at
        elif entry.name == "SRE" and case.criminal_identified is None:
            case.criminal_identified = bool((payload.get("body") or {}).get("identified"))
