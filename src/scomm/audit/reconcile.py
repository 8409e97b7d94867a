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

The outbox and the consumers' processed_messages are checked against the `message`
entries and the dispatcher's `delivery` entries (`compare_messages`, at the end).

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
from scomm.audit.messages import PAYLOAD_SHA256, payload_digest, same_body
from scomm.store.db import Database
from scomm.store.models import (
    AuditEntryRow,
    CaseRow,
    DetainerRow,
    OutboxRow,
    ProcessedMessageRow,
    SwitchSettingRow,
)
from scomm.store.repositories.shared import naive_utc, parse_moment


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
    note: str = ""  # what is wrong, where no field/value pair says it
    problem: str = ""  # an audit entry that cannot be replayed: why ("audit_log", "entry N")

    def describe(self) -> str:
        if self.note or self.problem:
            return f"{self.table} {self.key}: {self.note or self.problem}"
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
    # the messages queued and what the dispatcher recorded of their delivery
    messages: MessageLog = field(default_factory=lambda: MessageLog())
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
    out.messages.queued(row, p)
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
    "delivery": lambda out, row, p: out.messages.delivery(row, p),
    "operation": lambda out, row, p: out.messages.delivery(row, p),
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
    rebuilt = rebuild(entries(session, batch))
    result = compare(rebuilt, stored(session))
    compare_messages(session, rebuilt.messages, result, batch)
    return result


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
    """Equal values. Moments compare as the flow reads them (`audited_change` in
    scomm.store.repositories.shared): naive UTC, a zoned one converted first, so a row that
    kept the wall time of a zoned entry (and dropped its zone) differs from it. Booleans are
    not numbers here."""
    if isinstance(stored_value, datetime) and isinstance(rebuilt_value, datetime):
        return naive_utc(stored_value) == naive_utc(rebuilt_value)
    if isinstance(stored_value, bool) or isinstance(rebuilt_value, bool):
        return type(stored_value) is type(rebuilt_value) and stored_value == rebuilt_value
    return bool(stored_value == rebuilt_value)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


# --- the outbox and the consumers' processed messages ---------------------------------------
#
# A queued message is a "message" entry (`UnitOfWork.emit`: message id, recipient, TCN, the
# moment it is due, the payload's sha256 or, in older entries, its audited body); the
# dispatcher records a delivery put off after a failure (DELIVERY_RETRY, with the new due
# moment), a message given up on (DEAD_LETTER), and an operator's replay of one
# (DEAD_LETTER_REPLAYED). A delivery itself is recorded by the consumer's processed_messages
# row, written in the transaction that marks the outbox row delivered (same moment).
# A message still pending long after it was due is no disagreement: the dispatcher may not
# have run since.

DEAD_LETTER = "DEAD_LETTER"
DELIVERY_RETRY = "DELIVERY_RETRY"
DEAD_LETTER_REPLAYED = "DEAD_LETTER_REPLAYED"
OUTBOX_FIELDS = ("type", "sender", "recipient", "case_id", "tcn")


@dataclass
class MessageLog:
    """What the audit log says of each queued message, by message id."""

    queued_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: dict[str, datetime] = field(default_factory=dict)  # due moment after a retry
    dead: dict[str, int] = field(default_factory=dict)  # dead letters: their entry's seq

    def queued(self, row: AuditEntryRow, p: dict[str, Any]) -> None:
        message_id = p.get("message_id")
        if not isinstance(message_id, str):
            return
        digest = p.get(PAYLOAD_SHA256)
        self.queued_messages[message_id] = {
            "type": row.name,
            "sender": row.actor,
            "recipient": p.get("recipient"),
            "case_id": row.case_id,
            "tcn": p.get("tcn"),
            "available_at": parse_moment(p.get("available_at")),
            "sha256": digest if isinstance(digest, str) else None,
            # the audited body, kept only where the entry has no digest (older entries)
            "body": p.get("body") if not isinstance(digest, str) else None,
            "_seq": row.seq,
        }

    def delivery(self, row: AuditEntryRow, p: dict[str, Any]) -> None:
        message_id = p.get("message_id")
        if not isinstance(message_id, str):
            return
        if row.name == DELIVERY_RETRY:
            moment = parse_moment(p.get("available_at"))
            if moment is not None:
                self.moved[message_id] = moment
        elif row.name == DEAD_LETTER:
            self.dead[message_id] = row.seq
        elif row.name == DEAD_LETTER_REPLAYED:
            self.dead.pop(message_id, None)


def compare_messages(
    session: Session, log: MessageLog, result: Reconciliation, batch: int = 5000
) -> None:
    """Name, in `result`, every outbox row and processed_messages row the audit log does not
    bear out: a few bulk reads (the payloads streamed, hashed and dropped), no query per row."""
    processed: dict[tuple[str, str], datetime] = {
        (consumer, message_id): at
        for consumer, message_id, at in session.execute(
            select(
                ProcessedMessageRow.consumer,
                ProcessedMessageRow.message_id,
                ProcessedMessageRow.processed_at,
            )
        )
    }
    found: list[Disagreement] = []
    outbox: dict[str, tuple[int, str, str]] = {}  # message id -> seq, recipient, status
    query = (
        select(
            OutboxRow.seq,
            OutboxRow.message_id,
            OutboxRow.type,
            OutboxRow.sender,
            OutboxRow.recipient,
            OutboxRow.case_id,
            OutboxRow.tcn,
            OutboxRow.payload,
            OutboxRow.available_at,
            OutboxRow.delivered_at,
            OutboxRow.status,
            OutboxRow.last_error,
            OutboxRow.audit_seq,
        )
        .order_by(OutboxRow.seq)
        .execution_options(yield_per=batch)
    )
    for row in session.execute(query):
        outbox[row.message_id] = (row.seq, row.recipient, row.status)
        want = log.queued_messages.get(row.message_id)
        key = str(row.seq)
        if want is None:
            found.append(Disagreement("outbox", key))
            continue
        found.extend(_outbox_fields(row, want, log, result))
        found.extend(_outbox_status(row, log, processed))
    result.rows["outbox"] = len(outbox)
    result.rows["processed_messages"] = len(processed)
    for message_id, want in sorted(log.queued_messages.items(), key=lambda m: m[1]["_seq"]):
        if message_id not in outbox:
            found.append(Disagreement("outbox", message_id, seq=want["_seq"]))
    for consumer, message_id in sorted(processed):
        seq, recipient, status = outbox.get(message_id, (None, None, None))
        if seq is None:
            note = f"extra row (no outbox row holds message {message_id})"
        elif recipient != consumer:
            note = f"extra row (outbox {seq} is addressed to {recipient!r}, not to {consumer!r})"
        elif status != "delivered":
            note = f"extra row (outbox {seq} is {status!r}, not delivered)"
        else:
            continue
        found.append(Disagreement("processed_messages", f"{consumer}/{message_id}", note=note))
    result.disagreements.extend(found)


def _outbox_fields(
    row: Any, want: dict[str, Any], log: MessageLog, result: Reconciliation
) -> list[Disagreement]:
    key = str(row.seq)
    out = [
        Disagreement("outbox", key, name, getattr(row, name), want[name])
        for name in OUTBOX_FIELDS
        if not _same(getattr(row, name), want[name])
    ]
    if row.audit_seq is not None and row.audit_seq != want["_seq"]:
        out.append(Disagreement("outbox", key, "audit_seq", row.audit_seq, want["_seq"]))
    due = log.moved.get(row.message_id, want["available_at"])
    if due is None:
        _unchecked(result, "outbox.available_at", want["_seq"])
    elif not _same(row.available_at, due):
        if (
            row.message_id not in log.moved
            and row.last_error is not None
            and (naive_utc(row.available_at) > naive_utc(due))
        ):
            # put off after a failure by a dispatcher that did not yet record it
            _unchecked(result, "outbox.available_at", want["_seq"])
        else:
            out.append(Disagreement("outbox", key, "available_at", row.available_at, due))
    digest = payload_digest(row.payload)
    if want["sha256"] is not None:
        if digest != want["sha256"]:
            out.append(
                Disagreement(
                    "outbox", key, "payload", f"sha256 {digest}", f"sha256 {want['sha256']}"
                )
            )
    elif want["body"] is not None:
        if not same_body(want["body"], row.payload):
            out.append(
                Disagreement(
                    "outbox", key, note=f"payload (sha256 {digest}) differs from the audited body"
                )
            )
    else:
        _unchecked(result, "outbox.payload", want["_seq"])
    return out


def _outbox_status(
    row: Any, log: MessageLog, processed: dict[tuple[str, str], datetime]
) -> list[Disagreement]:
    key = str(row.seq)
    dead_entry = log.dead.get(row.message_id)
    if row.status == "dead" and dead_entry is None:
        note = "status is 'dead', but no DEAD_LETTER audit entry records it"
        return [Disagreement("outbox", key, "status", note=note)]
    if row.status != "dead" and dead_entry is not None:
        note = f"status is {row.status!r}, the audit log says 'dead' (entry {dead_entry})"
        return [Disagreement("outbox", key, "status", note=note)]
    if row.status not in ("pending", "delivered", "dead"):
        return [Disagreement("outbox", key, "status", row.status, "pending")]
    if row.status != "delivered":
        return []
    handled = processed.get((row.recipient, row.message_id))
    if handled is None:
        note = (
            f"status is 'delivered', but {row.recipient} has no processed_messages row "
            f"for {row.message_id}"
        )
        return [Disagreement("outbox", key, "status", note=note)]
    if row.delivered_at is None or not _same(row.delivered_at, handled):
        # the flow writes both in one transaction, at one moment: a processed row written
        # before the delivery made the consumer skip the message
        note = (
            f"delivered_at is {_show(row.delivered_at)}, but {row.recipient}'s "
            f"processed_messages row for {row.message_id} says {_show(handled)}"
        )
        return [Disagreement("outbox", key, "delivered_at", note=note)]
    return []


def _unchecked(result: Reconciliation, tag: str, seq: int) -> None:
    """A field the message entry `seq` (an older one) does not let reconcile check."""
    result.unchecked[tag] = result.unchecked.get(tag, 0) + 1
    if result.first_unrecorded is None or seq < result.first_unrecorded:
        result.first_unrecorded = seq
