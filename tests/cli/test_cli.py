"""The command line as a county IT team would use it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from tampering import tampering
from typer.testing import CliRunner

from scomm.audit.chain import append
from scomm.cli import app
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow

runner = CliRunner()


@pytest.fixture
def audited_db(database_url: str) -> str:
    db = Database(database_url)
    db.migrate()
    with db.sessions() as session:
        for i in range(1, 8):
            append(
                session,
                recorded_at=datetime(2010, 1, 1, 0, i),
                kind="decision",
                name="X",
                actor="ero",
                case_id=f"c{i}",
                payload={"i": i},
            )
        session.commit()
    db.dispose()
    return database_url


def test_audit_verify_passes_then_names_the_tampered_entry(audited_db: str) -> None:
    ok = runner.invoke(app, ["audit", "verify", "--database", audited_db])
    assert ok.exit_code == 0, ok.output
    assert "7 entries" in ok.output
    db = Database(audited_db)
    with tampering(db) as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 5).values(name="Y"))
    db.dispose()
    bad = runner.invoke(app, ["audit", "verify", "--database", audited_db])
    assert bad.exit_code == 1
    assert "entry 5" in bad.output


def test_demo_writes_its_outputs_and_report_regenerates_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("SCOMM_DATABASE_URL", "SCOMM_AUDIT_KEY", "SCOMM_CHECKPOINT_LOG"):
        monkeypatch.delenv(variable, raising=False)
    out = tmp_path / "out"
    # a small world (each person with a record or a booking costs an image-level enrolment)
    result = runner.invoke(
        app,
        ["demo", "--bookings", "4", "--population", "8", "--seed", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["messages"]["CAR"] == 4
    assert (out / "report.html").read_text().startswith("<!doctype html>")
    regenerated = tmp_path / "again.json"
    url = f"sqlite:///{out / 'scomm.db'}"
    again = runner.invoke(app, ["report", "--database", url, "--json", str(regenerated)])
    assert again.exit_code == 0, again.output
    assert json.loads(regenerated.read_text())["messages"] == summary["messages"]
    # its public release (statistics, case tables, codebook, manifest, pages), whose pages
    # it names
    from scomm.reports.manifest import verify_manifest

    release = out / "release"
    assert json.loads((release / "manifest.json").read_text())["release"] == "demo"
    assert verify_manifest(release).ok
    for part in ("codebook.md", "statistics/cells.json", "cases/detainers.csv", "site/index.html"):
        assert (release / part).is_file(), part
    assert "open the public pages" in " ".join(result.output.split())
    # the demo signs its chain with a key of its own, outside the database, and says so
    public = out / "keys" / "audit-signing-key.pub.pem"
    assert summary["anchor"]["verified"] and summary["anchor"]["checkpoint"]["state"] == "closed"
    assert summary["anchor"]["checkpoint"]["seq"] == summary["audit_entries"]
    assert summary["anchor"]["public_key"] == public.read_text()
    assert "Signed checkpoints" in (out / "report.html").read_text()
    checked = runner.invoke(
        app,
        ["audit", "verify", "-d", url, "--checkpoint", str(out / "checkpoints.jsonl"),
         "--public-key", str(public)],
    )  # fmt: skip
    assert checked.exit_code == 0 and "anchored" in checked.output, checked.output


def test_demo_on_a_database_holding_a_run_resumes_it_or_refuses_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("SCOMM_DATABASE_URL", url)
    # one booking: most counts of the report are 0 (its bars once divided by the largest)
    small = ["demo", "--bookings", "1", "--population", "4"]  # few people to enrol
    first = runner.invoke(app, [*small, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "a" / "report.html").is_file()
    same = runner.invoke(app, [*small, "--out", str(tmp_path / "b")])
    assert same.exit_code == 0, same.output  # the same run: resumed (nothing left to do)
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert b["messages"] == a["messages"] and b["audit_entries"] == a["audit_entries"]
    other = runner.invoke(app, [*small, "--seed", "2", "--out", str(tmp_path / "c")])
    assert other.exit_code == 2
    assert "holds another run" in other.output
    assert len(other.stderr.strip().splitlines()) == 1  # one error line (the bars go to stdout)
