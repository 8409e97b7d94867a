"""The demo: build a synthetic world, run its bookings through every hop, write the summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import scomm
from scomm.audit.chain import verify
from scomm.config import Settings
from scomm.domain.ids import derived_id
from scomm.reports.html import render_report
from scomm.reports.summary import summarise
from scomm.simulation import Stage, run_world, silent
from scomm.store.db import Database
from scomm.store.models import CaseRow, CriminalSubmissionRow, DetainerRow
from scomm.synth.world import World, build_world


@dataclass(frozen=True)
class DemoResult:
    summary: dict[str, Any]
    out_dir: Path
    database_url: str


def run_demo(
    settings: Settings, bookings: int, seed: int, out_dir: Path, stage: Stage = silent
) -> DemoResult:
    """Run a world of `bookings` bookings; write `summary.json` and `report.html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, bookings)
    run = run_world(world, settings, stage=stage)
    db = Database(settings.database_url)
    try:
        with db.sessions() as session:
            summary = summarise(session).as_dict()
            check = verify(session)
            truth = ground_truth(session, world)
    finally:
        db.dispose()
    summary["audit_verified"] = check.ok
    summary["ground_truth"] = truth
    summary["run"] = {
        "seed": seed,
        "bookings": bookings,
        "people": len(world.people),
        "scenario_start": world.start.isoformat(),
        "scenario_end": run.scenario_end.isoformat(),
        "engine": run.engine,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    html = render_report(
        "scomm demo: the Secure Communities flow, end to end",
        summary,
        {
            "description": "A synthetic county-level run: every booking's CAR through the SIB to "
            "the criminal repository, and (where switch B is on) to the immigration "
            "repository, LESC and an ICE field office.",
            "audit_ok": check.ok,
            "audit_problem": check.problem,
            "ground_truth": truth,
            "version": scomm.__version__,
            "seed": seed,
            "bookings": bookings,
        },
    )
    (out_dir / "report.html").write_text(html)
    return DemoResult(summary, out_dir, settings.database_url)


def ground_truth(session: Session, world: World) -> dict[str, int]:
    """What only the synthetic world knows: citizens detained, biometric misses and false hits."""
    person_of = {
        derived_id("case", p.booking.tcn): world.people[p.person_id] for p in world.bookings
    }
    truth: Counter[str] = Counter()
    _criminal_truth(session, world, truth)
    for case in session.scalars(select(CaseRow)):
        person = person_of.get(case.case_id)
        if person is None:
            continue
        record = person.immigration
        if case.ident_id is not None:
            truth["ident_matches"] += 1
            if record is None or record.ident_id != case.ident_id:
                truth["ident_false_matches"] += 1
        elif record is not None and case.state == "ident_no_match":
            truth["ident_missed_matches"] += 1
    for detainer in session.scalars(select(DetainerRow)):
        person = person_of.get(detainer.case_id)
        if person is not None:
            truth["detainers"] += 1
            if person.path.is_citizen:
                truth["detainers_on_us_citizens"] += 1
    return {
        k: truth[k]
        for k in (
            "criminal_identifications",
            "criminal_false_matches",
            "criminal_missed_matches",
            "ident_matches",
            "ident_false_matches",
            "ident_missed_matches",
            "detainers",
            "detainers_on_us_citizens",
        )
    }


def _criminal_truth(session: Session, world: World, truth: Counter[str]) -> None:
    """Each CJIS search against who the person is: someone with a record, or booked (and so
    enrolled) before, must be identified as that FBI number; anyone else must not be."""
    planned = {p.booking.tcn: p for p in world.bookings}
    known: dict[str, str] = {}  # person id -> FBI number the repository holds them under
    rows = session.scalars(
        select(CriminalSubmissionRow).order_by(
            CriminalSubmissionRow.received_at, CriminalSubmissionRow.tcn
        )
    )
    for row in rows:
        booking = planned.get(row.tcn)
        if booking is None:
            continue
        person = world.people[booking.person_id]
        expected = person.criminal.fbi_number if person.criminal else known.get(person.person_id)
        if row.identified:
            truth["criminal_identifications"] += 1
            truth["criminal_false_matches"] += row.fbi_number != expected
        elif expected is not None:
            truth["criminal_missed_matches"] += 1
        known.setdefault(person.person_id, row.fbi_number)
