"""A built world on disk (CSV and JSON) and its planned statistics, before any flow runs."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scomm.domain.immigration import RecordedStatus
from scomm.sim.synth.citizenship import CitizenshipPath
from scomm.sim.synth.world import World

Progress = Callable[[int], None]


def world_statistics(world: World) -> dict[str, Any]:
    """What the world holds, as planned: bookings and submissions (bookings in activated
    counties) over the target window, and the shares that drive the published figures.

    `expected_match_rate` is the share of submissions whose person has an IDENT record: the
    match rate a perfect matcher would give (also per state and per fiscal year of the
    target window: it follows from who is booked where). `stale_citizens_among_ident_records`:
    citizens whose IDENT record still shows a non-citizen status (they can be found
    removable); `stale_records_by_change`: people whose record missed a naturalization, a
    derivation or an adjustment of status."""
    scenario = world.scenario
    start, end = scenario.target_window if scenario else (world.start, world.end)
    paths: Counter[str] = Counter(p.path.value for p in world.people.values())
    in_window = [b for b in world.bookings if start <= b.booking.booked_at < end]
    submissions = [
        b for b in in_window if world.plan(b.booking.ori).activated_at(b.booking.booked_at)
    ]
    with_record = [b for b in submissions if world.people[b.person_id].immigration is not None]
    stale = [
        b
        for b in with_record
        if world.people[b.person_id].path.is_citizen
        and world.people[b.person_id].immigration.recorded_status  # type: ignore[union-attr]
        is not RecordedStatus.NATURALIZED_CITIZEN
    ]
    capable_by_state: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    capable_by_year: Counter[str] = Counter()
    by_year: Counter[str] = Counter()
    for b in submissions:
        state = world.plan(b.booking.ori).jurisdiction.state
        at = b.booking.booked_at
        year = f"FY{at.year + (at.month >= 10)}"
        capable = world.people[b.person_id].immigration is not None
        by_state[state] += 1
        capable_by_state[state] += capable
        by_year[year] += 1
        capable_by_year[year] += capable
    stale_changes = Counter(
        p.status_change for p in world.people.values() if p.stale_record and p.status_change
    )
    outcomes = Counter(d.outcome.value for d in world.dispositions)
    per_month: Counter[str] = Counter(b.booking.booked_at.strftime("%Y-%m") for b in submissions)
    per_county: Counter[str] = Counter(b.booking.ori for b in world.bookings)
    scale = scenario.scale if scenario else 1.0
    return {
        "bookings": len(world.bookings),
        "bookings_represented": round(sum(b.weight for b in world.bookings), 1),
        "people": len(world.people),
        "jurisdictions": len(world.jurisdictions),
        "target_window": [start.isoformat(), end.isoformat()],
        "submissions": len(submissions),
        "submissions_at_scale_1": round(len(submissions) / scale) if scale else None,
        "expected_match_rate": _ratio(len(with_record), len(submissions)),
        "stale_citizens_among_ident_records": _ratio(len(stale), len(with_record)),
        "citizens_among_people": _ratio(
            sum(n for p, n in paths.items() if CitizenshipPath(p).is_citizen), len(world.people)
        ),
        "people_by_path": dict(sorted(paths.items())),
        "expected_match_rate_by_state": {
            state: _ratio(capable_by_state[state], n) for state, n in sorted(by_state.items())
        },
        "expected_match_rate_by_fiscal_year": {
            year: _ratio(capable_by_year[year], n) for year, n in sorted(by_year.items())
        },
        "stale_records_by_change": dict(sorted(stale_changes.items())),
        "dispositions": dict(sorted(outcomes.items())),
        "submissions_per_month": dict(sorted(per_month.items())),
        "bookings_per_jurisdiction": dict(sorted(per_county.items())),
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def write_world(world: World, out: Path, progress: Progress | None = None) -> list[Path]:
    """persons.csv, bookings.csv, dispositions.csv, jurisdictions.csv and world.json."""
    out.mkdir(parents=True, exist_ok=True)
    tick = progress or (lambda _n: None)
    written = [
        _csv(
            out / "persons.csv",
            [
                "person_id",
                "name",
                "dob",
                "sex",
                "pob",
                "citizenship_path",
                "citizen",
                "citizenship_since",
                "ident_id",
                "a_number",
                "ident_recorded_status",
                "fbi_number",
                "prior_arrests",
                "convictions",
                "ori",
                "status_change",
                "status_changed_at",
                "stale_record",
            ],
            (
                [
                    p.person_id,
                    p.name,
                    p.dob.isoformat(),
                    p.sex,
                    p.pob,
                    p.path.value,
                    p.path.is_citizen,
                    p.citizenship_since.isoformat() if p.citizenship_since else "",
                    p.immigration.ident_id if p.immigration else "",
                    (p.immigration.a_number or "") if p.immigration else "",
                    p.immigration.recorded_status.value if p.immigration else "",
                    p.criminal.fbi_number if p.criminal else "",
                    ";".join(o.ncic_code for o in p.criminal.prior_arrests) if p.criminal else "",
                    ";".join(o.ncic_code for o in p.criminal.convictions) if p.criminal else "",
                    p.ori or "",
                    p.status_change or "",
                    p.status_changed_at.isoformat() if p.status_changed_at else "",
                    p.stale_record,
                ]
                for p in world.people.values()
            ),
            tick,
        ),
        _csv(
            out / "bookings.csv",
            [
                "tcn",
                "booking_id",
                "ori",
                "booked_at",
                "release_due_at",
                "person_id",
                "charges",
                "defect",
                "weight",
                "activated",
            ],
            (
                [
                    b.booking.tcn,
                    b.booking.booking_id,
                    b.booking.ori,
                    b.booking.booked_at.isoformat(),
                    b.booking.release_due_at.isoformat(),
                    b.person_id,
                    "; ".join(c.literal for c in b.booking.charges),
                    b.defect or "",
                    b.weight,
                    world.plan(b.booking.ori).activated_at(b.booking.booked_at),
                ]
                for b in world.bookings
            ),
            tick,
        ),
        _csv(
            out / "dispositions.csv",
            ["tcn", "outcome", "decided_at"],
            ([d.tcn, d.outcome.value, d.decided_at.isoformat()] for d in world.dispositions),
            tick,
        ),
        _csv(
            out / "jurisdictions.csv",
            [
                "ori",
                "name",
                "state",
                "sib_ori",
                "share_of_bookings",
                "activation",
                "detainer_policy",
                "policy_changes",
                "switch_settings",
                "opt_out_requests",
            ],
            (
                [
                    j.jurisdiction.ori,
                    j.jurisdiction.name,
                    j.jurisdiction.state,
                    j.jurisdiction.sib_ori,
                    j.share_of_bookings,
                    j.jurisdiction.activation_at.date().isoformat()
                    if j.jurisdiction.activation_at
                    else "",
                    j.jurisdiction.detainer_policy.value,
                    "; ".join(f"{c.at.date()} {c.policy.value}" for c in j.policy_changes),
                    "; ".join(
                        f"{s.switch.value}={'on' if s.enabled else 'off'} from "
                        f"{s.effective_from.date()} by {s.changed_by.value}"
                        for s in j.settings
                    ),
                    "; ".join(
                        f"{r.at.date()} {r.switch.value} {'granted' if r.granted else 'refused'}"
                        for r in j.opt_out_requests
                    ),
                ]
                for j in world.jurisdictions
            ),
            tick,
        ),
    ]
    scenario = world.scenario
    summary = {
        "scenario": scenario.name if scenario else None,
        "source": scenario.source if scenario else None,
        "seed": world.seed,
        "scale": scenario.scale if scenario else None,
        "window": [world.start.isoformat(), world.end.isoformat()],
        "statistics": world_statistics(world),
        "files": [p.name for p in written],
    }
    path = out / "world.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return [*written, path]


def _csv(path: Path, header: list[str], rows: Any, tick: Progress) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            tick(1)
    return path
