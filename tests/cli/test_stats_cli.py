"""`scomm stats`: the release of a finished demo run, a broken chain refused, bad input one
line and exit 2."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from tampering import tampering
from typer.testing import CliRunner

from scomm.audit import chain
from scomm.cli import app
from scomm.reports.cells import CUMULATIVE, US, CellKey, published_cells
from scomm.reports.ledger import Ledger
from scomm.reports.measures import base_counts, layout_of
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow

runner = CliRunner()


def test_stats_publishes_the_demo_run_from_its_verified_chain(
    demo_run: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{demo_run[1] / 'scomm.db'}"
    out = tmp_path / "release"
    result = runner.invoke(app, ["stats", "-d", url, "--out", str(out), "--release", "demo-1"])
    assert result.exit_code == 0, result.output
    assert "release demo-1" in result.stdout and "IDENT matches" in result.stdout
    assert "statistics written to" in " ".join(result.stdout.split())
    db = Database(url)
    with Session(db.engine) as session:
        head = session.get(AuditHeadRow, 1)
        assert head is not None
        stored = {"seq": head.seq, "entry_hash": head.entry_hash}
        ledger = Ledger.read(session)
    db.dispose()
    described = json.loads((out / "statistics" / "release.json").read_text())
    assert described["release"] == "demo-1" and described["chain_head"] == stored
    exact = published_cells(base_counts(ledger), layout_of(ledger))
    cells = json.loads((out / "statistics" / "cells.json").read_text())
    assert len(cells) == len(exact)
    for cell in cells:
        value = exact[CellKey(cell["measure"], cell["geo"], cell["period"])]
        if 1 <= value <= 10:
            assert cell["value"] is None and cell["status"] == "suppressed"
        elif cell["status"] == "shown":
            assert cell["value"] == value
    submissions = exact[CellKey("submissions", US, CUMULATIVE)]
    assert submissions > 10 and f"{submissions:,}" in result.stdout
    for name in ("ice_monthly.csv", "never_published.parquet", "jurisdictions.csv"):
        assert (out / "statistics" / name).is_file()


def small_database(tmp_path: Path) -> tuple[str, Database]:
    url = f"sqlite:///{tmp_path / 'scomm.db'}"
    db = Database(url)
    db.migrate()
    with Session(db.engine) as session:
        for i, case in enumerate(("case-1", "case-2", "case-3")):
            chain.append(
                session,
                recorded_at=datetime(2010, 3, 1 + i),
                kind="booking",
                name="BOOKED",
                actor="lea",
                case_id=case,
                payload={"ori": "CA0010000", "tcn": f"T-{i}", "charges": ["THEFT"]},
            )
        session.commit()
    return url, db


def test_a_broken_chain_is_refused_and_nothing_written(tmp_path: Path) -> None:
    url, db = small_database(tmp_path)
    out = tmp_path / "release"
    assert runner.invoke(app, ["stats", "-d", url, "--out", str(out)]).exit_code == 0
    assert json.loads((out / "statistics" / "release.json").read_text())["release"] == "chain-3"
    with tampering(db) as session:
        row = session.get(AuditEntryRow, 2)
        assert row is not None
        row.payload = row.payload.replace("CA0010000", "TX0030000")
    db.dispose()
    again = tmp_path / "again"
    result = runner.invoke(app, ["stats", "-d", url, "--out", str(again)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: refusing to publish: audit chain broken at entry 2: entry 2 was changed "
        "(hash mismatch)"
    ]
    assert not again.exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url, db = small_database(tmp_path)
    db.dispose()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for args, says in (
        ([], "--out DIR is required"),
        (["--out", str(tmp_path / "r"), "--release", "../up"], "--release '../up'"),
        (["--out", str(a_file)], "is a file"),
    ):
        result = runner.invoke(app, ["stats", "-d", url, *args])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], result.stderr
        assert "Traceback" not in result.output
