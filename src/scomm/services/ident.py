"""DHS IDENT: searches the immigration repository and answers with an IDR (match or no match)."""

from __future__ import annotations

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.messages import Actor, IdentMatch, IdentNoMatch, IdentSearchRequest, Message
from scomm.domain.records import Repository
from scomm.nist.car import decode_tenprint
from scomm.nist.errors import TransactionError
from scomm.services.common import reply
from scomm.services.context import ServiceContext
from scomm.services.fingerprints import NoUsableFingers, evidence, tenprint_templates
from scomm.store.models import EncounterRow

ME = Actor.IDENT


class ImmigrationRepository:
    """Search only: a probe that matches nobody is not enrolled (DOMAIN.md §1.7 leaves
    retention open; `search_only` is the conservative reading)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        if not isinstance(message, IdentSearchRequest):
            raise ValueError(f"IDENT does not handle {message.type}")
        delay = self.ctx.settings.delays.ident_search
        try:
            templates = tenprint_templates(self.ctx, decode_tenprint(message.transaction))
        except (TransactionError, NoUsableFingers) as error:
            uow.record(
                "decision", "IDENT_SEARCH_FAILED", ME.value, message.case_id, {"error": str(error)}
            )
            uow.emit(
                reply(uow, message, IdentNoMatch, ME, Actor.CJIS, best_score=None), delay=delay
            )
            return
        candidates = self.ctx.immigration_gallery.search(templates)
        best = candidates.best
        if candidates.is_hit and best is not None:
            uow.session.add(
                EncounterRow(
                    repository=Repository.IMMIGRATION.value,
                    identity_id=best.identity_id,
                    at=uow.now,
                    kind="interoperability_search",
                    detail=f"criminal booking TCN {message.tcn}",
                    ori=message.booking_ori,
                )
            )
            uow.emit(
                reply(
                    uow,
                    message,
                    IdentMatch,
                    ME,
                    Actor.CJIS,
                    ident_id=best.identity_id,
                    candidates=evidence(candidates),
                ),
                delay=delay,
            )
        else:
            uow.emit(
                reply(
                    uow,
                    message,
                    IdentNoMatch,
                    ME,
                    Actor.CJIS,
                    best_score=round(float(best.fused_score), 4) if best else None,
                ),
                delay=delay,
            )
