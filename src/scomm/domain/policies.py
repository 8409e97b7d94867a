"""Decision policies: the jail's detainer policy and the simulated ICE officer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scomm.domain.immigration import Removability


class DetainerPolicy(StrEnum):
    """What a jurisdiction does with an I-247 (switch D and local or state law, DOMAIN.md §3.4)."""

    HONOR_ALL = "honor_all"
    HONOR_NONE = "honor_none"
    # California TRUST Act (first form): hold only for a serious or violent felony (level 1).
    TRUST_ACT = "trust_act"


@dataclass(frozen=True)
class DetainerVerdict:
    honour: bool
    reason: str


def apply_detainer_policy(
    policy: DetainerPolicy, switch_d_on: bool, level: int | None
) -> DetainerVerdict:
    if not switch_d_on:
        return DetainerVerdict(False, "switch D off: jurisdiction does not honour detainers")
    if policy is DetainerPolicy.HONOR_NONE:
        return DetainerVerdict(False, "local policy: honour no detainer")
    if policy is DetainerPolicy.TRUST_ACT and level != 1:
        return DetainerVerdict(False, "TRUST Act: no serious or violent felony")
    return DetainerVerdict(True, f"local policy {policy.value}")


class OfficerAction(StrEnum):
    LODGE_DETAINER = "lodge_detainer"  # Form I-247
    REQUEST_NOTIFICATION = "request_notification"
    NO_ACTION = "no_action"


@dataclass(frozen=True)
class OfficerDecision:
    action: OfficerAction
    reason: str
    decided_by: str


@dataclass(frozen=True)
class SimulatedOfficerPolicy:
    """A stand-in for the ICE officer in scenarios. Every decision it makes says so
    (`decided_by` starts with "simulated:"); the human review queue replaces it later."""

    name: str = "sim-officer-v1"
    detain_levels: tuple[int, ...] = (1, 2)
    level3_detain_rate: float = 0.5

    def decide(
        self,
        removability: Removability,
        level: int,
        draw: float,
        detainer_allowed: bool = True,
        hold_allowed: bool = True,
        severity: int | None = None,
    ) -> OfficerDecision:
        """`draw` is a uniform number in [0, 1) fixed per case, so a replay decides the same.
        `detainer_allowed` / `hold_allowed` come from the rule set in force (the December 2012
        criteria, the PEP hold rule): where a hold is not allowed the officer asks for a
        notification at most. `severity` is the offense-type level of the most serious charge
        or conviction: officers decided at booking, on the charges, whatever the priority
        level (DOMAIN.md §5, pre-conviction screening); without it the level decides."""
        who = f"simulated:{self.name}"
        seriousness = level if severity is None else severity
        if removability is Removability.NOT_REMOVABLE:
            return OfficerDecision(OfficerAction.NO_ACTION, "IAR: not removable", who)
        if removability is Removability.STATUS_UNRESOLVED:
            return OfficerDecision(
                OfficerAction.NO_ACTION, "IAR: status unresolved, possible citizen", who
            )
        if removability is Removability.UNDETERMINED:
            return OfficerDecision(
                OfficerAction.REQUEST_NOTIFICATION, "IAR: status undetermined", who
            )
        if not detainer_allowed:
            return OfficerDecision(
                OfficerAction.NO_ACTION, f"level {level}: rule set allows no detainer", who
            )
        wants_hold = seriousness in self.detain_levels or draw < self.level3_detain_rate
        if wants_hold and hold_allowed:
            return OfficerDecision(OfficerAction.LODGE_DETAINER, f"removable, level {level}", who)
        why = "notify only" if hold_allowed else "rule set allows no hold: notify only"
        return OfficerDecision(
            OfficerAction.REQUEST_NOTIFICATION, f"removable, level {level}: {why}", who
        )
