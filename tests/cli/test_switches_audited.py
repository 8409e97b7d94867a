"""`scomm switches show` honours, like the flow, only the settings the audit log records: a
row written straight into the table is left out of the switches in force and of the
history, and named in a warning line."""

from __future__ import annotations

from datetime import datetime

from typer.testing import CliRunner

from scomm.cli import app
from scomm.store.db import Database
from scomm.store.models import SwitchSettingRow

runner = CliRunner()
ORI = "CA0010000"  # the county of the county_db fixture (conftest)


def test_show_leaves_out_and_names_a_row_without_an_audit_entry(county_db: str) -> None:
    activated = runner.invoke(
        app,
        ["switches", "set", "--database", county_db, "--ori", ORI, "--switch", "B", "--on",
         "--effective", "2011-01-01", "--by", "federal", "--reason", "activation"],
    )  # fmt: skip
    assert activated.exit_code == 0, activated.output
    db = Database(county_db)
    with db.sessions() as session:  # B off, by a party that does not own B, not audited
        session.add(
            SwitchSettingRow(
                ori=ORI,
                switch="B",
                enabled=False,
                effective_from=datetime(2011, 3, 1),
                effective_to=None,
                changed_by="jurisdiction",
                reason="[/closing] opt out",
                recorded_at=datetime(2011, 3, 1),
            )
        )
        session.commit()
    db.dispose()
    shown = runner.invoke(
        app, ["switches", "show", "--database", county_db, "--ori", ORI, "--at", "2011-06-01"]
    )
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    in_force = next(line for line in lines if ORI in line)  # the first table: A-D in force
    assert [cell.strip() for cell in in_force.split("│")[2:6]] == ["on", "on", "on", "on"]
    assert not any("opt out" in line and "│" in line for line in lines)  # not in the history
    assert (
        "warning: switch setting 2 (CA0010000 B off from 2011-03-01 by jurisdiction) is not "
        "honoured: no audit entry records it"
    ) in lines
