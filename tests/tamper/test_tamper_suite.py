"""The tamper suite: every attack issue 13 names (and a few more), tried as an outside
tester would, on a copy of a real signed run, and caught by the commands an auditor runs.

One run of the whole flow (the demo world, the default engine, two fingers a booking,
signed checkpoints every 10 entries) is made once per backend; each test attacks its own
copy of it (a copied folder on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL) and
asserts the attack is detected and named by the entry or row at fault. The attacker owns
the database: tests lift the audit table's append-only guard the way such an owner would
(`tampering.py`), except the one that shows the guard itself.

Each attack, and what catches it:
- an entry's payload changed (no rehash); an entry deleted; two entries swapped; the head
  moved: `audit verify`, naming the entry;
- IDR_NO_MATCH rewritten to IDR_MATCH with every later hash recomputed and the head moved:
  `audit verify --checkpoint`, naming the signed range it falls in; `report` refuses;
- the tail cut and the head moved back: `audit verify --checkpoint`, naming the first
  missing entry;
- a well-formed entry appended after the run closed: `audit verify --checkpoint`, naming it;
- every entry deleted: `audit verify --checkpoint`, naming entry 1;
- a checkpoint line forged with the attacker's own key: `audit verify --checkpoint`,
  naming the line;
- the application updating or deleting an audit row: the database refuses (triggers);
- an IAR's level changed in the outbox while pending: the dispatcher refuses it, a dead
  letter and an `OUTBOX_TAMPERED` alarm name the row;
- a delivered message's row deleted, another's payload changed after delivery: `audit
  reconcile` names each (outbox rows are checked against their message entries);
- switch B turned off for six ORIs by a party that does not own it, with no audit entry:
  the flow ignores the rows; `audit reconcile` and `switches show` name each;
- a switch row's value flipped, or deleted: the flow ignores it; `audit reconcile` names it;
- a case's level changed, a case row deleted, a detainer's status changed:
  `audit reconcile`, naming the row and the field;
- two identity ids swapped in a gallery snapshot: the next start does not use it and
  records a `GALLERY_SNAPSHOT_MISMATCH` alarm naming the repository.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from tampering import rewrite_and_rehash, tampering
from typer.testing import CliRunner, Result

from scomm.audit.chain import append
from scomm.audit.checkpoints import generate_keys, head, load_private_key, sign
from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.bus.dispatcher import Dispatcher
from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.cli.console import console
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor
from scomm.domain.switches import Switch
from scomm.services.switches import switch_on
from scomm.sim.driver import RunSpec, run
from scomm.store.db import Database
from scomm.store.models import (
    AuditEntryRow,
    AuditHeadRow,
    CaseRow,
    DetainerRow,
    JurisdictionRow,
    OutboxRow,
    SwitchSettingRow,
)
from scomm.store.templates import snapshot_folder

POSTGRES_ENV = "SCOMM_TEST_POSTGRES_URL"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(POSTGRES_ENV),
            reason=f"{POSTGRES_ENV} not set (CI runs these against a throwaway server)",
        ),
    ),
]
runner = CliRunner()


@dataclass
class Scene:
    """A copy of the signed run: its database, its checkpoint log and the published key."""

    url: str
    folder: Path
    log: Path
    public_key: Path
    private_key: Path

    def db(self) -> Database:
        return Database(self.url)

    def scomm(self, *args: str, anchored: bool = False) -> Result:
        """Run `scomm ARGS --database URL` as an auditor would (with the checkpoint log and
        the public key configured where `anchored`)."""
        env = {"COLUMNS": "300", "SCOMM_AUDIT_KEY": None, "SCOMM_CHECKPOINT_LOG": None}
        if anchored:
            env |= {"SCOMM_CHECKPOINT_LOG": str(self.log)}
            env |= {"SCOMM_AUDIT_PUBLIC_KEY": str(self.public_key)}
        result = runner.invoke(app, [*args, "--database", self.url], env=env)
        assert "Traceback" not in result.output, result.output
        return result

    def verify(self) -> Result:
        return self.scomm(
            "audit", "verify", "--checkpoint", str(self.log),
            "--public-key", str(self.public_key),
        )  # fmt: skip


def _fails(result: Result) -> str:
    """The one error line of a command that exited 1."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- the signed run, made once per backend, copied for each attack -------------------------


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 300)


def _admin(url: str) -> Any:
    return create_engine(make_url(url), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module", params=BACKENDS)
def signed_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp(f"signed-{request.param}")
    private, public = generate_keys(folder / "keys")
    log = folder / "checkpoints.jsonl"
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'run' / 'scomm.db'}"
        (folder / "run").mkdir()
    else:
        base = make_url(os.environ[POSTGRES_ENV])
        url = base.set(database=f"{base.database}_tamper").render_as_string(False)
        admin = _admin(os.environ[POSTGRES_ENV])
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
            connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
        admin.dispose()
    spec = RunSpec.demo(seed=4, bookings=16, population=8, engine="minutiae", compression="NONE")
    settings = Settings(
        database_url=url,
        audit_key=private,
        checkpoint_log=log,
        checkpoint_every=10,
        engine=DEMO_ENGINE,
    )
    run(dataclasses.replace(spec, fingers=2), settings)
    yield Scene(url, folder, log, public, private)


@pytest.fixture
def scene(signed_run: Scene, tmp_path: Path) -> Iterator[Scene]:
    """The attacker's own copy of the signed run (database, snapshots and checkpoint log)."""
    log = tmp_path / "checkpoints.jsonl"
    shutil.copy(signed_run.log, log)
    if signed_run.url.startswith("sqlite"):
        shutil.copytree(signed_run.folder / "run", tmp_path / "run")
        url = f"sqlite:///{tmp_path / 'run' / 'scomm.db'}"
        yield Scene(url, tmp_path, log, signed_run.public_key, signed_run.private_key)
        return
    template = make_url(signed_run.url).database
    name = f"{template}_{os.getpid()}_copy"
    admin = _admin(signed_run.url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(signed_run.url).set(database=name).render_as_string(False)
    try:
        yield Scene(url, tmp_path, log, signed_run.public_key, signed_run.private_key)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _first(db: Database, name: str) -> int:
    with db.sessions() as session:
        seq = session.scalar(
            select(AuditEntryRow.seq).where(AuditEntryRow.name == name).order_by("seq")
        )
    assert seq is not None, f"the run has no {name} entry"
    return seq


def test_the_untouched_run_verifies_anchored_and_reconciles(scene: Scene) -> None:
    verified = scene.verify()
    assert verified.exit_code == 0, verified.output
    assert "audit chain intact" in verified.stdout
    assert "not yet anchored" not in verified.stdout  # the run closed its last checkpoint
    reconciled = scene.scomm("audit", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output
    assert "all rows agree" in reconciled.stdout
    assert scene.scomm("report", anchored=True).exit_code == 0
    assert "no alarms" in scene.scomm("ops", "alarms").stdout.lower()


# --- the chain itself ---------------------------------------------------------------------


def test_a_changed_entry_is_named(scene: Scene) -> None:
    db = scene.db()
    seq = _first(db, "IDR_NO_MATCH")
    with tampering(db) as session:
        session.execute(
            AuditEntryRow.__table__.update()
            .where(AuditEntryRow.seq == seq)
            .values(name="IDR_MATCH")
        )
    db.dispose()
    assert f"broken at entry {seq}:" in _fails(scene.scomm("audit", "verify"))


def test_a_deleted_entry_two_swapped_entries_and_a_moved_head_are_named(scene: Scene) -> None:
    db = scene.db()
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 40))
    assert "broken at entry 40:" in _fails(scene.scomm("audit", "verify"))
    with tampering(db) as session:  # put 40 back as 41's copy, then swap 60 and 61
        rows = {r.seq: r for r in session.scalars(select(AuditEntryRow).where(
            AuditEntryRow.seq.in_([41, 60, 61])))}  # fmt: skip
        session.add(AuditEntryRow(**_columns(rows[41], seq=40)))
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq.in_([40, 60, 61])))
        session.add_all(
            [
                AuditEntryRow(**_columns(rows[60], seq=61)),
                AuditEntryRow(**_columns(rows[61], seq=60)),
            ]
        )
    assert "broken at entry 40:" in _fails(scene.scomm("audit", "verify"))
    db.dispose()


def _columns(row: AuditEntryRow, **changes: Any) -> dict[str, Any]:
    columns = {c.key: getattr(row, c.key) for c in AuditEntryRow.__table__.columns}
    return columns | changes


def test_a_moved_head_alone_is_named(scene: Scene) -> None:
    db = scene.db()
    with tampering(db) as session:
        head = session.get(AuditHeadRow, 1)
        assert head is not None
        end = head.seq
        head.seq -= 3
    db.dispose()
    line = _fails(scene.scomm("audit", "verify"))
    assert f"ends at entry {end} but its head records entry {end - 3}" in line


def _signed_range(line: str) -> tuple[int, int]:
    """The entries a failed check names as the rewritten span: "an entry from A to B was
    rewritten" where it says so (the same line first names the checkpoint's own entry B),
    else the one entry it names."""
    span = re.search(r"entry from (\d+) to (\d+) was rewritten", line)
    if span:
        return int(span.group(1)), int(span.group(2))
    found = re.search(r"entry (\d+) is not", line)
    assert found, line
    return int(found.group(1)), int(found.group(1))


def test_a_rewritten_and_rehashed_entry_is_caught_by_the_checkpoints(scene: Scene) -> None:
    db = scene.db()
    seq = _first(db, "IDR_NO_MATCH")
    rewrite_and_rehash(db, seq)
    db.dispose()
    assert scene.scomm("audit", "verify").exit_code == 0  # the gap the checkpoints close
    low, high = _signed_range(_fails(scene.verify()))
    assert low <= seq <= high and high - low < 40  # named within one cadence's entries
    assert "signed checkpoints" in _fails(scene.scomm("report", anchored=True))


def test_a_cut_tail_with_the_head_moved_back_is_caught(scene: Scene) -> None:
    db = scene.db()
    with tampering(db) as session:
        head = session.get(AuditHeadRow, 1)
        assert head is not None
        keep = head.seq - 25
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq > keep))
        last = session.get(AuditEntryRow, keep)
        assert last is not None
        head.seq, head.entry_hash = keep, last.entry_hash
    db.dispose()
    assert scene.scomm("audit", "verify").exit_code == 0
    assert f"entry {keep + 1} is missing" in _fails(scene.verify())


def test_an_entry_appended_after_the_run_closed_is_a_forgery(scene: Scene) -> None:
    db = scene.db()
    with tampering(db) as session:
        forged = append(
            session,
            recorded_at=datetime(2011, 3, 1, 12),
            kind="message",
            name="IDR_MATCH",
            actor="ident",
            case_id="case-forged",
            payload={"message_id": "msg-forged"},
        )
        session.flush()
        seq = forged.seq
    db.dispose()
    assert scene.scomm("audit", "verify").exit_code == 0
    line = _fails(scene.verify())
    assert f"entry {seq}" in line and "after the run closed" in line


def test_an_emptied_chain_is_caught(scene: Scene) -> None:
    db = scene.db()
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow))
        session.execute(delete(AuditHeadRow))
    db.dispose()
    assert "intact: 0 entries" in scene.scomm("audit", "verify").stdout  # alone: all clear
    assert "entry 1 is missing" in _fails(scene.verify())


@pytest.mark.parametrize("claims_the_published_key", [False, True])
def test_a_checkpoint_forged_with_another_key_is_refused(
    scene: Scene, tmp_path: Path, claims_the_published_key: bool
) -> None:
    """The attacker rewrites the chain and signs its new head with a key of their own,
    under their key's id or claiming the published key's."""
    db = scene.db()
    rewrite_and_rehash(db, _first(db, "IDR_NO_MATCH"))
    with db.sessions() as session:
        seq, digest = head(session)
    db.dispose()
    own = load_private_key(generate_keys(tmp_path / "attacker")[0])
    forged = sign(own, seq=seq, entry_hash=digest, state="closed", writer="attacker")
    lines = scene.log.read_text().splitlines()
    if claims_the_published_key:
        published = json.loads(lines[-1])["key_id"]
        unsigned = dataclasses.replace(forged, key_id=published, signature="")
        signature = base64.b64encode(own.sign(unsigned.signed_bytes())).decode()
        forged = dataclasses.replace(unsigned, signature=signature)
    scene.log.write_text("\n".join([*lines, forged.line()]) + "\n")
    line = _fails(scene.verify())
    assert f"checkpoint line {len(lines) + 1} (entry {seq})" in line
    assert ("signature" if claims_the_published_key else "names key") in line


def test_the_application_cannot_update_or_delete_an_audit_row(scene: Scene) -> None:
    db = scene.db()
    for statement in (
        "UPDATE audit_log SET name = 'IDR_MATCH' WHERE seq = 5",
        "DELETE FROM audit_log WHERE seq = 5",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    db.dispose()
    assert scene.verify().exit_code == 0


# --- the state the flow acts on -----------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.handled: list[str] = []

    def handle(self, message: Any, uow: Any) -> None:
        self.handled.append(message.message_id)


def test_a_pending_iar_whose_level_was_changed_is_refused_and_raises_an_alarm(
    scene: Scene,
) -> None:
    """The issue's case: an IAR's level changed in the outbox while a run was stopped."""
    db = scene.db()
    with db.sessions() as session, session.begin():
        row = session.scalars(select(OutboxRow).where(OutboxRow.type == "IAR")).first()
        assert row is not None, "the run has no IAR"
        payload = json.loads(row.payload)
        assert "level" in payload
        payload["level"] = 3 if payload["level"] != 3 else 1
        row.payload = json.dumps(payload)
        row.status, row.attempts = "pending", 0
        seq, message_id = row.seq, row.message_id
        when = row.available_at
    recorder = Recorder()
    dispatcher = Dispatcher(
        db, ScenarioClock(when + timedelta(days=1)), dict.fromkeys(Actor, recorder)
    )
    dispatcher.deliver(seq)
    db.dispose()
    assert recorder.handled == []  # never reached the CJIS handler
    letters = scene.scomm("ops", "dead-letters").stdout
    assert f"outbox {seq}: payload differs from audit entry" in letters
    alarms = scene.scomm("ops", "alarms").stdout
    assert "OUTBOX_TAMPERED" in alarms and message_id in alarms


def test_a_deleted_and_a_rewritten_delivered_message_are_named(scene: Scene) -> None:
    db = scene.db()
    with db.sessions() as session, session.begin():
        rows = session.scalars(
            select(OutboxRow).where(OutboxRow.type == "IAR").order_by(OutboxRow.seq).limit(2)
        ).all()
        assert len(rows) == 2, "the run has fewer than two IARs"
        gone, changed = rows
        deleted_id, changed_seq = gone.message_id, changed.seq
        payload = json.loads(changed.payload)
        payload["level"] = 3 if payload["level"] != 3 else 1
        changed.payload = json.dumps(payload)
        session.delete(gone)
    db.dispose()
    reconciled = scene.scomm("audit", "reconcile")
    assert reconciled.exit_code == 1
    assert f"outbox {deleted_id}: missing row" in reconciled.stdout
    assert f"outbox {changed_seq}: payload is" in reconciled.stdout


def _activated_oris(db: Database, at: datetime) -> list[str]:
    with UnitOfWork(db, ScenarioClock(at)) as uow:
        oris = [
            o for o in uow.jurisdictions.oris() if switch_on(uow, o, Switch.B_FORWARD_TO_IDENT, at)
        ]
    return oris


def _run_end(db: Database) -> datetime:
    with db.sessions() as session:
        last = session.scalar(select(AuditEntryRow.recorded_at).order_by(AuditEntryRow.seq.desc()))
    assert last is not None
    return last


def test_switch_b_turned_off_without_an_audit_entry_is_ignored_and_named(scene: Scene) -> None:
    """The issue's case: B off for six ORIs, by a party that does not own B, no audit entry."""
    db = scene.db()
    end = _run_end(db)
    activated = _activated_oris(db, end)
    assert activated, "no jurisdiction of the run is activated"
    with db.sessions() as session, session.begin():
        oris = list(session.scalars(select(JurisdictionRow.ori).order_by(JurisdictionRow.ori)))
        targets = (activated + oris)[:6]
        inserted = []
        for ori in targets:
            row = SwitchSettingRow(
                ori=ori, switch="B", enabled=False, effective_from=end - timedelta(days=1),
                effective_to=None, changed_by="state", reason="switched off", recorded_at=end,
            )  # fmt: skip
            session.add(row)
            session.flush()
            inserted.append(row.id)
    assert _activated_oris(db, end) == activated  # the flow does not honour them
    db.dispose()
    line = _fails(scene.scomm("audit", "reconcile"))
    assert f"{len(set(inserted))} disagreement" in line
    reconciled = scene.scomm("audit", "reconcile").stdout
    for setting_id in inserted:
        assert f"switch_settings {setting_id}: extra row" in reconciled
    shown = scene.scomm("switches", "show").output
    for setting_id in inserted:
        assert f"switch setting {setting_id} " in shown and "not honoured" in shown


def test_a_flipped_switch_value_is_ignored_and_named(scene: Scene) -> None:
    db = scene.db()
    end = _run_end(db)
    with db.sessions() as session, session.begin():
        row = session.scalars(
            select(SwitchSettingRow)
            .where(SwitchSettingRow.switch == "B")
            .order_by(SwitchSettingRow.id)
        ).first()
        assert row is not None, "the run set no switch B"
        ori, setting_id = row.ori, row.id
        before = ori in _activated_oris(db, end)
        row.enabled = not row.enabled
    assert (ori in _activated_oris(db, end)) == before  # the flow still acts on the audited
    db.dispose()
    reconciled = scene.scomm("audit", "reconcile")
    assert reconciled.exit_code == 1
    assert f"switch_settings {setting_id}: enabled" in reconciled.stdout


def test_a_deleted_switch_row_changes_nothing_and_is_named(scene: Scene) -> None:
    db = scene.db()
    end = _run_end(db)
    before = _activated_oris(db, end)
    with db.sessions() as session, session.begin():
        row = session.scalars(
            select(SwitchSettingRow)
            .where(SwitchSettingRow.switch == "B", SwitchSettingRow.enabled.is_(True))
            .order_by(SwitchSettingRow.id)
        ).first()
        assert row is not None, "the run activated no jurisdiction"
        setting_id = row.id
        session.delete(row)
    assert _activated_oris(db, end) == before
    db.dispose()
    reconciled = scene.scomm("audit", "reconcile")
    assert reconciled.exit_code == 1
    assert f"switch_settings {setting_id}: missing row" in reconciled.stdout


def test_a_changed_case_a_deleted_case_and_a_changed_detainer_are_named(scene: Scene) -> None:
    db = scene.db()
    with db.sessions() as session, session.begin():
        levelled = session.scalars(
            select(CaseRow).where(CaseRow.level.is_not(None)).order_by(CaseRow.case_id)
        ).first()
        assert levelled is not None, "the run gave no case a level"
        levelled.level = 3 if levelled.level != 3 else 1
        changed = levelled.case_id
        gone = session.scalars(
            select(CaseRow).where(CaseRow.case_id != changed).order_by(CaseRow.case_id)
        ).first()
        assert gone is not None
        deleted = gone.case_id
        session.delete(gone)
        detainer = session.scalars(select(DetainerRow).order_by(DetainerRow.detainer_id)).first()
        assert detainer is not None, "the run lodged no detainer"
        detainer.status = "withdrawn" if detainer.status != "withdrawn" else "honoured"
        detainer_id = detainer.detainer_id
    db.dispose()
    reconciled = scene.scomm("audit", "reconcile")
    assert reconciled.exit_code == 1
    out = reconciled.stdout
    assert f"cases {changed}: level is" in out
    assert f"cases {deleted}: missing row" in out
    assert f"detainers {detainer_id}: status is" in out


@pytest.mark.parametrize("signed_run", ["sqlite"], indirect=True)  # snapshots: SQLite only
def test_two_ids_swapped_in_a_gallery_snapshot_are_caught_on_the_next_start(
    scene: Scene,
) -> None:
    assert scene.url.startswith("sqlite")
    folder = snapshot_folder(scene.url)
    assert folder is not None
    swapped = next(p for p in sorted(folder.glob("*/ids.npy")) if len(np.load(p)) >= 2)
    ids = np.load(swapped)
    ids[[0, 1]] = ids[[1, 0]]
    np.save(swapped, ids)
    from scomm.system import System  # a start: what loads the snapshots

    system = System(
        Settings(database_url=scene.url, engine=DEMO_ENGINE),
        ScenarioClock(datetime(2012, 1, 1)),
    )
    system.close()
    alarms = scene.scomm("ops", "alarms").stdout
    assert "GALLERY_SNAPSHOT_MISMATCH" in alarms and swapped.parent.name in alarms
    assert scene.scomm("audit", "verify").exit_code == 0
