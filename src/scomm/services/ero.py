"""ICE ERO field office: decides on each match (here by a recorded simulated-officer policy)."""

from __future__ import annotations

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.ids import derived_id
from scomm.domain.messages import (
    Actor,
    CustodyPickup,
    Detainer,
    DetainerResponse,
    HoldStarted,
    MatchNotification,
    Message,
    NotificationRequest,
    Release,
    Transfer,
)
from scomm.domain.policies import OfficerAction
from scomm.services.common import load_case, move_case, reply, seeded_draw
from scomm.services.context import ServiceContext
from scomm.store.models import DetainerRow, OfficerDecisionRow

ME = Actor.ERO
DETAINER_FORM = "I-247"


class FieldOffice:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: UnitOfWork) -> None:
        match message:
            case MatchNotification():
                self._decide(message, uow)
            case HoldStarted():
                self._schedule_pickup(message, uow)
            case DetainerResponse() | Release() | Transfer():
                uow.record(
                    "received",
                    message.type,
                    ME.value,
                    message.case_id,
                    {"message_id": message.message_id},
                )
            case _:
                raise ValueError(f"ERO does not handle {message.type}")

    def _decide(self, message: MatchNotification, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        policy = self.ctx.settings.officer_policy
        draw = seeded_draw(self.ctx.settings.seed, "officer", message.case_id)
        decision = policy.decide(message.removability, message.level, draw)
        uow.session.add(
            OfficerDecisionRow(
                case_id=case.case_id,
                decided_at=uow.now,
                action=decision.action.value,
                reason=decision.reason,
                decided_by=decision.decided_by,
            )
        )
        uow.record(
            "decision",
            decision.action.value.upper(),
            ME.value,
            case.case_id,
            {
                "decided_by": decision.decided_by,
                "reason": decision.reason,
                "level": message.level,
                "removability": message.removability.value,
            },
        )
        delay = self.ctx.settings.delays.ero_decision
        if decision.action is OfficerAction.LODGE_DETAINER:
            detainer_id = derived_id("det", case.case_id)
            uow.session.add(
                DetainerRow(
                    detainer_id=detainer_id,
                    case_id=case.case_id,
                    form=DETAINER_FORM,
                    lodged_at=uow.now + delay,
                    decided_by=decision.decided_by,
                    status="lodged",
                )
            )
            move_case(uow, case, CaseState.DETAINER_LODGED, ME, decision.reason)
            uow.emit(
                reply(
                    uow,
                    message,
                    Detainer,
                    ME,
                    Actor.LEA,
                    detainer_id=detainer_id,
                    form=DETAINER_FORM,
                    level=message.level,
                    decided_by=decision.decided_by,
                ),
                delay=delay,
            )
        elif decision.action is OfficerAction.REQUEST_NOTIFICATION:
            move_case(uow, case, CaseState.NOTIFICATION_REQUESTED, ME, decision.reason)
            uow.emit(
                reply(
                    uow, message, NotificationRequest, ME, Actor.LEA, decided_by=decision.decided_by
                ),
                delay=delay,
            )
        else:
            move_case(uow, case, CaseState.NO_ACTION, ME, decision.reason)

    def _schedule_pickup(self, message: HoldStarted, uow: UnitOfWork) -> None:
        """Officers come for the person some time later: sometimes after the hold has ended."""
        delays = self.ctx.settings.delays
        draw = seeded_draw(self.ctx.settings.seed, "pickup", message.case_id)
        after = delays.pickup_min + (delays.pickup_max - delays.pickup_min) * draw
        uow.emit(
            reply(uow, message, CustodyPickup, ME, Actor.LEA, detainer_id=message.detainer_id),
            delay=after,
        )
