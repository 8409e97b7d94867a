"""Scenario runs: a scenario's world through every hop (`scomm.sim.driver`), then the summary.

`run_scenario` is `scomm simulate`; `run_demo` is `scomm demo`, the small "demo" scenario
with a chosen number of bookings.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scomm
from scomm.audit.chain import Verification, consistent_snapshot, verify
from scomm.audit.checkpoints import (
    describe,
    public_pem,
    published,
    verify_anchored,
    verifying_key,
)
from scomm.config import Settings
from scomm.reports.html import render_report
from scomm.reports.ledger import Ledger, recorded_head
from scomm.reports.publication import Publication, publish
from scomm.reports.summary import summarise, summarise_entries
from scomm.sim.driver import RunSpec, Stage, run, silent
from scomm.sim.errors import SimulatorError
from scomm.sim.scenario_figures import breakdown, citizens_and_residents, target_chart
from scomm.sim.scenario_report import (
    RunRecord,
    case_facts,
    ground_truth,
    measure,
    target_table,
    window_text,
)
from scomm.sim.synth.scenario import Scenario
from scomm.sim.synth.world import World
from scomm.store.db import Database

__all__ = ["DemoResult", "ground_truth", "publish_run", "run_demo", "run_scenario"]

# What the report says of a model run's audit record (`audit_verified` is then null).
IN_MEMORY = (
    "a model run keeps its audit entries in memory only: no hash chain was written, "
    "so there is nothing to verify"
)


@dataclass(frozen=True)
class DemoResult:
    summary: dict[str, Any]
    out_dir: Path
    database_url: str


def run_demo(
    settings: Settings,
    bookings: int,
    seed: int,
    out_dir: Path,
    stage: Stage = silent,
    population: int | None = None,
) -> DemoResult:
    """Run the demo scenario with `bookings` bookings in a world of `population` people (the
    scenario's default when None); write `summary.json` and `report.html`."""
    return run_scenario(
        settings,
        RunSpec.demo(seed, bookings).scenario,
        out_dir,
        stage=stage,
        title="scomm demo: the Secure Communities flow, end to end",
        population=population,
    )


def run_scenario(
    settings: Settings,
    scenario: Scenario,
    out_dir: Path,
    stage: Stage = silent,
    title: str | None = None,
    population: int | None = None,
    biometrics: str = "images",
) -> DemoResult:
    """Run (or resume) the scenario on scenario time with the driver, and write
    `summary.json` (every count per type, month, jurisdiction and level; ground truth;
    target against simulated) and `report.html` to `out_dir`. With `biometrics` "model"
    (or "auto" on a large world) the run is in memory with the biometric model
    (`driver_spec.BIOMETRICS`): its figures are read from its audit entries in memory, the
    database is not written, and there is no audit chain to verify."""
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    spec = RunSpec(scenario, population=population, biometrics=biometrics)
    result = run(spec, settings, stage=stage)
    world = result.world
    anchor: dict[str, Any] | None = None
    if result.store is not None:
        summary = summarise_entries(result.store.audit_entries()).as_dict()
        record = RunRecord.of_entries(result.store.audit_entries())
        check = Verification(True, summary["audit_entries"], problem=IN_MEMORY)
        audit_ok: bool | None = None
    else:
        db = Database(settings.database_url)
        try:
            with db.sessions() as session:
                summary = summarise(session).as_dict()
                check = verify(session)
                record = RunRecord.read(session)
            anchor = _anchor(settings, db)
        finally:
            db.dispose()
        audit_ok = check.ok
    truth = ground_truth(record, world)
    cases = case_facts(record, world)
    targets = target_table(world, measure(record, world, cases))
    people = citizens_and_residents(cases, scenario)
    summary["audit_verified"] = audit_ok
    summary["biometrics"] = result.biometrics
    if anchor is not None:
        summary["anchor"] = anchor
    summary["ground_truth"] = truth
    summary["targets"] = targets
    summary["targets_by_role"] = {
        role: [r["figure"] for r in targets if r["role"] == role] for role in ("fit", "check")
    }
    summary["breakdown"] = breakdown(cases, scenario)
    summary["citizens_and_residents"] = people
    summary["chart"] = target_chart(targets, out_dir) if targets else None
    summary["run"] = run_facts(world, scenario) | {
        "scenario_end": result.scenario_end.isoformat(),
        "engine": result.engine,
        "bookings_skipped_absent": result.skipped_absent,
        "seconds": round(time.monotonic() - began, 1),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    html = render_report(
        title or f"scomm simulate: scenario {scenario.name}",
        summary,
        {
            "description": scenario.description
            or "A synthetic run: every booking's CAR through the SIB to the criminal "
            "repository, and (where switch B is on) to the immigration repository, LESC "
            "and an ICE field office.",
            "audit_ok": audit_ok,
            "audit_problem": check.problem,
            "biometrics": result.biometrics,
            "anchor": anchor,
            "ground_truth": truth,
            "targets": targets,
            "breakdown": summary["breakdown"],
            "citizens_and_residents": people,
            "chart": summary["chart"],
            "target_window": window_text(scenario.target_window),
            "scale": scenario.scale,
            "scenario": scenario.name,
            "version": scomm.__version__,
            "seed": scenario.seed,
            "bookings": len(world.bookings),
        },
    )
    (out_dir / "report.html").write_text(html)
    return DemoResult(summary, out_dir, settings.database_url)


def publish_run(settings: Settings, folder: Path, name: str) -> Publication:
    """The release of a finished database run (`scomm.reports.publication.publish`) into
    `folder`, which is replaced: its statistics, case tables, codebook, manifest and pages,
    from the chain verified in the same snapshot."""
    db = Database(settings.database_url)
    try:
        with consistent_snapshot(db) as session:
            check = verify(session)
            if not check.ok:
                raise SimulatorError(
                    f"refusing to publish: audit chain broken at entry {check.first_bad_seq}: "
                    f"{check.problem}"
                )
            ledger, head = Ledger.read(session), recorded_head(session)
    finally:
        db.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return publish(ledger, head, folder, name)


def _anchor(settings: Settings, db: Database) -> dict[str, Any] | None:
    """With a signing key and checkpoint log: the run's chain verified against the log (the
    run ended with a closed checkpoint), and what the report publishes of it."""
    if settings.audit_key is None or settings.checkpoint_log is None:
        return None
    key = verifying_key(settings)
    chain, anchored = verify_anchored(db, settings.checkpoint_log, key)
    if anchored is None:
        return {"verified": False, "problem": chain.problem, "public_key": public_pem(key)}
    return published(anchored, key) | {
        "verified": anchored.ok,
        "problem": anchored.problem,
        "line": describe(anchored),
        "checkpoint_log": str(settings.checkpoint_log),
    }


def run_facts(world: World, scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "scenario_source": scenario.source,
        "seed": scenario.seed,
        "scale": scenario.scale,
        "bookings": len(world.bookings),
        "bookings_represented": round(sum(b.weight for b in world.bookings), 1),
        "dispositions": len(world.dispositions),
        "people": len(world.people),
        "jurisdictions": len(world.jurisdictions),
        "scenario_start": world.start.isoformat(),
        "safeguards": {
            k: getattr(scenario.safeguards, k) for k in scenario.safeguards.__dataclass_fields__
        },
        "officer_policy": scenario.officer_policy.name,
        "removal_policy": scenario.removals.name,
    }
