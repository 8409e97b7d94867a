"""The run's figures over time and place, citizens and residents among those the program
reached (with the sensitivity to the stale-record parameters), and the chart of simulated
against published figures.

All of it is counted from `scenario_report.case_facts`: the run's audit record joined with
the world's ground truth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from scomm.sim.scenario_report import CaseFacts, measure_figure, period_label, wilson
from scomm.sim.synth.citizenship import CitizenshipPath
from scomm.sim.synth.scenario import MEASURES, STATUS_CHANGE_KINDS, Scenario

# the figures shown per fiscal year and per state, simulated (published where a target is)
BREAKDOWN_FIGURES = (
    "submissions",
    "ident_matches",
    "ident_match_rate",
    "detainers",
    "ice_arrests",
    "ice_arrests_per_submission",
    "ice_arrests_per_match",
    "citizens_among_ice_arrests",
    "removals",
)


def fiscal_years(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The federal fiscal years (1 October to 1 October) that overlap [start, end), cut to
    it."""
    first = start.year + (1 if start.month >= 10 else 0)
    out = []
    for year in range(first, end.year + 2):
        lo, hi = max(start, datetime(year - 1, 10, 1)), min(end, datetime(year, 10, 1))
        if lo < hi:
            out.append((lo, hi))
    return out


def breakdown(cases: list[CaseFacts], scenario: Scenario) -> list[dict[str, Any]]:
    """Each breakdown figure nationally, per fiscal year and per state (over the target
    window), with its 95% interval and, for counts, the figure at scale 1."""
    rows = []
    window = scenario.target_window
    for lo, hi in [window, *fiscal_years(scenario.start, scenario.end)]:
        rows += _rows(cases, scenario, (lo, hi), "national")
    for state in scenario.states:
        chosen = [c for c in cases if c.state == state.code]
        rows += _rows(chosen, scenario, window, state.code)
    return rows


def _rows(
    cases: list[CaseFacts], scenario: Scenario, period: tuple[datetime, datetime], state: str
) -> list[dict[str, Any]]:
    """The figures of `period` over `cases` (every booking of the place, whenever booked:
    measure_figure counts each event by its own date)."""
    out = []
    since, until = period
    for name in BREAKDOWN_FIGURES:
        got = measure_figure(name, cases, until, since)
        count = MEASURES[name] == "count"
        if count:
            spread = 1.96 * math.sqrt(max(got.value, 1.0))
            low, high = max(0.0, got.value - spread), got.value + spread
        else:
            low, high = wilson(got.numerator, got.denominator)
        value = None if math.isnan(got.value) else got.value
        out.append(
            {
                "period": period_label(period),
                "state": state,
                "figure": name,
                "simulated": value,
                "numerator": got.numerator,
                "denominator": got.denominator,
                "interval_95": [low, high],
                "at_scale_1": None
                if not count or not scenario.scale
                else round(got.value / scenario.scale),
            }
        )
    return out


# -- citizens and permanent residents --

STAGES: dict[str, Callable[[CaseFacts], bool]] = {
    "ident_matches": lambda c: c.submitted and c.matched,
    "detainers": lambda c: c.submitted and c.detainer,
    "ice_arrests": lambda c: c.submitted and c.arrested,
}
GROUPS: dict[str, Callable[[CaseFacts], bool]] = {
    "citizens": lambda c: c.person.path.is_citizen,
    "permanent_residents": lambda c: c.person.path is CitizenshipPath.PERMANENT_RESIDENT,
}


def citizens_and_residents(cases: list[CaseFacts], scenario: Scenario) -> dict[str, Any]:
    """US citizens and permanent residents among IDENT matches, detainers and ICE arrests
    (transfers to ICE custody), over the target window, with 95% intervals; and how each
    share moves when IDENT learned of each kind of status change with the scenario's low
    or high probability (`status_records.sensitivity`).

    The sensitivity re-weights the run's own cases (importance weights on the one draw
    that made a record stale): a person whose change IDENT missed counts (1-p')/(1-p), one
    whose change it learned p'/p, everyone else 1. What LESC and ERO did depends on the
    person only through the record, so the weighted shares estimate what a run with p'
    would give, on the same world and flow, without running it again. A base p of 0 or 1
    leaves nothing to re-weight on one side: those cells are None."""
    lo, hi = scenario.target_window
    records = scenario.population.status_records
    table: dict[str, Any] = {"window": period_label((lo, hi)), "stages": {}}
    for stage, chosen_by in STAGES.items():
        # an ICE arrest counts by its own date (the transfer), as citizens_among_ice_arrests
        chosen = [
            c
            for c in cases
            if chosen_by(c)
            and lo <= (c.arrested_at if stage == "ice_arrests" else c.booked_at) < hi
        ]
        entry: dict[str, Any] = {"n": len(chosen)}
        for group, member in GROUPS.items():
            k = sum(member(c) for c in chosen)
            share = k / len(chosen) if chosen else None
            low, high = wilson(k, len(chosen))
            cell: dict[str, Any] = {"count": k, "share": share, "interval_95": [low, high]}
            if records is not None:
                cell["sensitivity"] = {
                    kind: {
                        f"learned={p:g}": _reweighted(chosen, member, kind, records.learned, p)
                        for p in records.sensitivity
                    }
                    for kind in STATUS_CHANGE_KINDS
                }
            entry[group] = cell
        table["stages"][stage] = entry
    if records is not None:
        table["learned"] = dict(records.learned)
        table["sensitivity_values"] = list(records.sensitivity)
    return table


def _reweighted(
    cases: list[CaseFacts],
    member: Callable[[CaseFacts], bool],
    kind: str,
    learned: dict[str, float],
    value: float,
) -> dict[str, Any] | None:
    base = learned[kind]
    total = hit = square = 0.0
    for c in cases:
        w = 1.0
        person = c.person
        if person.status_change == kind and person.immigration is not None:
            if person.stale_record:
                if base >= 1.0:
                    return None
                w = (1.0 - value) / (1.0 - base)
            else:
                if base <= 0.0:
                    return None
                w = value / base
        total += w
        square += w * w
        hit += w * member(c)
    if total <= 0:
        return {"share": None, "interval_95": [0.0, 1.0]}
    effective = total * total / square  # Kish's effective sample size
    share = hit / total
    low, high = wilson(share * effective, effective)
    return {"share": share, "interval_95": [low, high]}


# -- the chart --


def target_chart(rows: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """Simulated against published, per target (each over its period and state): the
    simulated figure and its 95% interval as a ratio to the published one (1 = equal), fit
    and check apart. Written as a Vega-Lite chart (altair): targets_chart.html and
    targets_chart.vl.json in `out_dir`. Returns what was written (or why nothing was)."""
    try:
        import altair as alt
    except ImportError:  # the lock has it; an environment without it gets no chart
        return {"written": [], "problem": "altair is not installed (make installs it)"}
    data = []
    for r in rows:
        if not r["target"] or r["simulated"] is None:
            continue
        low, high = r["interval_95"]
        data.append(
            {
                "figure": f"{r['figure']} ({r['period']}, {r['state']})",
                "role": r["role"],
                "ratio": r["simulated"] / r["target"],
                "low": low / r["target"],
                "high": high / r["target"],
                "published": r["target_published"],
                "simulated_at_scale": r["simulated"],
                "covered": "yes" if r["target_in_interval"] else "no",
            }
        )
    if not data:
        return {"written": [], "problem": "no target with a simulated figure"}
    base = alt.Chart(alt.Data(values=data))
    y = alt.Y("figure:N", sort=None, title=None)
    bars = base.mark_rule().encode(
        y=y, x=alt.X("low:Q", title="simulated / published (95% interval)"), x2="high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        y=y,
        x="ratio:Q",
        color=alt.Color("role:N", title="role"),
        shape=alt.Shape("covered:N", title="published inside"),
        tooltip=["figure:N", "role:N", "published:Q", "simulated_at_scale:Q", "covered:N"],
    )
    one = alt.Chart(alt.Data(values=[{"x": 1.0}])).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    chart = (bars + points + one).properties(
        title="Simulated against published, per period and place", width=480
    )
    html, spec = out_dir / "targets_chart.html", out_dir / "targets_chart.vl.json"
    chart.save(str(html))
    spec.write_text(json.dumps(chart.to_dict(), indent=2) + "\n")
    return {"written": [html.name, spec.name], "problem": None}
