"""`scomm simulate` and `scomm synth world` through the real command line (Typer's runner)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scomm.cli import app
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, BookingRow, JurisdictionRow

TINY = """
schema: 1
scenario: tiny
description: two counties, one activated before the window and one during it
seed: 4
bookings: 12
window: {start: 2010-01-01, end: 2010-03-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - ori: TX0010000
        name: One County
        share: 0.7
        activation: 2009-01-01
        policy_changes:
          - {from: 2010-02-01, policy: honor_none, reason: county ordinance}
      - ori: TX0020000
        name: Two County
        share: 0.3
        activation: 2010-02-01
        opt_out_requests:
          - {at: 2010-01-15, switch: B, granted: false, reason: board vote}
population:
  people_per_booking: 1.0
  minimum_people: 10
  citizenship_paths:
    native_citizen: {share: 0.3}
    overstay: {share: 0.7, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
dispositions:
  shares: {convicted: 0.5, dismissed: 0.5}
  delay_days: {median: 20, min: 7, max: 40}
safeguards: all_off
targets:
  figures:
    submissions: {value: 12, source: test}
    ident_match_rate: {value: 0.7, source: test}
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("simulate")
    scenario = folder / "tiny.yaml"
    scenario.write_text(TINY)
    out = folder / "out"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--scenario",
            str(scenario),
            "--out",
            str(out),
            "--json",
            str(folder / "s.json"),
        ],
        env={"SCOMM_DATABASE_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert "target against simulated" in result.output
    return json.loads((folder / "s.json").read_text()), out


def test_simulate_writes_the_promised_keys(simulated: tuple[dict, Path]) -> None:
    summary, out = simulated
    for key in (
        "messages",
        "outcomes",
        "decisions",
        "per_month",
        "per_jurisdiction",
        "per_level",
        "levels",
        "ground_truth",
        "targets",
        "run",
        "audit_verified",
    ):
        assert key in summary, key
    assert summary["audit_verified"] is True
    assert summary["run"]["scenario"] == "tiny" and summary["run"]["bookings"] == 12
    assert summary["run"]["safeguards"]["status_currency"] is False
    assert summary["run"]["removal_policy"] == "sim-removals-v1"  # the file names none
    assert json.loads((out / "summary.json").read_text()) == summary
    assert "Target against simulated" in (out / "report.html").read_text()


def test_the_counts_agree_with_each_other(simulated: tuple[dict, Path]) -> None:
    summary, _ = simulated
    m = summary["messages"]
    # a planned booking of a person removed or held by ICE by then is not made
    made = 12 - summary["run"]["bookings_skipped_absent"]
    assert m["CAR"] == made and m["DISPOSITION"] == made
    for name in ("CAR", "IDR_MATCH", "DISPOSITION"):
        assert sum(c.get(name, 0) for c in summary["per_month"].values()) == m.get(name, 0)
        assert sum(c.get(name, 0) for c in summary["per_jurisdiction"].values()) == m.get(name, 0)
    assert set(summary["per_month"]) >= {"2010-01", "2010-02"}
    assert sum(c.get("IAR", 0) for c in summary["per_level"].values()) == m["IAR"]
    assert sum(summary["levels"].values()) == m["IAR"]
    rows = {r["figure"]: r for r in summary["targets"]}
    assert set(rows) == {"submissions", "ident_match_rate"}
    match = rows["ident_match_rate"]
    assert match["simulated"] == pytest.approx(m["IDR_MATCH"] / m["IDENT_SEARCH"])
    low, high = match["interval_95"]
    assert low <= match["simulated"] <= high


def test_policy_changes_and_opt_out_requests_are_audited(simulated: tuple[dict, Path]) -> None:
    summary, out = simulated
    db = Database(f"sqlite:///{out / 'scomm.db'}")
    try:
        with db.sessions() as session:
            names = [r.name for r in session.scalars(select(AuditEntryRow))]
            policy = session.get(JurisdictionRow, "TX0010000")
            assert policy is not None and policy.detainer_policy == "honor_none"
            bookings = session.scalars(select(BookingRow)).all()
    finally:
        db.dispose()
    # submissions: One County's bookings, and Two County's from its activation on 1 February
    activated = [b for b in bookings if b.ori == "TX0010000" or b.booked_at >= datetime(2010, 2, 1)]
    assert len(activated) < len(bookings)
    submissions = next(r for r in summary["targets"] if r["figure"] == "submissions")
    assert submissions["simulated"] == len(activated)
    assert names.count("DETAINER_POLICY") == 1
    assert names.count("OPT_OUT_REQUEST") == 1


def test_synth_world_writes_the_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "world",
            "--scenario",
            "rollout-2008-2011",
            "--scale",
            "1e-5",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    world = json.loads((tmp_path / "world.json").read_text())
    stats = world["statistics"]
    assert world["scenario"] == "rollout-2008-2011" and world["scale"] == 1e-5
    bookings = (tmp_path / "bookings.csv").read_text().splitlines()
    assert stats["bookings"] == len(bookings) - 1 > 0
    assert stats["submissions"] <= stats["bookings"]


def test_an_unknown_scenario_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--scenario", "atlantis", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "atlantis" in result.output and "rollout-2008-2011" in result.output


def test_simulate_on_a_finished_run_resumes_it_and_another_is_refused(
    simulated: tuple[dict, Path], tmp_path: Path
) -> None:
    summary, out = simulated
    for path in out.glob("scomm.db*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, tmp_path / path.name)
    url = f"sqlite:///{tmp_path / 'scomm.db'}"
    scenario = str(out.parent / "tiny.yaml")
    again = CliRunner().invoke(
        app, ["simulate", "--scenario", scenario, "--database", url, "--out", str(tmp_path / "a")]
    )
    assert again.exit_code == 0, again.output
    resumed = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert {k: v for k, v in resumed.items() if k != "run"} == {
        k: v for k, v in summary.items() if k != "run"
    }
    other = CliRunner().invoke(
        app,
        [
            "simulate",
            "--scenario",
            scenario,
            "--seed",
            "5",
            "--database",
            url,
            "--out",
            str(tmp_path),
        ],
    )
    assert other.exit_code == 2
    said = " ".join(other.output.split())  # the console wraps long lines
    assert "holds another run" in said and "seed 4 there, 5 here" in said


def test_the_biometric_model_is_stated_and_agrees(
    simulated: tuple[dict, Path], tmp_path: Path
) -> None:
    """`--biometrics model` on the same tiny world: said in the output, no database, and the
    same counts as the image-level run (no biometric error in either on this world)."""
    summary, _ = simulated
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["simulate", "--scenario", str(scenario), "--out", str(out), "--biometrics", "model"],
        env={"SCOMM_DATABASE_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert "biometric model in place of image matching" in result.output
    modelled = json.loads((out / "summary.json").read_text())
    assert modelled["biometrics"]["mode"] == "model"
    assert modelled["biometrics"]["fnir_source"]["commands"]
    assert summary["biometrics"]["mode"] == "images"
    assert modelled["audit_verified"] is None and not (out / "scomm.db").exists()
    assert "Biometric model" in (out / "report.html").read_text()
    for part in ("messages", "outcomes", "final_states", "levels", "per_month"):
        assert modelled[part] == summary[part], part


def test_a_model_run_refuses_a_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--scenario",
            "demo",
            "--biometrics",
            "model",
            "--database",
            f"sqlite:///{tmp_path / 'x.db'}",
        ],
    )
    assert result.exit_code == 2
    assert "writes no database" in result.output
