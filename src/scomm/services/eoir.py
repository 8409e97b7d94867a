"""The immigration court (DOJ's Executive Office for Immigration Review): a notice to appear
puts a person before a judge; the hearing comes after a drawn number of days (a claim of
citizenship is settled sooner), and the judge decides on the record of that day
(`Settings.removal_policy.adjudicate`, seeded per case): removal ordered, relief granted,
or proceedings terminated (a citizen, a lawful status without a removable conviction).
The decision goes to ICE (ERO), which carries it out."""

from __future__ import annotations

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.messages import (
    Actor,
    HearingDue,
    ImmigrationJudgeOrder,
    Message,
    NoticeToAppear,
)
from scomm.domain.removals import Judgment, Track
from scomm.services.common import load_case, move_case, reply, seeded_draw
from scomm.services.context import ServiceContext
from scomm.services.removals import removal_facts

ME = Actor.EOIR

CASE_STATE_OF = {
    Judgment.REMOVAL_ORDERED: CaseState.REMOVAL_ORDERED,
    Judgment.RELIEF_GRANTED: CaseState.RELIEF_GRANTED,
    Judgment.TERMINATED: CaseState.TERMINATED,
}


class ImmigrationCourt:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        match message:
            case NoticeToAppear():
                self._schedule(message, uow)
            case HearingDue():
                self._hear(message, uow)
            case _:
                raise ValueError(f"the immigration court does not handle {message.type}")

    def _schedule(self, message: NoticeToAppear, uow: AbstractUnitOfWork) -> None:
        policy = self.ctx.settings.removal_policy
        claim = Track(message.track) is Track.CITIZENSHIP_CLAIM
        days = policy.claim_days if claim else policy.hearing_days
        after = days.draw(seeded_draw(self.ctx.settings.seed, "eoir-hearing", message.case_id))
        uow.record(
            "decision",
            "HEARING_SCHEDULED",
            ME.value,
            message.case_id,
            {
                "message_id": message.message_id,
                "track": message.track,
                "detained": message.detained,
                "hearing_at": (uow.now + after).isoformat(),
            },
        )
        uow.emit(reply(uow, message, HearingDue, ME, ME, track=message.track), delay=after)

    def _hear(self, message: HearingDue, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.state is not CaseState.IN_PROCEEDINGS:
            return
        settings = self.ctx.settings
        facts = removal_facts(uow, self.ctx, case)
        order = settings.removal_policy.adjudicate(
            facts,
            seeded_draw(settings.seed, "eoir-counsel", case.case_id),
            seeded_draw(settings.seed, "eoir-relief", case.case_id),
        )
        move_case(
            uow,
            case,
            CASE_STATE_OF[order.judgment],
            ME,
            order.reason,
            counsel=order.counsel,
            track=message.track,
            conviction_level=facts.conviction_level,
        )
        uow.emit(
            reply(
                uow,
                message,
                ImmigrationJudgeOrder,
                ME,
                Actor.ERO,
                judgment=order.judgment.value,
                counsel=order.counsel,
                reason=order.reason,
                track=message.track,
            )
        )
