"""A jurisdiction's own decisions about the flow: its detainer policy, its opt-out requests."""

from __future__ import annotations

from datetime import datetime

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.policies import DetainerPolicy
from scomm.domain.switches import Switch

POLICY_AUDIT = "DETAINER_POLICY"
OPT_OUT_AUDIT = "OPT_OUT_REQUEST"
ACTOR = "jurisdiction"


def set_detainer_policy(
    uow: AbstractUnitOfWork, ori: str, policy: DetainerPolicy, reason: str, at: datetime
) -> bool:
    """A jurisdiction's detainer policy changes (local or state law, DOMAIN.md §3.4): its
    jail applies it to detainers from then on. Records the change and its audit entry in
    `uow` (not committed); a change to the policy already in force, or for an ORI the
    database does not serve, changes nothing and is not audited: returns False then."""
    jurisdiction = uow.jurisdictions.get(ori)
    if jurisdiction is None or jurisdiction.detainer_policy is policy:
        return False
    uow.jurisdictions.set_detainer_policy(ori, policy)
    payload = policy_change_payload(ori, jurisdiction.detainer_policy, policy, reason, at)
    uow.record("policy", POLICY_AUDIT, ACTOR, "", payload)
    return True


def policy_change_payload(
    ori: str, before: DetainerPolicy, after: DetainerPolicy, reason: str, at: datetime
) -> dict[str, object]:
    """The audit payload of a detainer-policy change (what a replaying driver looks for)."""
    return {
        "ori": ori,
        "from": before.value,
        "to": after.value,
        "reason": reason,
        "effective_at": at.isoformat(),
    }


def record_opt_out_request(
    uow: AbstractUnitOfWork,
    ori: str,
    switch: Switch,
    granted: bool,
    requested_at: datetime,
    reason: str,
) -> None:
    """A county's request to leave (or stay out of) a switch, recorded with its answer in
    `uow` (not committed). The request itself changes no switch: a granted one takes
    effect through the switch settings its owner records (`switches.set_switch`)."""
    payload = opt_out_payload(ori, switch, granted, requested_at, reason)
    uow.record("switch_request", OPT_OUT_AUDIT, ACTOR, "", payload)


def opt_out_payload(
    ori: str, switch: Switch, granted: bool, requested_at: datetime, reason: str
) -> dict[str, object]:
    """The audit payload of an opt-out request (what a replaying driver looks for)."""
    return {
        "ori": ori,
        "switch": switch.value,
        "granted": granted,
        "requested_at": requested_at.isoformat(),
        "reason": reason,
    }
