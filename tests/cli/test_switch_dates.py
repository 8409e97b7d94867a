"""Dates with zones in `scomm switches`: the database keeps naive UTC, so a date with an
offset is converted to UTC, and the stored row and its audit entry hold the same moment.

A date without an offset is UTC already (the database's clock, or a simulation's scenario
time); no local zone is guessed, so a daylight-saving change makes no input ambiguous: a
date either names its offset or has none.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.domain.clock import SystemClock
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.services.switches import set_switch
from scomm.sim.synth.scenario import ScenarioError, parse_scenario
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, SwitchSettingRow

runner = CliRunner()
ORI = "CA0010000"  # the county_db fixture's one jurisdiction (conftest)


def set_switch_c(database: str, *dates: str) -> tuple[int, str, str]:
    """`scomm switches set` of switch C with `dates` (--effective [--until]): exit code,
    stdout, stderr."""
    args = ["switches", "set", "-d", database, "--ori", ORI, "--switch", "C", "--off"]
    args += ["--effective", dates[0], *(["--until", dates[1]] if len(dates) > 1 else [])]
    result = runner.invoke(app, [*args, "--by", "jurisdiction", "--reason", "vote"])
    return result.exit_code, result.stdout, result.stderr


def stored(database: str) -> list[tuple[SwitchSettingRow, dict[str, object]]]:
    """Each switch row with the payload of the audit entry that records it."""
    db = Database(database)
    with db.sessions() as session:
        rows = list(session.scalars(select(SwitchSettingRow).order_by(SwitchSettingRow.id)))
        entries = session.scalars(select(AuditEntryRow).where(AuditEntryRow.kind == "switch"))
        payloads = {p["setting_id"]: p for p in (json.loads(e.payload) for e in entries)}
        session.expunge_all()
    db.dispose()
    return [(row, payloads[row.id]) for row in rows]


def test_an_offset_is_converted_to_utc_in_the_row_and_the_audit_alike(county_db: str) -> None:
    code, out, err = set_switch_c(county_db, "2011-06-01T00:00+02:00", "2011-07-01T00:00-05:00")
    assert code == 0, err
    [(row, payload)] = stored(county_db)
    assert row.effective_from == datetime(2011, 5, 31, 22, 0)
    assert row.effective_to == datetime(2011, 7, 1, 5, 0)
    assert payload["effective_from"] == row.effective_from.isoformat() == "2011-05-31T22:00:00"
    assert payload["effective_to"] == row.effective_to.isoformat()
    assert "from 2011-05-31 22:00 UTC until 2011-07-01 05:00 UTC" in " ".join(out.split())


@pytest.mark.parametrize("utc", ["2011-06-01T00:00Z", "2011-06-01T00:00+00:00", "2011-06-01"])
def test_utc_written_any_way_is_the_same_moment(county_db: str, utc: str) -> None:
    assert set_switch_c(county_db, utc)[0] == 0
    [(row, payload)] = stored(county_db)
    assert row.effective_from == datetime(2011, 6, 1)
    assert payload["effective_from"] == "2011-06-01T00:00:00"


def test_mixed_zones_are_compared_as_one_moment(county_db: str) -> None:
    # from 00:00 UTC until 01:00+02:00, which is 23:00 UTC the day before: it ends first
    code, _, err = set_switch_c(county_db, "2011-06-01T00:00", "2011-06-01T01:00+02:00")
    assert code == 2 and "must end after it starts" in err
    # naive from, zoned until an hour later in UTC: accepted, both in UTC
    code, _, err = set_switch_c(county_db, "2011-06-01T00:00", "2011-06-01T03:00+02:00")
    assert code == 0, err
    [(row, payload)] = stored(county_db)
    assert (row.effective_from, row.effective_to) == (datetime(2011, 6, 1), datetime(2011, 6, 1, 1))
    assert payload["effective_to"] == "2011-06-01T01:00:00"


@pytest.mark.parametrize("edge", ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00"])
def test_a_moment_outside_the_calendar_in_utc_is_one_line(county_db: str, edge: str) -> None:
    code, _, err = set_switch_c(county_db, edge)
    assert code == 2
    assert err.strip().splitlines() == [f"error: --effective {edge!r} lies outside the years "
                                        "1-9999 in UTC"]  # fmt: skip
    shown = runner.invoke(app, ["switches", "show", "-d", county_db, "--at", edge])
    assert shown.exit_code == 2 and "outside the years" in shown.stderr
    assert stored(county_db) == []


def test_show_at_a_zoned_moment_says_which_utc_moment_it_shows(county_db: str) -> None:
    assert set_switch_c(county_db, "2011-06-01T00:00+02:00")[0] == 0
    before = runner.invoke(
        app, ["switches", "show", "-d", county_db, "--at", "2011-06-01T01:59+02:00"]
    )
    after = runner.invoke(
        app, ["switches", "show", "-d", county_db, "--at", "2011-06-01T02:00+02:00"]
    )
    assert "switches in force at 2011-05-31 23:59 UTC" in before.stdout
    assert "switches in force at 2011-06-01 00:00 UTC" in after.stdout
    # the setting took effect at 22:00 UTC on the 31st: off (C) in force in both
    assert "2011-05-31 22:00" in after.stdout  # the history shows the time, not a bare date


def test_the_service_refuses_a_zoned_setting_rather_than_drop_its_zone(county_db: str) -> None:
    from datetime import UTC

    db = Database(county_db)
    zoned = SwitchSetting(
        ORI, Switch.C_RESULTS_TO_JAIL, False, datetime(2011, 6, 1, tzinfo=UTC),
        SwitchOwner.STATE, "vote",
    )  # fmt: skip
    with UnitOfWork(db, SystemClock()) as uow, pytest.raises(ValueError, match="naive UTC"):
        set_switch(uow, zoned)
    db.dispose()
    assert stored(county_db) == []


SCENARIO = """
schema: 1
scenario: tiny
bookings: 10
window: {start: 2010-01-01, end: 2010-07-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - {ori: TX0010000, name: One County, share: 1.0, activation: ACTIVATION}
population:
  citizenship_paths:
    native_citizen: {share: 0.5}
    overstay: {share: 0.5, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 1.0}
"""


def test_a_scenario_file_refuses_a_zoned_date() -> None:
    assert parse_scenario(SCENARIO.replace("ACTIVATION", "2009-01-01T00:00:00"), "ok")
    with pytest.raises(ScenarioError, match="without a time zone"):
        parse_scenario(SCENARIO.replace("ACTIVATION", "2009-01-01T00:00:00+02:00"), "zoned")
