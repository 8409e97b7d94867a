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
    # the nation's figures are printed as published: the value, or "suppressed" where
    # complementary suppression hid it
    nation = {(c["measure"]): c for c in cells if (c["geo"], c["period"]) == (US, CUMULATIVE)}
    submissions = exact[CellKey("submissions", US, CUMULATIVE)]
    assert submissions > 10
    shown = nation["submissions"]["value"]
    assert (f"{shown:,}" if shown is not None else "suppressed") in result.stdout
    assert any(c["value"] is not None and c["value"] > 10 for c in nation.values())
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


def test_a_folder_holding_another_release_or_chain_head_is_refused(tmp_path: Path) -> None:
    """The manifest names one release and one chain head for every file of the folder:
    statistics are not written beside case tables of another release or another head."""
    url, db = small_database(tmp_path)
    db.dispose()
    out = tmp_path / "release"
    out.mkdir()
    manifest: dict[str, Any] = {
        "release": "foia-1",
        "chain_head": {"seq": 1, "entry_hash": "ab" * 32},
        "rules": {"cases": {}},
        "row_counts": {"cases/encounters": 0},
        "files": [],
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    for args, says in (
        (["--release", "other"], "holds release 'foia-1'"),
        (["--release", "foia-1"], "built from audit entry 1"),
        ([], "built from audit entry 1"),
    ):
        result = runner.invoke(app, ["stats", "-d", url, "--out", str(out), *args])
        assert result.exit_code == 2, result.output
        assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (out / "statistics").exists()
    assert json.loads((out / "manifest.json").read_text()) == manifest
    # the same head: the statistics join the release under its name
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, ["stats", "-d", url, "--out", str(fresh)]).exit_code == 0
    manifest["chain_head"] = json.loads((fresh / "manifest.json").read_text())["chain_head"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["stats", "-d", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "statistics" / "release.json").read_text())["release"] == "foia-1"


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


def test_rounding_and_a_noisy_release_are_stated_where_they_are_published(
    tmp_path: Path,
) -> None:
    """--rounding drb shows the small counts as "<15" (no number); --dp-scale publishes
    noisy counts whose tables add up, with the privacy loss in release.json and the
    manifest."""
    url, db = small_database(tmp_path)
    db.dispose()
    rounded = tmp_path / "rounded"
    result = runner.invoke(app, ["stats", "-d", url, "--out", str(rounded), "--rounding", "drb"])
    assert result.exit_code == 0, result.output
    cells = json.loads((rounded / "statistics" / "cells.json").read_text())
    assert {c["status"] for c in cells} <= {"shown", "rounded", "suppressed"}
    for cell in cells:  # a count under 15 is never shown as a number
        assert cell["value"] is None or cell["value"] == 0 or cell["value"] >= 15
    assert (
        "Census DRB" in json.loads((rounded / "manifest.json").read_text())["rules"]["statistics"]
    )

    noisy = tmp_path / "noisy"
    result = runner.invoke(
        app,
        ["stats", "-d", url, "--out", str(noisy), "--dp-scale", "2", "--dp-cells-per-person", "3"],
    )
    assert result.exit_code == 0, result.output
    assert "privacy loss: rho" in " ".join(result.stdout.split())
    described = json.loads((noisy / "statistics" / "release.json").read_text())
    privacy = described["privacy"]
    # discrete Gaussian: rho = sensitivity^2 / (2 scale^2), sensitivity = sqrt(3)
    assert abs(privacy["rho_zcdp"] - 3 / 8) < 1e-9 and privacy["epsilon"] > 0
    assert privacy["invariants"]
    cells = json.loads((noisy / "statistics" / "cells.json").read_text())
    assert {c["status"] for c in cells} == {"noisy"}
    by = {(c["measure"], c["geo"], c["period"]): c["value"] for c in cells}
    assert by["submissions", "US", "cumulative"] == by["submissions", "CA", "cumulative"]
    assert "statistics_privacy" in json.loads((noisy / "manifest.json").read_text())["rules"]
