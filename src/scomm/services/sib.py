"""The State Identification Bureau: validates and forwards the jail's CAR, routes answers back."""

from __future__ import annotations

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.messages import (
    Actor,
    CriminalTenprintSubmission,
    IdentResultsToJail,
    Message,
    SubmissionResults,
    TransactionErrorResponse,
)
from scomm.domain.switches import Switch
from scomm.nist.car import decode_tenprint
from scomm.nist.errors import TransactionError
from scomm.nist.forward import FBI_CJIS_DAI, readdress
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

ME = Actor.SIB


class StateIdentificationBureau:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        match message:
            case CriminalTenprintSubmission(sender=Actor.LEA):
                self._on_car(message, uow)
            case IdentResultsToJail() if not switch_on(
                uow, load_case(uow, message.case_id).ori, Switch.C_RESULTS_TO_JAIL, uow.now
            ):
                # C is the SIB's routing: switched off since CJIS sent it, it goes no further.
                uow.record(
                    "decision",
                    "RESULTS_WITHHELD",
                    ME.value,
                    message.case_id,
                    {"switch": "C", "message_id": message.message_id},
                )
            case SubmissionResults() | IdentResultsToJail() | TransactionErrorResponse():
                # Responses from CJIS go on to the booking agency unchanged.
                fields = {
                    k: v
                    for k, v in message.__dict__.items()
                    if k not in ("message_id", "sender", "recipient")
                }
                uow.emit(
                    type(message)(
                        message_id=uow.new_message_id(), sender=ME, recipient=Actor.LEA, **fields
                    ),
                    delay=self.ctx.settings.delays.sib_forward,
                )
            case _:
                raise ValueError(f"the SIB does not handle {message.type}")

    def _on_car(self, message: CriminalTenprintSubmission, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        try:
            submission = decode_tenprint(message.transaction, self.ctx.decoded_images)
            if submission.tcn != message.tcn:
                # Filed under the TCN it carries, it would take another booking's place.
                raise TransactionError(
                    "1.009", f"TCN {submission.tcn!r} is not the booking's TCN {message.tcn!r}"
                )
            place = jurisdiction(uow, submission.cri)
            if place is None:
                raise TransactionError(
                    "2.073", f"booking agency {submission.cri} is not served here"
                )
            forwarded = readdress(
                message.transaction,
                ori=place.sib_ori,
                dai=FBI_CJIS_DAI,
                decoded=self.ctx.decoded_images,
            )
        except TransactionError as error:
            reject(uow, message, case=case, actor=ME, error=error)
            return
        if not switch_on(uow, message.booking_ori, Switch.A_PRINTS_TO_FBI, uow.now):
            move_case(uow, case, CaseState.STATE_ONLY, ME, "switch A off: state search only")
            record_outcome(uow, case.case_id, "state_only", ME)
            return
        uow.emit(
            reply(
                uow,
                message,
                CriminalTenprintSubmission,
                ME,
                Actor.CJIS,
                transaction=forwarded,
                booking_ori=message.booking_ori,
            ),
            delay=self.ctx.settings.delays.sib_forward,
        )
