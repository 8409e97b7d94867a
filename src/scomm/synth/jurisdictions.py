"""Synthetic jurisdictions: ORIs, states and their SIBs, activation dates, detainer policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting


@dataclass(frozen=True)
class JurisdictionPlan:
    jurisdiction: Jurisdiction
    settings: tuple[SwitchSetting, ...]
    share_of_bookings: float


def _activated(ori: str, at: datetime) -> SwitchSetting:
    return SwitchSetting(
        ori=ori,
        switch=Switch.B_FORWARD_TO_IDENT,
        enabled=True,
        effective_from=at,
        changed_by=SwitchOwner.FEDERAL,
        reason="activated on the deployment schedule",
    )


def _county(
    ori: str,
    name: str,
    state: str,
    sib: str,
    policy: DetainerPolicy,
    activation: datetime,
    share: float,
    *extra: SwitchSetting,
) -> JurisdictionPlan:
    return JurisdictionPlan(
        Jurisdiction(
            ori=ori,
            name=name,
            state=state,
            sib_ori=sib,
            detainer_policy=policy,
            activation_at=activation,
        ),
        (_activated(ori, activation), *extra),
        share,
    )


def default_jurisdictions() -> list[JurisdictionPlan]:
    """Six counties in three states, activated at different points of the 2008-2012 rollout.
    The names and ORIs are made up; the pattern (pilot counties, opt-out requests, a county
    that stops honouring detainers) follows DOMAIN.md §3."""
    return [
        _county(
            "CA0010000",
            "Alder County",
            "CA",
            "CA0000000",
            DetainerPolicy.HONOR_ALL,
            datetime(2009, 5, 26),
            0.22,
        ),
        _county(
            "CA0020000",
            "Birch County",
            "CA",
            "CA0000000",
            DetainerPolicy.HONOR_NONE,
            datetime(2010, 6, 15),
            0.18,
        ),
        _county(
            "TX0030000",
            "Cedar County",
            "TX",
            "TX0000000",
            DetainerPolicy.HONOR_ALL,
            datetime(2008, 10, 27),
            0.20,
        ),
        _county(
            "TX0040000",
            "Dogwood County",
            "TX",
            "TX0000000",
            DetainerPolicy.HONOR_ALL,
            datetime(2010, 11, 2),
            0.15,
            SwitchSetting(
                ori="TX0040000",
                switch=Switch.C_RESULTS_TO_JAIL,
                enabled=False,
                effective_from=datetime(2010, 11, 2),
                changed_by=SwitchOwner.JURISDICTION,
                reason="county opted out of receiving IDENT/IAR results",
            ),
        ),
        _county(
            "IL0050000",
            "Elm County",
            "IL",
            "IL0000000",
            DetainerPolicy.HONOR_ALL,
            datetime(2011, 3, 1),
            0.15,
            SwitchSetting(
                ori="IL0050000",
                switch=Switch.D_HONOUR_DETAINERS,
                enabled=False,
                effective_from=datetime(2011, 9, 1),
                changed_by=SwitchOwner.JURISDICTION,
                reason="county ordinance: detainers are requests, not honoured",
            ),
        ),
        _county(
            "IL0060000",
            "Fir County",
            "IL",
            "IL0000000",
            DetainerPolicy.HONOR_ALL,
            datetime(2012, 9, 1),
            0.10,
        ),
    ]
