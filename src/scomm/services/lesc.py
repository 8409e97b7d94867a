"""ICE's Law Enforcement Support Center: researches an IAQ and answers with an IAR.

It reads the query as Nlets text, looks up the IDENT record, the criminal history (III) and,
with the status-currency safeguard on, the USCIS benefit records; the rule set in force on
the day it answers gives the level, and the IAR names that rule set's version.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.immigration import (
    DETERMINATION_TEXT,
    RecordedStatus,
    Removability,
    removability,
    status_change_since,
)
from scomm.domain.levels import CriminalFacts, determine, level_2009, rule_set_at
from scomm.domain.messages import (
    Actor,
    HistoryEntry,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    Message,
)
from scomm.domain.offenses import classify_literal, is_felony
from scomm.domain.records import Repository
from scomm.nist.nlets import parse_iaq
from scomm.services.common import reply
from scomm.services.context import ServiceContext
from scomm.services.uscis import benefits_for
from scomm.store.models import CriminalSubmissionRow, EncounterRow, SubjectRow

ME = Actor.LESC
# IDENT encounters that are not status events: the interoperability search of this booking
NOT_A_STATUS_ENCOUNTER = ("interoperability_search",)


class LawEnforcementSupportCenter:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        if not isinstance(message, ImmigrationAlienQuery):
            raise ValueError(f"LESC does not handle {message.type}")
        offense_code = message.offense_code
        if message.nlets_text:  # the query as Nlets carried it is what LESC reads
            offense_code = parse_iaq(message.nlets_text).offense_code
        subject = uow.session.get(SubjectRow, (Repository.IMMIGRATION.value, message.ident_id))
        if subject is None or subject.recorded_status is None:
            raise LookupError(f"IDENT identity {message.ident_id} has no immigration record")
        status = RecordedStatus(subject.recorded_status)
        history = self._criminal_history(uow, message.fbi_number, message.tcn)
        facts = CriminalFacts(
            charges=(offense_code, *(h.ncic_code for h in history if h.kind != "conviction")),
            convictions=tuple(h.ncic_code for h in history if h.kind == "conviction"),
            recorded_status=status.value,
        )
        rule_set = rule_set_at(uow.now)
        found = determine(rule_set, facts)
        # Removability is a status question, answered at booking before any conviction: it
        # follows the seriousness of the charges and convictions (the offense-type table);
        # the priority level follows the rule set in force.
        severity = level_2009([*facts.charges, *facts.convictions])
        determination = removability(status, severity)
        safeguards = self.ctx.settings.safeguards
        if determination is Removability.REMOVABLE and safeguards.status_currency:
            determination = self._status_currency(uow, message, subject.a_number, determination)
        candidates = message.candidates if safeguards.match_evidence else ()
        uow.record(
            "decision",
            "IAR_DETERMINATION",
            ME.value,
            message.case_id,
            {
                "ident_id": message.ident_id,
                "recorded_status": status.value,
                "level": found.level,
                "rule_set": found.rule_set,
                "level_basis": found.basis,
                "severity": severity,
                "detainer_allowed": found.detainer_allowed,
                "removability": determination.value,
                "offense_codes": [*facts.charges, *facts.convictions],
                "match_evidence": len(candidates),
            },
        )
        uow.emit(
            reply(
                uow,
                message,
                ImmigrationAlienResponse,
                ME,
                Actor.CJIS,
                ident_id=message.ident_id,
                a_number=subject.a_number,
                recorded_status=status,
                removability=determination,
                level=found.level,
                rule_set=found.rule_set,
                criminal_history=tuple(h.literal for h in history),
                candidates=candidates,
                determination=DETERMINATION_TEXT[determination],
                level_basis=found.basis,
                history=tuple(history),
                detainer_allowed=found.detainer_allowed,
                hold_allowed=found.hold_allowed,
                encounters=message.encounters,
                severity=severity,
            ),
            delay=self.ctx.settings.delays.lesc_research,
        )

    def _status_currency(
        self,
        uow: UnitOfWork,
        message: ImmigrationAlienQuery,
        a_number: str | None,
        determination: Removability,
    ) -> Removability:
        """Safeguard (a): a naturalization, derived citizenship or adjustment granted after
        the last immigration encounter makes the answer "status unresolved, possible citizen"."""
        if a_number is None:  # nothing to look up by: the USCIS systems are keyed by A-number
            return determination
        last = uow.session.scalar(
            select(EncounterRow.at)
            .where(
                EncounterRow.repository == Repository.IMMIGRATION.value,
                EncounterRow.identity_id == message.ident_id,
                EncounterRow.kind.not_in(NOT_A_STATUS_ENCOUNTER),
            )
            .order_by(EncounterRow.at.desc())
            .limit(1)
        )
        change = status_change_since(last, benefits_for(uow.session, a_number))
        if change is None:
            return determination
        uow.record(
            "safeguard",
            "STATUS_CURRENCY",
            ME.value,
            message.case_id,
            {
                "a_number": a_number,
                "benefit": change.kind.value,
                "granted_at": change.granted_at.isoformat(),
                "last_encounter": last.isoformat() if last else None,
                "instead_of": determination.value,
                "answer": Removability.STATUS_UNRESOLVED.value,
            },
        )
        return Removability.STATUS_UNRESOLVED

    def _criminal_history(self, uow: UnitOfWork, fbi_number: str, tcn: str) -> list[HistoryEntry]:
        """The criminal record (the III check): arrests and convictions before this booking,
        whose own charges arrive as the IAQ's offense code."""
        booked = uow.session.scalar(
            select(CriminalSubmissionRow.received_at).where(CriminalSubmissionRow.tcn == tcn)
        )
        earlier = EncounterRow.kind.in_(("prior_arrest", "conviction"))
        if booked is not None:
            earlier = or_(earlier, and_(EncounterRow.kind == "arrest", EncounterRow.at < booked))
        rows = uow.session.execute(
            select(EncounterRow.kind, EncounterRow.detail)
            .where(
                EncounterRow.repository == Repository.CRIMINAL.value,
                EncounterRow.identity_id == fbi_number,
                earlier,
            )
            .order_by(EncounterRow.at, EncounterRow.id)
        ).all()
        entries = []
        for kind, literal in rows:
            code = classify_literal(literal).ncic_code
            entries.append(
                HistoryEntry(
                    kind="conviction" if kind == "conviction" else "arrest",
                    literal=literal,
                    ncic_code=code,
                    felony=is_felony(code),
                )
            )
        return entries
