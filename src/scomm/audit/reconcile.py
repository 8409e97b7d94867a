"""Rebuild the switch settings, the cases and the detainers from the audit log alone, and
name every row of those tables that disagrees with it (`scomm audit reconcile`).

The flow writes each change to these rows in the transaction that appends its audit entry,
and the entry says what the change was:

- a switch setting: its `switch` entry (`services.switches.set_switch`: the setting id,
  ORI, value, period, reason; the party is the entry's actor, the moment its time, the
  entry's seq is the row's `audit_seq`);
- a case: `booking` BOOKED opens it (TCN, ORI; opened at the entry's time), `case_state`
  and `custody` entries move it (`to`; the entry's time is `updated_at`) and carry what the
  actor noted with the move (`noted`: FBI number, IDENT id, level, rule set,
  removability), `received` NOTIFICATION_REQUEST by the jail sets `notify_on_release`;
- a detainer: the `case_state` DETAINER_LODGED entry carries the record ICE made
  (`detainer`), the `custody` HELD_ON_DETAINER entry its hold deadline, and the jail's and
  ICE's outcomes its status (hold_honored, hold_declined, detainer_withdrawn, transferred,
  hold_expired; safeguard WITHDRAW_ON_DISMISSAL with the moment of withdrawal).

Every column of the three tables is rebuilt. What cannot be: an audit log written before
its entries carried these fields (the `noted` and `detainer` details, the hold deadline, the
jail's receipt of a notification request) leaves those fields unknown; they are counted as
unchecked and named in the result, never reported as agreeing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.audit.chain import Verification, consistent_snapshot, entries, verify
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, CaseRow, DetainerRow, SwitchSettingRow


class _Unknown:
    """A field the audit log does not record (entries written before it carried it)."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Any = _Unknown()

SWITCH_FIELDS = (
    "ori",
    "switch",
    "enabled",
    "effective_from",
    "effective_to",
    "changed_by",
    "reason",
    "recorded_at",
    "audit_seq",
)
CASE_FIELDS = (
    "tcn",
    "ori",
    "state",
    "custody",
    "opened_at",
    "updated_at",
    "fbi_number",
    "ident_id",
    "level",
    "rule_set",
    "removability",
    "notify_on_release",
)
DETAINER_FIELDS = (
    "case_id",
    "form",
    "lodged_at",
    "decided_by",
    "status",
    "honoured",
    "hold_deadline",
    "rule_set",
    "decision_id",
    "withdrawn_at",
)
# case states whose move notes case fields, and those fields
NOTED = {
    "criminal_searched": ("fbi_number",),
    "ident_match": ("ident_id",),
    "iar_returned": ("level", "rule_set", "removability"),
}
# outcomes that end or answer a detainer: the status they give it
DETAINER_OUTCOMES = {
    "hold_honored": "honoured",
    "hold_declined": "declined",
    "detainer_withdrawn": "withdrawn",
    "transferred": "transferred",
    "hold_expired": "expired",
}

Rows = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Disagreement:
    """One row, or one field of a row, that the audit log does not bear out."""

    table: str
    key: str
    field: str = ""  # "" for a whole row missing or extra
    stored: Any = None
    rebuilt: Any = None
    seq: int | None = None  # the entry that records the row (a missing row)
    problem: str = ""  # an audit entry that cannot be replayed: why ("audit_log", "entry N")

    def describe(self) -> str:
        if self.problem:
            return f"{self.table} {self.key}: {self.problem}"
        if self.field:
            return (
                f"{self.table} {self.key}: {self.field} is {_show(self.stored)}, "
                f"the audit log says {_show(self.rebuilt)}"
            )
        if self.seq is not None:
            return f"{self.table} {self.key}: missing row (audit entry {self.seq} records it)"
        return f"{self.table} {self.key}: extra row (no audit entry records it)"


@dataclass
class Reconciliation:
    entries: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # rows read, per table
    disagreements: list[Disagreement] = field(default_factory=list)
    unchecked: dict[str, int] = field(default_factory=dict)  # "table.field" -> rows unknown
    first_unrecorded: int | None = None  # an entry written before the fields were recorded

    @property
    def ok(self) -> bool:
        return not self.disagreements


@dataclass
class Rebuilt:
    """The three tables as the audit log alone makes them."""

    switch_settings: Rows = field(default_factory=dict)
    cases: Rows = field(default_factory=dict)
    detainers: Rows = field(default_factory=dict)
    entries: int = 0
    first_unrecorded: int | None = None
    # cases whose detainer the log names without its details (older entries)
    unrecorded_detainers: set[str] = field(default_factory=set)
    # entries that hash well but cannot be replayed (a payload that is not JSON, a field
    # missing or of the wrong type): each a disagreement naming the entry
    odd: list[Disagreement] = field(default_factory=list)

    def unrecorded(self, seq: int) -> None:
        if self.first_unrecorded is None:
            self.first_unrecorded = seq


def rebuild(rows: Iterable[AuditEntryRow]) -> Rebuilt:
    """Replay the audit entries, in chain order, onto empty tables. An entry that cannot be
    replayed (its chain hash may be sound: whoever wrote it hashed it) is named in `odd`,
    never an error: what it would have changed is left as the entries before made it."""
    out = Rebuilt()
    for row in rows:
        out.entries += 1
        handler = _HANDLERS.get(row.kind)
        try:
            payload = json.loads(row.payload)
        except (ValueError, RecursionError):  # every entry's payload is JSON when written
            out.odd.append(_odd(row, "its payload is not JSON"))
            continue
        if handler is None:
            continue
        if not isinstance(payload, dict):
            out.odd.append(_odd(row, "its payload is not a JSON object"))
            continue
        try:
            handler(out, row, payload)
        except (LookupError, TypeError, ValueError, AttributeError) as error:
            out.odd.append(_odd(row, _why(error)))
    return out


def _odd(row: AuditEntryRow, why: str) -> Disagreement:
    return Disagreement(
        "audit_log",
        f"entry {row.seq}",
        problem=f"{row.kind} entry {row.name!r} cannot be replayed: {why}",
    )


def _why(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"it has no {error.args[0]!r}" if error.args else "a field is missing"
    return f"a field it carries is not what the entry needs ({' '.join(str(error).split())})"


def _switch(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    out.switch_settings[str(p["setting_id"])] = {
        "ori": p["ori"],
        "switch": row.name.removeprefix("SWITCH_"),
        "enabled": p["enabled"],
        "effective_from": _moment(p["effective_from"]),
        "effective_to": _moment(p.get("effective_to")),
        "changed_by": row.actor,
        "reason": p["reason"],
        "recorded_at": row.recorded_at,
        "audit_seq": row.seq,
        "_seq": row.seq,
    }


def _booking(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    if row.name != "BOOKED":
        return
    out.cases[row.case_id] = {
        "tcn": p["tcn"],
        "ori": p["ori"],
        "state": "booked",
        "custody": "in_custody",
        "opened_at": row.recorded_at,
        "updated_at": row.recorded_at,
        "fbi_number": None,
        "ident_id": None,
        "level": None,
        "rule_set": None,
        "removability": None,
        "notify_on_release": False,
        "_seq": row.seq,
    }


def _case_state(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    case = out.cases.get(row.case_id)
    if case is None:
        return
    case["state"] = p["to"]
    case["updated_at"] = row.recorded_at
    if p["to"] in NOTED:
        noted = p.get("noted")
        if not isinstance(noted, dict):
            out.unrecorded(row.seq)
            noted = {}
        for name in NOTED[p["to"]]:
            case[name] = noted.get(name, UNKNOWN)
    if p["to"] == "detainer_lodged":
        d = p.get("detainer")
        if not isinstance(d, dict):
            out.unrecorded(row.seq)
            out.unrecorded_detainers.add(row.case_id)
            return
        out.detainers[str(d["detainer_id"])] = {
            "case_id": row.case_id,
            "form": d["form"],
            "lodged_at": _moment(d["lodged_at"]),
            "decided_by": d["decided_by"],
            "status": "lodged",
            "honoured": None,
            "hold_deadline": None,
            "rule_set": d.get("rule_set"),
            "decision_id": d.get("decision_id"),
            "withdrawn_at": None,
            "_seq": row.seq,
        }


def _custody(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    case = out.cases.get(row.case_id)
    if case is None:
        return
    case["custody"] = p["to"]
    case["updated_at"] = row.recorded_at
    if p["to"] != "held_on_detainer":
        return
    detainer = out.detainers.get(str(p.get("detainer_id")))
    if "hold_deadline" not in p:
        out.unrecorded(row.seq)
        for d in out.detainers.values():
            if d["case_id"] == row.case_id:
                d["hold_deadline"] = UNKNOWN
    elif detainer is not None:
        detainer["hold_deadline"] = _moment(p["hold_deadline"])


def _outcome(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    status = DETAINER_OUTCOMES.get(row.name)
    detainer = out.detainers.get(str(p.get("detainer_id")))
    if status is None or detainer is None:
        return
    if row.name in ("hold_honored", "hold_declined"):
        # the jail's answer: kept unless ICE had withdrawn the detainer first
        if detainer["status"] != "withdrawn":
            detainer["honoured"] = status == "honoured"
            detainer["status"] = status
    else:
        detainer["status"] = status


def _safeguard(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    detainer = out.detainers.get(str(p.get("detainer_id")))
    if row.name == "WITHDRAW_ON_DISMISSAL" and detainer is not None:
        detainer["status"] = "withdrawn"
        detainer["withdrawn_at"] = row.recorded_at


def _received(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    case = out.cases.get(row.case_id)
    if row.name == "NOTIFICATION_REQUEST" and row.actor == "lea" and case is not None:
        case["notify_on_release"] = True


def _message(out: Rebuilt, row: AuditEntryRow, p: dict[str, Any]) -> None:
    # A notification request sent to a jail whose log predates the jail's receipt entries:
    # whether the jail has it yet, the log cannot say.
    case = out.cases.get(row.case_id)
    if row.name == "NOTIFICATION_REQUEST" and case is not None and out.first_unrecorded:
        case["notify_on_release"] = UNKNOWN


_HANDLERS: dict[str, Callable[[Rebuilt, AuditEntryRow, dict[str, Any]], None]] = {
    "switch": _switch,
    "booking": _booking,
    "case_state": _case_state,
    "custody": _custody,
    "outcome": _outcome,
    "safeguard": _safeguard,
    "received": _received,
    "message": _message,
}


def stored(session: Session) -> dict[str, Rows]:
    """The three tables as they stand."""
    return {
        "switch_settings": {
            str(r.id): _fields(r, SWITCH_FIELDS)
            for r in session.scalars(select(SwitchSettingRow).order_by(SwitchSettingRow.id))
        },
        "cases": {
            r.case_id: _fields(r, CASE_FIELDS)
            for r in session.scalars(select(CaseRow).order_by(CaseRow.case_id))
        },
        "detainers": {
            r.detainer_id: _fields(r, DETAINER_FIELDS)
            for r in session.scalars(select(DetainerRow).order_by(DetainerRow.detainer_id))
        },
    }


def _fields(row: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def compare(rebuilt: Rebuilt, tables: dict[str, Rows]) -> Reconciliation:
    result = Reconciliation(entries=rebuilt.entries, first_unrecorded=rebuilt.first_unrecorded)
    result.disagreements.extend(rebuilt.odd)
    expected = {
        "switch_settings": (rebuilt.switch_settings, SWITCH_FIELDS),
        "cases": (rebuilt.cases, CASE_FIELDS),
        "detainers": (rebuilt.detainers, DETAINER_FIELDS),
    }
    for table, (rows, names) in expected.items():
        have = tables[table]
        result.rows[table] = len(have)
        for key in sorted(rows.keys() | have.keys()):
            want, got = rows.get(key), have.get(key)
            if got is None and want is not None:
                result.disagreements.append(Disagreement(table, key, seq=want["_seq"]))
            elif want is None and got is not None:
                if table == "detainers" and got["case_id"] in rebuilt.unrecorded_detainers:
                    result.unchecked[f"{table}.*"] = result.unchecked.get(f"{table}.*", 0) + 1
                    continue
                result.disagreements.append(Disagreement(table, key))
            elif want is not None and got is not None:
                for name in names:
                    if want[name] is UNKNOWN:
                        tag = f"{table}.{name}"
                        result.unchecked[tag] = result.unchecked.get(tag, 0) + 1
                    elif not _same(got[name], want[name]):
                        result.disagreements.append(
                            Disagreement(table, key, name, got[name], want[name])
                        )
    return result


def reconcile(session: Session, batch: int = 5000) -> Reconciliation:
    """Rebuild the tables from the audit log read through `session` and compare."""
    return compare(rebuild(entries(session, batch)), stored(session))


def reconcile_database(
    db: Database,
    batch: int = 5000,
    vouch: Callable[[Session, Verification], object] | None = None,
) -> tuple[Verification, Reconciliation | None]:
    """Verify the chain, then reconcile, in one consistent snapshot of `db`: a broken chain
    is no ground to rebuild from (None then). `vouch` runs in that snapshot once the chain
    verifies, before anything is rebuilt (the comparison with signed checkpoints, say): it
    raises to refuse the chain."""
    with consistent_snapshot(db) as session:
        verification = verify(session, batch)
        if not verification.ok:
            return verification, None
        if vouch is not None:
            vouch(session, verification)
        return verification, reconcile(session, batch)


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _same(stored_value: Any, rebuilt_value: Any) -> bool:
    """Equal values; a moment the audit keeps with its zone equals the stored wall time
    (rows written before zones were kept dropped them). Booleans are not numbers here."""
    if isinstance(stored_value, datetime) and isinstance(rebuilt_value, datetime):
        if (stored_value.tzinfo is None) != (rebuilt_value.tzinfo is None):
            return stored_value.replace(tzinfo=None) == rebuilt_value.replace(tzinfo=None)
        return stored_value == rebuilt_value
    if isinstance(stored_value, bool) or isinstance(rebuilt_value, bool):
        return type(stored_value) is type(rebuilt_value) and stored_value == rebuilt_value
    return bool(stored_value == rebuilt_value)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)
