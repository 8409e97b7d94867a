"""Commands that read write nothing: no migration, no signed checkpoint; a schema older than
this scomm's is one line asking for `scomm db upgrade`. `scomm report` says when its counts
are not anchored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from scomm.cli import app
from scomm.store.db import Database, alembic_config

runner = CliRunner()
ORI = "CA0010000"  # conftest.COUNTY_ORI
READS = [
    ["switches", "show"],
    ["switches", "show", "--ori", ORI, "--at", "2011-07-01"],
    ["ops", "dead-letters"],
    ["ops", "alarms"],
    ["report"],
    ["audit", "verify"],
    ["audit", "reconcile"],
]
NOT_ANCHORED = (
    "not anchored: no checkpoint log configured (SCOMM_CHECKPOINT_LOG); "
    "the counts rest on the unanchored chain"
)
UNSET = {
    "SCOMM_AUDIT_KEY": None,
    "SCOMM_AUDIT_PUBLIC_KEY": None,
    "SCOMM_CHECKPOINT_LOG": None,
    "SCOMM_CHECKPOINT_HOOK": None,
    "SCOMM_CHECKPOINT_EVERY": None,
    "SCOMM_DATABASE_URL": None,
}


def invoke(args: list[str], **env: str | None) -> Result:
    result = runner.invoke(app, args, env={**UNSET, "COLUMNS": "240", **env})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def signing(tmp_path: Path) -> dict[str, str | None]:
    """The environment of a machine with a signing key and a checkpoint log configured."""
    made = invoke(["audit", "keygen", "--out", str(tmp_path / "keys")])
    assert made.exit_code == 0, made.output
    return {
        "SCOMM_AUDIT_KEY": str(tmp_path / "keys" / "audit-signing-key.pem"),
        "SCOMM_CHECKPOINT_LOG": str(tmp_path / "checkpoints.jsonl"),
    }


def revision(url: str) -> str:
    db = Database(url)
    with db.engine.connect() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.dispose()
    return str(found)


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_command_signs_nothing(
    args: list[str], county_db: str, signing: dict[str, str | None]
) -> None:
    changed = invoke(
        ["switches", "set", "--ori", ORI, "--switch", "C", "--off", "--effective",
         "2011-06-01", "--by", "jurisdiction", "--reason", "vote", "-d", county_db],
        **signing,
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    log = Path(str(signing["SCOMM_CHECKPOINT_LOG"]))
    signed = log.read_text()
    assert [json.loads(line)["state"] for line in signed.splitlines()] == ["open", "closed"]
    head = revision(county_db)
    done = invoke([*args, "-d", county_db], **signing)
    assert done.exit_code == 0, done.output
    assert log.read_text() == signed  # no "open" and "closed" checkpoint around a read
    assert revision(county_db) == head


def older_database(url: str, at: str) -> None:
    """A scomm database left at revision `at` by an older scomm."""
    db = Database(url)
    with db.engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, at)
    db.dispose()


@pytest.mark.parametrize(
    ("at", "args"),
    [("0005", args) for args in READS] + [("0003", ["ops", "alarms"]), ("0003", ["report"])],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_read_on_an_older_schema_asks_for_an_upgrade_and_changes_nothing(
    args: list[str], at: str, database_url: str, signing: dict[str, str | None]
) -> None:
    older_database(database_url, at)
    log = Path(str(signing["SCOMM_CHECKPOINT_LOG"]))
    log.write_text("")  # configured, and nothing signed into it yet
    done = invoke([*args, "-d", database_url], **signing)
    assert done.exit_code == 2, done.output
    assert done.stderr.strip().splitlines() == [
        "error: database schema is older than this scomm: run `scomm db upgrade`"
    ]
    assert revision(database_url) == at  # not migrated
    assert log.read_text() == ""  # nothing signed
    upgraded = invoke(["db", "upgrade", "-d", database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert invoke([*args, "-d", database_url]).exit_code == 0


def test_a_schema_newer_than_this_scomm_is_one_line(database_url: str) -> None:
    older_database(database_url, "head")
    db = Database(database_url)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    db.dispose()
    done = invoke(["switches", "show", "-d", database_url])
    assert done.exit_code == 2, done.output
    (line,) = done.stderr.strip().splitlines()
    assert "revision 0099_future" in line and "newer than this scomm knows" in line


def test_report_without_a_checkpoint_log_says_its_counts_are_not_anchored(
    county_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    done = invoke(["report", "-d", county_db, "--json", str(out)])
    assert done.exit_code == 0, done.output
    assert NOT_ANCHORED in done.stdout.splitlines()
    published = json.loads(out.read_text())
    assert "anchor" in published and published["anchor"] is None


def test_report_with_a_checkpoint_log_does_not_say_it(
    county_db: str, signing: dict[str, str | None], tmp_path: Path
) -> None:
    signed = invoke(["audit", "checkpoint", "-d", county_db], **signing)
    assert signed.exit_code == 0, signed.output
    out = tmp_path / "report.json"
    done = invoke(["report", "-d", county_db, "--json", str(out)], **signing)
    assert done.exit_code == 0, done.output
    assert "not anchored" not in done.stdout and "anchored: the chain extends" in done.stdout
    assert json.loads(out.read_text())["anchor"]["checkpoint"]["seq"] == 0
