"""The FOIA release: case-level tables from the audit log, in the manner of the Deportation
Data Project's ICE tables (encounters, detainers, arrests, removals), pseudonymous and
k-anonymous, with a codebook and a manifest.

Each person gets an identifier that links their rows within one release only: the keyed
hash HMAC-SHA256(secret, person key) of the FBI number CJIS assigned (else the IDENT id),
under a secret drawn at random for each release and never written into the release folder.
Two releases of the same log therefore share no identifier. Rows carry the month (never the
day), the state and ICE's area of responsibility (never the county or the jail), and
categories only; then each table is generalised to full-record k-anonymity (`kanon`).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy.orm import Session

from scomm.bus.memory import MemoryEntry
from scomm.domain.field_offices import area_of_state
from scomm.reports.cells import fiscal_year
from scomm.reports.codebook import Column, ColumnType, TableSpec, describe_table, write_codebook
from scomm.reports.kanon import DEFAULT_K, Anonymised, Generalisation, Row, k_anonymise
from scomm.reports.ledger import (
    CHARGES_FAILED,
    CaseFacts,
    ChainHead,
    DetainerFacts,
    Ledger,
    chain_head,
    recorded_head,
)
from scomm.reports.manifest import write_manifest

CASES = "cases"  # the release's folder of case-level tables
PERSON_KEY = "person_key"  # the raw rows' person key, replaced by the identifier
UID_HEX = 20  # 80 bits of the HMAC: no collision to expect among millions of people
SECRET_BYTES = 32

UID = Column(
    "person_uid",
    "string",
    "pseudonymous person identifier: links this person's rows across the tables of this "
    "release only (keyed hash with a per-release secret); empty where the booking's prints "
    "never reached the FBI",
    categorical=False,
)
FISCAL_YEAR = Column(
    "fiscal_year", "int", "federal fiscal year of the event (FY2010 = Oct 2009 - Sep 2010)"
)
MONTH = Column("month", "string", "calendar month of the event, YYYY-MM")
STATE = Column("state", "string", "state of the booking jail (USPS code)")
AREA = Column("area", "string", "ICE ERO area of responsibility of the jail (field office code)")
LEVEL = Column(
    "criminality_level",
    "string",
    "ICE priority level LESC determined: 1, 2, 3 or non-criminal (no conviction)",
)
CITIZEN = Column(
    "citizen_on_uscis_record",
    "bool",
    "USCIS's records show a naturalization or derived citizenship for the matched person "
    "(what the system could know, not ground truth)",
)

ENCOUNTERS = TableSpec(
    "encounters",
    "One row per booking whose prints CJIS searched against IDENT (a screened booking).",
    (
        UID,
        FISCAL_YEAR,
        MONTH,
        STATE,
        AREA,
        Column("ident_match", "bool", "IDENT found the prints (an immigration record)"),
        LEVEL,
        Column(
            "removability",
            "string",
            "LESC's determination: removable, not_removable, undetermined, status_unresolved",
        ),
        Column(
            "recorded_status_class",
            "string",
            "class of the status on the matched IDENT record: citizen, permanent_resident, "
            "temporary_visa, out_of_status, previously_removed",
        ),
        CITIZEN,
        Column(
            "ice_action",
            "string",
            "what ERO did on the match: detainer, notification_request, no_action",
        ),
    ),
)
DETAINERS = TableSpec(
    "detainers",
    "One row per detainer (Form I-247) ICE lodged with a jail.",
    (
        UID,
        FISCAL_YEAR,
        MONTH,
        STATE,
        AREA,
        LEVEL,
        Column(
            "outcome",
            "string",
            "where the detainer ended: transferred (to ICE custody), expired (the hold ran "
            "out), withdrawn (by ICE), declined (by the jail), honoured (the jail agreed; no "
            "later end recorded), lodged (no answer recorded)",
        ),
        Column(
            "charges_dismissed",
            "bool",
            "the booking's charges were later dismissed or ended in an acquittal (empty: no "
            "disposition recorded)",
        ),
        Column("held_past_legal_end", "bool", "the jail held the person past the hold's legal end"),
        CITIZEN,
    ),
)
ARRESTS = TableSpec(
    "arrests",
    "One row per ICE arrest: a person the jail transferred to ICE custody.",
    (
        UID,
        FISCAL_YEAR,
        MONTH,
        STATE,
        AREA,
        LEVEL,
        Column(
            "track",
            "string",
            "the identification track after the arrest (hearing, reinstatement, stipulated, ...)",
        ),
        Column("detained", "bool", "ICE kept the person in detention"),
        CITIZEN,
    ),
)
REMOVALS = TableSpec(
    "removals",
    "One row per removal (returns included), in the month of the removal.",
    (
        UID,
        FISCAL_YEAR,
        MONTH,
        STATE,
        AREA,
        Column(
            "criminality_level",
            "string",
            "level of the convictions ICE knew at removal (conviction-based rule set): 1, 2, 3 "
            "or non-criminal",
        ),
        Column(
            "track",
            "string",
            "how the removal was reached (hearing, reinstatement, stipulated, ...)",
        ),
    ),
)
TABLES: tuple[TableSpec, ...] = (ENCOUNTERS, DETAINERS, ARRESTS, REMOVALS)

# Each table's steps in order of preference (kanon: of steps that protect as well, the
# first goes): the month before the fiscal year, the state before the area, the least
# telling category first.
LADDERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "encounters": (
        ("month",),
        ("state",),
        ("removability",),
        ("recorded_status_class",),
        ("ice_action",),
        ("criminality_level",),
        ("citizen_on_uscis_record",),
        ("ident_match",),
        ("area",),
        ("fiscal_year",),
    ),
    "detainers": (
        ("month",),
        ("state",),
        ("held_past_legal_end",),
        ("charges_dismissed",),
        ("criminality_level",),
        ("citizen_on_uscis_record",),
        ("outcome",),
        ("area",),
        ("fiscal_year",),
    ),
    "arrests": (
        ("month",),
        ("state",),
        ("track",),
        ("criminality_level",),
        ("citizen_on_uscis_record",),
        ("area",),
        ("fiscal_year",),
    ),
    "removals": (
        ("month",),
        ("state",),
        ("track",),
        ("criminality_level",),
        ("area",),
        ("fiscal_year",),
    ),
}


# LESC's recorded status (`RecordedStatus`) by class
STATUS_CLASS = {
    "naturalized_citizen": "citizen",
    "lawful_permanent_resident": "permanent_resident",
    "nonimmigrant_visa": "temporary_visa",
    "visa_overstay": "out_of_status",
    "entered_without_inspection": "out_of_status",
    "previously_removed": "previously_removed",
}


def case_rows(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    """The raw rows of the four case tables (a person key in place of the identifier),
    in booking order, from what the audit log says of each case."""
    raw: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in TABLES}
    for case in sorted(ledger.cases.values(), key=lambda c: (c.booked_at, c.case_id)):
        if case.forwarded_at is not None:
            raw["encounters"].append(_encounter(case, case.forwarded_at))
        for detainer in case.detainers:
            raw["detainers"].append(_detainer(case, detainer))
        if case.transferred_at is not None:
            raw["arrests"].append(
                {
                    **_when_where(case, case.transferred_at),
                    "criminality_level": _level(_lesc_level(case)),
                    "track": case.ice_track or None,
                    "citizen_on_uscis_record": _citizen(case),
                }
            )
        if case.removed_at is not None:
            raw["removals"].append(
                {
                    **_when_where(case, case.removed_at),
                    "criminality_level": _level(case.removal_level),
                    "track": case.removal_track or None,
                }
            )
    return raw


def _when_where(case: CaseFacts, at: datetime) -> dict[str, Any]:
    month = at.strftime("%Y-%m")
    state = case.ori[:2]
    return {
        PERSON_KEY: case.person_key,
        "fiscal_year": int(fiscal_year(month).removeprefix("FY")),
        "month": month,
        "state": state,
        "area": area_of_state(state),
    }


def _encounter(case: CaseFacts, at: datetime) -> dict[str, Any]:
    found = case.determination
    if case.detainers:
        action: str | None = "detainer"
    else:
        action = {"notification_requested": "notification_request", "no_action": "no_action"}.get(
            case.state
        )
    return {
        **_when_where(case, at),
        "ident_match": case.ident == "match" if case.ident else None,
        "criminality_level": _level(_lesc_level(case)),
        "removability": found.removability or None if found else None,
        "recorded_status_class": STATUS_CLASS.get(found.recorded_status) if found else None,
        "citizen_on_uscis_record": _citizen(case),
        "ice_action": action,
    }


def _detainer(case: CaseFacts, detainer: DetainerFacts) -> dict[str, Any]:
    return {
        **_when_where(case, detainer.lodged_at),
        "criminality_level": _level(_lesc_level(case)),
        "outcome": detainer.outcome,
        "charges_dismissed": case.disposition in CHARGES_FAILED if case.disposition else None,
        "held_past_legal_end": case.held_past_end(detainer),
        "citizen_on_uscis_record": _citizen(case),
    }


def _lesc_level(case: CaseFacts) -> int | None:
    return case.determination.level if case.determination else None


def _level(level: int | None) -> str | None:
    if level is None:
        return None
    return "non-criminal" if level == 0 else str(level)


def _citizen(case: CaseFacts) -> bool | None:
    if case.determination is None:
        return None
    return bool(case.determination.citizenship_record)


def generalisation(spec: TableSpec, k: int = DEFAULT_K) -> Generalisation:
    """The k-anonymity rule of one case table (`kanon.Generalisation`)."""
    structural = {"person_uid", "fiscal_year", "month", "state", "area"}
    return Generalisation(
        k=k,
        steps=LADDERS[spec.name],
        categorical=tuple(name for name in spec.names if name not in structural),
        identifiers=("person_uid",),
        requires=(("fiscal_year", "month"), ("area", "state")),
    )


def new_secret() -> bytes:
    """A release's pseudonymisation key: random, never derived from anything published."""
    return secrets.token_bytes(SECRET_BYTES)


def person_uid(secret: bytes, person_key: str | None) -> str | None:
    """The person's identifier in the release keyed by `secret` (None for no key)."""
    if not person_key:
        return None
    return hmac.new(secret, person_key.encode(), hashlib.sha256).hexdigest()[:UID_HEX]


def pseudonymise(rows: Sequence[Mapping[str, Any]], secret: bytes) -> list[Row]:
    """The rows with their `person_key` replaced by `person_uid`."""
    out: list[Row] = []
    for row in rows:
        copied: Row = {name: value for name, value in row.items() if name != PERSON_KEY}
        copied["person_uid"] = person_uid(secret, row.get(PERSON_KEY))
        out.append(copied)
    return out


@dataclass
class CaseTable:
    spec: TableSpec
    rule: Generalisation
    anonymised: Anonymised

    @property
    def rows(self) -> list[Row]:
        return self.anonymised.rows


def protect_tables(
    raw: Mapping[str, Sequence[Mapping[str, Any]]], secret: bytes, k: int = DEFAULT_K
) -> dict[str, CaseTable]:
    """Each case table of `raw` (rows with a person key and every other column of its
    spec) pseudonymised under `secret`, then generalised to k-anonymity, then sorted by
    what it publishes: the order of the rows must not tell the order of events whose
    month or place was withheld."""
    tables: dict[str, CaseTable] = {}
    for spec in TABLES:
        rows = pseudonymise(raw.get(spec.name, ()), secret)
        ordered = [{name: row.get(name) for name in spec.names} for row in rows]
        rule = generalisation(spec, k)
        anonymised = k_anonymise(ordered, spec.names, rule)
        anonymised.rows.sort(key=lambda row: _published_order(row, spec.names))
        tables[spec.name] = CaseTable(spec, rule, anonymised)
    return tables


def _published_order(row: Row, names: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """Sort key of a published row: its values in column order, withheld ones last; the
    identifier is among them, a keyed hash, so rows alike fall in an order of no meaning."""
    values = [name for name in names if name != UID.name] + [UID.name]
    return tuple((1, "") if row[name] is None else (0, str(row[name])) for name in values)


_ARROW: dict[ColumnType, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "bool": pa.bool_(),
}


def write_csv(path: Path, spec: TableSpec, rows: Sequence[Row]) -> None:
    """CSV with a header; booleans as true/false, missing values empty."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(spec.names)
        for row in rows:
            writer.writerow([_csv_value(row.get(name)) for name in spec.names])


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_parquet(path: Path, spec: TableSpec, rows: Sequence[Row]) -> None:
    """Parquet with the spec's types (string, int32, bool), nulls where missing."""
    schema = pa.schema([pa.field(column.name, _ARROW[column.type]) for column in spec.columns])
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name in spec.names} for row in rows], schema=schema
    )
    pq.write_table(table, path)


@dataclass
class FoiaRelease:
    folder: Path
    tables: dict[str, CaseTable]
    manifest: dict[str, Any]
    secret_file: Path | None = None
    withheld: dict[str, Counter[str]] = field(default_factory=dict)


def write_case_tables(
    out: Path,
    release: str,
    raw: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    chain_head: ChainHead | None,
    k: int = DEFAULT_K,
    secret: bytes | None = None,
    secret_file: Path | None = None,
) -> FoiaRelease:
    """Write OUT/cases/<table>.csv and .parquet, the codebook and the manifest.

    The secret is drawn here unless given; it is discarded unless `secret_file` names
    where to keep it (a file outside `out`, written with mode 0600)."""
    key = secret if secret is not None else new_secret()
    if secret_file is not None:
        _keep_secret(secret_file, out, key)
    tables = protect_tables(raw, key, k)
    folder = out / CASES
    folder.mkdir(parents=True, exist_ok=True)
    described = []
    for name, table in tables.items():
        write_csv(folder / f"{name}.csv", table.spec, table.rows)
        write_parquet(folder / f"{name}.parquet", table.spec, table.rows)
        files = [f"{CASES}/{name}.csv", f"{CASES}/{name}.parquet"]
        described.append(describe_table(table.spec, table.rows, files))
    write_codebook(out, release, described, notes=[NOTE])
    manifest = write_manifest(
        out,
        release=release,
        chain_head=chain_head,
        rules={CASES: rules_of(tables, k)},
        row_counts={f"{CASES}/{name}": len(table.rows) for name, table in tables.items()},
    )
    return FoiaRelease(
        out,
        tables,
        manifest,
        secret_file,
        {name: table.anonymised.withheld for name, table in tables.items()},
    )


NOTE = (
    "person_uid links rows within this release only: it is a keyed hash whose key was drawn "
    "for this release and is not published; another release of the same log gives every "
    "person another identifier."
)


def rules_of(tables: Mapping[str, CaseTable], k: int) -> dict[str, Any]:
    """The rules the case tables were released under, for the manifest."""
    return {
        "pseudonym": {
            "method": f"HMAC-SHA256(per-release secret, person key), first {UID_HEX} hex digits",
            "person_key": "the FBI number CJIS assigned, else the IDENT id; none (empty "
            "identifier) for a booking whose prints never reached the FBI",
            "secret": "random per release, not in the release folder",
        },
        "coarsening": "dates to the month; place to the state and ICE area of responsibility",
        "k_anonymity": {
            name: {
                **table.rule.describe(),
                # how many values were withheld is not published: with the missing counts
                # of the codebook it would give the counts of values missing before
                # true for every table published empty, whether it had no row or fewer
                # than k: telling the two apart would say that a count of 1 to k-1 exists
                "published_empty_below_k": not table.rows,
            }
            for name, table in tables.items()
        },
        "k": k,
    }


def export_from_session(
    session: Session,
    out: Path,
    release: str,
    *,
    k: int = DEFAULT_K,
    secret_file: Path | None = None,
) -> FoiaRelease:
    """The FOIA release of a database's audit log, which the caller verified first in the
    same snapshot (`scomm foia export` does)."""
    head = recorded_head(session)
    return write_case_tables(
        out, release, case_rows(Ledger.read(session)), chain_head=head, k=k, secret_file=secret_file
    )


def export_from_entries(
    entries: Iterable[MemoryEntry],
    out: Path,
    release: str,
    *,
    k: int = DEFAULT_K,
    secret_file: Path | None = None,
) -> FoiaRelease:
    """The FOIA release of a memory run's audit entries (the chain head recomputed from
    them, as its database would hold it)."""
    kept = list(entries)
    return write_case_tables(
        out,
        release,
        case_rows(Ledger.of_entries(kept)),
        chain_head=chain_head(kept),
        k=k,
        secret_file=secret_file,
    )


def _keep_secret(path: Path, out: Path, secret: bytes) -> None:
    resolved, folder = path.resolve(), out.resolve()
    if resolved == folder or folder in resolved.parents:
        raise ValueError(f"{path}: the secret must not be kept inside the release folder {out}")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret.hex() + "\n")
    os.chmod(path, 0o600)
