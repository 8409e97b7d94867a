"""ICE's Law Enforcement Support Center: researches an IAQ and answers with an IAR.

It reads the query as Nlets text; the IDENT record and the criminal history (III) it
researched travel with the query (LESC keeps no copy of either), and with the
status-currency safeguard on it looks up its USCIS benefit records (`uow.benefits`). The
rule set in force on the day it answers gives the level, and the IAR names that rule set's
version.
"""

from __future__ import annotations

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.immigration import (
    DETERMINATION_TEXT,
    BenefitKind,
    RecordedStatus,
    Removability,
    removability,
    status_change_since,
)
from scomm.domain.levels import CriminalFacts
from scomm.domain.messages import (
    Actor,
    HistoryEntry,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    Message,
)
from scomm.domain.records import EncounterKind
from scomm.nist.nlets import parse_iaq
from scomm.services.common import reply
from scomm.services.context import ServiceContext

ME = Actor.LESC


class LawEnforcementSupportCenter:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        if not isinstance(message, ImmigrationAlienQuery):
            raise ValueError(f"LESC does not handle {message.type}")
        offense_code = message.offense_code
        if message.nlets_text:  # the query as Nlets carried it is what LESC reads
            offense_code = parse_iaq(message.nlets_text).offense_code
        if message.recorded_status is None:
            raise LookupError(f"IDENT identity {message.ident_id} has no immigration record")
        status = RecordedStatus(message.recorded_status)
        rules = self.ctx.rules
        history = criminal_history(message, rules)
        facts = CriminalFacts(
            charges=(offense_code, *(h.ncic_code for h in history if h.kind != "conviction")),
            convictions=tuple(h.ncic_code for h in history if h.kind == "conviction"),
            recorded_status=status.value,
        )
        rule_set = rules.rule_set_at(uow.now)
        found = rules.determine(rule_set, facts)
        # Removability is a status question, answered at booking before any conviction: it
        # follows the seriousness of the charges and convictions (the offense-type table);
        # the priority level follows the rule set in force.
        severity = rules.level_2009([*facts.charges, *facts.convictions])
        determination = removability(status, severity)
        safeguards = self.ctx.settings.safeguards
        if determination is Removability.REMOVABLE and safeguards.status_currency:
            determination = self._status_currency(uow, message, message.a_number, determination)
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
                "citizenship_record": citizenship_record(uow, message.a_number),
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
                a_number=message.a_number,
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
        uow: AbstractUnitOfWork,
        message: ImmigrationAlienQuery,
        a_number: str | None,
        determination: Removability,
    ) -> Removability:
        """Safeguard (a): a naturalization, derived citizenship or adjustment granted after
        the last immigration encounter makes the answer "status unresolved, possible citizen"."""
        if a_number is None:  # nothing to look up by: the USCIS systems are keyed by A-number
            return determination
        status_events = [e.at for e in message.encounters if EncounterKind(e.kind).is_status_event]
        last = max(status_events, default=None)
        change = status_change_since(last, uow.benefits.for_a_number(a_number))
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


CITIZENSHIP_BENEFITS = (BenefitKind.NATURALIZATION, BenefitKind.DERIVED_CITIZENSHIP)


def citizenship_record(uow: AbstractUnitOfWork, a_number: str | None) -> str:
    """What USCIS's records show of citizenship on the A-number, whatever the safeguards:
    the kind of the first certificate granted by now ("naturalization" or
    "derived_citizenship"), else "". It goes into the audit entry so that the statistics
    can count the citizens the system could have known, with safeguard (a) on or off."""
    if a_number is None:
        return ""
    granted = [
        r
        for r in uow.benefits.for_a_number(a_number)
        if r.kind in CITIZENSHIP_BENEFITS and r.granted_at <= uow.now
    ]
    return min(granted, key=lambda r: r.granted_at).kind.value if granted else ""


def criminal_history(message: ImmigrationAlienQuery, rules: RuleCatalogue) -> list[HistoryEntry]:
    """The criminal record (the III check) as the IAR summarises it: the arrests and
    convictions before this booking, whose own charges arrive as the IAQ's offense code."""
    entries = []
    for entry in message.criminal_record:
        code = rules.classify(entry.detail).ncic_code
        conviction = entry.kind == EncounterKind.CONVICTION
        entries.append(
            HistoryEntry(
                kind="conviction" if conviction else "arrest",
                literal=entry.detail,
                ncic_code=code,
                felony=rules.is_felony(code),
            )
        )
    return entries
