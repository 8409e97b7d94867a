"""Synthetic jurisdictions: ORIs, states and their SIBs, activation dates, detainer policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting

if TYPE_CHECKING:
    from scomm.sim.synth.scenario import OptOutRequest, PolicyChange, Scenario


@dataclass(frozen=True)
class JurisdictionPlan:
    jurisdiction: Jurisdiction
    settings: tuple[SwitchSetting, ...]
    share_of_bookings: float
    policy_changes: tuple[PolicyChange, ...] = ()
    opt_out_requests: tuple[OptOutRequest, ...] = ()

    def activated_at(self, at: datetime) -> bool:
        """Switch B on at `at`, per this plan's own settings (the federal activation)."""
        in_force = [
            s
            for s in self.settings
            if s.switch is Switch.B_FORWARD_TO_IDENT
            and s.effective_from <= at
            and (s.effective_to is None or at < s.effective_to)
        ]
        return bool(in_force) and max(in_force, key=lambda s: s.effective_from).enabled

    def policy_at(self, at: datetime) -> DetainerPolicy:
        policy = self.jurisdiction.detainer_policy
        for change in self.policy_changes:
            if change.at <= at:
                policy = change.policy
        return policy


def activation_setting(ori: str, at: datetime) -> SwitchSetting:
    return SwitchSetting(
        ori=ori,
        switch=Switch.B_FORWARD_TO_IDENT,
        enabled=True,
        effective_from=at,
        changed_by=SwitchOwner.FEDERAL,
        reason="activated on the deployment schedule",
    )


def jurisdiction_plans(scenario: Scenario) -> tuple[JurisdictionPlan, ...]:
    """The scenario's counties as jurisdictions with their switch settings: activation
    (switch B, federal) on its date, then the county's own opt-out settings."""
    plans = []
    for state, county in scenario.counties:
        activation = (
            ()
            if county.activation is None
            else (activation_setting(county.ori, county.activation),)
        )
        plans.append(
            JurisdictionPlan(
                Jurisdiction(
                    ori=county.ori,
                    name=county.name,
                    state=state.code,
                    sib_ori=state.sib_ori,
                    detainer_policy=county.detainer_policy,
                    activation_at=county.activation,
                ),
                (*activation, *county.switches, *_granted(county.ori, county.opt_out_requests)),
                county.share,
                county.policy_changes,
                county.opt_out_requests,
            )
        )
    return tuple(plans)


def _granted(ori: str, requests: tuple[OptOutRequest, ...]) -> tuple[SwitchSetting, ...]:
    """A granted opt-out switches its layer off: B by the federal side ("removing the
    jurisdiction from the deployment plan", 2010), C or D by the county itself."""
    return tuple(
        SwitchSetting(
            ori=ori,
            switch=r.switch,
            enabled=False,
            effective_from=r.at,
            changed_by=SwitchOwner.FEDERAL
            if r.switch is Switch.B_FORWARD_TO_IDENT
            else SwitchOwner.JURISDICTION,
            reason=f"opt-out granted: {r.reason}",
        )
        for r in requests
        if r.granted
    )
