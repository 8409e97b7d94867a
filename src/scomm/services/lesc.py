"""ICE's Law Enforcement Support Center: researches an IAQ and answers with an IAR."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.immigration import RecordedStatus, removability
from scomm.domain.levels import RULE_SET_2009, level_2009
from scomm.domain.messages import Actor, ImmigrationAlienQuery, ImmigrationAlienResponse, Message
from scomm.domain.offenses import classify_literal
from scomm.domain.records import Repository
from scomm.services.common import reply
from scomm.services.context import ServiceContext
from scomm.store.models import CriminalSubmissionRow, EncounterRow, SubjectRow

ME = Actor.LESC


class LawEnforcementSupportCenter:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        if not isinstance(message, ImmigrationAlienQuery):
            raise ValueError(f"LESC does not handle {message.type}")
        subject = uow.session.get(SubjectRow, (Repository.IMMIGRATION.value, message.ident_id))
        if subject is None or subject.recorded_status is None:
            raise LookupError(f"IDENT identity {message.ident_id} has no immigration record")
        status = RecordedStatus(subject.recorded_status)
        history = self._criminal_history(uow, message.fbi_number, message.tcn)
        codes = [message.offense_code, *(classify_literal(h).ncic_code for h in history)]
        level = level_2009(codes)
        determination = removability(status, level)
        uow.record(
            "decision",
            "IAR_DETERMINATION",
            ME.value,
            message.case_id,
            {
                "ident_id": message.ident_id,
                "recorded_status": status.value,
                "level": level,
                "rule_set": RULE_SET_2009,
                "removability": determination.value,
                "offense_codes": codes,
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
                level=level,
                rule_set=RULE_SET_2009,
                criminal_history=tuple(history),
                candidates=message.candidates,
            ),
            delay=self.ctx.settings.delays.lesc_research,
        )

    def _criminal_history(self, uow: UnitOfWork, fbi_number: str, tcn: str) -> list[str]:
        """The criminal record (the III check): arrests and convictions before this booking,
        whose own charges arrive as the IAQ's offense code."""
        booked = uow.session.scalar(
            select(CriminalSubmissionRow.received_at).where(CriminalSubmissionRow.tcn == tcn)
        )
        earlier = EncounterRow.kind.in_(("prior_arrest", "conviction"))
        if booked is not None:
            earlier = or_(earlier, and_(EncounterRow.kind == "arrest", EncounterRow.at < booked))
        rows = uow.session.scalars(
            select(EncounterRow.detail).where(
                EncounterRow.repository == Repository.CRIMINAL.value,
                EncounterRow.identity_id == fbi_number,
                earlier,
            )
        ).all()
        return list(rows)
