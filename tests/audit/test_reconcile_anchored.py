"""`scomm audit reconcile` against the signed checkpoints, and audit entries that hash well
but cannot be replayed: a rehashed chain is refused where a checkpoint log is configured
(and the output says "not anchored" where none is), an odd entry is a disagreement naming
it, never an internal error."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from small_flow import START, run_small_flow
from sqlalchemy import select
from tampering import rehash_from, tampering
from typer.testing import CliRunner, Result

from scomm.audit.chain import GENESIS_HASH, append, entry_hash
from scomm.audit.reconcile import reconcile_database
from scomm.cli import app
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow, SwitchSettingRow

runner = CliRunner()
PRIVATE, PUBLIC = "audit-signing-key.pem", "audit-signing-key.pub.pem"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small flow's database and a checkpoint log signing its head (closed), made by the
    commands an operator runs: `audit keygen` and `audit checkpoint`."""
    folder = tmp_path_factory.mktemp("signed")
    run_small_flow(f"sqlite:///{folder / 'scomm.db'}")
    made = runner.invoke(app, ["audit", "keygen", "--out", str(folder / "keys")])
    assert made.exit_code == 0, made.output
    assert {p.name for p in (folder / "keys").iterdir()} == {PRIVATE, PUBLIC}
    env = {
        "SCOMM_AUDIT_KEY": str(folder / "keys" / PRIVATE),
        "SCOMM_CHECKPOINT_LOG": str(folder / "checkpoints.jsonl"),
        "SCOMM_CHECKPOINT_HOOK": None,
    }
    signed = runner.invoke(
        app, ["audit", "checkpoint", "-d", f"sqlite:///{folder / 'scomm.db'}"], env=env
    )
    assert signed.exit_code == 0, signed.output
    return folder


@pytest.fixture
def copy(signed: Path, tmp_path: Path) -> Iterator[Path]:
    shutil.copytree(signed, tmp_path / "run")
    yield tmp_path / "run"


def reconcile(folder: Path, *, anchored: bool) -> Result:
    env: dict[str, str | None] = {
        "COLUMNS": "300",
        "SCOMM_AUDIT_KEY": None,
        "SCOMM_AUDIT_PUBLIC_KEY": None,
        "SCOMM_CHECKPOINT_LOG": None,
    }
    if anchored:
        env["SCOMM_CHECKPOINT_LOG"] = str(folder / "checkpoints.jsonl")
        env["SCOMM_AUDIT_PUBLIC_KEY"] = str(folder / "keys" / PUBLIC)
    url = f"sqlite:///{folder / 'scomm.db'}"
    result = runner.invoke(app, ["audit", "reconcile", "-d", url], env=env)
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def error_line(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    (line,) = result.stderr.strip().splitlines()
    return line


def test_the_untouched_flow_reconciles_anchored(copy: Path) -> None:
    done = reconcile(copy, anchored=True)
    assert done.exit_code == 0, done.output
    assert "anchored: the chain extends checkpoint of entry" in done.stdout
    assert "all rows agree" in done.stdout


def test_without_a_checkpoint_log_the_output_says_it_is_not_anchored(copy: Path) -> None:
    done = reconcile(copy, anchored=False)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(
        "not anchored: no checkpoint log configured (SCOMM_CHECKPOINT_LOG); "
        "the rows were checked against the unanchored chain\n"
    )


def test_a_switch_rewritten_in_row_and_entry_and_rehashed_is_refused_when_anchored(
    copy: Path,
) -> None:
    # Switch C turned off in its row and in its audit entry alike, every later hash
    # recomputed: the chain alone vouches for the change, the signed checkpoint does not.
    db = Database(f"sqlite:///{copy / 'scomm.db'}")
    with tampering(db) as session:
        row = session.scalars(select(SwitchSettingRow).where(SwitchSettingRow.switch == "C")).one()
        entry = session.get(AuditEntryRow, row.audit_seq)
        assert entry is not None
        payload = json.loads(entry.payload)
        payload["enabled"] = False
        entry.payload = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        row.enabled = False
        seq = entry.seq
        session.flush()
        rehash_from(session, seq)
    db.dispose()
    plain = reconcile(copy, anchored=False)
    assert plain.exit_code == 0 and "all rows agree" in plain.stdout  # the gap
    assert "not anchored" in plain.stdout  # ... and the output says so
    refused = reconcile(copy, anchored=True)
    line = error_line(refused, 1)
    assert line.startswith(
        "error: refusing to reconcile: audit chain does not extend its signed checkpoints"
    )
    assert f"entry {seq}" in line or "was rewritten" in line
    assert "all rows agree" not in refused.stdout


def test_a_missing_log_or_a_bad_key_is_one_line(copy: Path) -> None:
    (copy / "checkpoints.jsonl").unlink()
    assert "no checkpoint log at" in error_line(reconcile(copy, anchored=True), 2)
    (copy / "keys" / PUBLIC).write_text("not a key\n")
    assert "not a PEM public key" in error_line(reconcile(copy, anchored=True), 2)


def append_raw(db: Database, kind: str, name: str, payload: str) -> int:
    """An entry whose payload text is `payload` as given, hashed into the chain as
    `append` would (an insert: the append-only guard allows it)."""
    with db.sessions() as session:
        head = session.get(AuditHeadRow, 1)
        previous = head.entry_hash if head is not None else GENESIS_HASH
        seq = (head.seq if head is not None else 0) + 1
        at = datetime(2011, 8, 1)
        digest = entry_hash(previous, seq, at, kind, name, "federal", "", payload)
        session.add(
            AuditEntryRow(
                seq=seq,
                recorded_at=at,
                kind=kind,
                name=name,
                actor="federal",
                case_id="",
                payload=payload,
                prev_hash=previous,
                entry_hash=digest,
            )  # fmt: skip
        )
        assert head is not None
        head.seq, head.entry_hash = seq, digest
        session.commit()
    return seq


@pytest.mark.parametrize(
    ("kind", "name", "payload", "why"),
    [
        ("switch", "SWITCH_B", '{"ori": "CA0010000"}', "it has no 'enabled'"),
        ("switch", "SWITCH_B", "not json", "its payload is not JSON"),
        ("booking", "BOOKED", "[1, 2]", "its payload is not a JSON object"),
        ("booking", "BOOKED", '{"tcn": "T", "ori": ["x"]}', None),  # harmless: kept as is
        (
            "switch",
            "SWITCH_C",
            json.dumps(
                {
                    "setting_id": 99,
                    "ori": "CA0010000",
                    "enabled": False,
                    "effective_from": "last tuesday",
                    "reason": "x",
                }
            ),
            "a field it carries is not what the entry needs",
        ),  # fmt: skip
        ("case_state", "x", '{"to": ["a"]}', None),  # a case the log never opened
        ("audit", "ANYTHING", "\ufeff{", "its payload is not JSON"),
    ],
)
def test_a_well_hashed_entry_that_cannot_be_replayed_is_named(
    copy: Path, kind: str, name: str, payload: str, why: str | None
) -> None:
    db = Database(f"sqlite:///{copy / 'scomm.db'}")
    seq = append_raw(db, kind, name, payload)
    verification, result = reconcile_database(db)
    db.dispose()
    assert verification.ok and result is not None
    lines = [d.describe() for d in result.disagreements]
    if why is None:
        assert not any(line.startswith(f"audit_log entry {seq}:") for line in lines)
        return
    assert lines[0].startswith(f"audit_log entry {seq}: {kind} entry {name!r} cannot be replayed: ")
    assert why in lines[0]
    result_cli = reconcile(copy, anchored=False)
    assert "disagreement(s) with the audit log" in error_line(result_cli, 1)
    assert f"audit_log entry {seq}: {kind} entry {name!r} cannot be replayed" in result_cli.stdout


def test_an_odd_entry_appended_by_the_flows_own_append_is_named_too(copy: Path) -> None:
    db = Database(f"sqlite:///{copy / 'scomm.db'}")
    with db.sessions() as session:
        entry = append(
            session, recorded_at=START, kind="custody", name="held_on_detainer",
            actor="lea", case_id="nosuchcase", payload={"to": "held_on_detainer"},
        )  # fmt: skip
        session.commit()
        seq = entry.seq
    with db.sessions() as session:
        case_id = session.scalars(select(AuditEntryRow.case_id).where(
            AuditEntryRow.kind == "booking")).first()  # fmt: skip
        assert case_id
        odd = append(
            session, recorded_at=START, kind="case_state", name="detainer_lodged",
            actor="ice", case_id=case_id,
            payload={"to": "detainer_lodged", "detainer": {"form": "I-247A"}},
        )  # fmt: skip
        session.commit()
        odd_seq = odd.seq
    verification, result = reconcile_database(db)
    db.dispose()
    assert verification.ok and result is not None
    named = [d.describe() for d in result.disagreements if d.table == "audit_log"]
    assert named == [
        f"audit_log entry {odd_seq}: case_state entry 'detainer_lodged' cannot be replayed: "
        "it has no 'lodged_at'"
    ]
    assert seq < odd_seq  # the first: a case the log never opened, nothing to replay onto


def test_an_id_of_another_type_is_compared_as_text_not_an_error() -> None:
    from scomm.audit.reconcile import compare, rebuild

    def entry(seq: int, kind: str, name: str, payload: object) -> AuditEntryRow:
        return AuditEntryRow(
            seq=seq, recorded_at=START, kind=kind, name=name, actor="ice", case_id="case-1",
            payload=json.dumps(payload),
        )  # fmt: skip

    rows = [
        entry(1, "booking", "BOOKED", {"tcn": "T-1", "ori": "CA0010000"}),
        entry(2, "case_state", "detainer_lodged", {"to": "detainer_lodged", "detainer": {
            "detainer_id": 7, "form": "I-247A", "lodged_at": "2011-06-01T00:00:00",
            "decided_by": "ice"}}),
    ]  # fmt: skip
    stored = {"switch_settings": {}, "cases": {}, "detainers": {"D-1": {"case_id": "case-1"}}}
    lines = [d.describe() for d in compare(rebuild(rows), stored).disagreements]
    assert "detainers 7: missing row (audit entry 2 records it)" in lines
    assert "detainers D-1: extra row (no audit entry records it)" in lines
