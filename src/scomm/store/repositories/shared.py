"""The flow's shared records: the case file, the ORI directory, the switch settings."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.case import CaseState, CustodyState
from scomm.domain.immigration import Removability
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Case, Jurisdiction
from scomm.domain.switches import Switch, SwitchChange, SwitchOwner, SwitchSetting
from scomm.store.errors import RecordNotFound
from scomm.store.models import CaseRow, JurisdictionRow, SwitchSettingRow
from scomm.store.repositories.tracking import Tracked


class Cases(Protocol):
    """The case file of each booking, by case id."""

    def add(self, case: Case) -> None: ...

    def get(self, case_id: str) -> Case | None: ...


class Jurisdictions(Protocol):
    """The booking agencies served, by ORI."""

    def add(self, jurisdiction: Jurisdiction) -> None: ...

    def get(self, ori: str) -> Jurisdiction | None: ...

    def set_detainer_policy(self, ori: str, policy: DetainerPolicy) -> None:
        """The jurisdiction's detainer policy from now on (it must be served)."""
        ...

    def oris(self) -> list[str]: ...


class SwitchSettings(Protocol):
    """Every recorded setting of switches A-D; settings are added, never changed."""

    def add(self, setting: SwitchSetting, recorded_at: datetime) -> int:
        """Record `setting`; returns its id."""
        ...

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        """The settings (of one ORI, or all) in the order they were recorded."""
        ...


class SqlCases(Tracked[Case, CaseRow]):
    def _key(self, row: CaseRow) -> str:
        return row.case_id

    def _record(self, row: CaseRow) -> Case:
        return Case(
            case_id=row.case_id,
            tcn=row.tcn,
            ori=row.ori,
            state=CaseState(row.state),
            custody=CustodyState(row.custody),
            opened_at=row.opened_at,
            updated_at=row.updated_at,
            fbi_number=row.fbi_number,
            ident_id=row.ident_id,
            level=row.level,
            rule_set=row.rule_set,
            removability=Removability(row.removability) if row.removability else None,
            notify_on_release=row.notify_on_release,
        )

    def _write(self, case: Case, row: CaseRow) -> None:
        row.tcn, row.ori = case.tcn, case.ori
        row.state, row.custody = case.state.value, case.custody.value
        row.opened_at, row.updated_at = case.opened_at, case.updated_at
        row.fbi_number, row.ident_id = case.fbi_number, case.ident_id
        row.level, row.rule_set = case.level, case.rule_set
        row.removability = case.removability.value if case.removability else None
        row.notify_on_release = case.notify_on_release

    def add(self, case: Case) -> None:
        row = CaseRow(case_id=case.case_id)
        self._write(case, row)
        self._add(case, row)

    def get(self, case_id: str) -> Case | None:
        if case_id in self._seen:
            return self._seen[case_id][0]
        row = self._session.get(CaseRow, case_id)
        return None if row is None else self._track(row)


class SqlJurisdictions:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, jurisdiction: Jurisdiction) -> None:
        self._session.add(
            JurisdictionRow(
                ori=jurisdiction.ori,
                name=jurisdiction.name,
                state=jurisdiction.state,
                sib_ori=jurisdiction.sib_ori,
                detainer_policy=jurisdiction.detainer_policy.value,
                activation_at=jurisdiction.activation_at,
            )
        )

    def get(self, ori: str) -> Jurisdiction | None:
        row = self._session.get(JurisdictionRow, ori)
        if row is None:
            return None
        return Jurisdiction(
            ori=row.ori,
            name=row.name,
            state=row.state,
            sib_ori=row.sib_ori,
            detainer_policy=DetainerPolicy(row.detainer_policy),
            activation_at=row.activation_at,
        )

    def set_detainer_policy(self, ori: str, policy: DetainerPolicy) -> None:
        row = self._session.get(JurisdictionRow, ori)
        if row is None:
            raise RecordNotFound(f"no jurisdiction with ORI {ori!r}")
        row.detainer_policy = policy.value

    def oris(self) -> list[str]:
        return list(
            self._session.scalars(select(JurisdictionRow.ori).order_by(JurisdictionRow.ori))
        )


class SqlSwitchSettings:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, setting: SwitchSetting, recorded_at: datetime) -> int:
        row = SwitchSettingRow(
            ori=setting.ori,
            switch=setting.switch.value,
            enabled=setting.enabled,
            effective_from=setting.effective_from,
            effective_to=setting.effective_to,
            changed_by=setting.changed_by.value,
            reason=setting.reason,
            recorded_at=recorded_at,
        )
        self._session.add(row)
        self._session.flush()  # the id the audit entry names
        return row.id

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        query = select(SwitchSettingRow).order_by(SwitchSettingRow.id)
        if ori is not None:
            query = query.where(SwitchSettingRow.ori == ori)
        return [
            SwitchChange(setting_id=row.id, setting=_setting(row), recorded_at=row.recorded_at)
            for row in self._session.scalars(query)
        ]


def _setting(row: SwitchSettingRow) -> SwitchSetting:
    return SwitchSetting(
        ori=row.ori,
        switch=Switch(row.switch),
        enabled=row.enabled,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        changed_by=SwitchOwner(row.changed_by),
        reason=row.reason,
    )
