"""A switch setting written by an older scomm with a zoned date: its audit entry kept the
offset, its row the wall time without it. The flow acts on the entry, read as naive UTC
(`audited_change`); every check compares the same way, so such a row is named as differing
(effective_from) by `scomm audit reconcile` and by the refusal check of `switches show`,
not reported as agreeing while the flow acts at another moment than the row shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from small_flow import ORI, START, run_small_flow

from scomm.audit.chain import append
from scomm.audit.reconcile import reconcile_database
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import ScenarioClock
from scomm.services.switches import refused_settings, switch_history
from scomm.store.db import Database
from scomm.store.models import SwitchSettingRow

PACIFIC = timezone(timedelta(hours=-7))
WALL = datetime(2011, 6, 2, 9)  # 09:00 in California: 16:00 UTC


@pytest.fixture(scope="module")
def flowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "flow.db"
    run_small_flow(f"sqlite:///{path}")
    return path


@pytest.fixture
def db(flowed: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "scomm.db"
    shutil.copyfile(flowed, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def older_setting(db: Database, stored_from: datetime) -> tuple[int, int]:
    """Switch B off for the county from 09:00 California time, as an older scomm recorded
    it: the entry keeps the offset, the row keeps `stored_from`. Returns (row id, entry seq)."""
    with db.sessions() as session, session.begin():
        row = SwitchSettingRow(
            ori=ORI, switch="B", enabled=False, effective_from=stored_from, effective_to=None,
            changed_by="federal", reason="older", recorded_at=START,
        )  # fmt: skip
        session.add(row)
        session.flush()
        entry = append(
            session,
            recorded_at=START,
            kind="switch",
            name="SWITCH_B",
            actor="federal",
            case_id="",
            payload={
                "setting_id": row.id,
                "ori": ORI,
                "enabled": False,
                "effective_from": WALL.replace(tzinfo=PACIFIC).isoformat(),
                "effective_to": None,
                "reason": "older",
            },
        )
        row.audit_seq = entry.seq
        return row.id, entry.seq


def test_a_row_that_kept_the_wall_time_of_a_zoned_entry_differs_everywhere(db: Database) -> None:
    setting_id, seq = older_setting(db, stored_from=WALL)
    with UnitOfWork(db, ScenarioClock(START)) as uow:
        acted = [c for c in switch_history(uow, ORI) if c.setting_id == setting_id]
        (refused,) = refused_settings(uow, ORI)
    assert acted[0].setting.effective_from == datetime(2011, 6, 2, 16)  # what the flow uses
    assert refused.setting_id == setting_id
    assert refused.problem == f"effective_from differs from audit entry {seq}"
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    assert [d.describe() for d in result.disagreements] == [
        f"switch_settings {setting_id}: effective_from is 2011-06-02T09:00:00, "
        "the audit log says 2011-06-02T09:00:00-07:00"
    ]


def test_a_row_that_kept_the_same_moment_in_utc_agrees_everywhere(db: Database) -> None:
    older_setting(db, stored_from=datetime(2011, 6, 2, 16))
    with UnitOfWork(db, ScenarioClock(START)) as uow:
        assert refused_settings(uow, ORI) == []
    verification, result = reconcile_database(db)
    assert verification.ok and result is not None
    assert result.disagreements == []
