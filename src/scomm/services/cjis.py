"""FBI CJIS: criminal repository search (SRE/ERRT) and, where switch B is on, the IDENT link."""

from __future__ import annotations

from collections.abc import Mapping

from scomm.biometrics.protocols import Template
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.ids import derived_id
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CriminalTenprintSubmission,
    DispositionOutcome,
    EncounterEntry,
    IdentMatch,
    IdentNoMatch,
    IdentResultsToJail,
    IdentSearchRequest,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    MatchNotification,
    Message,
    SubmissionResults,
)
from scomm.domain.records import (
    CriminalSubmission,
    Encounter,
    EncounterKind,
    Repository,
    Subject,
)
from scomm.domain.switches import Switch
from scomm.nist.car import decode_tenprint
from scomm.nist.errors import TransactionError
from scomm.nist.nlets import NletsIaq, format_iaq, nlets_name
from scomm.nist.tenprint import TenprintSubmission
from scomm.services.common import (
    jurisdiction,
    load_case,
    move_case,
    record_outcome,
    reject,
    reply,
    switch_on,
)
from scomm.services.context import ServiceContext
from scomm.services.fingerprints import NoUsableFingers, evidence, tenprint_templates

ME = Actor.CJIS


class CriminalJusticeInformationServices:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        match message:
            case CriminalTenprintSubmission():
                self._on_car(message, uow)
            case IdentMatch():
                self._on_ident_match(message, uow)
            case IdentNoMatch():
                self._on_ident_no_match(message, uow)
            case ImmigrationAlienResponse():
                self._on_iar(message, uow)
            case CourtDisposition():
                self._on_disposition(message, uow)
            case _:
                raise ValueError(f"CJIS does not handle {message.type}")

    def _on_car(self, message: CriminalTenprintSubmission, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        try:
            submission = decode_tenprint(message.transaction, self.ctx.decoded_images)
            templates = tenprint_templates(self.ctx, submission)
        except TransactionError as error:
            reject(uow, message, case=case, actor=ME, error=error)
            return
        except NoUsableFingers as error:
            reject(uow, message, case=case, actor=ME, error=TransactionError("14.999", str(error)))
            return
        gallery = self.ctx.criminal_gallery
        candidates = gallery.search(templates)
        identified = candidates.is_hit and candidates.best is not None
        if identified and candidates.best is not None:
            fbi_number = candidates.best.identity_id
        else:
            fbi_number = derived_id("FBI", submission.tcn)
            if submission.retain:
                self._enrol(uow, fbi_number, submission, templates)
        if identified or submission.retain:
            self._record_arrest(uow, fbi_number, submission)
        rules = self.ctx.rules
        offense = most_serious_offense(submission, rules)
        unknown = [c.literal for c in submission.charges if rules.classify(c.literal).unknown]
        if unknown:  # an arrest literal no table knows: the IAQ says 0399, and it is counted
            uow.record(
                "decision", "AOL_UNCLASSIFIED", ME.value, case.case_id, {"literals": unknown}
            )
        uow.submissions.add(
            CriminalSubmission(
                tcn=submission.tcn,
                case_id=case.case_id,
                booking_ori=message.booking_ori,
                received_at=uow.now,
                name=submission.name,
                dob=submission.dob,
                sex=submission.sex,
                pob=submission.pob,
                offense_code=offense[0],
                offense_confidence=offense[1],
                fbi_number=fbi_number,
                identified=identified,
            )
        )
        case.fbi_number = fbi_number
        move_case(
            uow,
            case,
            CaseState.CRIMINAL_SEARCHED,
            ME,
            f"SRE {'I' if identified else 'N'}",
            noted={"fbi_number": fbi_number},
        )
        delay = self.ctx.settings.delays.cjis_search
        uow.emit(
            reply(
                uow,
                message,
                SubmissionResults,
                ME,
                Actor.SIB,
                identified=identified,
                fbi_number=fbi_number,
                candidates=evidence(candidates),
            ),
            delay=delay,
        )
        if switch_on(uow, message.booking_ori, Switch.B_FORWARD_TO_IDENT, uow.now):
            uow.emit(
                reply(
                    uow,
                    message,
                    IdentSearchRequest,
                    ME,
                    Actor.IDENT,
                    transaction=message.transaction,
                    booking_ori=message.booking_ori,
                    fbi_number=fbi_number,
                ),
                delay=delay,
            )
        else:
            move_case(uow, case, CaseState.NOT_FORWARDED, ME, "switch B off: not activated")
            record_outcome(uow, case.case_id, "not_forwarded", ME)

    def _enrol(
        self,
        uow: AbstractUnitOfWork,
        fbi_number: str,
        submission: TenprintSubmission,
        templates: Mapping[int, Template],
    ) -> None:
        subject = Subject(
            repository=Repository.CRIMINAL,
            identity_id=fbi_number,
            name=submission.name,
            dob=submission.dob,
            sex=submission.sex,
            pob=submission.pob,
            enrolled_at=uow.now,
        )
        uow.identities(Repository.CRIMINAL).enrol(subject, templates, self.ctx.engine_name)
        gallery = self.ctx.criminal_gallery
        uow.after_commit(lambda: gallery.enrol(fbi_number, templates))

    def _record_arrest(
        self, uow: AbstractUnitOfWork, fbi_number: str, submission: TenprintSubmission
    ) -> None:
        identities = uow.identities(Repository.CRIMINAL)
        for charge in submission.charges:
            identities.add_encounter(
                Encounter(
                    repository=Repository.CRIMINAL,
                    identity_id=fbi_number,
                    at=uow.now,
                    kind=EncounterKind.ARREST,
                    detail=charge.literal,
                    ori=submission.cri,
                )
            )

    def _on_disposition(self, message: CourtDisposition, uow: AbstractUnitOfWork) -> None:
        """The jail's final disposition report (the R-84): a conviction puts the booking's
        charges on the subject's III record as convictions, under the case's FBI number, so
        that a later booking's IAQ and a removal's level see them. Anything else (or a case
        CJIS never identified) is noted and changes no record."""
        case = uow.cases.get(message.case_id)
        submission = uow.submissions.get(case.tcn) if case is not None else None
        charges: list[str] = []
        fbi_number = case.fbi_number if case is not None else None
        if message.outcome is DispositionOutcome.CONVICTED and fbi_number and submission:
            identities = uow.identities(Repository.CRIMINAL)
            charges = [
                e.detail
                for e in identities.encounters(fbi_number)
                if e.kind is EncounterKind.ARREST and e.at == submission.received_at
            ]
            for literal in charges:
                identities.add_encounter(
                    Encounter(
                        repository=Repository.CRIMINAL,
                        identity_id=fbi_number,
                        at=message.decided_at,
                        kind=EncounterKind.CONVICTION,
                        detail=literal,
                        ori=submission.booking_ori,
                    )
                )
        uow.record(
            "received",
            message.type,
            ME.value,
            message.case_id,
            {
                "message_id": message.message_id,
                "outcome": message.outcome.value,
                "decided_at": message.decided_at.isoformat(),
                "fbi_number": fbi_number,
                "convictions": charges,
            },
        )

    def _on_ident_match(self, message: IdentMatch, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        case.ident_id = message.ident_id
        move_case(
            uow,
            case,
            CaseState.IDENT_MATCH,
            ME,
            f"IDENT identity {message.ident_id}",
            noted={"ident_id": message.ident_id},
        )
        sub = uow.submissions.get(message.tcn)
        if sub is None:
            raise LookupError(f"no accepted submission for TCN {message.tcn}")
        place = jurisdiction(uow, sub.booking_ori)
        text = format_iaq(
            NletsIaq(
                sender_ori=sub.booking_ori,
                control=derived_id("IAQ", message.case_id)[-10:].upper(),
                attention=_nlets_text(place.name if place else "")[:30].strip(),
                name=nlets_name(sub.name),
                dob=sub.dob,
                sex=sub.sex,
                pob=sub.pob,
                in_custody=True,
                offense_code=sub.offense_code,
                fbi_number=sub.fbi_number,
            )
        )
        uow.emit(
            reply(
                uow,
                message,
                ImmigrationAlienQuery,
                ME,
                Actor.LESC,
                booking_ori=sub.booking_ori,
                name=sub.name,
                dob=sub.dob,
                sex=sub.sex,
                pob=sub.pob,
                in_custody=True,
                offense_code=sub.offense_code,
                fbi_number=sub.fbi_number,
                ident_id=message.ident_id,
                candidates=message.candidates,
                encounters=message.encounters,
                nlets_text=text,
                a_number=message.a_number,
                recorded_status=message.recorded_status,
                criminal_record=criminal_record(uow, sub),
            )
        )
        move_case(uow, case, CaseState.IAQ_SENT, ME, f"IAQ OFF/{sub.offense_code}")

    def _on_ident_no_match(self, message: IdentNoMatch, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        move_case(uow, case, CaseState.IDENT_NO_MATCH, ME, "IDR no match")
        record_outcome(uow, case.case_id, "no_match", ME)
        if switch_on(uow, case.ori, Switch.C_RESULTS_TO_JAIL, uow.now):
            uow.emit(reply(uow, message, IdentResultsToJail, ME, Actor.SIB, matched=False))

    def _on_iar(self, message: ImmigrationAlienResponse, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        case.level = message.level
        case.rule_set = message.rule_set
        case.removability = message.removability
        move_case(
            uow,
            case,
            CaseState.IAR_RETURNED,
            ME,
            f"IAR {message.removability.value}, level {message.level}",
            noted={
                "level": message.level,
                "rule_set": message.rule_set,
                "removability": message.removability.value,
            },
        )
        sub = uow.submissions.get(message.tcn)
        uow.emit(
            reply(
                uow,
                message,
                MatchNotification,
                ME,
                Actor.ERO,
                booking_ori=case.ori,
                ident_id=message.ident_id,
                recorded_status=message.recorded_status,
                removability=message.removability,
                level=message.level,
                rule_set=message.rule_set,
                detainer_allowed=message.detainer_allowed,
                hold_allowed=message.hold_allowed,
                level_basis=message.level_basis,
                severity=message.severity,
                a_number=message.a_number,
                name=sub.name if sub else "",
                dob=sub.dob if sub else None,
                pob=sub.pob if sub else "",
            )
        )
        if switch_on(uow, case.ori, Switch.C_RESULTS_TO_JAIL, uow.now):
            uow.emit(
                reply(
                    uow,
                    message,
                    IdentResultsToJail,
                    ME,
                    Actor.SIB,
                    matched=True,
                    recorded_status=message.recorded_status,
                    removability=message.removability,
                    level=message.level,
                    rule_set=message.rule_set,
                )
            )


def criminal_record(
    uow: AbstractUnitOfWork, submission: CriminalSubmission
) -> tuple[EncounterEntry, ...]:
    """The subject's record in the III before this booking, oldest first: the arrests and
    convictions on file and the arrests of earlier bookings (this booking's own charges
    travel as the IAQ's offense code)."""
    on_file = (EncounterKind.PRIOR_ARREST, EncounterKind.CONVICTION)
    return tuple(
        EncounterEntry(e.at, e.kind.value, e.detail, e.ori)
        for e in uow.identities(Repository.CRIMINAL).encounters(submission.fbi_number)
        if e.kind in on_file or (e.kind is EncounterKind.ARREST and e.at < submission.received_at)
    )


def most_serious_offense(submission: TenprintSubmission, rules: RuleCatalogue) -> tuple[str, float]:
    """The NCIC code for the IAQ's OFF field: the most serious classified charge, else 0399."""
    classified = [rules.classify(c.literal) for c in submission.charges]
    if not classified:
        return "0399", 0.0
    best = min(classified, key=lambda c: (rules.offense_level(c.ncic_code), -c.confidence))
    return best.ncic_code, best.confidence


def _nlets_text(value: str) -> str:
    """A free-text value the Nlets layout can carry (no '.', '/', outer spaces)."""
    return " ".join(value.replace(".", " ").replace("/", " ").upper().split())
