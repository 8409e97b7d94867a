"""`scomm simulate` and `scomm synth world`: scenarios through the whole flow, or just built."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from scomm.cli.progress_bars import progress_bars, rich_stage
from scomm.cli.synth import synth_app
from scomm.config import load_settings
from scomm.domain.safeguards import Safeguards
from scomm.sim.synth.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from scomm.store.db import sqlite_url

console = Console()

ScenarioOption = typer.Option(
    ...,
    "--scenario",
    "-s",
    help="A built-in scenario name (rollout-2008-2011, demo) or a scenario YAML file.",
)
ScaleOption = typer.Option(
    None, "--scale", min=0.0, help="Simulated bookings per real booking (default: the file's)."
)
SeedOption = typer.Option(None, "--seed", help="Seed of the world (default: the file's).")


def _scenario(name: str, scale: float | None, seed: int | None, safeguards: str | None) -> Scenario:
    try:
        scenario = load_scenario(name)
    except ScenarioError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    chosen = None
    if safeguards is not None:
        if safeguards not in ("on", "off"):
            console.print("[red]error:[/red] --safeguards takes on or off")
            raise typer.Exit(2)
        chosen = Safeguards() if safeguards == "on" else Safeguards.all_off()
    return scenario.with_overrides(scale=scale, seed=seed, safeguards=chosen)


@synth_app.command("world")
def synth_world(
    scenario: str = ScenarioOption,
    scale: float | None = ScaleOption,
    seed: int | None = SeedOption,
    out: Path = typer.Option(Path("world-out"), help="Folder for the CSV and JSON files."),
) -> None:
    """Build a scenario's world (no flow) and write persons, bookings, dispositions and
    jurisdictions as CSV, with world.json holding its planned statistics."""
    from scomm.sim.synth.world import build_scenario_world
    from scomm.sim.synth.world_export import write_world

    chosen = _scenario(scenario, scale, seed, None)
    with progress_bars(console) as progress:
        task = progress.add_task("building the world", total=round(chosen.expected_bookings()))
        world = build_scenario_world(chosen, progress=lambda n: progress.advance(task, n))
        progress.update(task, total=len(world.bookings), completed=len(world.bookings))
        rows = len(world.people) + 2 * len(world.bookings) + len(world.jurisdictions)
        task = progress.add_task("writing files", total=rows)
        files = write_world(world, out, progress=lambda n: progress.advance(task, n))
    stats = json.loads((out / "world.json").read_text())["statistics"]
    table = Table(title=f"world of scenario {chosen.name} (scale {chosen.scale:g})")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key in (
        "bookings",
        "bookings_represented",
        "people",
        "jurisdictions",
        "submissions",
        "submissions_at_scale_1",
        "expected_match_rate",
        "stale_citizens_among_ident_records",
        "citizens_among_people",
    ):
        table.add_row(key, str(stats[key]))
    console.print(table)
    console.print("wrote " + ", ".join(str(p) for p in files))


def simulate(
    scenario: str = ScenarioOption,
    scale: float | None = ScaleOption,
    seed: int | None = SeedOption,
    safeguards: str | None = typer.Option(
        None, "--safeguards", help="on or off: all four safeguards (default: the file's)."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the summary here."),
    database: str | None = typer.Option(
        None,
        "--database",
        "-d",
        help="SQLAlchemy URL of an empty database (default: $SCOMM_DATABASE_URL, else "
        "OUT/scomm.db, replaced on each run).",
    ),
    out: Path = typer.Option(
        Path("simulate-out"), help="Folder for summary.json, report.html and the database."
    ),
) -> None:
    """Run a scenario through the full flow on scenario time: counts of every message and
    outcome per month, jurisdiction and level, and the published figures it targets."""
    from scomm.sim.demo import run_scenario
    from scomm.sim.driver import RunRefused

    chosen = _scenario(scenario, scale, seed, safeguards)
    out.mkdir(parents=True, exist_ok=True)
    url = database or os.environ.get("SCOMM_DATABASE_URL") or None
    if url is None:
        db_file = out / "scomm.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(db_file.resolve())
    settings = load_settings(database_url=url)
    began = time.monotonic()
    try:
        with progress_bars(console) as progress:
            result = run_scenario(settings, chosen, out, stage=rich_stage(progress))
    except RunRefused as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.summary, indent=2) + "\n")
    print_targets(result.summary)
    console.print(
        f"{result.summary['run']['bookings']} bookings in {time.monotonic() - began:.0f} s; "
        f"wrote {out / 'summary.json'} and {out / 'report.html'}; database {url}"
    )


def print_targets(summary: dict[str, Any]) -> None:
    rows = summary.get("targets") or []
    if not rows:
        return
    table = Table(title="target against simulated (95% interval of the simulated figure)")
    for column in ("figure", "target", "simulated", "n", "95% interval", "inside"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for r in rows:
        sim = r["simulated"]
        low, high = r["interval_95"]
        table.add_row(
            r["figure"],
            f"{r['target']:.4g}",
            "n/a" if sim is None or (isinstance(sim, float) and math.isnan(sim)) else f"{sim:.4g}",
            str(int(r["denominator"] or r["numerator"])),
            f"{low:.3g} - {high:.3g}",
            "yes" if r["target_in_interval"] else "[red]no[/red]",
        )
    console.print(table)


def scenario_names() -> str:
    return ", ".join(builtin_scenarios())
