"""CJIS AC-2: an account unused for 90 days is flagged. `scomm agencies list` marks it
"stale", `--stale` lists only those; a token issued resets the count, a revoked account is
disabled already and is not flagged."""

from __future__ import annotations

from datetime import datetime, timedelta

from typer.testing import CliRunner

from scomm.cli import app
from scomm.domain.agencies import STALE_AFTER, Agency, AgencyKind
from scomm.domain.clock import SystemClock
from scomm.services import agencies
from scomm.store.db import Database

runner = CliRunner()


def test_the_flag_counts_from_the_last_use_or_the_creation() -> None:
    made = datetime(2026, 1, 1)
    agency = Agency("jail-x", AgencyKind.JAIL, "X", "CA0010000", (), created_at=made)
    assert not agency.stale(made + STALE_AFTER - timedelta(seconds=1))
    assert agency.stale(made + STALE_AFTER)
    used = Agency("jail-x", AgencyKind.JAIL, "X", "CA0010000", (), made, made + timedelta(days=30))
    assert not used.stale(made + STALE_AFTER)
    revoked = Agency("jail-x", AgencyKind.JAIL, "X", "CA0010000", (), made, revoked_at=made)
    assert not revoked.stale(made + 2 * STALE_AFTER)


def test_list_flags_the_agencies_unused_for_90_days(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    now = SystemClock().now()
    long_ago = now - timedelta(days=91)
    old = agencies.add_agency(
        db, long_ago, client_id="auditor-old", kind=AgencyKind.AUDITOR, name=""
    )
    agencies.add_agency(db, long_ago, client_id="auditor-gone", kind=AgencyKind.AUDITOR, name="")
    agencies.revoke_agency(db, long_ago, "auditor-gone")
    agencies.add_agency(db, now, client_id="auditor-new", kind=AgencyKind.AUDITOR, name="")
    used = agencies.add_agency(
        db, long_ago, client_id="auditor-used", kind=AgencyKind.AUDITOR, name=""
    )
    agencies.authenticate(db, now - timedelta(days=1), "auditor-used", used.secret, "test")
    db.dispose()
    assert old.agency.client_id == "auditor-old"
    listed = runner.invoke(app, ["agencies", "list", "-d", database_url])
    assert listed.exit_code == 0, listed.output
    flagged = [line for line in listed.output.splitlines() if "stale" in line]
    assert len(flagged) == 1 and "auditor-old" in flagged[0]
    assert "active, stale (unused 90+ days)" in flagged[0]
    only = runner.invoke(app, ["agencies", "list", "--stale", "-d", database_url])
    assert only.exit_code == 0, only.output
    assert "1 agencies unused for 90 days or more" in only.output
    assert "auditor-old" in only.output
    assert not any(name in only.output for name in ("auditor-new", "auditor-used", "auditor-gone"))
