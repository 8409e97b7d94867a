"""The detainer forms by period (DOMAIN.md §1.8), each with its fields and conditions.

| period                    | hold request     | notification only |
|---------------------------|------------------|-------------------|
| to 20 Dec 2012            | I-247            | I-247 (notify box)|
| 21 Dec 2012 - 1 Jul 2015  | revised I-247    | revised I-247     |
| 2 Jul 2015 - 1 Apr 2017   | I-247D           | I-247N            |
| from 2 Apr 2017           | I-247A           | I-247A            |

I-247X (request for voluntary transfer) exists in the PEP period but no rule here chooses it.
`choose_form` picks the form for a date and a request; `fill_form` checks the form's
conditions and returns its fields, or raises FormConditionNotMet naming the condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from scomm.forms.errors import FormError


class Request(StrEnum):
    HOLD = "hold"  # maintain custody up to 48 hours past release
    NOTIFY = "notify"  # tell ICE before release; no hold
    TRANSFER = "transfer"  # I-247X only


class Condition(StrEnum):
    """What a form requires before it may be issued."""

    DETAINER_CRITERIA = "detainer_criteria"  # Dec 2012: one of the criteria holds
    PRIORITY = "priority"  # PEP: the subject is a priority (level 1-3)
    HOLD_PRIORITY = "hold_priority"  # PEP: priority 1 or 2 with a conviction
    PROBABLE_CAUSE = "probable_cause"  # a stated basis that the person is removable


@dataclass(frozen=True)
class DetainerForm:
    form: str  # the id written on the detainer row (<= 10 characters)
    title: str
    effective_from: date
    effective_to: date | None  # exclusive
    requests: tuple[Request, ...]
    fields: tuple[str, ...]
    conditions: dict[Request, tuple[Condition, ...]]

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


_SUBJECT = ("subject_name", "date_of_birth", "nationality", "a_number", "jail_ori", "date")

FORMS: tuple[DetainerForm, ...] = (
    DetainerForm(
        form="I-247",
        title="Immigration Detainer - Notice of Action",
        effective_from=date(2008, 1, 1),
        effective_to=date(2012, 12, 21),
        requests=(Request.HOLD, Request.NOTIFY),
        # boxes: "initiated an investigation", "obtained an order of deportation or removal"
        fields=(*_SUBJECT, "action", "request"),
        conditions={Request.HOLD: (), Request.NOTIFY: ()},
    ),
    DetainerForm(
        form="I-247-2012",
        title="Immigration Detainer - Notice of Action (revised December 2012)",
        effective_from=date(2012, 12, 21),
        effective_to=date(2015, 7, 2),
        requests=(Request.HOLD, Request.NOTIFY),
        fields=(*_SUBJECT, "action", "request", "criterion"),
        conditions={
            Request.HOLD: (Condition.DETAINER_CRITERIA,),
            Request.NOTIFY: (Condition.DETAINER_CRITERIA,),
        },
    ),
    DetainerForm(
        form="I-247D",
        title="Immigration Detainer - Request for Voluntary Action",
        effective_from=date(2015, 7, 2),
        effective_to=date(2017, 4, 2),
        requests=(Request.HOLD,),
        fields=(*_SUBJECT, "request", "priority", "probable_cause"),
        conditions={Request.HOLD: (Condition.HOLD_PRIORITY, Condition.PROBABLE_CAUSE)},
    ),
    DetainerForm(
        form="I-247N",
        title="Request for Voluntary Notification of Release of Suspected Priority Alien",
        effective_from=date(2015, 7, 2),
        effective_to=date(2017, 4, 2),
        requests=(Request.NOTIFY,),
        fields=(*_SUBJECT, "request", "priority"),
        conditions={Request.NOTIFY: (Condition.PRIORITY,)},
    ),
    DetainerForm(
        form="I-247X",
        title="Request for Voluntary Transfer",
        effective_from=date(2015, 7, 2),
        effective_to=date(2017, 4, 2),
        requests=(Request.TRANSFER,),
        fields=(*_SUBJECT, "request", "probable_cause"),
        conditions={Request.TRANSFER: (Condition.PROBABLE_CAUSE,)},
    ),
    DetainerForm(
        form="I-247A",
        title="Immigration Detainer - Notice of Action",
        effective_from=date(2017, 4, 2),
        effective_to=None,
        requests=(Request.HOLD, Request.NOTIFY),
        fields=(*_SUBJECT, "request", "probable_cause"),
        conditions={
            Request.HOLD: (Condition.PROBABLE_CAUSE,),
            Request.NOTIFY: (Condition.PROBABLE_CAUSE,),
        },
    ),
)

REQUEST_TEXT = {
    Request.HOLD: (
        "maintain custody of the subject for a period not to exceed 48 hours, excluding "
        "Saturdays, Sundays and holidays, beyond the time when he/she would otherwise be released"
    ),
    Request.NOTIFY: "notify ICE of the subject's release date and time",
    Request.TRANSFER: "transfer the subject to ICE custody",
}


class NoDetainerForm(FormError, LookupError):
    """No form in force on that date serves that request."""


class FormConditionNotMet(FormError, ValueError):
    def __init__(self, form: str, condition: Condition, why: str) -> None:
        self.form = form
        self.condition = condition
        super().__init__(f"{form}: condition {condition.value} not met ({why})")


@dataclass(frozen=True)
class DetainerFacts:
    """What the officer knows when filling the form (from the IAR and the case)."""

    subject_name: str
    date_of_birth: date
    nationality: str
    a_number: str | None
    jail_ori: str
    level: int
    rule_set: str
    detainer_allowed: bool  # the rule set's detainer criteria
    hold_allowed: bool  # PEP: priority 1-2 with a conviction
    level_basis: str
    removable: bool
    final_order: bool  # an earlier removal order on record


def choose_form(day: date, request: Request) -> DetainerForm:
    for form in FORMS:
        if form.in_force(day) and request in form.requests:
            return form
    raise NoDetainerForm(f"no detainer form for a {request.value} request on {day.isoformat()}")


def probable_cause(facts: DetainerFacts) -> str | None:
    """The basis the form states (the I-247A boxes), or None when there is none."""
    if facts.final_order:
        return "final order of removal against the subject"
    if facts.removable:
        return (
            "biometric confirmation of the subject's identity and a records check of federal "
            "databases that indicate the subject lacks immigration status or is removable"
        )
    return None


def fill_form(
    form: DetainerForm, request: Request, facts: DetainerFacts, day: date
) -> dict[str, str]:
    """The form's fields; raises FormConditionNotMet when a condition of the form fails."""
    if request not in form.requests:
        raise NoDetainerForm(f"{form.form} does not carry a {request.value} request")
    for condition in form.conditions[request]:
        _check(form, condition, facts)
    values = {
        "subject_name": facts.subject_name,
        "date_of_birth": facts.date_of_birth.isoformat(),
        "nationality": facts.nationality,
        "a_number": facts.a_number or "",
        "jail_ori": facts.jail_ori,
        "date": day.isoformat(),
        "request": REQUEST_TEXT[request],
        "action": (
            "obtained an order of deportation or removal"
            if facts.final_order
            else "initiated an investigation to determine whether this person is subject to removal"
        ),
        "criterion": facts.level_basis,
        "priority": f"priority {facts.level} under {facts.rule_set}: {facts.level_basis}",
        "probable_cause": probable_cause(facts) or "",
    }
    return {name: values[name] for name in form.fields}


def _check(form: DetainerForm, condition: Condition, facts: DetainerFacts) -> None:
    ok = {
        Condition.DETAINER_CRITERIA: facts.detainer_allowed,
        Condition.PRIORITY: facts.level >= 1 and facts.detainer_allowed,
        Condition.HOLD_PRIORITY: facts.hold_allowed,
        Condition.PROBABLE_CAUSE: probable_cause(facts) is not None,
    }[condition]
    if not ok:
        raise FormConditionNotMet(form.form, condition, f"{facts.rule_set}: {facts.level_basis}")
