"""DHS IDENT: searches the immigration repository and answers with an IDR (match or no match)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from scomm.biometrics.protocols import Template
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.messages import (
    Actor,
    CandidateEvidence,
    EncounterEntry,
    IdentMatch,
    IdentNoMatch,
    IdentSearchRequest,
    Message,
)
from scomm.domain.records import Encounter, EncounterKind, Repository
from scomm.nist.car import decode_tenprint
from scomm.nist.errors import TransactionError
from scomm.services.common import reply
from scomm.services.context import ServiceContext
from scomm.services.fingerprints import NoUsableFingers, evidence, tenprint_templates

ME = Actor.IDENT
EVIDENCE_FINGERS = 3  # paired minutiae for the best-scoring fingers of the best candidate


class ImmigrationRepository:
    """Search only: a probe that matches nobody is not enrolled (DOMAIN.md §1.7 leaves
    retention open; `search_only` is the conservative reading)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        if not isinstance(message, IdentSearchRequest):
            raise ValueError(f"IDENT does not handle {message.type}")
        delay = self.ctx.settings.delays.ident_search
        try:
            templates = tenprint_templates(
                self.ctx, decode_tenprint(message.transaction, self.ctx.decoded_images)
            )
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
            found = evidence(candidates)
            if self.ctx.settings.safeguards.match_evidence and found:
                found = (self._with_minutiae(uow, found[0], templates), *found[1:])
            identities = uow.identities(Repository.IMMIGRATION)
            history = encounter_list(uow, best.identity_id)
            subject = identities.subject(best.identity_id)
            identities.add_encounter(
                Encounter(
                    repository=Repository.IMMIGRATION,
                    identity_id=best.identity_id,
                    at=uow.now,
                    kind=EncounterKind.INTEROPERABILITY_SEARCH,
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
                    candidates=found,
                    encounters=history,
                    a_number=subject.a_number if subject else None,
                    recorded_status=subject.recorded_status if subject else None,
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

    def _with_minutiae(
        self, uow: AbstractUnitOfWork, candidate: CandidateEvidence, probe: Mapping[int, Template]
    ) -> CandidateEvidence:
        """Safeguard (d): the minutiae the matcher paired, where the engine can explain."""
        engine = getattr(self.ctx.immigration_gallery, "search_engine", None)
        matcher = getattr(engine, "matcher", None)
        if matcher is None or not hasattr(matcher, "explain"):
            return candidate
        fingers = sorted(candidate.finger_scores, key=lambda f: -candidate.finger_scores[f])
        paired: dict[int, tuple[tuple[int, int, int, int], ...]] = {}
        identities = uow.identities(Repository.IMMIGRATION)
        for finger in fingers[:EVIDENCE_FINGERS]:
            stored = identities.template(candidate.identity_id, finger)
            if stored is None or finger not in probe:
                continue
            mine = getattr(probe[finger], "minutiae", None)
            theirs = getattr(self.ctx.codec.decode(stored, finger), "minutiae", None)
            if mine is None or theirs is None:
                continue
            why = matcher.explain(matcher.prepare(mine), matcher.prepare(theirs))
            paired[finger] = tuple(
                (int(mine.x[a]), int(mine.y[a]), int(theirs.x[b]), int(theirs.y[b]))
                for a, b in why.matched
            )
        return replace(candidate, paired_minutiae=paired)


def encounter_list(uow: AbstractUnitOfWork, ident_id: str) -> tuple[EncounterEntry, ...]:
    """The IDR's encounter list: the identity's IDENT encounters, oldest first."""
    found = uow.identities(Repository.IMMIGRATION).encounters(ident_id)
    return tuple(EncounterEntry(e.at, e.kind.value, e.detail, e.ori) for e in found)
