"""The audit log rebuilds switch settings, cases and detainers: after a real flow every row
agrees with it, and each row changed, added or removed behind the flow's back is named
(`scomm.audit.reconcile`, `scomm audit reconcile`); the flow itself does not honour a
switch setting the audit log does not record as it stands."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from small_flow import ORI, START, run_small_flow, small_flow_on_postgresql
from sqlalchemy import func, select, text
from tampering import raw, tampering
from typer.testing import CliRunner

from scomm.audit.reconcile import Disagreement, compare, rebuild, reconcile_database
from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.domain.clock import ScenarioClock
from scomm.domain.switches import Switch
from scomm.services.switches import refused_settings, switch_on
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, CaseRow, DetainerRow, SwitchSettingRow

runner = CliRunner()
POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def flowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "flow.db"
    run_small_flow(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_db(flowed: Path, tmp_path: Path) -> Iterator[Database]:
    """A copy of the flowed SQLite database, for one test to tamper with."""
    path = tmp_path / "scomm.db"
    shutil.copyfile(flowed, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """The flowed database on SQLite (a copy) and, where CI provides one, PostgreSQL (the
    flow copied from a template database)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_db")
        return
    if not POSTGRES:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    with small_flow_on_postgresql(POSTGRES) as url:
        database = Database(url)
        yield database
        database.dispose()


def disagreements(db: Database) -> list[Disagreement]:
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    return result.disagreements


def lines(db: Database) -> list[str]:
    return [d.describe() for d in disagreements(db)]


def flow_reads(db: Database, switch: Switch) -> bool:
    """What the flow's `switch_on` answers for the county the day after the flow started."""
    with UnitOfWork(db, ScenarioClock(START)) as uow:
        return switch_on(uow, ORI, switch, START + timedelta(days=1))


def test_after_a_real_flow_every_row_agrees(db: Database) -> None:
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    assert result.disagreements == [] and result.unchecked == {}
    # 57 messages: the two transfers each end in ICE's removal timer (REMOVAL_DUE)
    assert result.rows == {
        "switch_settings": 2, "cases": 3, "detainers": 3, "outbox": 57, "processed_messages": 57
    }  # fmt: skip
    with db.sessions() as session:  # the flow reached every kind of detainer end
        statuses = sorted(session.scalars(select(DetainerRow.status)))
    assert statuses == ["transferred", "transferred", "withdrawn"]
    assert flow_reads(db, Switch.B_FORWARD_TO_IDENT) is True


def test_a_switch_row_inserted_without_an_audit_entry_is_named_and_not_honoured(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # B off for the county, by a party that does not own B, with no audit entry
    with db.sessions() as session:
        session.add(
            SwitchSettingRow(
                ori=ORI,
                switch="B",
                enabled=False,
                effective_from=START - timedelta(days=1),
                effective_to=None,
                changed_by="jurisdiction",
                reason="opt out",
                recorded_at=START,
            )
        )
        session.commit()
        inserted = session.scalars(select(func.max(SwitchSettingRow.id))).one()
    assert lines(db) == [f"switch_settings {inserted}: extra row (no audit entry records it)"]
    assert flow_reads(db, Switch.B_FORWARD_TO_IDENT) is True  # still activated
    with caplog.at_level(logging.ERROR), UnitOfWork(db, ScenarioClock(START)) as uow:
        (refused,) = refused_settings(uow, ORI)  # what `switches show` warns of
    assert refused.setting_id == inserted and refused.problem == "no audit entry records it"
    assert f"switch setting {inserted} ({ORI} B off) is not honoured" in caplog.text


def test_a_row_that_borrows_another_settings_entry_is_not_honoured(db: Database) -> None:
    with db.sessions() as session:
        b_entry = session.scalars(
            select(AuditEntryRow.seq).where(AuditEntryRow.name == "SWITCH_B")
        ).one()
        session.add(
            SwitchSettingRow(
                ori=ORI,
                switch="B",
                enabled=False,
                effective_from=START,
                effective_to=None,
                changed_by="federal",
                reason="test",
                recorded_at=START,
                audit_seq=b_entry,
            )
        )
        session.commit()
    assert flow_reads(db, Switch.B_FORWARD_TO_IDENT) is True
    with UnitOfWork(db, ScenarioClock(START)) as uow:
        (refused,) = refused_settings(uow)
    assert refused.problem == f"audit entry {b_entry} records another setting"


def test_a_switch_row_whose_value_was_changed_is_named_and_not_honoured(db: Database) -> None:
    with db.sessions() as session:
        c_row = session.scalars(
            select(SwitchSettingRow).where(SwitchSettingRow.switch == "C")
        ).one()
        c_id, c_seq = c_row.id, c_row.audit_seq
        session.execute(text("UPDATE switch_settings SET enabled = false WHERE switch = 'C'"))
        session.commit()
    assert lines(db) == [f"switch_settings {c_id}: enabled is False, the audit log says True"]
    assert flow_reads(db, Switch.C_RESULTS_TO_JAIL) is True  # the "off" is not acted on
    with UnitOfWork(db, ScenarioClock(START)) as uow:
        (refused,) = refused_settings(uow)
    assert refused.problem == f"enabled differs from audit entry {c_seq}"


def test_a_detainers_changed_status_is_named(db: Database) -> None:
    with db.sessions() as session:
        detainer = session.scalars(
            select(DetainerRow.detainer_id).where(DetainerRow.status == "withdrawn")
        ).one()
        session.execute(
            text("UPDATE detainers SET status = 'honoured' WHERE detainer_id = :d"), {"d": detainer}
        )
        session.commit()
    assert lines(db) == [
        f"detainers {detainer}: status is 'honoured', the audit log says 'withdrawn'"
    ]


def test_a_cases_changed_level_is_named(db: Database) -> None:
    with db.sessions() as session:
        case_id, level = session.execute(
            select(CaseRow.case_id, CaseRow.level).order_by(CaseRow.case_id).limit(1)
        ).one()
        session.execute(
            text("UPDATE cases SET level = :l WHERE case_id = :c"), {"l": level + 2, "c": case_id}
        )
        session.commit()
    assert lines(db) == [f"cases {case_id}: level is {level + 2}, the audit log says {level}"]


def test_a_deleted_case_row_is_named_with_the_entry_that_opened_it(db: Database) -> None:
    with db.sessions() as session:
        case_id = session.scalars(select(CaseRow.case_id).order_by(CaseRow.case_id)).first()
        opened = session.scalars(
            select(AuditEntryRow.seq).where(
                AuditEntryRow.kind == "booking", AuditEntryRow.case_id == case_id
            )
        ).one()
        session.execute(text("DELETE FROM cases WHERE case_id = :c"), {"c": case_id})
        session.commit()
    assert lines(db) == [f"cases {case_id}: missing row (audit entry {opened} records it)"]


def test_the_command_says_all_agree_then_names_each_row_and_exits_1(db: Database) -> None:
    ok = runner.invoke(app, ["audit", "reconcile", "--database", db.url])
    assert ok.exit_code == 0, ok.output
    assert "all rows agree with the audit log: 2 switch_settings, 3 cases, 3 detainers" in (
        " ".join(ok.stdout.split())
    )
    with db.sessions() as session:
        case_id = session.scalars(select(CaseRow.case_id).order_by(CaseRow.case_id)).first()
        session.execute(
            text("UPDATE cases SET custody = 'released' WHERE case_id = :c"), {"c": case_id}
        )
        session.execute(text("UPDATE switch_settings SET reason = '[/bold] x' WHERE switch = 'B'"))
        session.commit()
    bad = runner.invoke(app, ["audit", "reconcile", "--database", db.url])
    assert bad.exit_code == 1
    out = bad.stdout.splitlines()
    assert f"cases {case_id}: custody is 'released', the audit log says 'transferred_to_ice'" in out
    assert "switch_settings 1: reason is '[/bold] x', the audit log says 'test'" in out
    (error,) = bad.stderr.strip().splitlines()
    assert "2 disagreement(s) with the audit log" in error


def test_reconcile_refuses_a_broken_chain(sqlite_db: Database) -> None:
    with tampering(sqlite_db) as session:
        raw(session, "UPDATE audit_log SET payload = '{}' WHERE seq = 5")
    result = runner.invoke(app, ["audit", "reconcile", "--database", sqlite_db.url])
    assert result.exit_code == 1
    assert "audit chain broken at entry 5" in result.stderr


def entry(seq: int, kind: str, name: str, payload: dict[str, object]) -> AuditEntryRow:
    return AuditEntryRow(
        seq=seq,
        recorded_at=START,
        kind=kind,
        name=name,
        actor="cjis",
        case_id="case-1",
        payload=json.dumps(payload),
    )


def test_fields_an_older_log_did_not_record_are_unchecked_never_agreeing() -> None:
    older = [
        entry(1, "booking", "BOOKED", {"tcn": "T-1", "ori": ORI}),
        entry(2, "case_state", "criminal_searched", {"from": "booked", "to": "criminal_searched"}),
    ]
    case = {
        "tcn": "T-1", "ori": ORI, "state": "criminal_searched", "custody": "in_custody",
        "opened_at": START, "updated_at": START, "fbi_number": "FBI-9", "ident_id": None,
        "level": None, "rule_set": None, "removability": None, "notify_on_release": False,
    }  # fmt: skip
    tables = {"switch_settings": {}, "cases": {"case-1": case}, "detainers": {}}
    result = compare(rebuild(older), tables)
    assert result.ok and result.unchecked == {"cases.fbi_number": 1}
    assert result.first_unrecorded == 2
    newer = [*older[:1], entry(2, "case_state", "criminal_searched", {
        "from": "booked", "to": "criminal_searched", "noted": {"fbi_number": "FBI-1"},
    })]  # fmt: skip
    (wrong,) = compare(rebuild(newer), tables).disagreements
    assert wrong.describe() == "cases case-1: fbi_number is 'FBI-9', the audit log says 'FBI-1'"
