"""`scomm audit keygen | checkpoint | verify --checkpoint` and `scomm report` with a signing
key: each failure one line and its exit code, each attack named."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from scomm.audit.chain import append
from scomm.audit.checkpoints import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, Anchor, load_private_key
from scomm.cli import app
from scomm.store.db import Database

runner = CliRunner()
ORI = "CA0010000"  # conftest.COUNTY_ORI
SET_SWITCH = ["switches", "set", "--ori", ORI, "--switch", "C", "--off", "--effective",
              "2011-06-01", "--by", "jurisdiction", "--reason", "vote"]  # fmt: skip


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    made = runner.invoke(app, ["audit", "keygen", "--out", str(folder)])
    assert made.exit_code == 0, made.output
    return folder


@pytest.fixture
def signing(keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configured signing key and checkpoint log (returned)."""
    log = tmp_path / "checkpoints.jsonl"
    monkeypatch.setenv("SCOMM_AUDIT_KEY", str(keys / PRIVATE_KEY_FILE))
    monkeypatch.setenv("SCOMM_CHECKPOINT_LOG", str(log))
    return log


def verify(database: str, log: Path, *extra: str) -> Result:
    return runner.invoke(app, ["audit", "verify", "-d", database, "--checkpoint", str(log), *extra])


def forge(database: str) -> None:
    """A well-formed entry appended by whoever owns the database, with no checkpoint."""
    db = Database(database)
    with db.sessions() as session:
        append(
            session,
            recorded_at=datetime(2011, 7, 1),
            kind="switch",
            name="B",
            actor="jurisdiction",
            case_id="",
            payload={"ori": ORI, "enabled": False},
        )
        session.commit()
    db.dispose()


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    keys: Path,
) -> None:
    assert stat.S_IMODE((keys / PRIVATE_KEY_FILE).stat().st_mode) == 0o600
    assert (keys / PUBLIC_KEY_FILE).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = runner.invoke(app, ["audit", "keygen", "--out", str(keys)])
    assert "refusing to overwrite" in one_line_error(again, 2)


def test_commands_that_need_a_key_say_so_in_one_line(
    county_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCOMM_AUDIT_KEY", raising=False)
    line = one_line_error(runner.invoke(app, ["audit", "checkpoint", "-d", county_db]), 2)
    assert "no audit signing key configured" in line
    log = tmp_path / "none.jsonl"
    assert "no public key" in one_line_error(verify(county_db, log), 2)


def test_a_writing_command_signs_around_itself_and_verify_proves_the_chain_extends_it(
    county_db: str, signing: Path
) -> None:
    done = runner.invoke(app, [*SET_SWITCH, "-d", county_db])
    assert done.exit_code == 0, done.output
    states = [json.loads(line)["state"] for line in signing.read_text().splitlines()]
    assert states == ["open", "closed"]
    ok = verify(county_db, signing)
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 1 entries" in ok.output
    assert "anchored: the chain extends checkpoint of entry 1 (closed" in ok.output
    signed = runner.invoke(app, ["audit", "checkpoint", "-d", county_db])
    assert signed.exit_code == 0 and "entry 1" in signed.output


def test_a_forged_append_fails_verify_and_report_naming_the_entry(
    county_db: str, signing: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, [*SET_SWITCH, "-d", county_db]).exit_code == 0
    forge(county_db)
    plain = runner.invoke(app, ["audit", "verify", "-d", county_db])
    assert plain.exit_code == 0  # the chain alone cannot tell
    line = one_line_error(verify(county_db, signing), 1)
    assert "at entry 2" in line and "appended after the run closed at entry 1" in line
    published = tmp_path / "published.json"
    refused = runner.invoke(app, ["report", "-d", county_db, "--json", str(published)])
    assert "refusing to publish" in one_line_error(refused, 1)
    assert not published.exists()


def test_report_publishes_the_public_key_and_the_checkpoint_it_verified(
    county_db: str, signing: Path, keys: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, [*SET_SWITCH, "-d", county_db]).exit_code == 0
    out = tmp_path / "report.json"
    done = runner.invoke(app, ["report", "-d", county_db, "--json", str(out)])
    assert done.exit_code == 0, done.output
    assert "public key (key id " in done.output and "BEGIN PUBLIC KEY" in done.output
    anchor = json.loads(out.read_text())["anchor"]
    assert anchor["public_key"] == (keys / PUBLIC_KEY_FILE).read_text()
    assert anchor["checkpoint"]["seq"] == 1 and anchor["checkpoint"]["state"] == "closed"


def test_unanchored_entries_are_one_line_and_fail_only_when_strict(
    county_db: str, signing: Path, keys: Path
) -> None:
    db = Database(county_db)
    running = Anchor(db, load_private_key(keys / PRIVATE_KEY_FILE), signing, 1000)
    running.begin()  # a run still going: its next checkpoint is not due yet
    db.dispose()
    forge(county_db)
    ok = verify(county_db, signing)
    assert ok.exit_code == 0, ok.output
    assert "1 entries after the last signed checkpoint are not yet anchored" in ok.output
    strict = one_line_error(verify(county_db, signing, "--strict"), 1)
    assert "1 entries after the last signed checkpoint are not yet anchored (writers" in strict


def test_missing_or_garbled_checkpoint_files_are_bad_input(
    county_db: str, signing: Path, keys: Path, tmp_path: Path
) -> None:
    public = ["--public-key", str(keys / PUBLIC_KEY_FILE)]
    missing = one_line_error(verify(county_db, tmp_path / "nope.jsonl", *public), 2)
    assert "no checkpoint log at" in missing
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text('{"seq": 1}\n')
    assert "line 1 is not a checkpoint" in one_line_error(verify(county_db, garbled), 2)
    no_key = one_line_error(verify(county_db, garbled, "--public-key", str(garbled)), 2)
    assert "is not a PEM public key" in no_key
    strict_alone = runner.invoke(app, ["audit", "verify", "-d", county_db, "--strict"])
    assert "go with --checkpoint" in one_line_error(strict_alone, 2)


def test_a_bad_cadence_is_one_line(county_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOMM_CHECKPOINT_EVERY", "9" * 5000)
    line = one_line_error(runner.invoke(app, [*SET_SWITCH, "-d", county_db]), 2)
    assert "SCOMM_CHECKPOINT_EVERY" in line


def test_a_failing_export_hook_is_reported_and_the_local_line_kept(
    county_db: str, signing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCOMM_CHECKPOINT_HOOK", "echo 'transparency log down' >&2; exit 7")
    failed = runner.invoke(app, ["audit", "checkpoint", "-d", county_db])
    assert failed.exit_code == 1, failed.output
    assert "export hook failed for entry 0 (exit 7: transparency log down)" in failed.output
    assert len(signing.read_text().splitlines()) == 1
