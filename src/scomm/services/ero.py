"""ICE ERO field office: decides on each match (by a recorded simulated-officer policy, or,
with `Settings.officer_review`, by a person through the service: `FieldOffice.decide`),
serves the detainer form of the period, and withdraws a detainer when the charges fail.
After a transfer it holds the person and carries the removal through (`services.removals`:
custody, track, the judge's order, the removal)."""

from __future__ import annotations

from datetime import date, timedelta

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.ids import derived_id
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CustodyPickup,
    Detainer,
    DetainerResponse,
    DetainerWithdrawn,
    HoldStarted,
    ImmigrationJudgeOrder,
    MatchNotification,
    Message,
    NotificationRequest,
    Release,
    RemovalDue,
    Transfer,
)
from scomm.domain.policies import OfficerAction, OfficerDecision
from scomm.domain.records import Case, DetainerRecord, DetainerStatus, OfficerDecisionRecord
from scomm.forms.detainers import (
    DetainerFacts,
    FormConditionNotMet,
    NoDetainerForm,
    Request,
    choose_form,
    fill_form,
)
from scomm.services.common import load_case, move_case, reply, seeded_draw
from scomm.services.context import ServiceContext
from scomm.services.errors import ServiceError
from scomm.services.removals import IceCustody

ME = Actor.ERO


class MissingOfficerDecision(ServiceError):
    """Safeguard (c): a detainer was about to go out with no recorded officer decision."""


class AlreadyDecided(ServiceError):
    """A person's decision on a match whose decision was already taken."""


class DecisionNotAllowed(ServiceError):
    """A person's decision that the rule set in force forbids (its detainer criteria, its
    hold rule), as the IAR says."""


class FieldOffice:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.custody = IceCustody(ctx)

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        match message:
            case MatchNotification():
                self._decide(message, uow)
            case HoldStarted():
                self._schedule_pickup(message, uow)
            case CourtDisposition():
                self._on_disposition(message, uow)
                self.custody.note_conviction(message, uow)
            case Transfer():
                uow.record(
                    "received",
                    message.type,
                    ME.value,
                    message.case_id,
                    {"message_id": message.message_id},
                )
                self.custody.take_custody(message, uow)
            case ImmigrationJudgeOrder():
                self.custody.on_order(message, uow)
            case RemovalDue():
                self.custody.on_removal_due(message, uow)
            case DetainerResponse() | Release():
                uow.record(
                    "received",
                    message.type,
                    ME.value,
                    message.case_id,
                    {"message_id": message.message_id},
                )
            case _:
                raise ValueError(f"ERO does not handle {message.type}")

    def _decide(self, message: MatchNotification, uow: AbstractUnitOfWork) -> None:
        if self.ctx.settings.officer_review:  # a person decides later (`decide`)
            uow.record(
                "received",
                "MATCH_AWAITS_OFFICER",
                ME.value,
                message.case_id,
                {"message_id": message.message_id, "level": message.level},
            )
            return
        policy = self.ctx.settings.officer_policy
        draw = seeded_draw(self.ctx.settings.seed, "officer", message.case_id)
        decision = policy.decide(
            message.removability,
            message.level,
            draw,
            detainer_allowed=message.detainer_allowed,
            hold_allowed=message.hold_allowed,
            severity=message.severity,
        )
        case = load_case(uow, message.case_id)
        self._act(uow, case, message, decision, self.ctx.settings.delays.ero_decision)

    def decide(
        self, uow: AbstractUnitOfWork, message: MatchNotification, decision: OfficerDecision
    ) -> CaseState:
        """A person's decision on a match that awaits one (`Settings.officer_review`), taken
        now: the same form choice, decision record and detainer as the simulated officer's.
        Returns the case's new state; AlreadyDecided when the match has its decision,
        DecisionNotAllowed for a request the rule set in force does not allow (the simulated
        officer keeps to it too)."""
        case = load_case(uow, message.case_id)
        if case.state is not CaseState.IAR_RETURNED:
            raise AlreadyDecided(f"case {case.case_id} is {case.state.value}")
        asks = decision.action is not OfficerAction.NO_ACTION
        if asks and not message.detainer_allowed:
            raise DecisionNotAllowed(
                f"{message.rule_set}: level {message.level} meets no detainer criterion"
            )
        if decision.action is OfficerAction.LODGE_DETAINER and not message.hold_allowed:
            raise DecisionNotAllowed(
                f"{message.rule_set}: no hold at level {message.level}; request notification"
            )
        self._act(uow, case, message, decision, timedelta(0))
        return case.state

    def _act(
        self,
        uow: AbstractUnitOfWork,
        case: Case,
        message: MatchNotification,
        decision: OfficerDecision,
        delay: timedelta,
    ) -> None:
        """Carry out an officer's decision on `case`, which takes `delay` to go out."""
        day = (uow.now + delay).date()
        decision, form, fields = self._form_for(uow, case, message, decision, day)
        decision_id = self._record_decision(uow, case, message, decision)
        if decision.action is OfficerAction.LODGE_DETAINER and form is not None:
            self._lodge(uow, case, message, decision, decision_id, form, fields, delay)
        elif decision.action is OfficerAction.REQUEST_NOTIFICATION:
            move_case(uow, case, CaseState.NOTIFICATION_REQUESTED, ME, decision.reason)
            uow.emit(
                reply(
                    uow,
                    message,
                    NotificationRequest,
                    ME,
                    Actor.LEA,
                    decided_by=decision.decided_by,
                    form=form or "",
                    rule_set=message.rule_set,
                ),
                delay=delay,
            )
        else:
            move_case(uow, case, CaseState.NO_ACTION, ME, decision.reason)

    def _form_for(
        self,
        uow: AbstractUnitOfWork,
        case: Case,
        message: MatchNotification,
        decision: OfficerDecision,
        day: date,
    ) -> tuple[OfficerDecision, str | None, dict[str, str]]:
        """The form of the period for the officer's request. A hold whose form's conditions
        fail becomes a notification request (on its own form where the period has one)."""
        wanted = {
            OfficerAction.LODGE_DETAINER: Request.HOLD,
            OfficerAction.REQUEST_NOTIFICATION: Request.NOTIFY,
        }.get(decision.action)
        if wanted is None:
            return decision, None, {}
        facts = DetainerFacts(
            subject_name=message.name,
            date_of_birth=message.dob or date(1900, 1, 1),
            nationality=message.pob,
            a_number=message.a_number,
            jail_ori=case.ori,
            level=message.level,
            rule_set=message.rule_set,
            detainer_allowed=message.detainer_allowed,
            hold_allowed=message.hold_allowed,
            level_basis=message.level_basis,
            removable=message.removability is Removability.REMOVABLE,
            final_order=message.recorded_status is RecordedStatus.PREVIOUSLY_REMOVED,
        )
        for request in (wanted, Request.NOTIFY) if wanted is Request.HOLD else (wanted,):
            try:
                form = choose_form(day, request)
                fields = fill_form(form, request, facts, day)
            except (FormConditionNotMet, NoDetainerForm) as error:
                uow.record(
                    "decision",
                    "FORM_CONDITION_NOT_MET",
                    ME.value,
                    case.case_id,
                    {"request": request.value, "why": str(error)},
                )
                continue
            if request is wanted:
                return decision, form.form, fields
            action = OfficerAction.REQUEST_NOTIFICATION
            why = f"{decision.reason}; {form.form} for notification: hold form not allowed"
            return OfficerDecision(action, why, decision.decided_by), form.form, fields
        why = f"{decision.reason}; no detainer form of the period allows it"
        return OfficerDecision(OfficerAction.NO_ACTION, why, decision.decided_by), None, {}

    def _record_decision(
        self,
        uow: AbstractUnitOfWork,
        case: Case,
        message: MatchNotification,
        decision: OfficerDecision,
    ) -> str | None:
        """The officer decision on record. With safeguard (c) off, as in the original program,
        only the audit entry is kept: no decision row for a detainer to point at."""
        required = self.ctx.settings.safeguards.officer_decision_required
        decision_id = derived_id("decision", case.case_id) if required else None
        if required:
            uow.officer_decisions.add(
                OfficerDecisionRecord(
                    case_id=case.case_id,
                    decided_at=uow.now,
                    action=decision.action,
                    reason=decision.reason,
                    decided_by=decision.decided_by,
                    decision_id=decision_id,
                )
            )
        uow.record(
            "decision",
            decision.action.value.upper(),
            ME.value,
            case.case_id,
            {
                "decided_by": decision.decided_by,
                "simulated": decision.decided_by.startswith("simulated:"),
                "decision_id": decision_id,
                "reason": decision.reason,
                "level": message.level,
                "rule_set": message.rule_set,
                "removability": message.removability.value,
            },
        )
        return decision_id

    def _lodge(
        self,
        uow: AbstractUnitOfWork,
        case: Case,
        message: MatchNotification,
        decision: OfficerDecision,
        decision_id: str | None,
        form: str,
        fields: dict[str, str],
        delay: timedelta,
    ) -> None:
        if self.ctx.settings.safeguards.officer_decision_required:
            recorded = uow.officer_decisions.find(case.case_id, decision_id)
            if recorded is not None and recorded.action is not OfficerAction.LODGE_DETAINER:
                recorded = None
            if recorded is None or not recorded.decided_by:
                raise MissingOfficerDecision(f"case {case.case_id}: no recorded decision")
            uow.record(
                "safeguard",
                "OFFICER_DECISION_ON_RECORD",
                ME.value,
                case.case_id,
                {"decision_id": decision_id, "decided_by": recorded.decided_by},
            )
        detainer_id = derived_id("det", case.case_id)
        lodged_at = uow.now + delay
        uow.detainers.add(
            DetainerRecord(
                detainer_id=detainer_id,
                case_id=case.case_id,
                form=form,
                lodged_at=lodged_at,
                decided_by=decision.decided_by,
                status=DetainerStatus.LODGED,
                rule_set=message.rule_set,
                decision_id=decision_id,
            )
        )
        move_case(
            uow,
            case,
            CaseState.DETAINER_LODGED,
            ME,
            f"{form}: {decision.reason}",
            detainer={
                "detainer_id": detainer_id,
                "form": form,
                "lodged_at": lodged_at.isoformat(),
                "decided_by": decision.decided_by,
                "rule_set": message.rule_set,
                "decision_id": decision_id,
            },
        )
        uow.emit(
            reply(
                uow,
                message,
                Detainer,
                ME,
                Actor.LEA,
                detainer_id=detainer_id,
                form=form,
                level=message.level,
                decided_by=decision.decided_by,
                rule_set=message.rule_set,
                decision_id=decision_id,
                fields=fields,
            ),
            delay=delay,
        )

    def _on_disposition(self, message: CourtDisposition, uow: AbstractUnitOfWork) -> None:
        """Safeguard (b): a dismissal or acquittal withdraws a pending detainer."""
        uow.record(
            "received",
            message.type,
            ME.value,
            message.case_id,
            {"message_id": message.message_id, "outcome": message.outcome.value},
        )
        if not (
            message.outcome.clears_the_person and self.ctx.settings.safeguards.withdraw_on_dismissal
        ):
            return
        pending = [d for d in uow.detainers.for_case(message.case_id) if d.status.is_pending]
        for detainer in pending:
            detainer.status = DetainerStatus.WITHDRAWN
            detainer.withdrawn_at = uow.now
            reason = f"charges {message.outcome.value} on {message.decided_at.date().isoformat()}"
            uow.record(
                "safeguard",
                "WITHDRAW_ON_DISMISSAL",
                ME.value,
                message.case_id,
                {"detainer_id": detainer.detainer_id, "reason": reason},
            )
            uow.emit(
                reply(
                    uow,
                    message,
                    DetainerWithdrawn,
                    ME,
                    Actor.LEA,
                    detainer_id=detainer.detainer_id,
                    reason=reason,
                )
            )

    def _schedule_pickup(self, message: HoldStarted, uow: AbstractUnitOfWork) -> None:
        """Officers come for the person some time later: sometimes after the hold has ended."""
        delays = self.ctx.settings.delays
        draw = seeded_draw(self.ctx.settings.seed, "pickup", message.case_id)
        after = delays.pickup_min + (delays.pickup_max - delays.pickup_min) * draw
        uow.emit(
            reply(uow, message, CustodyPickup, ME, Actor.LEA, detainer_id=message.detainer_id),
            delay=after,
        )
