"""Every failure of the command line: one line on stderr, exit 2 (bad input) or 1 (a check
failed), never a traceback; no database created by reading; no password printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from scomm.bus.dead_letters import NothingToReplay
from scomm.cli import app
from scomm.cli.database import masked
from scomm.cli.errors import ErrorHandlingGroup, describe, mask_passwords
from scomm.errors import ScommError
from scomm.store.db import Database

runner = CliRunner()
ORI = "CA0010000"  # Alder County, the one jurisdiction of the county_db fixture (conftest)


def fails(args: list[str], code: int) -> str:
    """Run scomm with `args`; check it failed with `code` and one line of error; the line."""
    result: Result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- usage: options and values the parser refuses ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ops", "replay", "--bogus"],
        ["switches", "set", "--ori", ORI, "--switch", "E", "--on", "--effective", "2011-01-01",
         "--by", "state", "--reason", "x"],
        ["switches", "set", "--ori", ORI, "--switch", "A", "--on", "--effective", "2011-01-01",
         "--by", "the-mayor", "--reason", "x"],
        ["synth", "tenprint", "--compression", "JPEG"],
        ["synth", "tenprint", "--record-type", "7"],
        ["synth", "fingers", "--kind", "latent"],
        ["synth", "realism", "--extractor", "magic"],
        ["simulate", "--scenario", "demo", "--safeguards", "maybe"],
        ["ops", "run-world", "-d", "sqlite:///x.db", "--engine", "quantum"],
        ["synth", "fingers", "--count", "0"],
        ["synth", "tenprint", "--first", str(10**30)],
        ["bench", "search", "--identities", "1"],
    ],
    ids=lambda args: " ".join(args[:3]),
)  # fmt: skip
def test_a_bad_option_or_value_is_one_line_and_exit_2(args: list[str]) -> None:
    line = fails(args, 2)
    assert "--help" in line  # and it says where the help is


@pytest.mark.parametrize("seed", ["-1", str(2**32), str(10**30)])
def test_a_negative_or_huge_seed_is_refused_before_any_work(seed: str, tmp_path: Path) -> None:
    out = tmp_path / "fingers"
    assert "--seed" in fails(["synth", "fingers", "--seed", seed, "--out", str(out)], 2)
    url = f"sqlite:///{tmp_path / 'run.db'}"
    fails(["ops", "run-world", "-d", url, "--seed", seed], 2)
    assert not out.exists() and not (tmp_path / "run.db").exists()


# --- databases: bad URLs, missing files, passwords ---------------------------------------


@pytest.mark.parametrize(
    "url", ["not a url", "nosuchdialect://host/db", "postgresql+nosuchdriver://h/db"]
)
def test_a_bad_database_url_is_one_line_and_exit_2(url: str) -> None:
    assert "database URL" in fails(["audit", "verify", "--database", url], 2)


READ_COMMANDS = [
    ["audit", "verify"],
    ["report"],
    ["switches", "show"],
    ["ops", "dead-letters"],
    ["ops", "alarms"],
    ["ops", "replay", "--all"],
    ["switches", "set", "--ori", ORI, "--switch", "C", "--off", "--effective", "2011-06-01",
     "--by", "jurisdiction", "--reason", "vote"],
]  # fmt: skip


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_commands_on_a_missing_sqlite_file_fail_without_creating_it(
    command: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.db"
    line = fails([*command, "--database", f"sqlite:///{missing}"], 2)
    assert f"no database at {missing}" in line
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCOMM_DATABASE_URL", f"sqlite:///{tmp_path / 'gone.db'}")
    fails(["report"], 2)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_scomm_database_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert "database:" in fails(["audit", "verify", "-d", f"sqlite:///{empty}"], 2)


def test_db_upgrade_creates_the_file_that_read_commands_refuse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["db", "upgrade", "-d", url]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "-d", url])
    assert result.exit_code == 0 and "0 entries" in result.output


def test_a_database_password_is_never_printed() -> None:
    # Port 1 on the loopback refuses at once: the driver's error comes back, the password not.
    url = "postgresql://scomm:s3cret-pw@127.0.0.1:1/scomm"
    line = fails(["audit", "verify", "--database", url], 2)
    assert "s3cret-pw" not in line and "database:" in line


def test_a_password_inside_any_error_message_is_masked() -> None:
    broken = _app_that_fails(ScommError("cannot reach postgresql://scomm:s3cret@db/scomm"))
    result = runner.invoke(broken, ["boom"])
    assert result.exit_code == 2
    assert result.stderr == "error: cannot reach postgresql://scomm:***@db/scomm\n"


def test_masking_urls() -> None:
    assert (
        masked("postgresql://scomm:s3cret@db:5432/scomm") == "postgresql://scomm:***@db:5432/scomm"
    )
    assert masked("postgresql+psycopg://u:p%40ss@h/db") == "postgresql+psycopg://u:***@h/db"
    assert masked("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert masked("postgresql://scomm@db/scomm") == "postgresql://scomm@db/scomm"
    text = "could not open postgresql://a:b@h/x nor mysql://c:d@k/y"
    assert mask_passwords(text) == "could not open postgresql://a:***@h/x nor mysql://c:***@k/y"


# --- files -------------------------------------------------------------------------------


def test_an_out_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    assert "taken" in fails(["synth", "fingers", "--count", "1", "--out", str(a_file)], 2)
    # below a file: the operating system's refusal, in one line
    below = a_file / "sub"
    assert "Not a directory" in fails(["synth", "tenprint", "--count", "1", "--out", str(below)], 2)


def test_a_json_path_that_cannot_be_written_is_one_line(tmp_path: Path, county_db: str) -> None:
    assert "is a directory" in fails(["report", "-d", county_db, "--json", str(tmp_path)], 2)
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    fails(["report", "-d", county_db, "--json", str(a_file / "summary.json")], 2)


# --- failed checks and refusals from scomm's own errors -----------------------------------


@pytest.mark.parametrize("ref", [str(10**30), "99999999999999999999", "²", "١٢"])
def test_replaying_digits_that_are_no_seq_finds_no_dead_letter(ref: str, county_db: str) -> None:
    assert "no dead letter" in fails(["ops", "replay", ref, "--database", county_db], 1)


def test_a_refused_switch_change_is_one_line(county_db: str) -> None:
    line = fails(
        ["switches", "set", "-d", county_db, "--ori", ORI, "--switch", "B", "--on",
         "--effective", "2011-06-01", "--by", "jurisdiction", "--reason", "x"],
        2,
    )  # fmt: skip
    assert "refused" in line
    unknown = ["--ori", "ZZ9999999", "--switch", "C", "--off", "--effective", "2011-06-01"]
    line = fails(
        ["switches", "set", "-d", county_db, *unknown, "--by", "jurisdiction", "--reason", "x"], 2
    )
    assert "no jurisdiction" in line
    line = fails(["switches", "show", "-d", county_db, "--at", "yesterday"], 2)
    assert "is not a date" in line


def test_an_unknown_scenario_is_one_line(tmp_path: Path) -> None:
    line = fails(["simulate", "--scenario", "atlantis", "--out", str(tmp_path)], 2)
    assert "atlantis" in line


def test_scomm_errors_map_by_kind() -> None:
    assert describe(NothingToReplay("no dead letter 7")) == ("no dead letter 7", 1)
    assert describe(KeyError("a bug")) is None
    # a missing database driver is the user's to install; a missing scomm module is a bug
    assert describe(ModuleNotFoundError("No module named 'psycopg'", name="psycopg"))[1] == 2
    assert describe(ModuleNotFoundError("No module named 'scomm.x'", name="scomm.x")) is None


# --- markup in stored text -----------------------------------------------------------------


def test_stored_text_with_rich_markup_prints_as_typed(county_db: str) -> None:
    reason = "board vote [/closing] of [bold]March[/bold]"
    set_args = [
        "switches",
        "set",
        "-d",
        county_db,
        "--ori",
        ORI,
        "--switch",
        "C",
        "--off",
        "--effective",
        "2011-06-01",
        "--by",
        "jurisdiction",
        "--reason",
        reason,
    ]
    # fmt: skip
    assert runner.invoke(app, set_args).exit_code == 0
    result = runner.invoke(app, ["switches", "show", "-d", county_db])
    assert result.exit_code == 0, result.output
    assert reason in result.output


# --- the handler itself ----------------------------------------------------------------------


def _app_that_fails(error: Exception) -> typer.Typer:
    broken = typer.Typer(cls=ErrorHandlingGroup)

    @broken.command("boom")
    def boom() -> None:
        raise error

    @broken.command("fine")
    def fine() -> None:
        pass

    return broken


def test_a_bug_is_one_line_exit_1_and_a_traceback_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = _app_that_fails(ZeroDivisionError("division by zero\nsecond line"))
    result = runner.invoke(broken, ["boom"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        "error: internal error, please report it: ZeroDivisionError: division by zero second "
        "line (SCOMM_DEBUG=1 shows the traceback)"
    ]
    monkeypatch.setenv("SCOMM_DEBUG", "1")
    assert isinstance(runner.invoke(broken, ["boom"]).exception, ZeroDivisionError)
    # with SCOMM_DEBUG an error scomm names shows its traceback too (only the command
    # line's own refusals stay one line)
    named = _app_that_fails(NothingToReplay("no dead letter 7"))
    assert isinstance(runner.invoke(named, ["boom"]).exception, NothingToReplay)


def test_the_installed_entry_point_prints_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scomm", "audit", "verify", "-d", "nosuchdialect://x"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_report_refuses_to_publish_from_a_broken_chain(county_db: str) -> None:
    from datetime import datetime

    from tampering import tampering

    from scomm.audit.chain import append
    from scomm.store.models import AuditEntryRow

    db = Database(county_db)
    with db.sessions() as session:
        for i in range(1, 4):
            append(
                session,
                recorded_at=datetime(2010, 1, 1, 0, i),
                kind="operation",
                name="NOTE",
                actor="operator",
                case_id="",
                payload={"n": i},
            )
        session.commit()
    assert runner.invoke(app, ["report", "-d", county_db]).exit_code == 0
    with tampering(db) as session:
        row = session.get(AuditEntryRow, 2)
        assert row is not None
        row.name = "FORGED"  # a rewritten entry, hashes left as they were
    db.dispose()
    result = runner.invoke(app, ["report", "-d", county_db])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: refusing to publish: audit chain broken at entry 2: entry 2 was changed "
        "(hash mismatch)"
    ]
    assert "scomm summary" not in result.stdout
