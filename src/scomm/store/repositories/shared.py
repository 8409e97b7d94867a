"""The flow's shared records: the case file, the ORI directory, the switch settings."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Protocol, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.case import CaseState, CustodyState
from scomm.domain.immigration import Removability
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Case, Jurisdiction
from scomm.domain.switches import (
    RefusedSetting,
    Switch,
    SwitchChange,
    SwitchOwner,
    SwitchPermissionError,
    SwitchSetting,
    check_owner,
)
from scomm.store.errors import RecordNotFound
from scomm.store.models import AuditEntryRow, CaseRow, JurisdictionRow, SwitchSettingRow
from scomm.store.repositories.tracking import Tracked

log = logging.getLogger(__name__)


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
    """Every recorded setting of switches A-D; settings are added, never changed.

    A setting counts only through the audit chain: `attest` binds it to the audit entry
    that records it, and `history` (what the flow reads) returns only the settings whose
    entry exists and agrees with them; `refused` lists the others."""

    def add(self, setting: SwitchSetting, recorded_at: datetime) -> int:
        """Record `setting`; returns its id."""
        ...

    def attest(self, setting_id: int, audit_seq: int) -> None:
        """Bind setting `setting_id` to the audit entry (its seq) that records it."""
        ...

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        """The settings (of one ORI, or all) the audit chain records, in the order they
        were recorded."""
        ...

    def refused(self, ori: str | None = None) -> list[RefusedSetting]:
        """The rows (of one ORI, or all) `history` leaves out, each with the reason."""
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

    def attest(self, setting_id: int, audit_seq: int) -> None:
        row = self._session.get(SwitchSettingRow, setting_id)  # in the session: no query
        if row is None:
            raise RecordNotFound(f"no switch setting {setting_id}")
        row.audit_seq = audit_seq

    def _checked(
        self, ori: str | None
    ) -> list[tuple[SwitchSettingRow, SwitchSetting | None, str | None]]:
        """Each row with its audit entry (one query, one join), the setting it holds and
        why it is refused (None: honoured)."""
        query = (
            select(SwitchSettingRow, AuditEntryRow)
            .outerjoin(AuditEntryRow, AuditEntryRow.seq == SwitchSettingRow.audit_seq)
            .order_by(SwitchSettingRow.id)
        )
        if ori is not None:
            query = query.where(SwitchSettingRow.ori == ori)
        checked: list[tuple[SwitchSettingRow, SwitchSetting | None, str | None]] = []
        for row, entry in self._session.execute(query):
            setting: SwitchSetting | None = None
            problem: str | None
            try:
                setting = _setting(row)
            except ValueError as error:
                problem = f"unreadable row: {error}"
            else:
                problem = setting_problem(row, entry)
            if problem is not None:
                _report_refused(str(self._session.get_bind().engine.url), row, problem)
            checked.append((row, setting, problem))
        return checked

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        """The settings as the audit chain records them (its "switch" entries, in chain
        order), not as the rows hold them: a row inserted, changed or deleted behind the
        flow's back changes nothing it does (`refused` and `scomm audit reconcile` name such
        rows). An entry whose party does not own the switch is not honoured either."""
        query = (
            select(AuditEntryRow).where(AuditEntryRow.kind == "switch").order_by(AuditEntryRow.seq)
        )
        changes = []
        for entry in self._session.scalars(query):
            change = audited_change(entry)
            if change is not None and (ori is None or change.setting.ori == ori):
                changes.append(change)
        return changes

    def refused(self, ori: str | None = None) -> list[RefusedSetting]:
        return [
            RefusedSetting(
                setting_id=row.id,
                ori=row.ori,
                switch=row.switch,
                enabled=row.enabled,
                effective_from=row.effective_from,
                changed_by=row.changed_by,
                problem=problem,
            )
            for row, _, problem in self._checked(ori)
            if problem is not None
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


def audited_change(entry: AuditEntryRow) -> SwitchChange | None:
    """The switch setting a "switch" audit entry records (None for one that is unreadable
    or made by a party that does not own the switch)."""
    try:
        payload = json.loads(entry.payload)
        switch = Switch(entry.name.removeprefix("SWITCH_"))
        owner = SwitchOwner(entry.actor)
        check_owner(switch, owner)
        start = naive_utc(parse_moment(payload["effective_from"]))
        end = payload.get("effective_to")
        until = naive_utc(parse_moment(end)) if end is not None else None
        if start is None or (end is not None and until is None):
            return None
        if not isinstance(payload["enabled"], bool):
            return None
        setting = SwitchSetting(
            ori=str(payload["ori"]),
            switch=switch,
            enabled=payload["enabled"],
            effective_from=start,
            effective_to=until,
            changed_by=owner,
            reason=str(payload.get("reason", "")),
        )
        return SwitchChange(
            setting_id=int(payload["setting_id"]),
            setting=setting,
            recorded_at=entry.recorded_at,
            agency=str(payload["agency"]) if payload.get("agency") is not None else None,
        )
    except (ValueError, KeyError, TypeError, SwitchPermissionError):
        return None


def setting_problem(row: SwitchSettingRow, entry: AuditEntryRow | None) -> str | None:
    """Why the audit chain does not vouch for `row` (None when it does): `entry` (the row's
    `audit_seq`) must be the switch entry of this very setting, agree with the row on every
    field, and name a party that owns the switch."""
    if row.audit_seq is None:
        return "no audit entry records it"
    if entry is None:
        return f"its audit entry {row.audit_seq} does not exist"
    seq = entry.seq
    if entry.kind != "switch" or entry.name != f"SWITCH_{row.switch}":
        return f"audit entry {seq} is not the switch {row.switch} entry ({entry.kind} {entry.name})"
    try:
        payload = json.loads(entry.payload)
    except ValueError:
        return f"audit entry {seq} is unreadable"
    if not isinstance(payload, dict) or payload.get("setting_id") != row.id:
        return f"audit entry {seq} records another setting"
    differs = [
        name
        for name, recorded, stored in (
            ("ori", payload.get("ori"), row.ori),
            ("enabled", payload.get("enabled"), row.enabled),
            ("effective_from", parse_moment(payload.get("effective_from")), row.effective_from),
            ("effective_to", parse_moment(payload.get("effective_to")), row.effective_to),
            ("changed_by", entry.actor, row.changed_by),
            ("reason", payload.get("reason"), row.reason),
        )
        if not _same(recorded, stored)
    ]
    if differs:
        return (
            f"{', '.join(differs)} differ{'s' if len(differs) == 1 else ''} from audit entry {seq}"
        )
    try:
        check_owner(Switch(row.switch), SwitchOwner(row.changed_by))
    except SwitchPermissionError as error:
        return str(error)
    return None


@overload
def naive_utc(moment: datetime) -> datetime: ...
@overload
def naive_utc(moment: None) -> None: ...
def naive_utc(moment: datetime | None) -> datetime | None:
    """A moment as the flow compares them: naive UTC (an older entry may carry a zone)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_moment(value: Any) -> datetime | None:
    """An ISO moment from an audit payload; None where it is absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _same(recorded: Any, stored: Any) -> bool:
    """A recorded value equals the stored one. Moments compare as the flow reads them
    (`audited_change`): naive UTC, a zoned one converted first. An older row that kept the
    wall time of a zoned entry and dropped its zone names another moment than the flow acts
    on, and differs."""
    if isinstance(recorded, datetime) and isinstance(stored, datetime):
        return naive_utc(recorded) == naive_utc(stored)
    return bool(recorded == stored) and type(recorded) is type(stored)


_reported: set[tuple[str, int, str]] = set()


def _report_refused(database: str, row: SwitchSettingRow, problem: str) -> None:
    """Log a refused row at error level, once per database and process (the flow reads
    the settings for each booking)."""
    if (database, row.id, problem) in _reported:
        return
    _reported.add((database, row.id, problem))
    log.error(
        "switch setting %s (%s %s %s) is not honoured: %s",
        row.id,
        row.ori,
        row.switch,
        "on" if row.enabled else "off",
        problem,
    )
