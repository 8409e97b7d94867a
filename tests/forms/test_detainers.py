"""Detainer forms by period, with their fields and conditions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scomm.forms.detainers import (
    FORMS,
    Condition,
    DetainerFacts,
    FormConditionNotMet,
    NoDetainerForm,
    Request,
    choose_form,
    fill_form,
)

FACTS = DetainerFacts(
    subject_name="DOE,JANE",
    date_of_birth=date(1980, 1, 1),
    nationality="MM",
    a_number="A12345678",
    jail_ori="CA0010000",
    level=1,
    rule_set="2014-pep-priorities",
    detainer_allowed=True,
    hold_allowed=True,
    level_basis="felony conviction",
    removable=True,
    final_order=False,
)


@pytest.mark.parametrize(
    ("day", "request_", "form"),
    [
        (date(2009, 3, 1), Request.HOLD, "I-247"),
        (date(2012, 12, 20), Request.NOTIFY, "I-247"),
        (date(2012, 12, 21), Request.HOLD, "I-247-2012"),
        (date(2015, 7, 1), Request.HOLD, "I-247-2012"),
        (date(2015, 7, 2), Request.HOLD, "I-247D"),
        (date(2015, 7, 2), Request.NOTIFY, "I-247N"),
        (date(2016, 1, 1), Request.TRANSFER, "I-247X"),
        (date(2017, 4, 1), Request.HOLD, "I-247D"),
        (date(2017, 4, 2), Request.HOLD, "I-247A"),
        (date(2017, 4, 2), Request.NOTIFY, "I-247A"),
    ],
)
def test_the_form_is_chosen_by_date_and_request(day: date, request_: Request, form: str) -> None:
    assert choose_form(day, request_).form == form


def test_no_form_carries_a_transfer_request_outside_pep() -> None:
    with pytest.raises(NoDetainerForm):
        choose_form(date(2011, 1, 1), Request.TRANSFER)


def test_form_ids_fit_the_detainer_row() -> None:
    assert all(len(f.form) <= 10 for f in FORMS)


def test_each_form_has_its_own_fields() -> None:
    day = date(2016, 1, 1)
    hold = fill_form(choose_form(day, Request.HOLD), Request.HOLD, FACTS, day)
    assert hold["priority"].startswith("priority 1 under 2014-pep-priorities")
    assert "biometric confirmation" in hold["probable_cause"]
    assert "48 hours" in hold["request"]
    notify = fill_form(choose_form(day, Request.NOTIFY), Request.NOTIFY, FACTS, day)
    assert "probable_cause" not in notify and "notify ICE" in notify["request"]
    old = fill_form(choose_form(date(2010, 1, 1), Request.HOLD), Request.HOLD, FACTS, day)
    assert old["action"].startswith("initiated an investigation")
    assert "priority" not in old


def test_i247d_needs_a_hold_priority_and_probable_cause() -> None:
    day = date(2016, 1, 1)
    form = choose_form(day, Request.HOLD)
    with pytest.raises(FormConditionNotMet) as caught:
        fill_form(form, Request.HOLD, replace(FACTS, hold_allowed=False), day)
    assert caught.value.condition is Condition.HOLD_PRIORITY
    with pytest.raises(FormConditionNotMet) as caught:
        fill_form(form, Request.HOLD, replace(FACTS, removable=False), day)
    assert caught.value.condition is Condition.PROBABLE_CAUSE


def test_the_revised_2012_form_needs_the_detainer_criteria() -> None:
    day = date(2013, 6, 1)
    form = choose_form(day, Request.HOLD)
    with pytest.raises(FormConditionNotMet, match="detainer_criteria"):
        fill_form(form, Request.HOLD, replace(FACTS, detainer_allowed=False), day)


def test_a_final_order_is_its_own_probable_cause() -> None:
    day = date(2018, 1, 1)
    facts = replace(FACTS, removable=False, final_order=True)
    fields = fill_form(choose_form(day, Request.HOLD), Request.HOLD, facts, day)
    assert fields["probable_cause"] == "final order of removal against the subject"
