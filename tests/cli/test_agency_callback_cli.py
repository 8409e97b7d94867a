"""`scomm agencies callback`: an operator allows an agency its callback hosts (and the URL);
the signing secret is printed once, the first time and on --new-secret; bad input is one
line and exit 2."""

from __future__ import annotations

from datetime import datetime

from typer.testing import CliRunner

from scomm.cli import app
from scomm.domain.agencies import AgencyKind
from scomm.services import agencies, callbacks
from scomm.store.db import Database

runner = CliRunner()


def test_callback_allows_hosts_sets_the_url_and_prints_the_secret_once(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    agencies.add_agency(
        db, datetime(2026, 12, 7, 10), client_id="jail-a", kind=AgencyKind.JAIL, name="A",
        scope_value="CA0010000", serve=True,
    )  # fmt: skip
    base = ["agencies", "callback", "jail-a", "-d", database_url]
    first = runner.invoke(
        app, [*base, "--allow-host", "hooks.example", "--allow-private", "127.0.0.1",
              "--url", "https://hooks.example/scomm"],
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    secret = first.output.strip().splitlines()[-1]
    registered = callbacks.registration(db, "jail-a")
    assert registered is not None and registered.secret == secret
    assert registered.url == "https://hooks.example/scomm"
    assert registered.private_hosts == ("127.0.0.1",)
    assert set(registered.allowed_hosts) == {"hooks.example", "127.0.0.1"}
    again = runner.invoke(app, [*base, "--allow-host", "hooks.example"])
    assert again.exit_code == 0 and secret not in again.output and "shown once" not in again.output
    rotated = runner.invoke(app, [*base, "--allow-host", "hooks.example", "--new-secret"])
    assert rotated.exit_code == 0 and rotated.output.strip().splitlines()[-1] != secret
    db.dispose()


def test_bad_callback_input_is_one_line_and_exit_2(database_url: str) -> None:
    Database(database_url).migrate()
    for args in (
        ["nobody", "--allow-host", "hooks.example"],  # no such agency
        ["nobody"],  # no host
        ["nobody", "--allow-host", "hooks.example", "--url", "x", "--clear-url"],
    ):
        result = runner.invoke(app, ["agencies", "callback", *args, "-d", database_url])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
