"""`scomm agencies`: add and rotate print the secret once, list never does, a locked client
is released by an operator."""

from __future__ import annotations

from datetime import datetime

from typer.testing import CliRunner

from scomm.cli import app
from scomm.services import agencies
from scomm.store.db import Database

runner = CliRunner()


def test_add_list_rotate_release_revoke(database_url: str) -> None:
    Database(database_url).migrate()
    added = runner.invoke(
        app,
        ["agencies", "add", "-d", database_url, "--kind", "jail", "--ori", "ca0010000", "--serve"],
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert "jail-ca0010000" in added.output and len(secret) >= 40
    db = Database(database_url)
    now = datetime(2026, 12, 7, 10)
    assert agencies.authenticate(db, now, "jail-ca0010000", secret, "cli-test").ori == "CA0010000"
    listed = runner.invoke(app, ["agencies", "list", "-d", database_url])
    assert listed.exit_code == 0 and "jail-ca0010000" in listed.output
    assert secret not in listed.output and "active" in listed.output
    rotated = runner.invoke(app, ["agencies", "rotate", "jail-ca0010000", "-d", database_url])
    assert rotated.exit_code == 0 and rotated.output.strip().splitlines()[-1] != secret
    for _ in range(5):
        try:
            agencies.authenticate(db, now, "jail-ca0010000", secret, "cli-test")
        except agencies.AuthenticationFailed:
            pass
    assert "locked" in runner.invoke(app, ["agencies", "list", "-d", database_url]).output
    released = runner.invoke(app, ["agencies", "release", "jail-ca0010000", "-d", database_url])
    assert released.exit_code == 0, released.output
    assert "active" in runner.invoke(app, ["agencies", "list", "-d", database_url]).output
    revoked = runner.invoke(app, ["agencies", "revoke", "jail-ca0010000", "-d", database_url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    db.dispose()


def test_bad_input_is_one_line_and_exit_2(database_url: str) -> None:
    Database(database_url).migrate()
    missing = runner.invoke(app, ["agencies", "add", "-d", database_url, "--kind", "jail"])
    assert missing.exit_code == 2 and "needs its --ori" in missing.output
    unknown = runner.invoke(app, ["agencies", "revoke", "nobody", "-d", database_url])
    assert unknown.exit_code == 2 and "no agency" in unknown.output
    assert "Traceback" not in missing.output + unknown.output


def test_an_ero_office_is_added_by_its_area_and_an_unknown_area_is_refused(
    database_url: str,
) -> None:
    Database(database_url).migrate()
    unknown = runner.invoke(
        app, ["agencies", "add", "-d", database_url, "--kind", "ero", "--area", "xyz"]
    )
    assert unknown.exit_code == 2 and "no ERO field office" in unknown.output
    assert "Traceback" not in unknown.output and len(unknown.output.strip().splitlines()) == 1
    added = runner.invoke(
        app, ["agencies", "add", "-d", database_url, "--kind", "ero", "--area", "slc"]
    )
    assert added.exit_code == 0, added.output
    assert "ero-slc" in added.output and "scomm.decision.write" in added.output
